"""The outbox end to end: rows written with storage.outbox.add, delivered by OutboxWorker over real
HTTP to a LocalSlack, on the test database (SQLite, or PostgreSQL with DATABASE_URL); and the
scheduler that runs the jobs which queue those rows."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.app import build_services, outbox_client
from bot.blocks import Message, section
from bot.outbox import worker as worker_module
from bot.outbox.rows import post_message
from bot.outbox.worker import MAX_ATTEMPTS, METADATA_EVENT, OutboxWorker, retry_delay
from bot.scheduler import JOBS, Job, build_scheduler, run_job
from bot.settings import load_settings
from devtools.local_slack import LocalSlack
from storage import outbox
from storage.db import Sessions
from storage.models import OutboxMessage

# Real wall-clock time (aware UTC), so that the Slack ts LocalSlack hands out (time.time()) falls
# inside the look-back window the worker searches after a crash.
START = datetime.now(UTC).replace(microsecond=0)
TOKEN = "xoxb-outbox-test"


class Clock:
    """The worker's clock, moved by the test."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class AnsweringSlack(LocalSlack):
    """Answers chat.postMessage with a Slack error (`times` times), everything else as usual."""

    def __init__(self, error: str, times: int = 10**6) -> None:
        super().__init__()
        self.error = error
        self.times = times

    def answer(self, method: str, params: dict) -> dict:
        if method == "chat.postMessage" and self.times > 0:
            self.times -= 1
            return {"ok": False, "error": self.error}
        return super().answer(method, params)


@pytest.fixture
async def start_slack() -> AsyncIterator[Callable[[LocalSlack], Awaitable[LocalSlack]]]:
    """Starts LocalSlack servers (plain or subclassed) and stops every one after the test."""
    started: list[LocalSlack] = []

    async def start(slack: LocalSlack) -> LocalSlack:
        await slack.start()
        started.append(slack)
        return slack

    yield start
    for slack in started:
        await slack.stop()


@pytest.fixture
async def local_slack(start_slack) -> LocalSlack:
    return await start_slack(LocalSlack())


def client_for(slack: LocalSlack) -> AsyncWebClient:
    """The client the bot uses (retry handlers and all), pointed at LocalSlack."""
    return outbox_client(load_settings(slack_api_url=slack.api_url), TOKEN)


def worker_for(sessions: Sessions, slack: LocalSlack, clock: Clock, **options) -> OutboxWorker:
    return OutboxWorker(sessions, client_for(slack), clock=clock, **options)


def message_for(key: str) -> Message:
    return Message(f"plain text of {key}", [section(f"*{key}* in blocks")])


def row(key: str, *, channel: str = "C0OUTBOX", now: datetime = START) -> dict:
    return post_message(
        key=key, channel=channel, message=message_for(key), partner_id=None, now=now
    )


async def queue(sessions: Sessions, *rows: dict) -> None:
    async with sessions() as session:
        await outbox.add(session=session, rows=list(rows))
        await session.commit()


async def stored(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        result = await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(result.all())


async def only_row(sessions: Sessions) -> OutboxMessage:
    rows = await stored(sessions)
    assert len(rows) == 1
    return rows[0]


def posted_keys(slack: LocalSlack) -> list[str]:
    """The outbox key of every chat.postMessage LocalSlack received, in arrival order."""
    return [
        call.params["metadata"]["event_payload"]["key"]
        for call in slack.calls_to("chat.postMessage")
    ]


def is_postgres(sessions: Sessions) -> bool:
    return sessions.kw["bind"].dialect.name == "postgresql"


# --- storage.outbox.add ---------------------------------------------------------------------


async def test_the_same_key_written_twice_in_two_transactions_is_one_row(sessions):
    await queue(sessions, row("order-1-confirmed"))
    later = post_message(
        key="order-1-confirmed",
        channel="C0OTHER",
        message=Message("a different text", []),
        partner_id=None,
        now=START + timedelta(minutes=1),
    )
    await queue(sessions, later)

    kept = await only_row(sessions)
    assert kept.idempotency_key == "order-1-confirmed"
    # The first write is kept as it was.
    assert kept.channel == "C0OUTBOX"
    assert json.loads(kept.payload)["text"] == "plain text of order-1-confirmed"


async def test_the_same_key_twice_in_one_transaction_and_in_concurrent_ones_is_one_row(sessions):
    async with sessions() as session:
        await outbox.add(session=session, rows=[row("k-1"), row("k-1"), row("k-2")])
        await outbox.add(session=session, rows=[row("k-2")])
        await session.commit()

    async def write(key: str) -> None:
        await queue(sessions, row(key))

    await asyncio.gather(write("k-3"), write("k-3"), write("k-1"))
    assert [r.idempotency_key for r in await stored(sessions)] == ["k-1", "k-2", "k-3"]


async def test_a_fan_out_bigger_than_one_statement_allows_is_written_whole(sessions):
    # 5,000 rows of 14 columns are 70,000 parameters: more than either database takes at once.
    await queue(sessions, *(row(f"big-{n}") for n in range(5000)))
    await queue(sessions, row("big-0"), row("big-4999"))  # written before: kept once
    async with sessions() as session:
        assert await outbox.count_by_state(session=session) == {outbox.PENDING: 5000}


async def test_a_row_is_queued_pending_with_its_message_as_payload(sessions):
    await queue(sessions, row("k-payload"))
    queued = await only_row(sessions)
    assert queued.state == outbox.PENDING
    assert queued.method == "chat.postMessage"
    assert queued.attempts == 0
    assert queued.next_attempt_at == START
    assert json.loads(queued.payload) == {
        "text": "plain text of k-payload",
        "blocks": [section("*k-payload* in blocks")],
    }


# --- delivery --------------------------------------------------------------------------------


async def test_a_pending_row_is_posted_once_and_marked_sent_with_its_ts(sessions, local_slack):
    clock = Clock()
    await queue(sessions, row("alert-1", channel="C0ALERTS"))
    worker = worker_for(sessions, local_slack, clock)

    assert await worker.deliver_due() == 1

    calls = local_slack.calls_to("chat.postMessage")
    assert len(calls) == 1
    params = calls[0].params
    assert params["channel"] == "C0ALERTS"
    assert params["text"] == "plain text of alert-1"
    assert params["blocks"] == [section("*alert-1* in blocks")]
    assert params["metadata"] == {
        "event_type": METADATA_EVENT,
        "event_payload": {"key": "alert-1"},
    }
    assert params["token"] == TOKEN
    answered_ts = local_slack.posted["C0ALERTS"][0]["ts"]

    sent = await only_row(sessions)
    assert sent.state == outbox.SENT
    assert sent.ts == answered_ts
    assert sent.sent_at == START
    assert sent.attempts == 1
    assert sent.claimed_until is None
    assert sent.last_error == ""

    # Nothing is due any more, however late it gets.
    assert await worker.deliver_due() == 0
    clock.advance(days=2)
    assert await worker.deliver_due() == 0
    assert len(local_slack.calls_to("chat.postMessage")) == 1


async def test_a_row_not_yet_due_waits_for_its_time(sessions, local_slack):
    clock = Clock()
    await queue(sessions, row("later", now=START + timedelta(minutes=10)))
    worker = worker_for(sessions, local_slack, clock)

    assert await worker.deliver_due() == 0
    assert local_slack.calls == []

    clock.advance(minutes=10)
    assert await worker.deliver_due() == 1
    assert posted_keys(local_slack) == ["later"]


async def test_a_crash_between_claim_and_delivery_loses_nothing(sessions, local_slack):
    await queue(sessions, row("crash-1"), row("crash-2"))
    lease = timedelta(seconds=60)
    async with sessions() as session:
        claimed = await outbox.claim(session=session, now=START, lease=lease, limit=10)
        await session.commit()
    assert [r.idempotency_key for r in claimed] == ["crash-1", "crash-2"]
    # ... and the process that claimed them dies here, before posting anything.

    clock = Clock(START + timedelta(seconds=59))
    worker = worker_for(sessions, local_slack, clock, lease=lease)
    assert await worker.deliver_due() == 0
    assert local_slack.calls_to("chat.postMessage") == []

    clock.now = START + lease  # the lease has run out
    assert await worker.deliver_due() == 2
    assert posted_keys(local_slack) == ["crash-1", "crash-2"]
    for sent in await stored(sessions):
        assert sent.state == outbox.SENT
        assert sent.ts
        assert sent.attempts == 2

    clock.advance(hours=1)
    assert await worker.deliver_due() == 0
    assert posted_keys(local_slack) == ["crash-1", "crash-2"]


async def test_a_crash_after_slack_accepted_the_post_does_not_post_it_again(sessions, local_slack):
    await queue(sessions, row("posted-then-crash"))
    lease = timedelta(seconds=60)
    async with sessions() as session:
        [claimed] = await outbox.claim(session=session, now=START, lease=lease, limit=10)
        await session.commit()
    # The dead worker had posted the message (with its key as metadata) but not marked it sent.
    dead = worker_for(sessions, local_slack, Clock(), lease=lease)
    dead_client = await dead.client_for(claimed)
    answer = await dead_client.api_call("chat.postMessage", json=dead.arguments(claimed, None))
    first_ts = answer["ts"]

    clock = Clock(START + lease)
    worker = worker_for(sessions, local_slack, clock, lease=lease)
    assert await worker.deliver_due() == 1

    assert len(local_slack.calls_to("chat.postMessage")) == 1
    assert len(local_slack.calls_to("conversations.history")) == 1
    sent = await only_row(sessions)
    assert sent.state == outbox.SENT
    assert sent.ts == first_ts


async def test_rows_go_in_order_of_id_in_batches(sessions, local_slack):
    # Later rows were due earlier: the order is still the order they were written in.
    rows = [row(f"m-{n:02d}", now=START - timedelta(seconds=n)) for n in range(25)]
    await queue(sessions, *rows)
    worker = worker_for(sessions, local_slack, Clock(), concurrency=1)

    assert await worker.deliver_due() == worker_module.BATCH
    assert posted_keys(local_slack) == [f"m-{n:02d}" for n in range(worker_module.BATCH)]
    assert await worker.deliver_due() == 25 - worker_module.BATCH
    assert posted_keys(local_slack) == [f"m-{n:02d}" for n in range(25)]


async def test_deliveries_run_with_bounded_concurrency(sessions, local_slack):
    latency = 0.05
    local_slack.latency = latency
    await queue(sessions, *(row(f"c-{n}") for n in range(6)))
    worker = worker_for(sessions, local_slack, Clock(), concurrency=2)

    started = time.monotonic()
    assert await worker.deliver_due() == 6
    elapsed = time.monotonic() - started

    calls = local_slack.calls_to("chat.postMessage")
    assert sorted(posted_keys(local_slack)) == [f"c-{n}" for n in range(6)]
    # Each call takes at least `latency` on the server and is recorded when it ends. With at most
    # two calls in flight, the call that ends third cannot have started before the first ended,
    # so any two calls two apart in finishing order are at least `latency` apart.
    ends = sorted(call.at for call in calls)
    tolerance = 0.9
    for earlier, later in zip(ends, ends[2:], strict=False):
        assert later - earlier >= latency * tolerance
    # Three rounds of two calls each.
    assert elapsed >= 3 * latency * tolerance


async def test_a_rate_limited_row_waits_out_retry_after_without_holding_up_others(
    sessions, local_slack
):
    local_slack.rate_limited_calls = 1
    local_slack.retry_after = 7
    clock = Clock()
    await queue(sessions, row("busy"), row("free", channel="C0OTHER"))
    worker = worker_for(sessions, local_slack, clock)

    started = time.monotonic()
    assert await worker.deliver_due() == 2
    assert time.monotonic() - started < 1.0  # nobody sat out the Retry-After

    assert local_slack.rate_limited_calls == 0  # the 429 was answered
    assert local_slack.rate_limited_answers == 1
    busy, free = await stored(sessions)
    assert free.state == outbox.SENT
    assert busy.state == outbox.PENDING and busy.last_error == "ratelimited"
    assert busy.next_attempt_at == START + timedelta(seconds=7)
    assert busy.attempts == 0  # Slack took nothing, so it does not count

    clock.advance(seconds=6)
    assert await worker.deliver_due() == 0
    clock.advance(seconds=1)
    assert await worker.deliver_due() == 1
    # The retry posts straight away: no look-up, since the 429 left no message behind.
    assert not local_slack.calls_to("conversations.history")
    assert sorted(posted_keys(local_slack)) == ["busy", "free"]
    busy = (await stored(sessions))[0]
    assert busy.state == outbox.SENT and busy.attempts == 1
    assert busy.ts == local_slack.posted["C0OUTBOX"][0]["ts"]


class CountingSlack(LocalSlack):
    """Remembers the most Web API calls it had in flight at once."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.in_flight = self.most_in_flight = 0

    async def _web_api(self, request):
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await super()._web_api(request)
        finally:
            self.in_flight -= 1


async def test_the_running_worker_keeps_its_slots_busy_through_threads_and_429s(
    sessions, start_slack
):
    # 20 roots with two replies each; 10% of calls answered 429 with a one-second Retry-After.
    slack = await start_slack(CountingSlack(latency=0.02, rate_limited_share=0.1, seed=7))
    slack.retry_after = 1
    rows = []
    for n in range(20):
        rows.append(row(f"root-{n}", channel=f"C0CH{n:02d}"))
        for reply in ("a", "b"):
            rows.append(
                {**row(f"root-{n}-{reply}", channel=f"C0CH{n:02d}"), "parent_key": f"root-{n}"}
            )
    await queue(sessions, *rows)
    worker = OutboxWorker(sessions, client_for(slack), poll_seconds=0.2, concurrency=4)
    worker.start()
    try:
        await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage")) >= 60, timeout=30)
        await asyncio.sleep(0.2)  # anything extra would have arrived by now
    finally:
        await worker.stop()

    assert slack.rate_limited_answers > 0
    assert sorted(posted_keys(slack)) == sorted(r["idempotency_key"] for r in rows)
    assert 1 < slack.most_in_flight <= 4
    for n in range(20):
        thread = slack.posted[f"C0CH{n:02d}"]
        assert [m["metadata"]["event_payload"]["key"] for m in thread] == [
            f"root-{n}",
            f"root-{n}-a",
            f"root-{n}-b",
        ]
        assert thread[1]["thread_ts"] == thread[2]["thread_ts"] == thread[0]["ts"]
    assert {m.state for m in await stored(sessions)} == {outbox.SENT}


async def test_a_permanent_error_fails_the_row_without_retrying(sessions, start_slack):
    slack = await start_slack(AnsweringSlack("channel_not_found"))
    clock = Clock()
    await queue(sessions, row("lost"))
    worker = worker_for(sessions, slack, clock)

    assert await worker.deliver_due() == 1

    failed = await only_row(sessions)
    assert failed.state == outbox.FAILED
    assert failed.last_error == "channel_not_found"
    assert failed.attempts == 1
    assert failed.sent_at is None
    assert failed.ts == ""
    assert failed.claimed_until is None

    clock.advance(days=1)
    assert await worker.deliver_due() == 0
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_a_transient_slack_error_is_retried_later_and_given_up_after_max_attempts(
    sessions, start_slack
):
    slack = await start_slack(AnsweringSlack("internal_error"))
    clock = Clock()
    await queue(sessions, row("flaky"))
    worker = worker_for(sessions, slack, clock)

    assert await worker.deliver_due() == 1
    waiting = await only_row(sessions)
    assert waiting.state == outbox.PENDING
    assert waiting.attempts == 1
    assert waiting.last_error == "internal_error"
    assert waiting.claimed_until is None
    assert waiting.next_attempt_at == START + retry_delay(1)
    assert retry_delay(1) > timedelta(0)

    # Not before its time.
    clock.now = waiting.next_attempt_at - timedelta(seconds=1)
    assert await worker.deliver_due() == 0
    assert len(slack.calls_to("chat.postMessage")) == 1

    delay = waiting.next_attempt_at - START
    for attempt in range(2, MAX_ATTEMPTS + 1):
        clock.now = waiting.next_attempt_at
        assert await worker.deliver_due() == 1
        assert len(slack.calls_to("chat.postMessage")) == attempt
        waiting = await only_row(sessions)
        assert waiting.attempts == attempt
        assert waiting.last_error == "internal_error"
        if attempt < MAX_ATTEMPTS:
            assert waiting.state == outbox.PENDING
            assert waiting.next_attempt_at - clock.now == retry_delay(attempt)
            assert waiting.next_attempt_at - clock.now > delay  # waits longer each time
            delay = waiting.next_attempt_at - clock.now

    assert waiting.state == outbox.FAILED
    assert waiting.attempts == MAX_ATTEMPTS
    clock.advance(days=1)
    assert await worker.deliver_due() == 0
    assert len(slack.calls_to("chat.postMessage")) == MAX_ATTEMPTS


async def test_a_transient_error_then_success_delivers_once(sessions, start_slack):
    slack = await start_slack(AnsweringSlack("internal_error", times=1))
    clock = Clock()
    await queue(sessions, row("second-time-lucky"))
    worker = worker_for(sessions, slack, clock)

    assert await worker.deliver_due() == 1
    clock.now = (await only_row(sessions)).next_attempt_at
    assert await worker.deliver_due() == 1

    sent = await only_row(sessions)
    assert sent.state == outbox.SENT
    assert sent.attempts == 2
    assert sent.last_error == ""
    assert sent.ts == slack.posted["C0OUTBOX"][0]["ts"]
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert len(slack.posted["C0OUTBOX"]) == 1


async def test_slack_unreachable_keeps_the_row_pending_for_later(sessions, start_slack):
    gone = await start_slack(LocalSlack())
    api_url = gone.api_url
    await gone.stop()  # connection refused from now on
    clock = Clock()
    await queue(sessions, row("offline"))
    client = AsyncWebClient(token=TOKEN, base_url=api_url, retry_handlers=[])
    worker = OutboxWorker(sessions, client, clock=clock)

    assert await worker.deliver_due() == 1

    waiting = await only_row(sessions)
    assert waiting.state == outbox.PENDING
    assert waiting.attempts == 1
    assert waiting.last_error  # names the connection error
    assert waiting.next_attempt_at == START + retry_delay(1)
    assert waiting.claimed_until is None
    assert waiting.sent_at is None


def test_retry_delay_grows_and_is_capped_at_five_minutes():
    delays = [retry_delay(attempts) for attempts in range(1, 30)]
    assert delays[0] == timedelta(seconds=2)
    assert delays[1] == timedelta(seconds=4)
    assert delays[2] == timedelta(seconds=8)
    assert all(a <= b for a, b in zip(delays, delays[1:], strict=False))
    assert all(a < b for a, b in zip(delays[:7], delays[1:8], strict=False))
    assert max(delays) == timedelta(seconds=300)
    assert delays[-1] == timedelta(seconds=300)
    assert retry_delay(1000) == timedelta(seconds=300)


async def test_replies_and_edits_wait_for_their_root_and_go_in_order(sessions, local_slack):
    reply = {**row("reply"), "parent_key": "root"}
    edit = {**row("edit"), "parent_key": "root", "method": "chat.update"}
    later = {**row("later reply"), "parent_key": "root"}
    await queue(sessions, reply, edit, later, row("root"))  # written before their root
    worker = worker_for(sessions, local_slack, Clock())
    while await worker.deliver_due():
        pass
    assert posted_keys(local_slack) == ["root", "reply", "later reply"]
    root_ts = local_slack.posted["C0OUTBOX"][0]["ts"]
    replies = local_slack.calls_to("chat.postMessage")[1:]
    assert {call.params["thread_ts"] for call in replies} == {root_ts}
    (update,) = local_slack.calls_to("chat.update")
    assert update.params["ts"] == root_ts and update.params["channel"] == "C0OUTBOX"
    assert local_slack.calls.index(update) < local_slack.calls.index(replies[1])


async def test_two_workers_deliver_every_row_exactly_once(sessions, local_slack):
    keys = [f"both-{n:02d}" for n in range(30)]
    await queue(sessions, *(row(key) for key in keys))
    clock = Clock()
    first = worker_for(sessions, local_slack, clock)
    second = worker_for(sessions, local_slack, clock)

    claimed = await asyncio.gather(first.deliver_due(), second.deliver_due())
    if is_postgres(sessions):
        # Rows one worker holds are skipped by the other (FOR UPDATE SKIP LOCKED).
        assert sum(claimed) == 30
    while sum(await asyncio.gather(first.deliver_due(), second.deliver_due())):
        pass

    posted = posted_keys(local_slack)
    assert len(posted) == len(set(posted)), "a message was posted twice"
    assert sorted(posted) == keys
    rows = await stored(sessions)
    assert {r.state for r in rows} == {outbox.SENT}
    assert all(r.attempts == 1 for r in rows)
    assert len({r.ts for r in rows}) == 30


async def test_two_concurrent_claims_never_share_a_row(sessions):
    await queue(sessions, *(row(f"claim-{n}") for n in range(30)))

    async def claim() -> list[int]:
        async with sessions() as session:
            rows = await outbox.claim(
                session=session, now=START, lease=timedelta(seconds=60), limit=20
            )
            await session.commit()
        return [r.id for r in rows]

    first, second = await asyncio.gather(claim(), claim())
    assert not set(first) & set(second)
    if is_postgres(sessions):
        assert len(first) + len(second) == 30


# --- the run loop ----------------------------------------------------------------------------


class SignallingClock(Clock):
    """A clock that tells when the worker has read it."""

    def __init__(self, now: datetime) -> None:
        super().__init__(now)
        self.read = asyncio.Event()

    def __call__(self) -> datetime:
        self.read.set()
        return self.now


async def test_the_running_worker_delivers_promptly_when_woken_and_stops_cleanly(
    sessions, local_slack
):
    # The first pass runs before the row is due, so only wake() can bring it out before the
    # (long) poll interval.
    clock = SignallingClock(START - timedelta(seconds=1))
    worker = worker_for(sessions, local_slack, clock, poll_seconds=60)
    worker.start()
    try:
        await asyncio.wait_for(clock.read.wait(), 5)
        await queue(sessions, row("woken"))
        clock.now = START
        worker.wake()
        await local_slack.wait_for(
            lambda: len(local_slack.calls_to("chat.postMessage")) == 1, timeout=5
        )
        assert posted_keys(local_slack) == ["woken"]
        # Slack has it; the worker records the ts right after (LocalSlack records a call before
        # it answers, so the row may still be pending for a moment).
        deadline = time.monotonic() + 5
        while (await only_row(sessions)).state != outbox.SENT:
            assert time.monotonic() < deadline, "the row was never marked sent"
            await asyncio.sleep(0.01)
    finally:
        await worker.stop()

    task = worker._task
    assert task is not None
    assert task.done()
    sent = await only_row(sessions)
    assert sent.ts == local_slack.posted["C0OUTBOX"][0]["ts"]


async def test_a_worker_stopped_mid_delivery_is_resumed_without_a_duplicate(sessions, local_slack):
    lease = timedelta(seconds=60)
    clock = Clock()
    await queue(sessions, row("interrupted"))
    worker = worker_for(sessions, local_slack, clock, poll_seconds=60, lease=lease)
    worker.start()
    try:
        # Stop as soon as Slack has the message, likely before the worker recorded its ts.
        await local_slack.wait_for(
            lambda: len(local_slack.calls_to("chat.postMessage")) == 1, timeout=5
        )
    finally:
        await worker.stop()

    clock.advance(seconds=lease.total_seconds())
    restarted = worker_for(sessions, local_slack, clock, lease=lease)
    while await restarted.deliver_due():
        pass

    assert posted_keys(local_slack) == ["interrupted"]
    sent = await only_row(sessions)
    assert sent.state == outbox.SENT
    assert sent.ts == local_slack.posted["C0OUTBOX"][0]["ts"]


async def test_the_running_worker_survives_a_failed_pass(sessions, local_slack, caplog):
    class BrokenOnce(SignallingClock):
        def __init__(self, now: datetime) -> None:
            super().__init__(now)
            self.broken = True

        def __call__(self) -> datetime:
            if self.broken:
                self.broken = False
                self.read.set()
                raise RuntimeError("database hiccup")
            return super().__call__()

    clock = BrokenOnce(START)
    worker = worker_for(sessions, local_slack, clock, poll_seconds=60)
    with caplog.at_level(logging.ERROR, logger="bot.outbox"):
        worker.start()
        try:
            await asyncio.wait_for(clock.read.wait(), 5)
            await queue(sessions, row("after-hiccup"))
            worker.wake()
            await local_slack.wait_for(
                lambda: len(local_slack.calls_to("chat.postMessage")) == 1, timeout=5
            )
        finally:
            await worker.stop()
    assert posted_keys(local_slack) == ["after-hiccup"]
    assert any("outbox claim failed" in record.getMessage() for record in caplog.records)


# --- the scheduler ---------------------------------------------------------------------------


@pytest.fixture
def services(engine, database_url):
    settings = load_settings(database_url=database_url, secret_key="x" * 20, incident_feed_url=None)
    return build_services(settings, engine=engine)


class Recorder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def job_running(run) -> Job:
    return Job("test-job", "a job for the test", IntervalTrigger(minutes=1), run)


def test_build_scheduler_registers_every_job_with_its_id(services):
    scheduler = build_scheduler(services)
    registered = {job.id: job for job in scheduler.get_jobs()}
    assert set(registered) == {job.id for job in JOBS}
    assert len(registered) == len(JOBS)
    for job in JOBS:
        scheduled = registered[job.id]
        assert scheduled.func is run_job
        assert scheduled.args == (job, services)
        assert scheduled.trigger is job.trigger
    assert not scheduler.running


def test_build_scheduler_adds_the_feed_poll_when_a_feed_is_configured(engine, database_url):
    settings = load_settings(
        database_url=database_url,
        secret_key="x" * 20,
        incident_feed_url="http://127.0.0.1:9/feed",
        incident_feed_interval=30,
    )
    scheduler = build_scheduler(build_services(settings, engine=engine))
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {job.id for job in JOBS} | {"poll-incident-feed"}


async def test_a_failing_job_is_logged_and_returns_zero(services, caplog):
    wakes = Recorder()
    services.wake_outbox = wakes

    async def fail(_services) -> int:
        raise RuntimeError("the job broke")

    with caplog.at_level(logging.ERROR, logger="bot.scheduler"):
        assert await run_job(job_running(fail), services) == 0

    failures = [r for r in caplog.records if "scheduled job test-job failed" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None
    assert "the job broke" in str(failures[0].exc_info[1])
    assert services.metrics.errors.labels("job")._value.get() == 1
    assert wakes.calls == 0


async def test_a_job_that_did_something_wakes_the_outbox(services):
    wakes = Recorder()
    services.wake_outbox = wakes
    seen = []

    async def queue_three(given) -> int:
        seen.append(given)
        return 3

    assert await run_job(job_running(queue_three), services) == 3
    assert seen == [services]
    assert wakes.calls == 1


async def test_a_job_that_did_nothing_does_not_wake_the_outbox(services):
    wakes = Recorder()
    services.wake_outbox = wakes

    async def nothing(_services) -> int:
        return 0

    assert await run_job(job_running(nothing), services) == 0
    assert wakes.calls == 0
