"""What partner staff do with outages: declare their own, update and resolve them, follow one,
get one customer's apology or all of them, and reword the apology templates."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import clean_query, fold, unescape_slack
from bot.blocks import escape
from bot.catalogue import Catalogue
from bot.outages import apology, flows
from bot.outages.intake import Incoming
from bot.outages.rules import plans_with, regions_of
from bot.outages.scope import scope_for
from storage import outages as incident_rows
from storage import outbox
from storage.models import ApologyTemplate, Customer, Incident, Partner

RECENT = timedelta(days=30)


@dataclass(frozen=True)
class Declare:
    """An outage as staff declare it with `/outage declare`."""

    service: str
    region: str | None
    title: str


MAX_LISTED = 20


def not_found(incident_id: int) -> str:
    return f"There is no outage #{incident_id} for your company. `/outage list` shows yours."


async def visible_incident(
    session: AsyncSession, *, partner: Partner, incident_id: int
) -> Incident | None:
    """An incident this partner may see: one it was alerted about, or one it declared."""
    incident = await incident_rows.get(session=session, incident_id=incident_id)
    if incident is None:
        return None
    if incident.partner_id == partner.id:
        return incident
    if incident.partner_id is None:
        alerts = await incident_rows.alerts_of(session=session, incident_id=incident.id)
        if any(alert.partner_id == partner.id for alert in alerts):
            return incident
    return None


def body_hash(*parts: object) -> str:
    return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()


async def declare(
    session: AsyncSession,
    *,
    partner: Partner,
    declared: Declare,
    by: str,
    now: datetime,
    catalogue: Catalogue,
    collapse: timedelta,
) -> flows.Ingested:
    """Declares a partner's own outage; it alerts only this partner's channel."""
    external_id = f"P{partner.id}-{secrets.token_hex(4)}"
    incoming = Incoming(
        external_id=external_id,
        service=declared.service,
        feature="",
        title=declared.title,
        classification="incident",
        status="investigating",
        impact_description="",  # who declared it is kept apart: customers read the impact
        regions=((declared.region,) if declared.region else ()),
        start_at=now,
        end_at=None,
        is_resolved=False,
        posts=(),
        body_hash=body_hash(external_id, declared, now),
    )
    return await flows.ingest(
        session,
        incoming,
        catalogue=catalogue,
        now=now,
        partner=partner,
        collapse=collapse,
        declared_by=by,
    )


def incoming_from(incident: Incident, **changes) -> Incoming:
    """The stored incident as a body, with changes (how staff updates reuse the intake path)."""
    posts = tuple([incident.latest_post] * incident.posts_seen)
    values = {
        "external_id": incident.external_id,
        "service": incident.service,
        "feature": incident.feature,
        "title": incident.title,
        "classification": incident.classification,
        "status": incident.status,
        "impact_description": incident.impact_description,
        "regions": tuple(regions_of(incident)),
        "start_at": incident.start_at,
        "end_at": incident.end_at,
        "is_resolved": incident.is_resolved,
        "posts": posts,
    }
    values.update(changes)
    values["body_hash"] = body_hash(*values.values())
    return Incoming(**values)


@dataclass(frozen=True)
class StaffResult:
    problem: str = ""
    ingested: flows.Ingested | None = None


async def change_declared(
    session: AsyncSession,
    *,
    partner: Partner,
    incident_id: int,
    text: str = "",
    resolve: bool = False,
    now: datetime,
    catalogue: Catalogue,
    collapse: timedelta,
) -> StaffResult:
    """Posts an update to, or resolves, an outage the partner declared."""
    incident = await visible_incident(session, partner=partner, incident_id=incident_id)
    if incident is None:
        return StaffResult(not_found(incident_id))
    if incident.partner_id != partner.id:
        return StaffResult(
            f"Outage #{incident_id} was reported by the vendor; its updates come "
            "from the vendor. You can update outages you declared."
        )
    if incident.is_resolved:
        return StaffResult(f"Outage #{incident_id} is already resolved.")
    await session.commit()
    if resolve:
        incoming = incoming_from(incident, status="serviceRestored", is_resolved=True, end_at=now)
    else:
        posts = tuple([incident.latest_post] * incident.posts_seen) + (text,)
        incoming = incoming_from(incident, posts=posts)
    ingested = await flows.ingest(
        session, incoming, catalogue=catalogue, now=now, partner=partner, collapse=collapse
    )
    return StaffResult(ingested=ingested)


async def recent(session: AsyncSession, *, partner: Partner, now: datetime) -> list[Incident]:
    return await incident_rows.recent_for_partner(
        session=session, partner_id=partner.id, since=now - RECENT, limit=MAX_LISTED
    )


@dataclass(frozen=True)
class ApologyResult:
    text: str = ""
    problem: str = ""
    customer: Customer | None = None


async def affected_matching(
    session: AsyncSession,
    *,
    partner: Partner,
    incident: Incident,
    catalogue: Catalogue,
    text: str,
    limit: int = 100,
) -> list[Customer]:
    """The partner's customers affected by an incident whose name or domain contains the text."""
    affected = await incident_rows.affected_customers(
        session=session,
        partner_id=partner.id,
        plan_codes=plans_with(incident.service, catalogue),
        regions=(await scope_for(session, incident, partner.id)).regions,
    )
    wanted = fold(clean_query(text))
    found = [
        a.customer
        for a in affected
        if not wanted or wanted in a.customer.name_key or wanted in a.customer.domain
    ]
    exact = [c for c in found if wanted in (c.name_key, c.domain)]
    return (exact or found)[:limit]


async def apology_for(
    session: AsyncSession,
    *,
    partner: Partner,
    incident_id: int,
    customer_query: str = "",
    customer_id: int | None = None,
    catalogue: Catalogue,
    now: datetime,
) -> ApologyResult:
    """One affected customer's apology text, personalised."""
    incident = await visible_incident(session, partner=partner, incident_id=incident_id)
    if incident is None:
        return ApologyResult(problem=not_found(incident_id))
    if customer_id is not None:
        candidates = [
            c
            for c in await affected_matching(
                session,
                partner=partner,
                incident=incident,
                catalogue=catalogue,
                text="",
                limit=100_000,
            )
            if c.id == customer_id
        ]
    else:
        candidates = await affected_matching(
            session, partner=partner, incident=incident, catalogue=catalogue, text=customer_query
        )
    if not candidates:
        return ApologyResult(
            problem=f"No customer of yours affected by outage #{incident_id} "
            f"matches “{escape(customer_query)}”."
        )
    if len(candidates) > 1:
        names = ", ".join(escape(c.name) for c in candidates[:10])
        return ApologyResult(
            problem=f"Several affected customers match: {names}. Type more of "
            "the name or the whole domain."
        )
    customer = candidates[0]
    text = await apology.apology_for_customer(session, incident, partner, customer, catalogue, now)
    return ApologyResult(text=text, customer=customer)


async def all_apologies(
    session: AsyncSession,
    *,
    partner: Partner,
    incident: Incident,
    catalogue: Catalogue,
    now: datetime,
) -> str:
    """One personalised text per affected customer, for a file."""
    customers = await affected_matching(
        session, partner=partner, incident=incident, catalogue=catalogue, text="", limit=100_000
    )
    parts = []
    for customer in customers:
        text = await apology.apology_for_customer(
            session, incident, partner, customer, catalogue, now
        )
        contact = f" <{customer.contact_email}>" if customer.contact_email else ""
        # A file is plain text, not mrkdwn: Slack's escaping is undone.
        parts.append(
            f"=== {customer.name} ({customer.domain}){contact} ===\n\n" + unescape_slack(text)
        )
    return "\n\n\n".join(parts) + "\n"


async def root_of(
    session: AsyncSession, *, partner: Partner, incident: Incident
) -> tuple[str, str] | None:
    """The channel and ts of the partner's alert about an incident, once posted."""
    for alert in await incident_rows.alerts_of(session=session, incident_id=incident.id):
        if alert.partner_id == partner.id:
            rows = await outbox.by_key_prefix(session=session, prefix=alert.root_key)
            root = next((r for r in rows if r.idempotency_key == alert.root_key), None)
            if root is not None and root.ts:
                return alert.channel, root.ts
    return None


async def follow(
    session: AsyncSession, *, partner: Partner, incident_id: int, user_id: str, on: bool
) -> str:
    """Makes someone follow an incident by DM, or stop; returns the answer."""
    incident = await visible_incident(session, partner=partner, incident_id=incident_id)
    if incident is None:
        return not_found(incident_id)
    await incident_rows.set_following(
        session=session, incident_id=incident.id, partner_id=partner.id, user_id=user_id, follow=on
    )
    await session.commit()
    if on:
        return (
            f"You will get every update of outage #{incident.id} by DM. "
            "Press *Unfollow* on the alert to stop."
        )
    return f"You no longer follow outage #{incident.id}."


async def current_template(session: AsyncSession, *, partner: Partner, kind: str) -> str:
    own = await incident_rows.template_of(session=session, partner_id=partner.id, kind=kind)
    return own or apology.shipped(kind)


async def save_template(
    session: AsyncSession, *, partner: Partner, kind: str, body: str, by: str, now: datetime
) -> str:
    """Saves a partner's wording; returns why it cannot be used instead, or ""."""
    problem = apology.check_template(body)
    if problem:
        return problem
    row = await session.get(ApologyTemplate, (partner.id, kind))
    if row is None:
        row = ApologyTemplate(partner_id=partner.id, kind=kind, body=body)
    row.body, row.updated_by, row.updated_at = body, by, now
    session.add(row)
    await session.commit()
    return ""
