"""A seat change counts from the day it takes effect: the months before it keep their value in
the commission earned, expected and the first year's value (issue 14's subscription: 7 EXO seats
at $5.00 from 1 May 2026, 10 seats from 24 November)."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from bot.subscriptions.rules import ACTIVE, CANCELLED, commission_for
from bot.subscriptions.seat_history import (
    SeatPeriod,
    first_year_value,
    periods_of,
    value_between,
)

START = date(2026, 5, 1)
CHANGED = date(2026, 11, 24)
PRICE = Decimal("5.00")
TO_TEN = SimpleNamespace(
    effective_on=CHANGED,
    seats_before=7,
    unit_price_before=PRICE,
    seats_after=10,
    unit_price_after=PRICE,
)
PERIODS = periods_of(start_date=START, seats=10, unit_price=PRICE, changes=[TO_TEN])


def commission_on(day: date, *, periods=PERIODS, status=ACTIVE):
    return commission_for(
        seats=10, unit_price=PRICE, start_date=START, status=status, on=day,
        renewal_date=date(2027, 5, 1), periods=periods,
    )  # fmt: skip


def test_the_periods_run_from_the_start_at_the_seats_before_the_first_change():
    assert PERIODS == (SeatPeriod(START, 7, PRICE), SeatPeriod(CHANGED, 10, PRICE))
    assert periods_of(start_date=START, seats=10, unit_price=PRICE) == (
        SeatPeriod(START, 10, PRICE),
    )


def test_a_month_in_which_the_seats_changed_is_valued_by_the_day():
    # 1-30 November: 23 days at 7 × $5 = $35, 7 days at 10 × $5 = $50:
    # 35 × 23/30 + 50 × 7/30 = 26.8333… + 11.6666… = $38.50.
    assert value_between(PERIODS, date(2026, 11, 1), date(2026, 12, 1)) == Decimal("38.50")
    assert value_between(PERIODS, date(2026, 10, 1), date(2026, 11, 1)) == Decimal("35")
    assert value_between(PERIODS, date(2026, 12, 1), date(2027, 1, 1)) == Decimal("50")


def test_the_months_before_a_change_keep_what_they_earned():
    # May-October, six months at $35: 6 × 35 × 12% = $25.20, on the day of the change too (at
    # 10 seats since May it would be $36.00, the figure the issue saw).
    assert commission_on(date(2026, 11, 23)).earned_to_date == Decimal("25.20")
    assert commission_on(CHANGED).earned_to_date == Decimal("25.20")
    # Once November is complete: + 12% of $38.50 = $4.62 → $29.82.
    assert commission_on(date(2026, 12, 1)).earned_to_date == Decimal("29.82")


def test_the_first_years_value_is_its_months_as_they_were():
    # 6 × $35 + $38.50 + 5 × $50 (December-April) = $498.50 (not 12 × $50 = $600); 12% = $59.82.
    assert first_year_value(PERIODS, START) == Decimal("498.50")
    commission = commission_on(CHANGED)
    assert (commission.base, commission.amount) == (Decimal("498.50"), Decimal("59.82"))


def test_the_next_twelve_months_count_the_old_seats_until_the_change():
    # From 24 Nov 2026 to 24 Nov 2027 months 7-18 complete: months 7-12 at 12% of
    # (38.50 + 5 × 50) = $34.62, months 13-18 (May-October 2027) at 6% of 6 × $50 = $18.00.
    assert commission_on(CHANGED).expected_next_12_months == Decimal("52.62")


def test_after_the_first_year_the_rule_is_on_todays_annual_fee():
    commission = commission_on(date(2027, 6, 15))
    assert not commission.in_first_year
    # 10 × $5 × 12 = $600 a year, 6% = $36.00.
    assert (commission.base, commission.amount) == (Decimal("600.00"), Decimal("36.00"))
    # 12% of $498.50 for the first year, then 6% of one month at $50 = $3.00: $62.82.
    assert commission.earned_to_date == Decimal("62.82")


def test_a_cancelled_subscription_earns_until_its_renewal_at_the_seats_of_each_month():
    commission = commission_on(date(2027, 9, 1), status=CANCELLED)
    assert commission.earned_to_date == Decimal("59.82")
    assert commission.expected_next_12_months == Decimal("0")


def test_a_price_change_counts_from_its_day_like_a_seat_change():
    dearer = SimpleNamespace(
        effective_on=date(2026, 8, 1), seats_before=7, unit_price_before=PRICE,
        seats_after=7, unit_price_after=Decimal("6.00"),
    )  # fmt: skip
    periods = periods_of(start_date=START, seats=7, unit_price=Decimal("6.00"), changes=[dearer])
    # May-July at 7 × $5 = $35, August-October at 7 × $6 = $42: 12% × (105 + 126) = $27.72.
    commission = commission_for(
        seats=7, unit_price=Decimal("6.00"), start_date=START, status=ACTIVE,
        on=date(2026, 11, 1), periods=periods,
    )  # fmt: skip
    assert commission.earned_to_date == Decimal("27.72")
