"""The summary flows on the real test database: a week's figures from orders filed and answered
through the order flows (each figure counted by hand in the comments), renewals, and the
scheduled post queued once per partner and week."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot.catalogue import load_catalogue
from bot.orders import flows as order_flows
from bot.orders import sweeps
from bot.orders.rules import Answer, csrf_token
from bot.subscriptions.rules import CommissionRule
from bot.summaries import flows
from bot.summaries import messages as summary_messages
from bot.summaries.rules import week_starting
from storage import orders as order_rows
from storage import outbox
from storage import summaries as schedules
from storage.models import Customer, Partner
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.orders import cancel, file_order_as_typed
from tests.utils.slack import mrkdwn_texts

CATALOGUE = load_catalogue(None)
RULE = CommissionRule()
SECRET = "summary-flow-secret-0123456789"
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday; last week is 9-15 November
WEEK = week_starting(date(2026, 11, 9), "Europe/Berlin")


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


async def order(
    sessions, partner: Partner, customer: Customer, plan: str, seats: int, *,
    filed: datetime, answered: datetime | None = None, answer: Answer = Answer.CONFIRM,
    ttl_days: int = 14,
) -> None:  # fmt: skip
    """Files an order, and answers it as the customer would when `answered` is given."""
    async with sessions() as session:
        filing = await file_order_as_typed(
            session, partner=partner, plan=CATALOGUE.get(plan), seats=seats, filed_by="U0FILER",
            now=filed, ttl_days=ttl_days, customer_id=customer.id,
        )  # fmt: skip
    if answered is None:
        return
    async with sessions() as session:
        await order_flows.answer_link(
            session,
            token=filing.token,
            answer=answer,
            csrf=csrf_token(SECRET, order_id=filing.order.id, stored_hash=filing.order.token_hash),
            confirmer=order_flows.Confirmer(name="Jane", email="jane@example.com"),
            secret_key=SECRET,
            now=answered,
            catalogue=CATALOGUE,
            vendor="Microsoft",
        )


async def a_busy_week(sessions) -> Partner:
    partner = await make_partner(sessions, name="Alpha IT", managers="U0BOSS")
    anchor = await make_customer(sessions, partner, name="Anchor GmbH")
    bright = await make_customer(sessions, partner, name="Bright AG")
    careful = await make_customer(sessions, partner, name="Careful KG")
    dandy = await make_customer(sessions, partner, name="Dandy OHG")
    await make_subscription(
        sessions, anchor, plan_code="EXO", seats=10, unit_price="5.00",
        start_date=date(2026, 1, 5), renewal_date=date(2027, 1, 5),
    )  # fmt: skip
    # The week before (2-8 Nov): one order, declined.
    await order(sessions, partner, bright, "EXO", 2, filed=at(4, 10), answered=at(5, 10),
                answer=Answer.DECLINE)  # fmt: skip
    # The week of 9-15 Nov: Bright's new BPOS-S, 4 seats at $15.00, confirmed after 24 h.
    await order(sessions, partner, bright, "BPOS-S", 4, filed=at(10, 10), answered=at(11, 10))
    # Anchor's EXO from 10 to 6 seats, confirmed after 54 h.
    await order(sessions, partner, anchor, "EXO", 6, filed=at(10, 10), answered=at(12, 16))
    # Careful declines one order and has another still pending at the end of the week.
    await order(sessions, partner, careful, "SPO", 3, filed=at(11, 9), answered=at(12, 9),
                answer=Answer.DECLINE)  # fmt: skip
    await order(sessions, partner, careful, "OCO", 2, filed=at(13, 9))
    # Dandy's link runs out after a day, and the sweep expires it on Saturday.
    await order(sessions, partner, dandy, "EXO", 1, filed=at(9, 8), ttl_days=1)
    async with sessions() as session:
        assert await sweeps.expire_orders(session, now=at(14, 10)) == 1
    return partner


async def build(sessions, partner: Partner, week=WEEK, now: datetime = NOW):
    async with sessions() as session:
        return await flows.build_summary(
            session, partner=partner, week=week, catalogue=CATALOGUE, rule=RULE, now=now
        )


async def test_a_weeks_orders_seats_and_timings_are_counted_as_by_hand(sessions):
    partner = await a_busy_week(sessions)

    summary = await build(sessions, partner)

    orders = summary.current.orders
    # Filed 9-15 Nov: BPOS-S, EXO, SPO, OCO and Dandy's EXO (Monday 09:00 in Berlin).
    assert orders.filed == 5
    assert (orders.confirmed, orders.declined, orders.expired) == (2, 1, 1)
    assert orders.pending_at_end == 1  # Careful's OCO
    # Bright +4 seats (a new subscription); Anchor 10 → 6, −4 seats.
    assert (orders.seats_added, orders.seats_removed) == (4, 4)
    # 2 confirmed of 4 decided (2 confirmed, 1 declined, 1 expired); median of 24 h and 54 h.
    assert summary.current.conversion == Decimal("50.0")
    assert summary.current.median_hours == Decimal("39.0")
    # The week before: Bright's EXO filed and declined, nothing confirmed.
    before = summary.previous.orders
    assert (before.filed, before.confirmed, before.declined, before.pending_at_end) == (1, 0, 1, 0)
    assert summary.previous.conversion == Decimal("0.0")
    assert summary.previous.median_hours is None
    assert not summary.quiet


async def test_revenue_and_commission_are_worked_out_as_by_hand(sessions):
    partner = await a_busy_week(sessions)

    summary = await build(sessions, partner)

    # End of the week: Anchor 6 × $5.00 + Bright 4 × $15.00 = $90.00. At its start Anchor still
    # had 10 seats (the −4 confirmed later is taken back out) and Bright had nothing: $50.00.
    assert summary.current.mrr == Decimal("90.00")
    assert summary.mrr_before == summary.previous.mrr == Decimal("50.00")
    # Accrued by the day at 12% in the first year, each day at the seats it had. Anchor (started
    # 5 Jan) had 10 seats ($600 a year) on 9-11 Nov and 6 ($360) from 12 Nov, the day its
    # change was confirmed (17:00 in Berlin); Bright's BPOS-S (started 11 Nov, annual $720)
    # served 5 days (11-15 Nov): 0.12 × (600 × 3 + 360 × 4 + 720 × 5) / 365 = $2.2487… → $2.25.
    assert summary.current.commission.earned_this_week == Decimal("2.25")
    # Next 365 days from 16 Nov: Anchor is 315 days old, so 50 first-year days and 315 later
    # (6%); Bright 5 days old: 360 first-year days and 5 later.
    # (0.12 × (360 × 50 + 720 × 360) + 0.06 × (360 × 315 + 720 × 5)) / 365 = $110.367… → $110.37
    assert summary.current.commission.expected_next_12_months == Decimal("110.37")
    # The week before, only Anchor, still at 10 seats: 0.12 × 600 × 7 / 365 = $1.380… → $1.38
    # (the later cut to 6 seats does not reach back).
    assert summary.previous.commission.earned_this_week == Decimal("1.38")


async def test_lost_orders_put_their_customers_at_risk_and_nothing_else_is_owed(sessions):
    partner = await a_busy_week(sessions)

    summary = await build(sessions, partner)

    lost = "an order expired or was declined this week"
    assert summary.at_risk == [("Careful KG", lost), ("Dandy OHG", lost)]
    assert (summary.current.incidents, summary.current.customer_minutes) == (0, 0)
    assert summary.current.credits_owed == Decimal(0)
    assert (summary.renewals, summary.renewals_total) == ([], 0)


async def test_a_week_with_standing_subscriptions_only_is_quiet(sessions):
    partner = await make_partner(sessions)
    customer = await make_customer(sessions, partner, name="Steady GmbH")
    await make_subscription(
        sessions, customer, seats=3, unit_price="5.00",
        start_date=date(2026, 1, 5), renewal_date=date(2027, 1, 5),
    )  # fmt: skip

    summary = await build(sessions, partner)

    assert summary.quiet
    assert summary.current.mrr == summary.mrr_before == Decimal("15.00")
    assert summary.current.conversion is None and summary.at_risk == []


async def test_renewals_are_the_active_ones_in_the_30_days_after_the_week_largest_first(sessions):
    partner = await make_partner(sessions)
    # Twelve renewing in 16 Nov - 15 Dec, at 1 … 12 seats; three that do not count.
    for seats in range(1, 13):
        customer = await make_customer(sessions, partner, name=f"Renewing {seats:02d}")
        await make_subscription(
            sessions, customer, seats=seats, unit_price="5.00",
            start_date=date(2025, 12, seats), renewal_date=date(2026, 12, seats),
        )  # fmt: skip
    late = await make_customer(sessions, partner, name="Too Late")
    await make_subscription(sessions, late, seats=50, start_date=date(2025, 12, 16),
                            renewal_date=date(2026, 12, 16))  # fmt: skip
    early = await make_customer(sessions, partner, name="Too Early")
    await make_subscription(sessions, early, seats=50, start_date=date(2025, 11, 15),
                            renewal_date=date(2026, 11, 15))  # fmt: skip
    gone = await make_customer(sessions, partner, name="Cancelled")
    await make_subscription(sessions, gone, seats=50, start_date=date(2025, 12, 1),
                            renewal_date=date(2026, 12, 1), status="cancelled")  # fmt: skip

    summary = await build(sessions, partner)

    assert summary.renewals_total == 12
    assert [r.customer for r in summary.renewals] == [f"Renewing {n:02d}" for n in range(12, 2, -1)]
    largest = summary.renewals[0]
    assert (largest.plan_code, largest.seats, largest.annual) == ("EXO", 12, Decimal("720.00"))


async def summary_rows(sessions, partner: Partner) -> list:
    async with sessions() as session:
        return await outbox.by_key_prefix(session=session, prefix=f"summary:{partner.id}:")


async def post_due(sessions, now: datetime) -> int:
    return await flows.post_due_summaries(sessions, catalogue=CATALOGUE, rule=RULE, now=now)


async def test_the_scheduled_summary_and_its_chart_are_queued_once_per_week(sessions):
    partner = await a_busy_week(sessions)
    monday_0930_berlin = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)

    assert await post_due(sessions, monday_0930_berlin) == 1
    assert await post_due(sessions, monday_0930_berlin + timedelta(hours=22)) == 0

    summary, chart = sorted(await summary_rows(sessions, partner), key=lambda row: row.id)
    assert summary.idempotency_key == f"summary:{partner.id}:2026-11-09"
    assert (summary.method, summary.channel) == ("chat.postMessage", partner.manager_channel)
    assert "week of 9 Nov – 15 Nov 2026" in json.loads(summary.payload)["text"]
    assert (chart.method, chart.parent_key) == ("files.upload_v2", summary.idempotency_key)
    assert json.loads(chart.payload)["filename"] == "weekly-chart.png"
    async with sessions() as session:
        assert await schedules.run_claimed(
            session=session, partner_id=partner.id, week_start=date(2026, 11, 9)
        )
        # A run for a week already claimed queues nothing.
        assert not await flows.post_summary(
            session, partner=partner, week=WEEK, catalogue=CATALOGUE, rule=RULE,
            now=monday_0930_berlin,
        )  # fmt: skip
    assert len(await summary_rows(sessions, partner)) == 2


async def test_each_partner_is_due_at_its_own_local_time_and_never_when_off(sessions):
    tokyo = await make_partner(sessions, name="Tokyo KK", timezone="Asia/Tokyo")
    berlin = await make_partner(sessions, name="Berlin GmbH", timezone="Europe/Berlin")
    off = await make_partner(sessions, name="Quiet Ltd", timezone="Asia/Tokyo")
    async with sessions() as session:
        await schedules.save_schedule(
            session=session, partner_id=off.id, weekday=None, at_minutes=None, enabled=False,
            by="U0BOSS", now=NOW,
        )  # fmt: skip
        await session.commit()
    # Monday 16 Nov, 00:30 UTC: 09:30 in Tokyo; in Berlin 01:30, and last Monday's 09:00 is
    # more than 24 hours ago.
    monday = datetime(2026, 11, 16, 0, 30, tzinfo=UTC)

    assert await post_due(sessions, monday) == 1

    (posted, _) = await summary_rows(sessions, tokyo)
    assert posted.idempotency_key == f"summary:{tokyo.id}:2026-11-09"
    assert await summary_rows(sessions, berlin) == [] and await summary_rows(sessions, off) == []


async def test_an_order_cancelled_by_staff_is_counted_and_said(sessions):
    partner = await a_busy_week(sessions)
    async with sessions() as session:
        (pending,) = [
            o for o, _ in await order_rows.recent(
                session=session, partner_id=partner.id, since=at(1, 0), limit=10
            )
            if o.state == "pending"
        ]  # fmt: skip
    await cancel(sessions, partner, pending.id, now=at(14, 9))

    summary = await build(sessions, partner)

    # Filed 5 = confirmed 2 + declined 1 + expired 1 + cancelled 1 (Careful's OCO), none pending.
    orders = summary.current.orders
    assert (orders.filed, orders.cancelled, orders.pending_at_end) == (5, 1, 0)
    text = "\n".join(mrkdwn_texts(summary_messages.summary_blocks(summary, scheduled=False)))
    assert "2 confirmed (▲ 2 (none last week)) · 1 declined · 1 expired · 1 cancelled · " in text
    assert "0 still pending" in text
