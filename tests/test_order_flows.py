"""Order flows on the real database: filing, the customer's answer, cancel and resend, the expiry
and reminder sweeps, and the list, always within one partner."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.catalogue import BUILT_IN
from bot.orders import flows
from bot.orders.rules import Answer, OrderState, csrf_token, new_token
from bot.subscriptions.flows import Choices, NoMatch
from storage import outbox
from storage.models import Order, OutboxMessage, Subscription
from tests.utils.factories import make_customer, make_partner, make_subscription

# 23:30 UTC on Sunday 22 Nov 2026 is already Monday 23 Nov in Berlin, the partners' time zone.
FILED = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
BERLIN_DAY = date(2026, 11, 23)
TTL_DAYS = 14
SECRET = "server-secret-for-tests"
FILER = "U0FILER"
CONFIRMER = flows.Confirmer(
    name="Jane Doe", email="jane@contosodental.com", ip="203.0.113.7",
    user_agent="Mozilla/5.0 (Test)",
)  # fmt: skip


async def file(sessions, partner, query="", *, plan="BPOS-S", seats=25, now=FILED, **more):
    async with sessions() as session:
        return await flows.file_order(
            session, partner=partner, plan=BUILT_IN.get(plan), seats=seats, filed_by=FILER,
            now=now, ttl_days=TTL_DAYS, customer_query=query, **more,
        )  # fmt: skip


def csrf_for(order: Order) -> str:
    return csrf_token(SECRET, order_id=order.id, stored_hash=order.token_hash)


async def answer(sessions, token, order, *, answer=Answer.CONFIRM, now=None, csrf=None, **who):
    async with sessions() as session:
        return await flows.answer_link(
            session, token=token, answer=answer,
            csrf=csrf_for(order) if csrf is None else csrf,
            confirmer=flows.Confirmer(**who) if who else CONFIRMER, secret_key=SECRET,
            now=now or FILED + timedelta(days=1), catalogue=BUILT_IN,
        )  # fmt: skip


async def open_link(sessions, token, now=None):
    async with sessions() as session:
        return await flows.open_link(session, token=token, now=now or FILED + timedelta(days=1))


async def stored_order(sessions, order_id: int) -> Order:
    async with sessions() as session:
        return await session.get(Order, order_id)


async def all_of(sessions, model) -> list:
    async with sessions() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


async def outbox_rows(sessions, prefix: str) -> list[OutboxMessage]:
    async with sessions() as session:
        return await outbox.by_key_prefix(session=session, prefix=prefix)


async def cancel(sessions, partner, order_id, *, now=None, by="U0STAFF"):
    async with sessions() as session:
        return await flows.cancel_order(
            session, partner=partner, order_id=order_id, by=by,
            now=now or FILED + timedelta(hours=1),
        )  # fmt: skip


async def resend(sessions, partner, order_id, *, now):
    async with sessions() as session:
        return await flows.resend_order(
            session, partner=partner, order_id=order_id, now=now, ttl_days=TTL_DAYS
        )


@pytest.fixture
async def partner(sessions):
    return await make_partner(sessions, name="Northwind Cloud", timezone="Europe/Berlin")


@pytest.fixture
async def customer(sessions, partner):
    return await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")


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
        first = await flows.expire_orders(session, now=when, catalogue=BUILT_IN)
    async with sessions() as session:
        second = await flows.expire_orders(
            session, now=when + timedelta(hours=1), catalogue=BUILT_IN
        )

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
        count = await flows.expire_orders(
            session, now=filing.order.expires_at + timedelta(days=1), catalogue=BUILT_IN
        )

    assert count == 0
    assert (await stored_order(sessions, filing.order.id)).state == "confirmed"


async def remind(sessions, now) -> int:
    async with sessions() as session:
        return await flows.remind_filers(session, now=now, catalogue=BUILT_IN)


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
        rows = await flows.recent_orders(session, partner=partner, now=now)

    # Newest first; the cancelled one of 31 days ago is left out, the unswept pending one stays.
    assert [order.id for order, _ in rows] == [
        recent_confirmed.order.id, recent_cancelled.order.id, old_pending.order.id,
    ]  # fmt: skip
    assert all(row_customer.id == customer.id for _, row_customer in rows)
    async with sessions() as session:
        theirs = await flows.recent_orders(session, partner=other, now=now)
    assert [row_customer.name for _, row_customer in theirs] == ["Litware"]


async def test_a_resent_link_is_reminded_about_three_days_after_the_resend(
    sessions, partner, customer
):
    filing = await file(sessions, partner, "contosodental.com")
    await resend(sessions, partner, filing.order.id, now=FILED + timedelta(days=2))

    # Three days after filing, the new link has been out for one day only.
    assert await remind(sessions, FILED + timedelta(days=3)) == 0
    assert await remind(sessions, FILED + timedelta(days=5) - timedelta(seconds=1)) == 0
    assert await remind(sessions, FILED + timedelta(days=5)) == 1
