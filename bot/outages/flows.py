"""Outage intake: an incident comes in (hook, feed or /outage), is stored by its id, and its news
is fanned out to every partner concerned in the same transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.catalogue import Catalogue
from bot.outages.confirming import confirm_soon
from bot.outages.fan_out import COLLAPSE, fan_out
from bot.outages.intake import Incoming, no_impact, status_words
from bot.outages.rules import plans_with
from bot.services import Services
from storage import outages as incident_rows
from storage.models import Incident, Partner

MAX_RETRIES = 5


@dataclass(frozen=True)
class Ingested:
    incident: Incident
    # created | updated | unchanged | recorded (new, history: no alerts) | stale (older body)
    outcome: str
    partners: int  # partners whose channel gets a message
    note: str = ""  # why nobody was alerted, when nobody was


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
        changes.append("Closed: no impact" if no_impact(incoming.status) else "Resolved")
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
    incident.last_modified_at = incoming.last_modified or incident.last_modified_at
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


def update_collapse(services: Services) -> timedelta:
    """How close together a deployment's updates become one thread reply."""
    return timedelta(seconds=services.settings.outage_update_collapse_seconds)


def history_before(services: Services, now: datetime) -> datetime:
    """An issue first seen with its last change before this moment is history."""
    return now - timedelta(days=services.settings.incident_history_days)


async def receive(services: Services, incoming: Incoming) -> Ingested:
    """Ingests a delivered body in its own transaction, and wakes the outbox when it queued
    messages."""
    now = services.clock()
    async with services.sessions() as session:
        ingested = await ingest(
            session,
            incoming,
            catalogue=services.catalogue,
            now=now,
            collapse=update_collapse(services),
            history=history_before(services, now),
            tenant_checks=services.settings.outage_tenant_checks,
        )
    if ingested.partners:
        services.wake_outbox()
    if ingested.partners and ingested.outcome in ("created", "updated"):
        confirm_soon(services, ingested.incident.id)
    return ingested


def hook_answer(ingested: Ingested, external_id: str) -> tuple[int, dict]:
    """The incident hook's answer: its HTTP status and JSON body."""
    status = 201 if ingested.outcome in ("created", "recorded") else 200
    answer = {
        "id": ingested.incident.id,
        "externalId": external_id,
        "outcome": ingested.outcome,
        "partnersNotified": ingested.partners,
    }
    if ingested.note:
        answer["note"] = ingested.note
    return status, answer


def first_sight_is_history(incoming: Incoming, history: datetime | None) -> str:
    """Why a vendor issue seen for the first time is recorded without alerts ("" when it is
    news): it is over already, or its last change is older than the history window (the first
    poll of a real tenant lists months of issues)."""
    if incoming.is_resolved:
        return "first seen already resolved: recorded without alerts"
    changed = incoming.last_modified  # a body without it (not Graph's) is news
    if history is not None and changed is not None and changed < history:
        return (
            f"last changed {changed:%Y-%m-%d}, before the history window: recorded without alerts"
        )
    return ""


def nobody_note(incident: Incident, catalogue: Catalogue, partners: int) -> str:
    """Says why an incident alerted nobody ("" when it alerted someone)."""
    if partners:
        return ""
    if not plans_with(incident.service, catalogue):
        return f"no plan includes {incident.service}: nobody was alerted"
    return (
        f"no partner has an affected customer on a plan with {incident.service}: nobody was alerted"
    )


async def ingest(
    session: AsyncSession,
    incoming: Incoming,
    *,
    catalogue: Catalogue,
    now: datetime,
    partner: Partner | None = None,
    collapse: timedelta = COLLAPSE,
    history: datetime | None = None,
    declared_by: str = "",
    tenant_checks: bool = False,
) -> Ingested:
    """Stores an incident body and queues every message it causes, once: the same body again
    changes nothing, an older version of it (by lastModifiedDateTime) changes nothing, and
    concurrent deliveries of one body are told apart by the unique id. A vendor issue first
    seen resolved or last changed before `history` is stored without alerts."""
    for _ in range(MAX_RETRIES):
        existing = await incident_rows.get_by_external_id(
            session=session, external_id=incoming.external_id
        )
        if existing is None:
            ingested = await create(
                session,
                incoming,
                catalogue=catalogue,
                now=now,
                partner=partner,
                collapse=collapse,
                history=history,
                declared_by=declared_by,
                tenant_checks=tenant_checks,
            )
        else:
            ingested = await update(
                session, existing, incoming, catalogue=catalogue, now=now, collapse=collapse,
                tenant_checks=tenant_checks,
            )  # fmt: skip
        if ingested is not None:
            return ingested
    raise RuntimeError(f"incident {incoming.external_id} kept changing under us")


async def create(
    session: AsyncSession,
    incoming: Incoming,
    *,
    catalogue: Catalogue,
    now: datetime,
    partner: Partner | None,
    collapse: timedelta,
    history: datetime | None = None,
    declared_by: str = "",
    tenant_checks: bool = False,
) -> Ingested | None:
    """Stores a new incident and alerts the partners concerned; None when a concurrent delivery
    created it first (this one is then an update, if anything)."""
    fresh = new_incident(incoming, now, partner.id if partner else None)
    fresh.declared_by = declared_by  # who declared a partner's own outage (staff read it)
    if not await incident_rows.claim_external_id(session=session, incident=fresh):
        await session.rollback()
        return None
    incident = await incident_rows.get_by_external_id(
        session=session, external_id=incoming.external_id
    )
    past = first_sight_is_history(incoming, history) if partner is None else ""
    if past:
        await session.commit()
        return Ingested(incident, "recorded", 0, past)
    count = await fan_out(
        session,
        incident,
        catalogue=catalogue,
        now=now,
        changes=[],
        became_resolved=incident.is_resolved,
        collapse=collapse,
        tenant_checks=tenant_checks,
    )
    await session.commit()
    return Ingested(incident, "created", count, nobody_note(incident, catalogue, count))


async def update(
    session: AsyncSession,
    existing: Incident,
    incoming: Incoming,
    *,
    catalogue: Catalogue,
    now: datetime,
    collapse: timedelta,
    tenant_checks: bool = False,
) -> Ingested | None:
    """Applies a changed body to a stored incident and tells the partners concerned; None when a
    concurrent writer changed it first."""
    if existing.body_hash == incoming.body_hash:
        await session.commit()
        return Ingested(existing, "unchanged", 0)
    if older_than_stored(existing, incoming):
        await session.commit()
        return Ingested(
            existing, "stale", 0, "an older version than the one stored: nothing changed"
        )
    was_resolved, version = existing.is_resolved, existing.version
    changes = apply_incoming(existing, incoming, now)
    existing.version = version + 1
    session.add(existing)
    await session.flush()
    if not await version_still(session, existing.id, version + 1):
        await session.rollback()
        return None
    count = await fan_out(
        session,
        existing,
        catalogue=catalogue,
        now=now,
        changes=changes,
        became_resolved=existing.is_resolved and not was_resolved,
        collapse=collapse,
        tenant_checks=tenant_checks,
    )
    await session.commit()
    return Ingested(existing, "updated", count)


def older_than_stored(existing: Incident, incoming: Incoming) -> bool:
    """Tells whether a body is an older version of the issue than the one stored (a replay, or
    a retried delivery overtaken by a newer one)."""
    stored, given = existing.last_modified_at, incoming.last_modified
    return given is not None and stored is not None and given < stored


async def version_still(session: AsyncSession, incident_id: int, version: int) -> bool:
    """Tells whether our write of an incident's version stands (no concurrent writer won)."""
    current = await session.get(Incident, incident_id, populate_existing=True)
    return current is not None and current.version == version
