"""The outbox worker against a real database and a local Slack over HTTP: delivery with the ts
recorded, 429s, permanent and passing failures, leases, threads in order, two workers at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import slack_client
from bot.local_slack import LocalSlack
from bot.messages import Message, section
from bot.outbox import MAX_ATTEMPTS, OutboxWorker, post_message, retry_delay
from bot.settings import load_settings
from storage import outbox
from storage.models import OutboxMessage

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class FailingSlack(LocalSlack):
    """Answers chosen methods with a Slack error."""

    def __init__(self, error: str, times: int = 10**6) -> None:
        super().__init__()
        self.error, self.times = error, times

    def answer(self, method: str, params: dict) -> dict:
        if method == "chat.postMessage" and self.times > 0:
            self.times -= 1
            return {"ok": False, "error": self.error}
        return super().answer(method, params)


async def started(slack: LocalSlack) -> LocalSlack:
    return await slack.start()


def worker_for(sessions, slack: LocalSlack, clock: Clock, **options) -> OutboxWorker:
    settings = load_settings(slack_api_url=slack.api_url)
    return OutboxWorker(
        sessions, slack_client(settings, "xoxb-outbox-test"), clock=clock, **options
    )


async def queue(sessions, *rows: dict) -> None:
    async with sessions() as session:
        await outbox.add(session=session, rows=list(rows))
        await session.commit()


def row(key: str, *, channel: str = "C0TEST", now: datetime = NOW, **extra) -> dict:
    message = Message(f"text of {key}", [section(f"*{key}*")])
    return {
        **post_message(key=key, channel=channel, message=message, partner_id=None, now=now),
        **extra,
    }


async def stored(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


@pytest.fixture
async def slack():
    local = await LocalSlack().start()
    yield local
    await local.stop()


async def test_a_message_is_posted_once_and_its_ts_recorded(sessions, slack):
    await queue(sessions, row("a"))
    await queue(sessions, row("a"))  # the same key again is kept once
    worker = worker_for(sessions, slack, Clock())

    assert await worker.deliver_due() == 1
    assert await worker.deliver_due() == 0
    (call,) = slack.calls_to("chat.postMessage")
    assert call.params["channel"] == "C0TEST" and call.params["text"] == "text of a"
    assert call.params["metadata"]["event_payload"]["key"] == "a"
    (message,) = await stored(sessions)
    assert message.state == "sent" and message.ts == slack.posted["C0TEST"][0]["ts"]


async def test_a_rate_limit_is_waited_out_and_the_message_still_goes_once(sessions, slack):
    slack.rate_limited_calls, slack.retry_after = 1, 1
    await queue(sessions, row("limited"))
    worker = worker_for(sessions, slack, Clock())
    await worker.deliver_due()
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert (await stored(sessions))[0].state == "sent"


async def test_a_permanent_error_fails_at_once_and_a_passing_one_is_retried_later(sessions):
    gone = await started(FailingSlack("channel_not_found"))
    clock = Clock()
    try:
        await queue(sessions, row("nowhere"))
        await worker_for(sessions, gone, clock).deliver_due()
        (message,) = await stored(sessions)
        assert (message.state, message.last_error, message.attempts) == (
            "failed",
            "channel_not_found",
            1,
        )
    finally:
        await gone.stop()

    busy = await started(FailingSlack("internal_error", times=1))
    try:
        await queue(sessions, row("later"))
        worker = worker_for(sessions, busy, clock)
        await worker.deliver_due()
        later = (await stored(sessions))[-1]
        assert later.state == "pending" and later.next_attempt_at == NOW + retry_delay(1)
        assert await worker.deliver_due() == 0  # not due yet
        clock.now = later.next_attempt_at
        assert await worker.deliver_due() == 1
        assert (await stored(sessions))[-1].state == "sent"
    finally:
        await busy.stop()


async def test_a_message_that_keeps_failing_is_given_up_after_the_last_attempt(sessions):
    busy = await started(FailingSlack("internal_error"))
    clock = Clock()
    try:
        await queue(sessions, row("doomed"))
        worker = worker_for(sessions, busy, clock)
        for _ in range(MAX_ATTEMPTS):
            await worker.deliver_due()
            clock.now += timedelta(minutes=10)
        (message,) = await stored(sessions)
        assert message.state == "failed" and message.attempts == MAX_ATTEMPTS
    finally:
        await busy.stop()


def test_retries_wait_longer_each_time_up_to_five_minutes():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [2, 4, 8]
    assert retry_delay(30) == timedelta(minutes=5)


async def test_a_claimed_row_waits_for_its_lease_then_goes(sessions, slack):
    clock = Clock()
    await queue(sessions, row("leased"))
    async with sessions() as session:  # a worker claims it, then dies without posting
        await outbox.claim(session=session, now=NOW, lease=timedelta(seconds=60), limit=10)
        await session.commit()
    worker = worker_for(sessions, slack, clock)
    assert await worker.deliver_due() == 0
    clock.now = NOW + timedelta(seconds=61)
    assert await worker.deliver_due() == 1
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_replies_and_edits_wait_for_their_root_and_go_in_order(sessions, slack):
    root = row("root")
    reply = {**row("reply"), "parent_key": "root"}
    edit = {**row("edit"), "parent_key": "root", "method": "chat.update"}
    await queue(sessions, reply, edit, root)  # written before their root
    worker = worker_for(sessions, slack, Clock())
    while await worker.deliver_due():
        pass
    posted = slack.calls_to("chat.postMessage")
    assert [c.params["text"] for c in posted] == ["text of root", "text of reply"]
    root_ts = slack.posted["C0TEST"][0]["ts"]
    assert posted[1].params["thread_ts"] == root_ts
    (update,) = slack.calls_to("chat.update")
    assert update.params["ts"] == root_ts


async def test_two_workers_deliver_every_row_exactly_once(sessions, slack):
    slack.latency = 0.01
    await queue(sessions, *(row(f"m{n}", channel=f"C0CH{n % 5}") for n in range(30)))
    first = worker_for(sessions, slack, Clock(), concurrency=4)
    second = worker_for(sessions, slack, Clock(), concurrency=4)

    async def drain(worker: OutboxWorker) -> None:
        while await worker.deliver_due():
            pass

    await asyncio.gather(drain(first), drain(second))
    keys = [
        c.params["metadata"]["event_payload"]["key"] for c in slack.calls_to("chat.postMessage")
    ]
    assert sorted(keys) == sorted(f"m{n}" for n in range(30))
    assert {m.state for m in await stored(sessions)} == {"sent"}


async def test_the_running_worker_delivers_promptly_when_woken(sessions, slack):
    worker = worker_for(sessions, slack, Clock(), poll_seconds=30)
    worker.start()
    try:
        await queue(sessions, row("woken"))
        worker.wake()
        await slack.wait_for(lambda: slack.calls_to("chat.postMessage"), timeout=5)
    finally:
        await worker.stop()
    assert slack.calls_to("chat.postMessage")[0].params["text"] == "text of woken"
