"""Outage flows: an incident comes in (hook, feed or /outage), is stored by its id, and every
partner with affected customers gets its alert, thread replies, edits and closing message through
the outbox, in the same transaction."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.catalogue import Catalogue
from bot.money import format_money, format_percent, monthly_value
from bot.outages import apology
from bot.outages import messages as outage_messages
from bot.outages.intake import Incoming, status_words
from bot.outages.messages import CreditLine, ImpactView, IncidentView
from bot.outages.rules import (
    credit_for,
    duration_words,
    format_availability,
    month_of,
    plans_with,
    service_share,
)
from bot.outbox.rows import post_message
from bot.zones import when_in
from storage import outages as incident_rows
from storage import outbox
from storage.models import Customer, Incident, IncidentAlert, OutboxMessage, Partner

logger = logging.getLogger(__name__)

COLLAPSE = timedelta(seconds=5)  # updates this close together become one thread reply
MAX_RETRIES = 5
UPDATE_MARKER = ":update:"  # in the keys of the thread replies that report an update
GENERIC_CUSTOMER = {"name": "[customer]", "contact_name": "", "domain": ""}


@dataclass(frozen=True)
class Ingested:
    incident: Incident
    outcome: str  # created | updated | unchanged
    partners: int  # partners whose channel gets a message


def regions_of(incident: Incident) -> list[str]:
    return json.loads(incident.regions) if incident.regions else []


def incident_view(incident: Incident, time_zone: str, now: datetime) -> IncidentView:
    regions = regions_of(incident)
    end = incident.end_at or (now if incident.is_resolved else None)
    return IncidentView(
        number=incident.id,
        external_id=incident.external_id,
        title=incident.title,
        service=incident.service,
        feature=incident.feature,
        status=status_words(incident.status),
        advisory=incident.classification == "advisory",
        regions=", ".join(regions) if regions else "all regions",
        started=when_in(incident.start_at, time_zone),
        ended=when_in(end, time_zone) if incident.is_resolved and end else "",
        duration=duration_words(incident.start_at, end) if incident.is_resolved and end else "",
        impact=incident.impact_description,
        latest=incident.latest_post,
        resolved=incident.is_resolved,
        declared_by_partner=incident.partner_id is not None,
    )


def apply_incoming(incident: Incident, incoming: Incoming, now: datetime) -> list[str]:
    """Copies a body onto the stored incident; returns what changed, in words (for the thread)."""
    changes = []
    if incoming.status != incident.status:
        changes.append(
            f"Status: {status_words(incident.status)} → *{status_words(incoming.status)}*"
        )
    if incoming.title != incident.title:
        changes.append(f"Title: {incoming.title}")
    if incoming.impact_description != incident.impact_description:
        changes.append(f"Impact: {incoming.impact_description}")
    new_regions = json.dumps(list(incoming.regions)) if incoming.regions else ""
    if new_regions != incident.regions:
        changes.append("Regions: " + (", ".join(incoming.regions) or "all regions"))
    for post in incoming.posts[incident.posts_seen :]:
        changes.append(f"Vendor update: {post}")
    if incoming.is_resolved and not incident.is_resolved:
        changes.append("Resolved")
    incident.status = incoming.status
    incident.title = incoming.title
    incident.feature = incoming.feature
    incident.classification = incoming.classification
    incident.impact_description = incoming.impact_description
    incident.regions = new_regions
    incident.start_at = incoming.start_at
    incident.end_at = incoming.end_at or (incident.end_at if incoming.is_resolved else None)
    if incoming.is_resolved and incident.end_at is None:
        incident.end_at = now
    incident.is_resolved = incoming.is_resolved
    if incoming.posts:
        incident.latest_post = incoming.posts[-1]
    incident.posts_seen = max(incident.posts_seen, len(incoming.posts))
    incident.body_hash = incoming.body_hash
    incident.updated_at = now
    return changes


def new_incident(incoming: Incoming, now: datetime, partner_id: int | None) -> Incident:
    incident = Incident(
        external_id=incoming.external_id,
        partner_id=partner_id,
        service=incoming.service,
        title=incoming.title,
        classification=incoming.classification,
        status=incoming.status,
        start_at=incoming.start_at,
        impact_description="",
        latest_post="",
        created_at=now,
    )
    apply_incoming(incident, incoming, now)
    return incident


async def ingest(
    session: AsyncSession,
    incoming: Incoming,
    *,
    catalogue: Catalogue,
    now: datetime,
    partner: Partner | None = None,
    collapse: timedelta = COLLAPSE,
) -> Ingested:
    """Stores an incident body and queues every message it causes, once: the same body again
    changes nothing, and concurrent deliveries of one body are told apart by the unique id."""
    for _ in range(MAX_RETRIES):
        existing = await incident_rows.get_by_external_id(
            session=session, external_id=incoming.external_id
        )
        if existing is None:
            fresh = new_incident(incoming, now, partner.id if partner else None)
            if await incident_rows.claim_external_id(session=session, incident=fresh):
                incident = await incident_rows.get_by_external_id(
                    session=session, external_id=incoming.external_id
                )
                count = await fan_out(
                    session,
                    incident,
                    catalogue=catalogue,
                    now=now,
                    changes=[],
                    became_resolved=incident.is_resolved,
                    collapse=collapse,
                )
                await session.commit()
                return Ingested(incident, "created", count)
            await session.rollback()
            continue  # a concurrent delivery created it: this one is an update, if anything
        if existing.body_hash == incoming.body_hash:
            await session.commit()
            return Ingested(existing, "unchanged", 0)
        was_resolved, version = existing.is_resolved, existing.version
        changes = apply_incoming(existing, incoming, now)
        existing.version = version + 1
        session.add(existing)
        await session.flush()
        if not await version_still(session, existing.id, version + 1):
            await session.rollback()
            continue
        count = await fan_out(
            session,
            existing,
            catalogue=catalogue,
            now=now,
            changes=changes,
            became_resolved=existing.is_resolved and not was_resolved,
            collapse=collapse,
        )
        await session.commit()
        return Ingested(existing, "updated", count)
    raise RuntimeError(f"incident {incoming.external_id} kept changing under us")


async def version_still(session: AsyncSession, incident_id: int, version: int) -> bool:
    """Tells whether our write of an incident's version stands (no concurrent writer won)."""
    current = await session.get(Incident, incident_id, populate_existing=True)
    return current is not None and current.version == version


@dataclass(frozen=True)
class FanOutData:
    """What a fan-out needs to know about every partner concerned, loaded with a few queries
    (not a few per partner: a vendor incident can concern thousands)."""

    impacts: dict[int, incident_rows.PartnerImpact]
    alerts: dict[int, IncidentAlert]
    partners: dict[int, Partner]
    top: dict[int, list[tuple[str, int]]]
    apologies: dict[int, str]  # partners' own apology templates
    closings: dict[int, str]  # … and closing ones
    followers: dict[int, list[str]]
    waiting_updates: dict[str, OutboxMessage]  # update replies not yet sent, by root key


async def fan_out_data(
    session: AsyncSession, incident: Incident, *, catalogue: Catalogue, became_resolved: bool
) -> FanOutData:
    plan_codes = plans_with(incident.service, catalogue)
    regions = regions_of(incident)
    impacts = {
        impact.partner_id: impact
        for impact in await incident_rows.impact_by_partner(
            session=session, plan_codes=plan_codes, regions=regions, partner_id=incident.partner_id
        )
    }
    alerts = {
        a.partner_id: a
        for a in await incident_rows.alerts_of(session=session, incident_id=incident.id)
    }
    partner_ids = sorted(set(impacts) | set(alerts))
    top = await incident_rows.top_affected_by_partner(
        session=session,
        plan_codes=plan_codes,
        regions=regions,
        limit=outage_messages.TOP_CUSTOMERS,
        partner_id=incident.partner_id,
    )
    return FanOutData(
        impacts=impacts,
        alerts=alerts,
        partners=await incident_rows.partners_by_id(session=session, partner_ids=partner_ids),
        top=top,
        apologies=await incident_rows.templates_by_partner(
            session=session, partner_ids=partner_ids, kind="apology"
        ),
        closings=await incident_rows.templates_by_partner(
            session=session, partner_ids=partner_ids, kind="closing"
        )
        if became_resolved
        else {},
        followers=await incident_rows.followers_by_partner(session=session, incident_id=incident.id)
        if alerts
        else {},
        waiting_updates=await outbox.waiting_replies(
            session=session, prefix=f"incident:{incident.id}:partner:", marker=UPDATE_MARKER
        )
        if alerts
        else {},
    )


async def fan_out(
    session: AsyncSession,
    incident: Incident,
    *,
    catalogue: Catalogue,
    now: datetime,
    changes: list[str],
    became_resolved: bool,
    collapse: timedelta = COLLAPSE,
) -> int:
    """Queues the messages an incident's news means for every partner concerned: a root and an
    apology for a partner newly affected; an edit of the root and a thread reply for one already
    alerted; the closing message with credits on resolution; DMs for followers."""
    data = await fan_out_data(
        session, incident, catalogue=catalogue, became_resolved=became_resolved
    )
    rows: list[dict] = []
    new_alerts: list[IncidentAlert] = []
    for partner_id, partner in sorted(data.partners.items()):
        view = incident_view(incident, partner.timezone, now)
        impact = data.impacts.get(partner_id)
        impact_view = ImpactView(
            customers=impact.customers if impact else 0,
            seats=impact.seats if impact else 0,
            monthly=impact.monthly if impact else Decimal(0),
            top=data.top.get(partner_id, []),
        )
        root = outage_messages.root_message(view, impact_view)
        alert = data.alerts.get(partner_id)
        if alert is None:
            alert = IncidentAlert(
                incident_id=incident.id,
                partner_id=partner_id,
                channel=partner.alert_channel,
                root_key=f"incident:{incident.id}:partner:{partner_id}:root",
                created_at=now,
            )
            new_alerts.append(alert)
            rows.append(
                post_message(
                    key=alert.root_key,
                    channel=alert.channel,
                    message=root,
                    partner_id=partner_id,
                    now=now,
                )
            )
            if view.advisory:
                continue
            text = render_apology(
                data.apologies.get(partner_id), partner, view, "apology", GENERIC_CUSTOMER, None
            )
            rows.append(
                thread_reply(
                    alert, f"{alert.root_key}:apology", outage_messages.apology_message(text), now
                )
            )
        else:
            rows.append(edit_of(alert, f"{alert.root_key}:edit:{incident.version}", root, now))
            update = await collapse_or_add(
                session, alert, view, changes, now, collapse, data.waiting_updates
            )
            if update is not None:
                rows.append(update)
            for user_id in data.followers.get(partner_id, []):
                dm = outage_messages.follower_message(view, changes)
                rows.append(
                    post_message(
                        key=f"incident:{incident.id}:follower:{partner_id}:{user_id}:{incident.version}",
                        channel=user_id,
                        message=dm,
                        partner_id=partner_id,
                        now=now,
                    )
                )
        if became_resolved and not view.advisory:
            closing = await closing_messages(
                session, incident, partner, view, catalogue, now, data.closings.get(partner_id)
            )
            for number, message in enumerate(closing):
                rows.append(
                    thread_reply(
                        alert, f"{alert.root_key}:closing:{number}", message, now + collapse
                    )
                )
    await incident_rows.add_alerts(session=session, alerts=new_alerts)
    await outbox.add(session=session, rows=rows)
    return len(data.partners)


def thread_reply(alert: IncidentAlert, key: str, message, due: datetime) -> dict:
    row = post_message(
        key=key, channel=alert.channel, message=message, partner_id=alert.partner_id, now=due
    )
    return {**row, "parent_key": alert.root_key}


def edit_of(alert: IncidentAlert, key: str, message, now: datetime) -> dict:
    row = post_message(
        key=key, channel=alert.channel, message=message, partner_id=alert.partner_id, now=now
    )
    return {**row, "method": "chat.update", "parent_key": alert.root_key}


async def collapse_or_add(
    session: AsyncSession,
    alert: IncidentAlert,
    view: IncidentView,
    changes: list[str],
    now: datetime,
    collapse: timedelta,
    waiting: dict[str, OutboxMessage],
) -> dict | None:
    """Folds an update's changes into its thread's reply still waiting to go out, so a burst of
    updates becomes one reply; else returns the new reply to queue."""
    latest = waiting.get(alert.root_key)
    if latest is not None:
        earlier = json.loads(latest.payload).get("_changes", [])
        merged = earlier + changes
        message = outage_messages.update_message(merged, view)
        payload = {"text": message.text, "blocks": message.blocks, "_changes": merged}
        if await outbox.replace_waiting_payload(
            session=session, message_id=latest.id, payload=json.dumps(payload)
        ):
            return None
    message = outage_messages.update_message(changes, view)
    key = f"{alert.root_key}{UPDATE_MARKER}{view.number}:{now.isoformat()}"
    row = thread_reply(alert, key, message, now + collapse)
    payload = json.loads(row["payload"])
    row["payload"] = json.dumps({**payload, "_changes": changes})
    return row


def apology_context(
    partner: Partner, view: IncidentView, customer: dict, services: str, credit: dict | None
) -> dict:
    return {
        "partner": {"name": partner.name},
        "customer": customer,
        "services": services,
        "incident": {
            "title": view.title,
            "status": view.status,
            "started": view.started,
            "ended": view.ended,
            "duration": view.duration,
            "impact": view.impact,
            "latest": view.latest,
            "services_count": services.count(",") + 1,
            "next_update": "as soon as we know more" if view.resolved else "within the hour",
        },
        "credit": credit,
    }


async def apology_text(
    session: AsyncSession,
    partner: Partner,
    view: IncidentView,
    kind: str,
    customer: dict,
    credit: dict | None,
) -> str:
    """Renders a partner's apology (its own template, else the shipped one)."""
    own = await incident_rows.template_of(session=session, partner_id=partner.id, kind=kind)
    return render_apology(own, partner, view, kind, customer, credit)


def render_apology(
    own: str | None,
    partner: Partner,
    view: IncidentView,
    kind: str,
    customer: dict,
    credit: dict | None,
) -> str:
    """Renders an apology from the partner's own template, or the shipped one when it has none
    or its own fails."""
    context = apology_context(partner, view, customer, view.service, credit)
    if own:
        rendered = apology.render(own, context)
        if rendered.text:
            return rendered.text
        logger.warning(
            "partner %s's %s template fails (%s); using the shipped one",
            partner.id,
            kind,
            rendered.problem,
        )
    return apology.render(apology.shipped(kind), context).text


def customer_context(customer: Customer) -> dict:
    return {"name": customer.name, "contact_name": customer.contact_name, "domain": customer.domain}


async def service_fees(
    session: AsyncSession,
    *,
    partner: Partner,
    service: str,
    regions: list[str],
    catalogue: Catalogue,
) -> dict[int, tuple[Customer, Decimal]]:
    """Each affected customer with the part of its monthly fees that pays for the service."""
    pairs = await incident_rows.affected_subscriptions(
        session=session,
        partner_id=partner.id,
        plan_codes=plans_with(service, catalogue),
        regions=regions,
    )
    fees: dict[int, tuple[Customer, Decimal]] = {}
    for customer, subscription in pairs:
        plan = catalogue.get(subscription.plan_code)
        share = service_share(plan, service, catalogue) if plan else Decimal(1)
        monthly = monthly_value(subscription.seats, subscription.unit_price)
        fees[customer.id] = (
            customer,
            fees.get(customer.id, (customer, Decimal(0)))[1] + monthly * share,
        )
    return fees


def intervals_for(
    customer: Customer, incidents: list[Incident], *, until: datetime
) -> list[tuple[datetime, datetime]]:
    """The downtime of incidents in the customer's region, as known at a moment."""
    return [
        (incident.start_at, min(incident.end_at or until, until))
        for incident in incidents
        if incident.start_at < until
        and (not regions_of(incident) or customer.region in regions_of(incident))
    ]


async def credits_for_partner(
    session: AsyncSession, incident: Incident, partner: Partner, catalogue: Catalogue, now: datetime
) -> list[tuple[Customer, CreditLine, dict | None]]:
    """Works out, per affected customer, this month's availability of the service and the credit
    owed: from all of the month's incidents of the service in the customer's region (overlaps
    counted once) up to the incident's end, against the service's share of the customer's
    monthly fees."""
    moment = incident.end_at or now
    fees = await service_fees(
        session,
        partner=partner,
        service=incident.service,
        regions=regions_of(incident),
        catalogue=catalogue,
    )
    month_incidents = await incident_rows.incidents_overlapping(
        session=session,
        service=incident.service,
        start=moment - timedelta(days=33),
        end=moment,
        partner_id=partner.id,
    )
    results = []
    for customer, fee in fees.values():
        month = month_of(moment, customer.timezone or partner.timezone)
        intervals = intervals_for(customer, month_incidents, until=max(moment, now))
        credit = credit_for(intervals=intervals, month=month, fee=fee)
        line = CreditLine(
            customer=customer.name,
            availability=format_availability(credit.available),
            credit=format_money(credit.amount) if credit.amount else "",
            rate=format_percent(credit.rate),
        )
        context = (
            {"availability": line.availability, "amount": line.credit, "rate": line.rate}
            if line.credit
            else None
        )
        results.append((customer, line, context))
    return results


async def credits_owed_between(
    session: AsyncSession,
    *,
    partner: Partner,
    service: str,
    start: datetime,
    end: datetime,
    catalogue: Catalogue,
) -> Decimal:
    """The service credits that became owed within a period: per customer and month, the
    month-to-date credit at the period's end less the one at its start (so a month's credit is
    never counted twice, however many incidents or weeks it spans)."""
    fees = await service_fees(
        session, partner=partner, service=service, regions=[], catalogue=catalogue
    )
    incidents = await incident_rows.incidents_overlapping(
        session=session,
        service=service,
        start=start - timedelta(days=33),
        end=end,
        partner_id=partner.id,
    )
    owed = Decimal(0)
    for customer, fee in fees.values():
        time_zone = customer.timezone or partner.timezone
        moment = start
        while moment < end:
            month = month_of(moment, time_zone)
            stop = min(month[1], end)
            after = credit_for(
                intervals=intervals_for(customer, incidents, until=stop), month=month, fee=fee
            ).amount
            before = credit_for(
                intervals=intervals_for(customer, incidents, until=moment), month=month, fee=fee
            ).amount
            owed += after - before
            moment = stop
    return owed


async def closing_messages(
    session: AsyncSession,
    incident: Incident,
    partner: Partner,
    view: IncidentView,
    catalogue: Catalogue,
    now: datetime,
    own_template: str | None,
) -> list:
    credits = await credits_for_partner(session, incident, partner, catalogue, now)
    text = render_apology(own_template, partner, view, "closing", GENERIC_CUSTOMER, None)
    return outage_messages.closing_message(view, [line for _, line, _ in credits], text)


async def apology_for_customer(
    session: AsyncSession,
    incident: Incident,
    partner: Partner,
    customer: Customer,
    catalogue: Catalogue,
    now: datetime,
) -> str:
    """One affected customer's text: the apology while the incident is open, the closing text
    with its credit once resolved; times in the customer's time zone."""
    time_zone = customer.timezone or partner.timezone
    view = incident_view(incident, time_zone, now)
    if not incident.is_resolved:
        return await apology_text(
            session, partner, view, "apology", customer_context(customer), None
        )
    credit = None
    for other, _, context in await credits_for_partner(session, incident, partner, catalogue, now):
        if other.id == customer.id:
            credit = context
    return await apology_text(session, partner, view, "closing", customer_context(customer), credit)
