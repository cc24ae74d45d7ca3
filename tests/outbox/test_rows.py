"""Outbox rows: written with storage.outbox.add in the transaction that decides to send them,
once per key, on the test database (SQLite, or PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from bot.blocks import Message, section
from bot.outbox.rows import post_message
from storage import outbox
from tests.utils.outbox import (
    START,
    only_row,
    queue,
    row,
    stored,
)


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
