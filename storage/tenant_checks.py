"""Queries of the per-tenant checks of vendor incidents: which customers of a connected partner
to ask, what each one's own service health said, counted per partner. The caller owns the
transaction."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, IncidentTenantCheck, PartnerCenterConnection, Subscription
from storage.outages import affected_filter, dialect_insert

CONFIRMED, NOT_LISTED, UNKNOWN = "confirmed", "not_listed", "unknown"


async def candidates(
    *, session: AsyncSession, partner_id: int, plan_codes: list[str]
) -> list[tuple[int, str | None]]:
    """Lists a partner's customers with an active subscription to a plan with the service:
    their id and tenant id (Partner Center's customer id; None for a customer only imported)."""
    result = await session.exec(
        select(Customer.id, Customer.external_id)
        .join(Subscription, col(Subscription.customer_id) == Customer.id)
        .where(Subscription.partner_id == partner_id, Customer.partner_id == partner_id)
        .where(affected_filter(plan_codes=plan_codes, regions=[]))
        .group_by(Customer.id, Customer.external_id)
        .order_by(Customer.id)
    )
    return list(result.all())


async def results_of(
    *, session: AsyncSession, incident_id: int, partner_id: int
) -> dict[int, tuple[str, str]]:
    """Gets what each asked customer's service health said of an incident: result and reason."""
    result = await session.exec(
        select(
            IncidentTenantCheck.customer_id, IncidentTenantCheck.result, IncidentTenantCheck.reason
        ).where(
            IncidentTenantCheck.incident_id == incident_id,
            IncidentTenantCheck.partner_id == partner_id,
        )
    )
    return {customer_id: (found, reason) for customer_id, found, reason in result.all()}


async def confirmed_pairs(
    *, session: AsyncSession, partner_id: int, incident_ids: list[int]
) -> set[tuple[int, int]]:
    """Lists which of a partner's customers' service health confirmed which of the incidents:
    (incident id, customer id) pairs."""
    if not incident_ids:
        return set()
    result = await session.exec(
        select(IncidentTenantCheck.incident_id, IncidentTenantCheck.customer_id).where(
            IncidentTenantCheck.partner_id == partner_id,
            col(IncidentTenantCheck.incident_id).in_(incident_ids),
            IncidentTenantCheck.result == CONFIRMED,
        )
    )
    return set(result.all())


async def partners_with_confirmations(
    *, session: AsyncSession, partner_ids: list[int], incident_ids: list[int]
) -> set[int]:
    """Which of the partners have a customer whose service health confirmed one of the
    incidents."""
    if not partner_ids or not incident_ids:
        return set()
    result = await session.exec(
        select(IncidentTenantCheck.partner_id)
        .where(
            col(IncidentTenantCheck.partner_id).in_(partner_ids),
            col(IncidentTenantCheck.incident_id).in_(incident_ids),
            IncidentTenantCheck.result == CONFIRMED,
        )
        .distinct()
    )
    return set(result.all())


async def counts_by_partner(
    *, session: AsyncSession, incident_id: int, partner_id: int | None = None
) -> dict[int, Counter]:
    """Counts an incident's checks per partner, by result (and `unknown:<reason>`)."""
    query = (
        select(
            IncidentTenantCheck.partner_id,
            IncidentTenantCheck.result,
            IncidentTenantCheck.reason,
            func.count(),
        )
        .where(IncidentTenantCheck.incident_id == incident_id)
        .group_by(
            IncidentTenantCheck.partner_id, IncidentTenantCheck.result, IncidentTenantCheck.reason
        )
    )
    if partner_id is not None:
        query = query.where(IncidentTenantCheck.partner_id == partner_id)
    result = await session.exec(query)
    counts: dict[int, Counter] = {}
    for partner_id, found, reason, number in result.all():
        counter = counts.setdefault(partner_id, Counter())
        counter[found] += number
        if found == UNKNOWN:
            counter[f"{UNKNOWN}:{reason}"] += number
    return counts


async def save(
    *, session: AsyncSession, incident_id: int, partner_id: int, results: dict, now: datetime
) -> None:
    """Records customers' answers, {customer id: (result, reason)}, replacing earlier ones."""
    if not results:
        return
    rows = [
        {
            "incident_id": incident_id,
            "customer_id": customer_id,
            "partner_id": partner_id,
            "result": found,
            "reason": reason,
            "checked_at": now,
        }
        for customer_id, (found, reason) in results.items()
    ]
    statement = dialect_insert(session)(IncidentTenantCheck.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["incident_id", "customer_id"],
        set_={
            "result": statement.excluded.result,
            "reason": statement.excluded.reason,
            "checked_at": statement.excluded.checked_at,
        },
    )
    connection = await session.connection()
    await connection.execute(statement, rows)


async def connected_partner_ids(*, session: AsyncSession, partner_ids: list[int]) -> set[int]:
    """Which of these partners are connected to Partner Center."""
    if not partner_ids:
        return set()
    result = await session.exec(
        select(PartnerCenterConnection.partner_id).where(
            col(PartnerCenterConnection.partner_id).in_(partner_ids)
        )
    )
    return set(result.all())
