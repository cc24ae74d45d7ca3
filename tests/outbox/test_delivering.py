"""Delivering outbox rows over real HTTP to a LocalSlack: posted once with the row's key as
metadata, not before their time, not again after a crash, replies and edits after their root, and a
429 waited out without holding up others."""

from __future__ import annotations

import time
from datetime import timedelta

from bot.blocks import section
from bot.outbox import delivering
from bot.outbox.delivering import METADATA_EVENT
from storage import outbox
from tests.utils.outbox import (
    START,
    TOKEN,
    Clock,
    only_row,
    posted_keys,
    queue,
    row,
    stored,
    worker_for,
)


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
    answer = await dead_client.api_call(
        "chat.postMessage", json=delivering.arguments(claimed, None)
    )
    first_ts = answer["ts"]

    clock = Clock(START + lease)
    worker = worker_for(sessions, local_slack, clock, lease=lease)
    assert await worker.deliver_due() == 1

    assert len(local_slack.calls_to("chat.postMessage")) == 1
    assert len(local_slack.calls_to("conversations.history")) == 1
    sent = await only_row(sessions)
    assert sent.state == outbox.SENT
    assert sent.ts == first_ts


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


async def test_a_post_slack_stored_before_answering_500_is_posted_once(sessions, local_slack):
    # Slack stored the message, then answered 500 (fatal_error): slack_sdk must not send it
    # again; the outbox tries again later, finds it by its metadata and records it.
    local_slack.store_then_fail = 1
    clock = Clock()
    await queue(sessions, row("root-alert", channel="C0ALERTS"))
    worker = worker_for(sessions, local_slack, clock)

    assert await worker.deliver_due() == 1
    assert posted_keys(local_slack) == ["root-alert"]
    waiting = await only_row(sessions)
    assert waiting.state == outbox.PENDING and waiting.last_error == "fatal_error"

    clock.now = waiting.next_attempt_at
    assert await worker.deliver_due() == 1
    assert posted_keys(local_slack) == ["root-alert"]
    assert len(local_slack.posted["C0ALERTS"]) == 1
    sent = await only_row(sessions)
    assert sent.state == outbox.SENT and sent.ts == local_slack.posted["C0ALERTS"][0]["ts"]


async def test_the_bot_joins_a_public_channel_before_posting_so_it_can_look_after_a_crash(
    sessions, local_slack
):
    # The bot is in no channel: it could post with chat:write.public, but could not read.
    assert local_slack.members == set()
    await queue(sessions, row("joined-then-crash", channel="C0PUBLIC"))
    lease = timedelta(seconds=60)
    crashed = worker_for(sessions, local_slack, Clock(), lease=lease)
    [(claimed, parent)] = await crashed.claim(10)
    assert (await crashed.outcome(claimed, parent)).ts  # posted; the process dies before the mark
    assert "C0PUBLIC" in local_slack.members

    worker = worker_for(sessions, local_slack, Clock(START + lease), lease=lease)
    assert await worker.deliver_due() == 1
    assert posted_keys(local_slack) == ["joined-then-crash"]
    sent = await only_row(sessions)
    assert sent.state == outbox.SENT and sent.ts == local_slack.posted["C0PUBLIC"][0]["ts"]
    assert [c.params["channel"] for c in local_slack.calls_to("conversations.join")] == [
        "C0PUBLIC",
        "C0PUBLIC",  # once per process
    ]


async def test_a_look_up_that_cannot_be_made_waits_and_never_posts_blind(sessions, local_slack):
    # An install older than channels:join: the bot posts with chat:write.public and cannot read.
    local_slack.scopes.discard("channels:join")
    await queue(sessions, row("unreadable", channel="C0NOJOIN"))
    lease = timedelta(seconds=60)
    crashed = worker_for(sessions, local_slack, Clock(), lease=lease)
    [(claimed, parent)] = await crashed.claim(10)
    assert (await crashed.outcome(claimed, parent)).ts

    clock = Clock(START + lease)
    worker = worker_for(sessions, local_slack, clock, lease=lease)
    for _ in range(12):  # more than MAX_ATTEMPTS: not knowing is never "failed for good"
        assert await worker.deliver_due() == 1
        waiting = await only_row(sessions)
        assert waiting.state == outbox.PENDING
        assert "not_in_channel" in waiting.last_error
        clock.now = waiting.next_attempt_at
    assert posted_keys(local_slack) == ["unreadable"]

    local_slack.join("C0NOJOIN")  # someone invites the bot
    assert await worker.deliver_due() == 1
    assert posted_keys(local_slack) == ["unreadable"]
    sent = await only_row(sessions)
    assert sent.state == outbox.SENT and sent.ts == local_slack.posted["C0NOJOIN"][0]["ts"]


class SlackClock:
    """LocalSlack's rate-limit clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_look_up_fits_slacks_limits_outside_the_marketplace(sessions, local_slack):
    local_slack.history_limited = True
    local_slack.clock = slack_clock = SlackClock()
    local_slack.join("C0BUSY")
    # A busy channel: 40 messages from the hour before the rows were written.
    hour_ago = START.timestamp() - 3600
    local_slack.posted["C0BUSY"] = [
        {"ts": f"{hour_ago + n:.6f}", "text": f"chatter {n}", "thread_ts": None, "metadata": None}
        for n in range(40)
    ]
    await queue(sessions, row("first", channel="C0BUSY"), row("second", channel="C0BUSY"))
    lease = timedelta(seconds=60)
    crashed = worker_for(sessions, local_slack, Clock(), lease=lease)
    for claimed, parent in await crashed.claim(10):
        assert (await crashed.outcome(claimed, parent)).ts

    clock = Clock(START + lease)
    worker = worker_for(sessions, local_slack, clock, lease=lease)
    assert await worker.deliver_due() == 2
    # One look-up a minute: the first is answered, the second is refused and waits.
    (look,) = local_slack.calls_to("conversations.history")
    assert int(look.params["limit"]) <= 15
    assert float(look.params["oldest"]) > hour_ago + 40  # the row's own window, not the chatter
    assert float(look.params["latest"]) >= START.timestamp()
    assert len(local_slack.history_refused) == 1
    first, second = await stored(sessions)
    assert first.state == outbox.SENT
    assert second.state == outbox.PENDING and "ratelimited" in second.last_error
    assert second.next_attempt_at == clock.now + timedelta(seconds=60)  # Slack's Retry-After

    slack_clock.now += 60
    clock.now = second.next_attempt_at
    assert await worker.deliver_due() == 1
    assert sorted(posted_keys(local_slack)) == ["first", "second"]
    first, second = await stored(sessions)
    assert second.state == outbox.SENT
    assert {first.ts, second.ts} == {m["ts"] for m in local_slack.posted["C0BUSY"][40:]}
