"""Staff changes on the real database: cancel and resend, and the list of recent orders, always
within one partner."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from bot.orders import flows, staff
from bot.orders.rules import OrderState
from storage.models import Subscription
from tests.utils.factories import make_customer, make_partner
from tests.utils.orders import (
    FILED,
    TTL_DAYS,
    all_of,
    answer,
    cancel,
    file,
    open_link,
    resend,
    stored_order,
)

# Staff: cancel and resend


async def test_cancelling_a_pending_order_records_who_and_stops_the_link(
    sessions, partner, customer
):
    filing = await file(sessions, partner, "contosodental.com")
    when = FILED + timedelta(hours=1)

    change = await cancel(sessions, partner, filing.order.id, now=when, by="U0STAFF")
    again = await cancel(sessions, partner, filing.order.id)

    assert change.changed and change.state is OrderState.CANCELLED
    assert change.customer.id == customer.id
    assert not again.changed and again.state is OrderState.CANCELLED
    order = await stored_order(sessions, filing.order.id)
    assert (order.state, order.decided_by, order.decided_at) == ("cancelled", "U0STAFF", when)
    assert await open_link(sessions, filing.token) is None


async def test_a_confirmed_order_cannot_be_cancelled(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")
    await answer(sessions, filing.token, filing.order)

    change = await cancel(sessions, partner, filing.order.id, now=FILED + timedelta(days=2))

    assert not change.changed and change.state is OrderState.CONFIRMED
    assert (await stored_order(sessions, filing.order.id)).state == "confirmed"


async def test_an_expired_order_can_be_neither_cancelled_nor_resent(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")
    expired = filing.order.expires_at

    cancelled = await cancel(sessions, partner, filing.order.id, now=expired)
    resent = await resend(sessions, partner, filing.order.id, now=expired)

    for change in (cancelled, resent):
        assert not change.changed and change.state is OrderState.EXPIRED
    order = await stored_order(sessions, filing.order.id)
    assert order.state == "pending" and order.token_hash == filing.order.token_hash


async def test_another_partners_order_is_not_found_by_cancel_or_resend(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")
    other = await make_partner(sessions, name="Other Partner")

    cancelled = await cancel(sessions, other, filing.order.id)
    resent = await resend(sessions, other, filing.order.id, now=FILED + timedelta(hours=1))

    assert cancelled.order is None and not cancelled.changed
    assert resent.order is None and not resent.changed
    order = await stored_order(sessions, filing.order.id)
    assert order.state == "pending" and order.token_hash == filing.order.token_hash


async def test_resending_replaces_the_link_and_its_expiry(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")
    when = FILED + timedelta(days=5)

    change = await resend(sessions, partner, filing.order.id, now=when)

    assert change.changed and change.state is OrderState.PENDING
    assert change.token and change.token != filing.token
    order = await stored_order(sessions, filing.order.id)
    assert order.token_hash == hashlib.sha256(change.token.encode()).hexdigest()
    assert order.token_hash != filing.order.token_hash
    assert order.expires_at == when + timedelta(days=TTL_DAYS)
    assert await open_link(sessions, filing.token, now=when) is None
    link = await open_link(sessions, change.token, now=when)
    assert link.order.id == order.id and link.state is OrderState.PENDING


async def test_a_resent_link_works_past_the_old_expiry_and_needs_the_new_form(
    sessions, partner, customer
):
    filing = await file(sessions, partner, "contosodental.com")
    change = await resend(sessions, partner, filing.order.id, now=FILED + timedelta(days=5))
    after_old_expiry = filing.order.expires_at + timedelta(days=1)

    with pytest.raises(flows.Forbidden):
        await answer(sessions, change.token, filing.order, now=after_old_expiry)
    assert await answer(sessions, filing.token, change.order, now=after_old_expiry) is None
    answered = await answer(sessions, change.token, change.order, now=after_old_expiry)

    assert answered.changed and answered.link.state is OrderState.CONFIRMED
    assert len(await all_of(sessions, Subscription)) == 1


async def test_a_confirmed_order_cannot_be_resent(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")
    await answer(sessions, filing.token, filing.order)

    change = await resend(sessions, partner, filing.order.id, now=FILED + timedelta(days=2))

    assert not change.changed and change.state is OrderState.CONFIRMED and change.token == ""
    order = await stored_order(sessions, filing.order.id)
    assert order.token_hash == filing.order.token_hash


# The list


async def test_recent_orders_are_the_pending_ones_and_those_of_the_last_30_days(
    sessions, partner, customer
):
    now = FILED + timedelta(days=60)
    old_pending = await file(sessions, partner, "contosodental.com", plan="EXO", now=FILED)
    old_cancelled = await file(
        sessions, partner, "contosodental.com", plan="SPO", now=now - timedelta(days=31)
    )
    await cancel(sessions, partner, old_cancelled.order.id, now=now - timedelta(days=31))
    recent_cancelled = await file(
        sessions, partner, "contosodental.com", plan="OCO", now=now - timedelta(days=29)
    )
    await cancel(sessions, partner, recent_cancelled.order.id, now=now - timedelta(days=29))
    recent_confirmed = await file(
        sessions, partner, "contosodental.com", plan="OLM", now=now - timedelta(days=2)
    )
    await answer(
        sessions, recent_confirmed.token, recent_confirmed.order, now=now - timedelta(days=1)
    )
    other = await make_partner(sessions, name="Other Partner")
    await make_customer(sessions, other, name="Litware", domain="litware.com")
    await file(sessions, other, "litware.com", now=now - timedelta(days=1))

    async with sessions() as session:
        rows = await staff.recent_orders(session, partner=partner, now=now)

    # Newest first; the cancelled one of 31 days ago is left out, the unswept pending one stays.
    assert [order.id for order, _ in rows] == [
        recent_confirmed.order.id, recent_cancelled.order.id, old_pending.order.id,
    ]  # fmt: skip
    assert all(row_customer.id == customer.id for _, row_customer in rows)
    async with sessions() as session:
        theirs = await staff.recent_orders(session, partner=other, now=now)
    assert [row_customer.name for _, row_customer in theirs] == ["Litware"]
