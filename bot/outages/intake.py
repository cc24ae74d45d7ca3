"""Reads an incident body in the shape of a Microsoft Graph serviceHealthIssue (plus `regions`)
into a checked Incoming value, or says exactly what is wrong with it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.arguments import fold
from bot.catalogue import REGIONS, Catalogue
from bot.outages.graph_text import readable
from bot.outages.hook_signature import signature_refusal, timestamp_refusal

MAX_BODY_BYTES = 256 * 1024
MAX_TEXT = 20_000
CLASSIFICATIONS = ("incident", "advisory")
# Graph's evolvable enums end in this member; a value newer than this code is read as it.
UNKNOWN = "unknownFutureValue"
UNKNOWN_CLASSIFICATION = "unknown"  # stored for a classification this code does not know
# Graph's serviceHealthStatus values, in plain words for people.
STATUS_WORDS = {
    "serviceOperational": "operational",
    "investigating": "investigating",
    "restoringService": "restoring service",
    "verifyingService": "verifying the fix",
    "serviceRestored": "service restored",
    "postIncidentReviewPublished": "resolved, post-incident review published",
    "serviceDegradation": "degraded",
    "serviceInterruption": "interrupted",
    "extendedRecovery": "extended recovery: restored for most users, the rest still recovering",
    "falsePositive": "closed: no impact (false positive)",
    "investigationSuspended": "investigation suspended: Microsoft needs more information",
    "resolved": "resolved",
    "mitigatedExternal": "mitigated (cause outside Microsoft), not yet resolved",
    "mitigated": "mitigated: impact relieved, not yet resolved",
    "resolvedExternal": "resolved (cause outside Microsoft)",
    "confirmed": "confirmed by Microsoft",
    "reported": "reported, not yet confirmed",
    UNKNOWN: "status not known to partnerbot",
}
# Statuses that end an incident whatever `isResolved` says. The mitigated ones, extended
# recovery and a suspended investigation are not over: people are still affected or waiting.
RESOLVED_STATUSES = {
    "serviceRestored",
    "resolved",
    "resolvedExternal",
    "falsePositive",
    "postIncidentReviewPublished",
    "serviceOperational",
}
# Closed without impact: no closing apology, no credits, no downtime in the availability.
NO_IMPACT_STATUSES = {"falsePositive"}
STATUS_BY_KEY = {status.lower(): status for status in STATUS_WORDS}
REGION_BY_KEY = {fold(region): region for region in REGIONS}


class BadIncident(ValueError):
    """The body cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class Refusal:
    """Why the hook does not take a delivery: an HTTP status and what to tell the sender."""

    status: int
    message: str


def refusal_before_reading(
    secret: str, content_length: int | None, timestamp: str, now: float
) -> Refusal | None:
    """Refuses a delivery the hook cannot take whatever its body: the hook is off, the body is
    announced too large, or its timestamp is missing or stale."""
    if not secret:
        return Refusal(404, "the incident hook is disabled: INCIDENT_WEBHOOK_SECRET is not set")
    if (content_length or 0) > MAX_BODY_BYTES:
        return body_too_large()
    stale = timestamp_refusal(timestamp, now)
    return None if stale is None else Refusal(401, stale)


def body_too_large() -> Refusal:
    return Refusal(413, f"the body is larger than {MAX_BODY_BYTES // 1024} KiB")


def delivered_incident(
    secret: str, raw: bytes, timestamp: str, signature: str, now: float, catalogue: Catalogue
) -> Incoming | Refusal:
    """Reads a signed delivery's body, or says why it is refused."""
    refusal = signature_refusal(secret, timestamp, raw, signature, now)
    if refusal is not None:
        return Refusal(401, refusal)
    try:
        return parse_incident(raw, catalogue)
    except BadIncident as problem:
        return Refusal(400, str(problem))


def database_down(reference: str) -> Refusal:
    return Refusal(503, f"the database is not answering; nothing was stored (ref {reference})")


@dataclass(frozen=True)
class Incoming:
    external_id: str
    service: str
    feature: str
    title: str
    classification: str
    status: str
    impact_description: str
    regions: tuple[str, ...]  # empty: every region
    start_at: datetime
    end_at: datetime | None
    is_resolved: bool
    posts: tuple[str, ...]  # the post texts, oldest first
    body_hash: str
    # Graph's lastModifiedDateTime: an older version of an issue never overwrites a newer one.
    last_modified: datetime | None = None


def status_words(status: str) -> str:
    """Says a Graph status in plain words."""
    return STATUS_WORDS.get(status, status)


def no_impact(status: str) -> bool:
    """Tells whether a status closes an incident as one that hit nobody (a false positive)."""
    return status in NO_IMPACT_STATUSES


def status_of(body: dict) -> str:
    """Graph's status in its camelCase spelling, whatever the spelling that came (Graph's
    documentation writes `ServiceRestored`, the API `serviceRestored`); unknownFutureValue is
    kept as an unknown status."""
    given = text_of(body, "status", limit=200) or "investigating"
    status = STATUS_BY_KEY.get(given.lower())
    if status is None:
        # Graph sends a member newer than the client as unknownFutureValue (unless asked not
        # to), so anything else is not a Graph body.
        raise BadIncident(f"unknown `status` {given[:40]!r}; use a Graph serviceHealthStatus value")
    return status


def classification_of(body: dict) -> str:
    """incident or advisory in any letter case; unknownFutureValue (a member newer than this
    code) is recorded as unknown."""
    given = text_of(body, "classification", limit=200) or "incident"
    if given.lower() == UNKNOWN.lower():
        return UNKNOWN_CLASSIFICATION
    if given.lower() not in CLASSIFICATIONS:
        raise BadIncident(
            "`classification` must be incident or advisory (or unknownFutureValue), "
            f"not {given[:40]!r}"
        )
    return given.lower()


def parse_time(value: object, field: str) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise BadIncident(
            f"`{field}` must be an ISO 8601 date and time, such as 2026-11-22T09:30:00Z"
        )
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadIncident(f"`{field}` is not a date and time: {value[:60]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # Graph's times are UTC
    return moment.astimezone(UTC)


def text_of(body: dict, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = body.get(field)
    if value is None:
        if required:
            raise BadIncident(f"`{field}` is missing")
        return ""
    if not isinstance(value, str):
        raise BadIncident(f"`{field}` must be a string")
    value = value.strip()
    if required and not value:
        raise BadIncident(f"`{field}` must not be empty")
    if len(value) > limit:
        raise BadIncident(f"`{field}` is longer than {limit:,} characters")
    return value


def post_texts(body: dict) -> tuple[str, ...]:
    posts = body.get("posts") or []
    if not isinstance(posts, list):
        raise BadIncident("`posts` must be a list")
    texts = []
    for index, post in enumerate(posts):
        if not isinstance(post, dict):
            raise BadIncident(f"`posts[{index}]` must be an object")
        description = post.get("description")
        content = description.get("content") if isinstance(description, dict) else description
        if content is not None and not isinstance(content, str):
            raise BadIncident(f"`posts[{index}].description.content` must be a string")
        kind = description.get("contentType") if isinstance(description, dict) else None
        # Graph's posts are HTML (`contentType: html`); a reader gets them as text.
        text = readable(content or "", kind if isinstance(kind, str) else "html")
        if text:
            texts.append(text[:MAX_TEXT])
    return tuple(texts)


def regions_of(body: dict) -> tuple[str, ...]:
    regions = body.get("regions")
    if regions is None:
        return ()
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise BadIncident("`regions` must be a list of region names")
    known = []
    for region in regions:
        name = REGION_BY_KEY.get(fold(region))
        if name is None:
            raise BadIncident(f"unknown region {region[:60]!r}; known: {', '.join(REGIONS)}")
        if name not in known:
            known.append(name)
    return tuple(known)


def parse_incident(raw: bytes, catalogue: Catalogue) -> Incoming:
    """Reads and checks an incident body; raises BadIncident naming the first problem."""
    if len(raw) > MAX_BODY_BYTES:
        raise BadIncident(f"the body is larger than {MAX_BODY_BYTES // 1024} KiB")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadIncident(f"the body is not valid JSON ({error})") from None
    if not isinstance(body, dict):
        raise BadIncident("the body must be a JSON object")
    external_id = text_of(body, "id", required=True, limit=100)
    service = service_named(text_of(body, "service", required=True, limit=100), catalogue)
    classification = classification_of(body)
    status = status_of(body)
    start_at = parse_time(body.get("startDateTime"), "startDateTime")
    end_value = body.get("endDateTime")
    end_at = parse_time(end_value, "endDateTime") if end_value not in (None, "") else None
    if end_at is not None and end_at < start_at:
        raise BadIncident("`endDateTime` is before `startDateTime`")
    modified_value = body.get("lastModifiedDateTime")
    last_modified = (
        parse_time(modified_value, "lastModifiedDateTime")
        if modified_value not in (None, "")
        else None
    )
    resolved = body.get("isResolved")
    resolved = False if resolved is None else resolved
    if not isinstance(resolved, bool):
        raise BadIncident("`isResolved` must be true or false")
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return Incoming(
        external_id=external_id,
        service=service,
        feature=text_of(body, "feature", limit=200),
        title=text_of(body, "title", limit=500) or f"{service} incident",
        classification=classification,
        status=status,
        impact_description=text_of(body, "impactDescription"),
        regions=regions_of(body),
        start_at=start_at,
        end_at=end_at,
        is_resolved=resolved or status in RESOLVED_STATUSES,
        posts=post_texts(body),
        body_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        last_modified=last_modified,
    )


def known_services(catalogue: Catalogue) -> list[str]:
    """The services the catalogue's plans include, in catalogue order."""
    return catalogue.services()


def service_named(name: str, catalogue: Catalogue) -> str:
    """Returns the catalogue's (or Graph's) spelling of a service name, whatever its letter case;
    a service no plan includes keeps the name given: its issues are stored, and alert nobody."""
    return catalogue.spelling_of(name)
