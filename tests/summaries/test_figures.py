"""The summary's SQL figures, counted by hand: orders by what became of them, revenue on a day and
commission accrued by the day in and after the first year, each day at the seats it had."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from storage import summary_money as figures
from storage.summary_figures import OrderFigures, order_figures
from tests.utils import orders
from tests.utils.factories import make_customer, make_partner, make_subscription


async def test_commission_accrues_by_the_day_at_the_rate_of_its_year(sessions):
    partner = await make_partner(sessions)
    young = await make_customer(sessions, partner, name="Young")
    old = await make_customer(sessions, partner, name="Old")
    # 10 seats × $5.00 = $600.00 a year each.
    await make_subscription(
        sessions,
        young,
        seats=10,
        unit_price="5.00",
        start_date=date(2026, 8, 10),
        renewal_date=date(2027, 8, 10),
    )
    await make_subscription(
        sessions,
        old,
        seats=10,
        unit_price="5.00",
        start_date=date(2024, 1, 1),
        renewal_date=date(2027, 1, 1),
    )
    async with sessions() as session:
        result = await figures.commission_figures(
            session=session,
            partner_id=partner.id,
            week_start=date(2026, 11, 9),
            week_end=date(2026, 11, 16),
            rates=(Decimal("0.12"), Decimal("0.06")),
        )
    # This week, 7 days each: young in its first year 600 × 7/365 × 12% = $1.3808; old after it
    # 600 × 7/365 × 6% = $0.6904; together $2.07.
    assert result.earned_this_week == Decimal("2.07")
    # Next 365 days from 16 Nov: young is 98 days old, so 267 first-year days at 12% and 98 at
    # 6%: 600 × (267 × 0.12 + 98 × 0.06)/365 = $62.33; old all at 6%: $36.00. Together $98.33.
    assert result.expected_next_12_months == Decimal("98.33")


# A seat change counts from its day (issue 14): 7 EXO seats at $5.00 from 1 May 2026, changed
# to 10 by an order confirmed on Tuesday 24 November (Berlin); and a cancelled SPO subscription,
# 4 seats at $5.00 ($20.00 a month, in its second year), served until Thursday 19 November.


async def seven_then_ten(sessions):
    partner = await make_partner(sessions)
    goldcrest = await make_customer(sessions, partner, name="Goldcrest Dental")
    summit = await make_customer(sessions, partner, name="Summit Law")
    await make_subscription(
        sessions, goldcrest, seats=7, start_date=date(2026, 5, 1), renewal_date=date(2027, 5, 1)
    )
    await make_subscription(
        sessions, summit, plan_code="SPO", seats=4, start_date=date(2025, 6, 1),
        renewal_date=date(2026, 11, 19), status="cancelled",
    )  # fmt: skip
    filing = await orders.file(sessions, partner, "goldcrest", plan="EXO", seats=10,
                               now=datetime(2026, 11, 24, 8, tzinfo=UTC))  # fmt: skip
    await orders.answer(sessions, filing.token, filing.order,
                        now=datetime(2026, 11, 24, 9, tzinfo=UTC))  # fmt: skip
    return partner


async def test_revenue_on_each_day_is_the_seats_and_subscriptions_of_that_day(sessions):
    partner = await seven_then_ten(sessions)
    days = [date(2026, 11, 1), date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 30)]
    async with sessions() as session:
        revenue = await figures.revenue_on(session=session, partner_id=partner.id, days=days)
    # 1 Nov: 7 × $5 + Summit's $20 = $55; 23 Nov: Summit's term is over, still 7 seats: $35;
    # from 24 Nov: 10 × $5 = $50.
    assert revenue == [Decimal("55"), Decimal("35"), Decimal("50"), Decimal("50")]


async def test_a_weeks_commission_counts_each_day_at_its_seats(sessions):
    partner = await seven_then_ten(sessions)
    rates = (Decimal("0.12"), Decimal("0.06"))

    async def week_from(monday: date):
        async with sessions() as session:
            return await figures.commission_figures(
                session=session, partner_id=partner.id, week_start=monday,
                week_end=monday + timedelta(days=7), rates=rates,
            )  # fmt: skip

    before, during = await week_from(date(2026, 11, 16)), await week_from(date(2026, 11, 23))
    # 16-22 Nov: Goldcrest 7 days at $420 a year (12%), Summit 3 days (16-18 Nov) at $240 a
    # year (6%, its second year): (0.12 × 420 × 7 + 0.06 × 240 × 3) / 365 = 396 / 365 = $1.08.
    assert before.earned_this_week == Decimal("1.08")
    # 23-29 Nov: Goldcrest 1 day at $420 and 6 at $600: 0.12 × 4,020 / 365 = $1.3216 → $1.32.
    assert during.earned_this_week == Decimal("1.32")
    # The 365 days after 22 Nov at 7 seats: Goldcrest is 206 days old, so 159 first-year days
    # and 206 later: (0.12 × 420 × 159 + 0.06 × 420 × 206) / 365 = $36.1775… → $36.18.
    assert before.expected_next_12_months == Decimal("36.18")
    # After 29 Nov at 10 seats, 213 days old: (0.12 × 600 × 152 + 0.06 × 600 × 213) / 365 =
    # $50.9917… → $50.99.
    assert during.expected_next_12_months == Decimal("50.99")


async def test_orders_are_counted_by_what_became_of_them_cancelled_too(sessions):
    partner = await make_partner(sessions)
    for name in ("Alpha Dental", "Beta Dental", "Gamma Dental", "Delta Dental"):
        await make_customer(sessions, partner, name=name)
    monday = datetime(2026, 11, 23, 8, tzinfo=UTC)
    confirmed = await orders.file(sessions, partner, "alpha", plan="EXO", seats=3, now=monday)
    cancelled = await orders.file(sessions, partner, "beta", plan="EXO", seats=2, now=monday)
    await orders.file(sessions, partner, "gamma", plan="EXO", seats=1, now=monday)
    await orders.file(sessions, partner, "delta", plan="SPO", seats=5, now=monday)
    await orders.answer(sessions, confirmed.token, confirmed.order,
                        now=monday + timedelta(hours=2))  # fmt: skip
    await orders.cancel(sessions, partner, cancelled.order.id, now=monday + timedelta(hours=3))

    async with sessions() as session:
        counted = await order_figures(
            session=session, partner_id=partner.id, start=monday - timedelta(hours=9),
            end=monday + timedelta(days=7),
        )  # fmt: skip
    # 4 filed = 1 confirmed + 1 cancelled + 2 still pending; the new EXO adds 3 seats.
    assert counted == OrderFigures(
        filed=4, confirmed=1, declined=0, expired=0, cancelled=1, pending_at_end=2,
        seats_added=3, seats_removed=0,
    )  # fmt: skip
