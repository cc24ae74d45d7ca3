"""A connected partner's outage impact once its customers' own service health has been asked
(bot/outages/confirming.py): the confirmed customers' figures, and every answer counted."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.catalogue import Catalogue
from bot.outages import messages as outage_messages
from bot.outages.messages import ImpactView
from bot.outages.rules import plans_with
from bot.outages.scope import Scope
from bot.outages.tenant_words import TenantChecksView
from storage import outages as incident_rows
from storage import tenant_checks
from storage.models import Incident
from storage.tenant_checks import CONFIRMED, NOT_LISTED, UNKNOWN


def checks_apply(incident: Incident, scope: Scope) -> bool:
    """Tells whether asking the customers' tenants can say more than the scope does: a vendor
    incident that names no regions, not narrowed by the partner, not an advisory."""
    return incident.partner_id is None and not scope.known and incident.classification == "incident"


async def checked_impact(
    session: AsyncSession, incident: Incident, partner_id: int, catalogue: Catalogue,
    total: ImpactView,
) -> ImpactView:  # fmt: skip
    """A connected partner's impact: `total` (everyone with the service) until a tenant has
    answered, then the confirmed customers' figures; with the count of every answer."""
    counts = (
        await tenant_checks.counts_by_partner(
            session=session, incident_id=incident.id, partner_id=partner_id
        )
    ).get(partner_id, Counter())
    refused = counts[f"{UNKNOWN}:refused"]
    checks = TenantChecksView(
        candidates=total.customers,
        confirmed=counts[CONFIRMED],
        not_listed=counts[NOT_LISTED],
        refused=refused,
        unknown=counts[UNKNOWN] - refused,
    )
    if not sum(counts[result] for result in (CONFIRMED, NOT_LISTED, UNKNOWN)):
        return replace(total, checks=checks)
    codes = plans_with(incident.service, catalogue)
    found = await incident_rows.impact_by_partner(
        session=session, plan_codes=codes, regions=[], partner_id=partner_id,
        confirmed_for=incident.id,
    )  # fmt: skip
    top = await incident_rows.top_affected_by_partner(
        session=session, plan_codes=codes, regions=[], limit=outage_messages.TOP_CUSTOMERS,
        partner_id=partner_id, confirmed_for=incident.id,
    )  # fmt: skip
    impact = found[0] if found else None
    return ImpactView(
        customers=impact.customers if impact else 0,
        seats=impact.seats if impact else 0,
        monthly=impact.monthly if impact else Decimal(0),
        top=top.get(partner_id, []),
        checks=checks,
    )
