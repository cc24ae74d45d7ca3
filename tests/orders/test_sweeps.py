"""The scheduler's order sweeps on the real database: expiry and reminders, each told once."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.catalogue import BUILT_IN
from bot.orders import flows, sweeps
from storage.models import OutboxMessage
from tests.utils.orders import (
    FILED,
    FILER,
    all_of,
    answer,
    file,
    outbox_rows,
    resend,
    stored_order,
)

# The scheduler's sweeps


async def test_expiry_expires_each_overdue_order_once_and_tells_its_filer(
    sessions, partner, customer
):
    overdue = await file(sessions, partner, "contosodental.com")
    later = await file(
        sessions, partner, "contosodental.com", plan="EXO", now=FILED + timedelta(days=2)
    )
    when = overdue.order.expires_at  # the moment it expires; `later` has two days left

    async with sessions() as session:
        first = await sweeps.expire_orders(session, now=when)
    async with sessions() as session:
        second = await sweeps.expire_orders(session, now=when + timedelta(hours=1))

    assert (first, second) == (1, 0)
    assert (await stored_order(sessions, overdue.order.id)).state == "expired"
    assert (await stored_order(sessions, overdue.order.id)).decided_at == when
    assert (await stored_order(sessions, later.order.id)).state == "pending"
    (notice,) = await all_of(sessions, OutboxMessage)
    assert notice.idempotency_key.startswith(f"order:{overdue.order.id}:expired")
    assert notice.channel == FILER and notice.partner_id == partner.id
    assert "expired" in json.loads(notice.payload)["text"]


async def test_a_decided_order_is_never_expired(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")
    await answer(sessions, filing.token, filing.order)

    async with sessions() as session:
        count = await sweeps.expire_orders(session, now=filing.order.expires_at + timedelta(days=1))

    assert count == 0
    assert (await stored_order(sessions, filing.order.id)).state == "confirmed"


async def remind(sessions, now) -> int:
    async with sessions() as session:
        return await sweeps.remind_filers(session, now=now)


async def test_the_filer_is_reminded_once_three_days_after_filing(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")

    too_soon = await remind(sessions, FILED + timedelta(days=3) - timedelta(seconds=1))
    due = await remind(sessions, FILED + timedelta(days=3))
    again = await remind(sessions, FILED + timedelta(days=4))

    assert (too_soon, due, again) == (0, 1, 0)
    (reminder,) = await outbox_rows(sessions, f"order:{filing.order.id}:reminder")
    assert reminder.channel == FILER and reminder.partner_id == partner.id
    assert "still waiting" in json.loads(reminder.payload)["text"]
    order = await stored_order(sessions, filing.order.id)
    assert order.reminded_at == FILED + timedelta(days=3)


async def test_no_reminder_for_decided_or_expired_orders(sessions, partner, customer):
    confirmed = await file(sessions, partner, "contosodental.com")
    await answer(sessions, confirmed.token, confirmed.order)
    async with sessions() as session:
        short = await flows.file_order(
            session, partner=partner, plan=BUILT_IN.get("EXO"), seats=5, filed_by=FILER,
            now=FILED, ttl_days=2, customer_id=confirmed.customer.id,
        )  # fmt: skip

    assert await remind(sessions, FILED + timedelta(days=3)) == 0
    assert await outbox_rows(sessions, f"order:{short.order.id}:") == []


async def test_a_resent_link_is_reminded_about_three_days_after_the_resend(
    sessions, partner, customer
):
    filing = await file(sessions, partner, "contosodental.com")
    await resend(sessions, partner, filing.order.id, now=FILED + timedelta(days=2))

    # Three days after filing, the new link has been out for one day only.
    assert await remind(sessions, FILED + timedelta(days=3)) == 0
    assert await remind(sessions, FILED + timedelta(days=5) - timedelta(seconds=1)) == 0
    assert await remind(sessions, FILED + timedelta(days=5)) == 1
