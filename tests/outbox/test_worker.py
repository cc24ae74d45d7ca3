"""The OutboxWorker: batches in order of id, bounded concurrency, two workers (or two claims) never
sharing a row, and the run loop: woken, stopped, resumed, and surviving a failed pass."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from bot.outbox import worker as worker_module
from bot.outbox.worker import OutboxWorker
from devtools.local_slack import LocalSlack
from storage import outbox
from tests.utils.outbox import (
    START,
    Clock,
    client_for,
    is_postgres,
    only_row,
    posted_keys,
    queue,
    row,
    stored,
    worker_for,
)


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


async def posting(worker: OutboxWorker) -> None:
    """Waits until the worker holds a row, and a moment more: its post is on the way to Slack."""
    for _ in range(500):
        if worker._held:
            await asyncio.sleep(0.05)
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the worker claimed nothing within 5 seconds")


async def test_a_stop_lets_the_post_under_way_finish_and_writes_its_ts(sessions, local_slack):
    local_slack.latency = 0.3
    await queue(sessions, row("slow"))
    worker = worker_for(sessions, local_slack, Clock(), poll_seconds=60)
    worker.start()
    try:
        await posting(worker)
    finally:
        await worker.stop()  # Slack is still answering: the stop waits for it

    sent = await only_row(sessions)
    assert sent.state == outbox.SENT and sent.ts == local_slack.posted["C0OUTBOX"][0]["ts"]
    assert sent.claimed_until is None


async def test_a_stop_gives_up_waiting_after_its_grace_and_leaves_the_row_claimed(
    sessions, local_slack
):
    local_slack.latency = 2
    await queue(sessions, row("stuck"))
    worker = worker_for(sessions, local_slack, Clock(), poll_seconds=60)
    worker.start()
    await posting(worker)

    await worker.stop(grace=0.2)

    assert worker._task.done()
    assert local_slack.calls_to("chat.postMessage") == []  # Slack has not answered yet
    stuck = await only_row(sessions)
    # Not marked sent: the next claim after the lease looks for the post before posting again.
    assert stuck.state == outbox.PENDING and stuck.claimed_until is not None
