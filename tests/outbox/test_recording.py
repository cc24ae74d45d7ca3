"""What failed deliveries come to: a permanent Slack error fails the row at once, a transient one
is retried later, waiting longer each time, and given up after MAX_ATTEMPTS."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox.recording import MAX_ATTEMPTS, retry_delay
from bot.outbox.worker import OutboxWorker
from devtools.local_slack import LocalSlack
from storage import outbox
from tests.utils.outbox import (
    START,
    TOKEN,
    AnsweringSlack,
    Clock,
    only_row,
    queue,
    row,
    worker_for,
)


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
