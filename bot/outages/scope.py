"""Who an incident hit, as far as is known: the regions the vendor gave, the partner's own
declaration, or a partner's narrowing of a vendor incident that names none (Graph's
serviceHealthIssue never does). Unknown scope means customers *may* be affected and credits are
what they can claim if they were, never what is owed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.outages.rules import regions_of
from storage import outage_scopes
from storage.models import Incident


@dataclass(frozen=True)
class Scope:
    regions: list[str]  # the customers' regions to count; [] = every region
    known: bool  # the vendor, the partner's declaration or the partner's narrowing says where
    narrowed: bool = False  # … the partner's narrowing


def scope_of(incident: Incident, narrowed: list[str] | None = None) -> Scope:
    """An incident's scope for one partner: the vendor's regions first, then the partner's own
    outage (all its customers, as it declared), then the partner's narrowing; else unknown."""
    regions = regions_of(incident)
    if regions:
        return Scope(regions, known=True)
    if incident.partner_id is not None:
        return Scope([], known=True)
    if narrowed:
        return Scope(list(narrowed), known=True, narrowed=True)
    return Scope([], known=False)


def scope_words(scope: Scope) -> str:
    """The regions line of an alert."""
    if scope.narrowed:
        return ", ".join(scope.regions) + " (as your team narrowed it)"
    if scope.regions:
        return ", ".join(scope.regions)
    return "all regions" if scope.known else "not said by the vendor"


async def scope_for(session: AsyncSession, incident: Incident, partner_id: int) -> Scope:
    """Loads an incident's scope for one partner."""
    narrowed = await outage_scopes.narrowings_for_partner(
        session=session, partner_id=partner_id, incident_ids=[incident.id]
    )
    return scope_of(incident, narrowed.get(incident.id))


async def scopes_for(
    session: AsyncSession, incidents: list[Incident], partner_id: int
) -> dict[int, Scope]:
    """Loads several incidents' scopes for one partner, by incident id."""
    narrowed = await outage_scopes.narrowings_for_partner(
        session=session, partner_id=partner_id, incident_ids=[i.id for i in incidents]
    )
    return {i.id: scope_of(i, narrowed.get(i.id)) for i in incidents}
