"""A partner narrows a vendor incident that names no regions to where it hit its customers: the
narrowing is its own (other partners keep theirs, or none), and from then on its alert, counts,
apologies and credits speak of those customers as affected and of their credits as owed."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import USER_ID, fold
from bot.blocks import Message, escape, plural, section
from bot.catalogue import REGIONS, Catalogue
from bot.outages import messages as outage_messages
from bot.outages.fan_out import edit_of, thread_reply
from bot.outages.intake import REGION_BY_KEY
from bot.outages.messages import ImpactView, incident_view
from bot.outages.rules import plans_with, regions_of
from bot.outages.scope import Scope, scope_for, scope_of
from storage import outage_scopes, outbox
from storage import outages as incident_rows
from storage.models import Incident, Partner

EVERY_REGION = ("all", "every region", "all regions")


def parse_regions(text: str) -> list[str] | str:
    """The regions typed (`Europe, Asia Pacific`, `europe asia pacific`), [] for `all` (the
    narrowing undone), or what is wrong with them."""
    rest = fold(text.replace(",", " "))
    if rest in EVERY_REGION:
        return []
    keys = sorted(REGION_BY_KEY, key=len, reverse=True)
    found: list[str] = []
    while rest:
        if rest.startswith("and "):
            rest = rest[4:]
            continue
        key = next((k for k in keys if rest == k or rest.startswith(k + " ")), None)
        if key is None:
            return (
                f"`{escape(rest.split(' ')[0])}` is not a region. Regions: "
                f"{escape(', '.join(REGIONS))} (or `all` to undo the narrowing)."
            )
        if REGION_BY_KEY[key] not in found:
            found.append(REGION_BY_KEY[key])
        rest = rest[len(key) :].strip()
    return found or f"Which regions? Regions: {escape(', '.join(REGIONS))}."


def why_not(incident: Incident) -> str:
    """Why an outage cannot be narrowed, or ""."""
    if incident.partner_id is not None:
        return f"Outage #{incident.id} is your own: it covers the region you declared it for."
    if regions_of(incident):
        where = ", ".join(regions_of(incident))
        return (
            f"The vendor said where outage #{incident.id} hits ({escape(where)}): "
            "there is nothing to narrow."
        )
    if incident.is_resolved:
        return f"Outage #{incident.id} is over; narrow an outage while it is open."
    return ""


async def partner_impact(
    session: AsyncSession, incident: Incident, partner: Partner, scope: Scope, catalogue: Catalogue
) -> ImpactView:
    """One partner's affected customers, seats, revenue and largest customers in a scope."""
    codes = plans_with(incident.service, catalogue)
    found = await incident_rows.impact_by_partner(
        session=session, plan_codes=codes, regions=scope.regions, partner_id=partner.id
    )
    top = await incident_rows.top_affected_by_partner(
        session=session,
        plan_codes=codes,
        regions=scope.regions,
        limit=outage_messages.TOP_CUSTOMERS,
        partner_id=partner.id,
    )
    impact = found[0] if found else None
    return ImpactView(
        customers=impact.customers if impact else 0,
        seats=impact.seats if impact else 0,
        monthly=impact.monthly if impact else 0,
        top=top.get(partner.id, []),
    )


def narrowed_note(scope: Scope, impact: ImpactView, by: str) -> Message:
    """The thread's note of a narrowing (or of its undoing)."""
    who = f"<@{by}>" if USER_ID.match(by) else "your team"
    if scope.narrowed:
        text = (
            f"🎯 *Narrowed by {who}* to {escape(', '.join(scope.regions))}, for your team only: "
            f"{plural(impact.customers, 'customer')} affected · {plural(impact.seats, 'seat')}. "
            "Apologies and credits now speak of them as affected, and of credits as owed."
        )
    else:
        text = (
            f"↩️ *Narrowing undone by {who}*: the vendor did not say where this hits, so "
            f"{plural(impact.customers, 'customer')} may be affected again."
        )
    return Message("Outage narrowed" if scope.narrowed else "Narrowing undone", [section(text)])


async def narrow(
    session: AsyncSession,
    *,
    partner: Partner,
    incident: Incident,
    text: str,
    by: str,
    now: datetime,
    catalogue: Catalogue,
) -> str:
    """Records a partner's narrowing of an outage to regions (`all` undoes it), edits its alert
    and notes it in the thread, in one transaction; returns the answer."""
    problem = why_not(incident)
    regions = parse_regions(text) if not problem else []
    if problem or isinstance(regions, str):
        return problem or regions
    before = await scope_for(session, incident, partner.id)
    if not regions and not before.narrowed:
        return f"Outage #{incident.id} was not narrowed; nothing changed."
    alert = next(
        a
        for a in await incident_rows.alerts_of(session=session, incident_id=incident.id)
        if a.partner_id == partner.id
    )
    await outage_scopes.set_narrowing(
        session=session,
        incident_id=incident.id,
        partner_id=partner.id,
        regions=regions,
        by=by,
        now=now,
    )
    scope = scope_of(incident, regions)
    impact = await partner_impact(session, incident, partner, scope, catalogue)
    view = incident_view(incident, partner.timezone, now, scope)
    stamp = now.isoformat()
    rows = [
        edit_of(
            alert,
            f"{alert.root_key}:edit:narrow:{stamp}",
            outage_messages.root_message(view, impact),
            now,
        ),
        thread_reply(
            alert, f"{alert.root_key}:narrow:{stamp}", narrowed_note(scope, impact, by), now
        ),
    ]
    await outbox.add(session=session, rows=rows)
    await session.commit()
    if not scope.narrowed:
        return (
            f"Outage #{incident.id} is no longer narrowed: {plural(impact.customers, 'customer')} "
            "may be affected, as the vendor did not say where. The alert is updated."
        )
    return (
        f"Outage #{incident.id} narrowed to {escape(', '.join(regions))} for your team: "
        f"{plural(impact.customers, 'customer')} affected. The alert is updated; apologies and "
        f"credits now count only them. `/outage narrow {incident.id} all` undoes it."
    )
