"""Fan-out of an incident's news: the outbox rows every partner concerned gets (its alert, the
apology, edits, thread replies collapsed into one, follower DMs and the closing message with
credits), queued in the caller's transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import Message
from bot.catalogue import Catalogue
from bot.outages import messages as outage_messages
from bot.outages.apology import GENERIC_CUSTOMER, render_apology
from bot.outages.closing import CreditLine, closing_message, credits_file, no_impact_message
from bot.outages.credits import credits_for_partner
from bot.outages.intake import no_impact
from bot.outages.messages import ImpactView, IncidentView, incident_view
from bot.outages.owed import credits_at_resolution
from bot.outages.rules import plans_with
from bot.outages.scope import Scope, scope_of
from bot.outages.tenant_scope import checked_impact, checks_apply
from bot.outbox.rows import post_message, upload_file
from storage import outage_scopes, outbox
from storage import outages as incident_rows
from storage import tenant_checks as checks
from storage.models import Incident, IncidentAlert, OutboxMessage, Partner

COLLAPSE = timedelta(seconds=5)  # updates this close together become one thread reply
UPDATE_MARKER = ":update:"  # in the keys of the thread replies that report an update


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
    narrowed: dict[int, list[str]]  # partners' narrowings of an incident the vendor did not place
    # Connected partners whose customers' own service health is asked (bot/outages/confirming.py)
    checking: set[int] = field(default_factory=set)
    # On resolution, every alerted partner's credit lines, worked out for all of them at once.
    credits: dict[int, list[CreditLine]] = field(default_factory=dict)

    def scope(self, incident: Incident, partner_id: int) -> Scope:
        return scope_of(incident, self.narrowed.get(partner_id))


async def fan_out_data(
    session: AsyncSession,
    incident: Incident,
    *,
    catalogue: Catalogue,
    became_resolved: bool,
    tenant_checks: bool = False,
) -> FanOutData:
    plan_codes = plans_with(incident.service, catalogue)
    regions = scope_of(incident).regions
    narrowed = (
        await outage_scopes.narrowings_of(session=session, incident_id=incident.id)
        if not regions and incident.partner_id is None
        else {}
    )
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
    for partner_id, own in narrowed.items():
        # A partner's narrowing counts its own customers again, in its regions only.
        found = await incident_rows.impact_by_partner(
            session=session, plan_codes=plan_codes, regions=own, partner_id=partner_id
        )
        impacts.pop(partner_id, None)
        impacts.update({impact.partner_id: impact for impact in found})
        top.update(
            await incident_rows.top_affected_by_partner(
                session=session,
                plan_codes=plan_codes,
                regions=own,
                limit=outage_messages.TOP_CUSTOMERS,
                partner_id=partner_id,
            )
            or {partner_id: []}
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
        narrowed=narrowed,
        checking=await checks.connected_partner_ids(session=session, partner_ids=partner_ids)
        if tenant_checks
        else set(),
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
    tenant_checks: bool = False,
) -> int:
    """Queues the messages an incident's news means for every partner concerned: a root and an
    apology for a partner newly affected; an edit of the root and a thread reply for one already
    alerted; the closing message with credits on resolution; DMs for followers. Returns how many
    partners get a message."""
    data = await fan_out_data(
        session,
        incident,
        catalogue=catalogue,
        became_resolved=became_resolved,
        tenant_checks=tenant_checks,
    )
    if became_resolved and incident.classification == "incident":
        alerted = {pid: p for pid, p in data.partners.items() if pid in data.alerts}
        credits = await credits_at_resolution(
            session,
            incident,
            partners=alerted,
            scopes={pid: data.scope(incident, pid) for pid in alerted},
            catalogue=catalogue,
            now=now,
        )
        data = replace(data, credits=credits)
    rows: list[dict] = []
    new_alerts: list[IncidentAlert] = []
    for partner_id, partner in sorted(data.partners.items()):
        alert = data.alerts.get(partner_id)
        if alert is None and incident.is_resolved:
            continue  # over before this partner heard of it: nothing to act on
        scope = data.scope(incident, partner_id)
        view = incident_view(incident, partner.timezone, now, scope)
        impact = impact_view(data, partner_id)
        checked = partner_id in data.checking and checks_apply(incident, scope)
        if checked:
            impact = await checked_impact(session, incident, partner_id, catalogue, impact)
        root = outage_messages.root_message(view, impact)
        if alert is None:
            alert = new_alert(incident, partner, now)
            new_alerts.append(alert)
            rows += first_alert_rows(
                alert, root, view, partner, data.apologies.get(partner_id), now
            )
        else:
            rows += await news_rows(
                session, incident, alert, root, view, changes, data, now, collapse
            )
        if became_resolved and no_impact(incident.status):
            # A false positive hit nobody: no closing apology, no credits.
            message = no_impact_message(view)
            rows.append(thread_reply(alert, f"{alert.root_key}:closing:0", message, now + collapse))
        elif became_resolved and not view.advisory:
            rows += await closing_rows(
                session, incident, alert, partner, view, scope, catalogue, (now, collapse), data,
                checked,
            )  # fmt: skip
    await incident_rows.add_alerts(session=session, alerts=new_alerts)
    await outbox.add(session=session, rows=rows)
    return len({row["partner_id"] for row in rows})


def impact_view(data: FanOutData, partner_id: int) -> ImpactView:
    impact = data.impacts.get(partner_id)
    return ImpactView(
        customers=impact.customers if impact else 0,
        seats=impact.seats if impact else 0,
        monthly=impact.monthly if impact else Decimal(0),
        top=data.top.get(partner_id, []),
    )


def new_alert(incident: Incident, partner: Partner, now: datetime) -> IncidentAlert:
    return IncidentAlert(
        incident_id=incident.id,
        partner_id=partner.id,
        channel=partner.alert_channel,
        root_key=f"incident:{incident.id}:partner:{partner.id}:root",
        created_at=now,
    )


def first_alert_rows(
    alert: IncidentAlert,
    root: Message,
    view: IncidentView,
    partner: Partner,
    own_apology: str | None,
    now: datetime,
) -> list[dict]:
    """A partner's first news of an incident: the alert, and the apology in its thread (none for
    an advisory)."""
    rows = [
        post_message(
            key=alert.root_key, channel=alert.channel, message=root, partner_id=partner.id, now=now
        )
    ]
    if not view.advisory:
        text = render_apology(own_apology, partner, view, "apology", GENERIC_CUSTOMER, None)
        apology = outage_messages.apology_message(text, known=view.scope_known)
        for number, message in enumerate(apology):
            # A long apology goes on in more replies: ":apology", ":apology:1", …
            key = f"{alert.root_key}:apology" + (f":{number}" if number else "")
            rows.append(thread_reply(alert, key, message, now))
    return rows


async def news_rows(
    session: AsyncSession,
    incident: Incident,
    alert: IncidentAlert,
    root: Message,
    view: IncidentView,
    changes: list[str],
    data: FanOutData,
    now: datetime,
    collapse: timedelta,
) -> list[dict]:
    """News of an incident a partner was alerted about: the alert edited, the changes in its
    thread (or folded into the reply still waiting), and a DM per follower."""
    rows = [edit_of(alert, f"{alert.root_key}:edit:{incident.version}", root, now)]
    rows += await collapse_or_add(
        session, alert, view, changes, now, collapse, data.waiting_updates
    )
    dm = outage_messages.follower_message(view, changes, alert.channel)
    for user_id in data.followers.get(alert.partner_id, []):
        rows.append(
            post_message(
                key=f"incident:{incident.id}:follower:{alert.partner_id}:{user_id}:"
                f"{incident.version}",
                channel=user_id,
                message=dm,
                partner_id=alert.partner_id,
                now=now,
            )
        )
    return rows


def thread_reply(alert: IncidentAlert, key: str, message: Message, due: datetime) -> dict:
    row = post_message(
        key=key, channel=alert.channel, message=message, partner_id=alert.partner_id, now=due
    )
    return {**row, "parent_key": alert.root_key}


def edit_of(alert: IncidentAlert, key: str, message: Message, now: datetime) -> dict:
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
) -> list[dict]:
    """Folds an update's changes into its thread's reply still waiting to go out, so a burst of
    updates becomes one reply, while the two fit in one message; else returns the new replies
    to queue (a long update takes several)."""
    latest = waiting.get(alert.root_key)
    if latest is not None:
        payload = json.loads(latest.payload)
        # Only a one-message update carries its changes; a part of a long one is left as it is.
        if "_changes" in payload:
            merged = payload["_changes"] + changes
            replies = outage_messages.update_messages(merged, view)
            if len(replies) == 1:
                message = replies[0]
                payload = {"text": message.text, "blocks": message.blocks, "_changes": merged}
                if await outbox.replace_waiting_payload(
                    session=session, message_id=latest.id, payload=json.dumps(payload)
                ):
                    return []
    replies = outage_messages.update_messages(changes, view)
    key = f"{alert.root_key}{UPDATE_MARKER}{view.number}:{now.isoformat()}"
    rows = [
        thread_reply(alert, key + (f":part:{number}" if number else ""), message, now + collapse)
        for number, message in enumerate(replies)
    ]
    if len(replies) == 1:
        payload = json.loads(rows[0]["payload"])
        rows[0]["payload"] = json.dumps({**payload, "_changes": changes})
    return rows


async def closing_rows(
    session: AsyncSession,
    incident: Incident,
    alert: IncidentAlert,
    partner: Partner,
    view: IncidentView,
    scope: Scope,
    catalogue: Catalogue,
    when: tuple[datetime, timedelta],  # now, and how long the replies wait (updates collapse)
    data: FanOutData,
    checked: bool = False,  # the customers' own service health was asked
) -> list[dict]:
    """The resolution's replies: the credits that matter with their total, the closing text,
    and every affected customer's figures in a CSV file in the thread."""
    now, collapse = when
    due = now + collapse
    answers = (
        await checks.results_of(session=session, incident_id=incident.id, partner_id=partner.id)
        if checked
        else None
    )
    # A partner whose customers' own service health was asked gets credits by those answers;
    # the others' were worked out for all of them at once.
    credits = (
        [
            line
            for _, line, _ in await credits_for_partner(
                session, incident, partner, catalogue, now, scope, answers
            )
        ]
        if checked
        else data.credits.get(partner.id, [])
    )
    own = data.closings.get(partner.id)
    text = render_apology(own, partner, view, "closing", GENERIC_CUSTOMER, None)
    messages = closing_message(view, credits, text, known=scope.known, answers=answers)
    rows = [
        thread_reply(alert, f"{alert.root_key}:closing:{number}", message, due)
        for number, message in enumerate(messages)
    ]
    if credits:
        upload = upload_file(
            key=f"{alert.root_key}:closing:file",
            channel=alert.channel,
            content=credits_file(credits, scope.known, checked=answers is not None),
            filename=f"outage-{incident.id}-availability-and-credits.csv",
            title=f"Outage #{incident.id}: every customer's availability and credit",
            partner_id=partner.id,
            now=due,
        )
        rows.append({**upload, "parent_key": alert.root_key})
    return rows
