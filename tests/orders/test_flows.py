"""Order flows on the real database: filing, and the customer's answer on the order's page,
always within one partner."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from bot.customers import Choices, NoMatch
from bot.orders import flows
from bot.orders.rules import Answer, OrderState, csrf_token, new_token
from storage.models import Order, OutboxMessage, Subscription
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.orders import (
    BERLIN_DAY,
    FILED,
    FILER,
    SECRET,
    all_of,
    answer,
    cancel,
    csrf_for,
    file,
    open_link,
    outbox_rows,
    stored_order,
)

# Filing


async def test_one_match_files_a_pending_order_with_only_the_token_hash_stored(
    sessions, partner, customer
):
    filing = await file(sessions, partner, "contosodental.com", note="  Welcome aboard  ")

    assert isinstance(filing, flows.Filed)
    assert filing.customer.id == customer.id and filing.subscription is None
    order = await stored_order(sessions, filing.order.id)
    assert order.state == "pending"
    assert (order.partner_id, order.customer_id) == (partner.id, customer.id)
    assert (order.plan_code, order.seats) == ("BPOS-S", 25)
    assert order.unit_price == Decimal("15.00")  # BPOS-S list price
    assert order.billing_owner == "vendor"
    assert order.subscription_id is None and order.previous_seats is None
    assert order.note == "Welcome aboard"
    assert order.filed_by == FILER and order.filed_at == FILED
    assert order.expires_at == datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # 14 days on
    assert order.token_hash == hashlib.sha256(filing.token.encode()).hexdigest()
    async with sessions() as session:
        raw = (await session.exec(text("SELECT * FROM customer_order"))).mappings().all()
    assert len(raw) == 1
    assert not [name for name, value in raw[0].items() if filing.token in str(value)]


async def test_a_part_of_a_name_matching_several_customers_files_nothing(sessions, partner):
    await make_customer(sessions, partner, name="Fabrikam Dental")
    await make_customer(sessions, partner, name="Fabrikam Legal")

    filing = await file(sessions, partner, "fabrikam")

    assert isinstance(filing, Choices)
    assert filing.total == 2
    assert sorted(c.name for c in filing.customers) == ["Fabrikam Dental", "Fabrikam Legal"]
    assert await all_of(sessions, Order) == []


async def test_no_match_suggests_close_names_and_files_nothing(sessions, partner, customer):
    await make_customer(sessions, partner, name="Tailspin Toys", domain="tailspintoys.com")

    filing = await file(sessions, partner, "contsoo dentl")

    assert isinstance(filing, NoMatch)
    assert [c.id for c in filing.suggestions][:1] == [customer.id]
    assert await all_of(sessions, Order) == []


async def test_another_partners_customer_is_never_found_even_by_its_exact_domain(sessions, partner):
    other = await make_partner(sessions, name="Other Partner")
    hidden = await make_customer(sessions, other, name="Litware", domain="litware.com")
    await make_customer(sessions, partner, name="Litwear Fashion", domain="litwear.com")

    by_domain = await file(sessions, partner, "litware.com")
    by_name = await file(sessions, partner, "Litware")

    for filing in (by_domain, by_name):
        assert isinstance(filing, NoMatch)
        assert hidden.id not in [c.id for c in filing.suggestions]
        assert all(c.partner_id == partner.id for c in filing.suggestions)
    assert await all_of(sessions, Order) == []


async def test_another_partners_customer_id_is_refused(sessions, partner, customer):
    other = await make_partner(sessions, name="Other Partner")
    hidden = await make_customer(sessions, other, name="Litware", domain="litware.com")

    refused = await file(sessions, partner, customer_id=hidden.id)
    mine = await file(sessions, partner, customer_id=customer.id)

    assert isinstance(refused, flows.Refused)
    assert "nothing was filed" in refused.problem
    assert isinstance(mine, flows.Filed) and mine.customer.id == customer.id
    assert [order.customer_id for order in await all_of(sessions, Order)] == [customer.id]


async def test_an_order_for_a_plan_the_customer_has_changes_that_subscription_at_its_price(
    sessions, partner, customer
):
    existing = await make_subscription(
        sessions, customer, plan_code="EXO", seats=10, unit_price="4.20",
        start_date=date(2026, 1, 15), renewal_date=date(2027, 1, 15), billing_owner="partner",
    )  # fmt: skip

    filing = await file(sessions, partner, "Contoso Dental", plan="EXO", seats=25)

    assert isinstance(filing, flows.Filed)
    assert filing.subscription.id == existing.id
    order = await stored_order(sessions, filing.order.id)
    assert (order.subscription_id, order.previous_seats, order.seats) == (existing.id, 10, 25)
    assert order.unit_price == Decimal("4.20")  # the subscription's price, not EXO's $5.00
    assert order.billing_owner == "partner"


async def test_a_cancelled_subscription_of_the_plan_is_not_changed(sessions, partner, customer):
    await make_subscription(
        sessions, customer, plan_code="EXO", seats=10, unit_price="4.20", status="cancelled",
        start_date=date(2025, 1, 15), renewal_date=date(2026, 1, 15),
    )  # fmt: skip

    filing = await file(sessions, partner, "Contoso Dental", plan="EXO", seats=10)

    assert isinstance(filing, flows.Filed)
    assert filing.order.subscription_id is None and filing.order.previous_seats is None
    assert filing.order.unit_price == Decimal("5.00")  # EXO's list price


async def test_an_order_for_the_seats_the_customer_already_has_is_refused(
    sessions, partner, customer
):
    await make_subscription(
        sessions, customer, plan_code="EXO", seats=10, start_date=date(2026, 1, 15),
        renewal_date=date(2027, 1, 15),
    )  # fmt: skip

    refused = await file(sessions, partner, "contosodental.com", plan="EXO", seats=10)

    assert isinstance(refused, flows.Refused)
    assert "already has 10 seats of EXO" in refused.problem
    assert await all_of(sessions, Order) == []


async def test_a_customer_name_too_long_to_be_one_is_refused(sessions, partner, customer):
    refused = await file(sessions, partner, "x" * 201)

    assert isinstance(refused, flows.Refused)
    assert "201 characters" in refused.problem
    assert await all_of(sessions, Order) == []


# The customer's answer


async def test_confirming_creates_the_subscription_with_the_partner_of_record(
    sessions, partner, customer
):
    filing = await file(sessions, partner, "contosodental.com")
    confirmed_at = FILED + timedelta(days=2)

    answered = await answer(sessions, filing.token, filing.order, now=confirmed_at)

    assert answered.changed and answered.link.state is OrderState.CONFIRMED
    (subscription,) = await all_of(sessions, Subscription)
    assert (subscription.customer_id, subscription.partner_id) == (customer.id, partner.id)
    assert subscription.partner_of_record_id == partner.id
    assert (subscription.plan_code, subscription.seats) == ("BPOS-S", 25)
    assert subscription.unit_price == Decimal("15.00")
    assert subscription.status == "active"
    assert subscription.billing_cycle == "annual"
    # Confirmed at 23:30 UTC on 24 Nov, which is 00:30 on 25 Nov in Berlin.
    assert subscription.start_date == date(2026, 11, 25)
    assert subscription.renewal_date == date(2027, 11, 25)
    order = await stored_order(sessions, filing.order.id)
    assert order.state == "confirmed" and order.subscription_id == subscription.id
    assert order.decided_at == confirmed_at
    assert (order.confirmer_name, order.confirmer_email) == ("Jane Doe", "jane@contosodental.com")
    assert (order.confirmer_ip, order.confirmer_user_agent) == ("203.0.113.7", "Mozilla/5.0 (Test)")


async def test_a_subscription_starts_on_the_partners_calendar_day(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")

    # 23:45 UTC on 22 Nov is 00:45 on 23 Nov in Berlin.
    await answer(sessions, filing.token, filing.order, now=FILED + timedelta(minutes=15))

    (subscription,) = await all_of(sessions, Subscription)
    assert subscription.start_date == BERLIN_DAY


async def test_confirming_queues_one_channel_message_and_one_dm_to_the_filer(
    sessions, partner, customer
):
    filing = await file(sessions, partner, "contosodental.com")

    await answer(sessions, filing.token, filing.order)

    rows = await outbox_rows(sessions, f"order:{filing.order.id}:")
    assert len(rows) == 2
    assert sorted(row.channel for row in rows) == sorted([partner.alert_channel, FILER])
    assert len(await all_of(sessions, OutboxMessage)) == 2
    for row in rows:
        assert row.partner_id == partner.id and row.method == "chat.postMessage"
        assert "Contoso Dental confirmed order" in json.loads(row.payload)["text"]


async def test_confirming_an_order_for_an_existing_subscription_changes_its_seats(
    sessions, partner, customer
):
    existing = await make_subscription(
        sessions, customer, plan_code="EXO", seats=10, unit_price="4.20", of_record=False,
        start_date=date(2026, 1, 15), renewal_date=date(2027, 1, 15),
    )  # fmt: skip
    filing = await file(sessions, partner, "contosodental.com", plan="EXO", seats=25)

    answered = await answer(sessions, filing.token, filing.order)

    assert answered.changed
    (subscription,) = await all_of(sessions, Subscription)
    assert subscription.id == existing.id
    assert subscription.seats == 25
    assert subscription.partner_of_record_id == partner.id
    assert subscription.start_date == date(2026, 1, 15)
    assert subscription.unit_price == Decimal("4.20")
    assert (await stored_order(sessions, filing.order.id)).subscription_id == existing.id


async def test_a_second_confirmation_changes_nothing(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")
    first = await answer(sessions, filing.token, filing.order)

    again = await answer(sessions, filing.token, filing.order, now=FILED + timedelta(days=3))
    declined_after = await answer(sessions, filing.token, filing.order, answer=Answer.DECLINE)

    assert first.changed
    assert not again.changed and again.link.state is OrderState.CONFIRMED
    assert not declined_after.changed and declined_after.link.state is OrderState.CONFIRMED
    assert len(await all_of(sessions, Subscription)) == 1
    assert len(await all_of(sessions, OutboxMessage)) == 2
    order = await stored_order(sessions, filing.order.id)
    assert order.decided_at == FILED + timedelta(days=1)


async def test_declining_stores_the_reason_and_changes_no_subscription(sessions, partner, customer):
    existing = await make_subscription(
        sessions, customer, plan_code="EXO", seats=10, start_date=date(2026, 1, 15),
        renewal_date=date(2027, 1, 15),
    )  # fmt: skip
    filing = await file(sessions, partner, "contosodental.com", plan="EXO", seats=25)

    answered = await answer(
        sessions, filing.token, filing.order, answer=Answer.DECLINE, name="Jane Doe",
        reason="We chose another plan",
    )  # fmt: skip

    assert answered.changed and answered.link.state is OrderState.DECLINED
    order = await stored_order(sessions, filing.order.id)
    assert (order.state, order.decline_reason) == ("declined", "We chose another plan")
    (subscription,) = await all_of(sessions, Subscription)
    assert (subscription.id, subscription.seats) == (existing.id, 10)
    channels = [row.channel for row in await outbox_rows(sessions, f"order:{order.id}:")]
    assert sorted(channels) == sorted([partner.alert_channel, FILER])


async def test_a_wrong_csrf_token_is_forbidden_and_changes_nothing(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")
    stored = filing.order.token_hash
    other_order = csrf_token(SECRET, order_id=filing.order.id + 1, stored_hash=stored)
    other_link = csrf_token(SECRET, order_id=filing.order.id, stored_hash=new_token()[1])
    other_secret = csrf_token("another-secret", order_id=filing.order.id, stored_hash=stored)
    wrong = ("", "nonsense", other_order, other_link, other_secret, csrf_for(filing.order)[:-1])

    for csrf in wrong:
        with pytest.raises(flows.Forbidden):
            await answer(sessions, filing.token, filing.order, csrf=csrf)

    assert (await stored_order(sessions, filing.order.id)).state == "pending"
    assert await all_of(sessions, Subscription) == []
    assert await all_of(sessions, OutboxMessage) == []


@pytest.mark.parametrize("late", [timedelta(0), timedelta(minutes=1), timedelta(days=30)])
async def test_an_answer_at_or_after_expiry_changes_nothing(sessions, partner, customer, late):
    filing = await file(sessions, partner, "contosodental.com")
    when = filing.order.expires_at + late

    answered = await answer(sessions, filing.token, filing.order, now=when)

    assert not answered.changed and answered.link.state is OrderState.EXPIRED
    order = await stored_order(sessions, filing.order.id)
    assert order.state == "pending" and order.decided_at is None
    assert await all_of(sessions, Subscription) == []
    assert await all_of(sessions, OutboxMessage) == []


async def test_unknown_malformed_and_cancelled_links_answer_none(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")
    unknown = new_token()[0]

    assert await answer(sessions, unknown, filing.order) is None
    assert await answer(sessions, "not-a-token", filing.order) is None
    assert await answer(sessions, filing.order.token_hash, filing.order) is None
    assert await open_link(sessions, unknown) is None
    await cancel(sessions, partner, filing.order.id)
    assert await open_link(sessions, filing.token) is None
    assert await answer(sessions, filing.token, filing.order) is None

    assert await all_of(sessions, Subscription) == []
    assert await all_of(sessions, OutboxMessage) == []


async def test_opening_a_link_changes_nothing(sessions, partner, customer):
    filing = await file(sessions, partner, "contosodental.com")

    link = await open_link(sessions, filing.token)
    after_expiry = await open_link(sessions, filing.token, now=filing.order.expires_at)

    assert link.state is OrderState.PENDING and link.customer.id == customer.id
    assert link.partner.id == partner.id
    assert after_expiry.state is OrderState.EXPIRED
    assert (await stored_order(sessions, filing.order.id)).state == "pending"
