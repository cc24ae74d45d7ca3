"""Which Slack requests are the same one again (a replay of a captured request, or Slack's own
retry of an event), and how long each is remembered, so that each is acted on once."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import partners, seen_requests
from storage.db import Sessions, autocommit_session
from storage.models import Partner

# A signature is accepted for five minutes either side of its timestamp, so a replay can come up
# to ten minutes after the first sight; Slack retries an event delivery up to three times, the
# last about five minutes after the first failure, each with a new timestamp and signature but
# the same event_id. An hour covers both with room to spare.
REMEMBERED_FOR = timedelta(hours=1)
LONGEST_EVENT_ID = 90  # Slack's are a dozen characters; the key column holds 100


def request_key(body: dict, signature: str) -> str | None:
    """The key that names a request across replays and retries, or None for one that changes
    nothing (an options load, Slack checking the URL), which is answered as often as asked.

    An event is named by its event_id, which Slack keeps across its retries; anything else by
    its signature, which only a replay of the very same request carries (every command and
    click has its own trigger_id, so two real ones never sign alike)."""
    kind = body.get("type")
    if kind in ("block_suggestion", "url_verification"):
        return None
    if kind == "event_callback":
        return f"event:{body['event_id']}"
    return f"signature:{signature.removeprefix('v0=')}"


async def first_sight(sessions: Sessions, key: str, *, now: datetime) -> bool:
    """Records a request; True the first time it is seen by any process, False after."""
    async with sessions() as session:
        first = await seen_requests.record_first_sight(session=session, key=key, now=now)
        await session.commit()
    return first


async def first_sight_and_partner(
    sessions: Sessions, key: str, *, team_id: str, now: datetime
) -> tuple[bool, Partner | None]:
    """Records a request and gets the partner its workspace belongs to, in one session (one
    connection checkout): whether this is the first sight of it, and the partner (None: not
    set up). The record commits as it is written (one statement, nothing to roll back with
    it), so SQLite's write lock is held only while it runs."""
    async with autocommit_session(sessions) as session:
        partner = await partners.get_by_team_id(session=session, team_id=team_id)
        first = await seen_requests.record_first_sight(session=session, key=key, now=now)
    return first, partner


async def forget_old_requests(sessions: Sessions, *, now: datetime) -> int:
    """Deletes the records no replay or retry can need any more; returns how many went."""
    async with sessions() as session:
        forgotten = await seen_requests.forget_seen_before(
            session=session, before=now - REMEMBERED_FOR
        )
        await session.commit()
    return forgotten
