"""Queries about partners' narrowings of incidents that name no regions: which regions each
partner says an incident hit, in its own workspace."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import IncidentScope


async def narrowings_of(*, session: AsyncSession, incident_id: int) -> dict[int, list[str]]:
    """Gets every partner's narrowing of an incident: its regions, by partner id."""
    result = await session.exec(
        select(IncidentScope.partner_id, IncidentScope.regions).where(
            IncidentScope.incident_id == incident_id
        )
    )
    return {partner_id: json.loads(regions) for partner_id, regions in result.all()}


async def narrowings_for_partner(
    *, session: AsyncSession, partner_id: int, incident_ids: list[int]
) -> dict[int, list[str]]:
    """Gets one partner's narrowings of some incidents: their regions, by incident id."""
    if not incident_ids:
        return {}
    result = await session.exec(
        select(IncidentScope.incident_id, IncidentScope.regions).where(
            IncidentScope.partner_id == partner_id,
            col(IncidentScope.incident_id).in_(incident_ids),
        )
    )
    return {incident_id: json.loads(regions) for incident_id, regions in result.all()}


async def set_narrowing(
    *,
    session: AsyncSession,
    incident_id: int,
    partner_id: int,
    regions: list[str],
    by: str,
    now: datetime,
) -> None:
    """Records a partner's narrowing of an incident to some regions; none removes it."""
    row = await session.get(IncidentScope, (incident_id, partner_id))
    if not regions:
        if row is not None:
            await session.delete(row)
        return
    if row is None:
        row = IncidentScope(incident_id=incident_id, partner_id=partner_id, regions="[]")
    row.regions, row.set_by, row.set_at = json.dumps(regions), by, now
    session.add(row)
