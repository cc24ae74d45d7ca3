"""Replays and retries: which requests are the same one, the record every process shares, and
its clean-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.replays import (
    REMEMBERED_FOR,
    first_sight,
    first_sight_and_partner,
    forget_old_requests,
    request_key,
)
from bot.scheduler import JOBS, run_job
from storage.models import SeenSlackRequest
from tests.utils.factories import make_partner

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SIGNATURE = "v0=" + "ab" * 32


def test_an_event_is_named_by_its_id_and_anything_else_by_its_signature():
    event = {"type": "event_callback", "event_id": "Ev123", "event": {"type": "app_home_opened"}}
    assert request_key(event, SIGNATURE) == "event:Ev123"
    assert request_key({"command": "/order"}, SIGNATURE) == "signature:" + "ab" * 32
    assert request_key({"type": "view_submission"}, SIGNATURE) == "signature:" + "ab" * 32
    assert len(request_key({"type": "block_actions"}, SIGNATURE)) <= 100


def test_what_changes_nothing_is_never_recorded():
    assert request_key({"type": "block_suggestion"}, SIGNATURE) is None
    assert request_key({"type": "url_verification"}, SIGNATURE) is None


async def test_the_first_sight_is_told_once(sessions):
    assert await first_sight(sessions, "signature:1", now=NOW)
    assert not await first_sight(sessions, "signature:1", now=NOW + timedelta(minutes=9))
    assert await first_sight(sessions, "signature:2", now=NOW)


async def test_records_older_than_any_replay_or_retry_are_forgotten(sessions):
    await first_sight(sessions, "event:old", now=NOW - REMEMBERED_FOR - timedelta(seconds=1))
    await first_sight(sessions, "event:recent", now=NOW - REMEMBERED_FOR + timedelta(seconds=1))

    assert await forget_old_requests(sessions, now=NOW) == 1

    async with sessions() as session:
        keys = (await session.exec(select(SeenSlackRequest.key))).all()
    assert keys == ["event:recent"]
    assert await first_sight(sessions, "event:old", now=NOW)


async def test_the_scheduler_runs_the_clean_up(sessions, services):
    services.clock = lambda: NOW
    await first_sight(sessions, "event:old", now=NOW - timedelta(hours=2))
    (job,) = [job for job in JOBS if job.id == "forget-seen-requests"]

    assert await run_job(job, services) == 1


async def test_the_first_sight_also_finds_the_workspaces_partner(sessions):
    partner = await make_partner(sessions, team_id="T0FOUND")

    first, found = await first_sight_and_partner(
        sessions, "signature:3", team_id="T0FOUND", now=NOW
    )
    again, _ = await first_sight_and_partner(sessions, "signature:3", team_id="T0FOUND", now=NOW)
    _, nobody = await first_sight_and_partner(sessions, "signature:4", team_id="T0NOBODY", now=NOW)

    assert first and not again
    assert found.id == partner.id and nobody is None
