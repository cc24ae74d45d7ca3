"""Commission: what a subscription earns its partner of record, in the first year and after."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.subscriptions.rules import (
    ACTIVE,
    CANCELLED,
    SUSPENDED,
    TRIAL,
    CommissionRule,
    commission_for,
)
from bot.zones import whole_months_between

# 10 seats of BPOS-S at the list price: 10 × $15.00 = $150.00 a month, × 12 = $1,800.00 a year.
SEATS = 10
PRICE = Decimal("15.00")
# One month of service earns 12% × $150.00 = $18.00 in the first year, 6% × $150.00 = $9.00 after.
FIRST_YEAR_MONTH = Decimal("18.00")
LATER_MONTH = Decimal("9.00")


def commission(start: date, on: date, status: str = ACTIVE, **kwargs):
    return commission_for(
        seats=SEATS, unit_price=PRICE, start_date=start, status=status, on=on, **kwargs
    )


# Commission in the first year


def test_commission_in_first_year_is_twelve_percent_of_first_year_value():
    result = commission(date(2024, 1, 15), on=date(2024, 6, 20))
    assert result.in_first_year is True
    assert result.rate == Decimal("0.12")
    assert result.base == Decimal("1800.00")
    # 12% × $1,800.00 = $216.00
    assert result.amount == Decimal("216.00")
    assert result.first_year_ends == date(2025, 1, 15)


def test_commission_earned_to_date_accrues_each_whole_month_of_service():
    # 15 Jan → 20 Jun: five whole months (the sixth completes on 15 Jul); 5 × $18.00 = $90.00
    assert commission(date(2024, 1, 15), on=date(2024, 6, 20)).earned_to_date == Decimal("90.00")
    # One day before the first month completes nothing is earned yet.
    assert commission(date(2024, 1, 15), on=date(2024, 2, 14)).earned_to_date == Decimal("0.00")
    assert commission(date(2024, 1, 15), on=date(2024, 2, 15)).earned_to_date == Decimal("18.00")


def test_commission_on_the_start_day_expects_a_whole_first_year():
    result = commission(date(2024, 1, 10), on=date(2024, 1, 10))
    assert result.earned_to_date == Decimal("0.00")
    # 12 months × $18.00 = $216.00, the whole first-year commission
    assert result.expected_next_12_months == Decimal("216.00")


def test_commission_expected_next_12_months_mixes_first_year_and_later_rates():
    result = commission(date(2024, 1, 15), on=date(2024, 6, 20))
    # Five months served; months 6–12 are first-year (7 × $18.00 = $126.00) and months 13–17
    # are later (5 × $9.00 = $45.00): $171.00
    assert result.expected_next_12_months == Decimal("171.00")


def test_commission_the_day_before_the_anniversary_expects_one_first_year_month():
    result = commission(date(2024, 1, 15), on=date(2025, 1, 14))
    assert result.in_first_year is True
    # 11 months served: 11 × $18.00 = $198.00
    assert result.earned_to_date == Decimal("198.00")
    # month 12 at $18.00, then 11 months at $9.00 = $99.00: $117.00
    assert result.expected_next_12_months == Decimal("117.00")


def test_commission_one_month_in_expects_eleven_first_year_months_and_one_later():
    result = commission(date(2024, 3, 15), on=date(2024, 4, 15))
    # months 2–12: 11 × $18.00 = $198.00; month 13 (15 Mar → 15 Apr 2025): $9.00; total $207.00
    assert result.expected_next_12_months == Decimal("207.00")


def test_commission_one_month_after_a_month_end_start_expects_one_month_at_the_later_rate():
    # Started 31 Mar 2024; the first month completed on 30 Apr 2024 (April has no 31st), the
    # first year ends 31 Mar 2025 and the next 12 months run to 30 Apr 2025. Months 2–12 are
    # first-year (11 × $18.00 = $198.00) and month 13 (31 Mar → 30 Apr 2025) is after the first
    # year ($9.00): $207.00, as for a start on the 15th above.
    result = commission(date(2024, 3, 31), on=date(2024, 4, 30))
    assert result.earned_to_date == Decimal("18.00")
    assert result.first_year_ends == date(2025, 3, 31)
    assert result.expected_next_12_months == Decimal("207.00")


def test_commission_expected_matches_what_will_be_earned_in_the_next_12_months():
    # Whatever the day of the month, what is expected now is what earned_to_date will have grown
    # by twelve months later.
    start, on = date(2023, 4, 30), date(2024, 2, 29)
    now = commission(start, on=on)
    a_year_later = commission(start, on=date(2025, 2, 28))
    # 30 Apr 2023 → 29 Feb 2024: 10 months (29 Feb is February's last day): 10 × $18 = $180
    assert now.earned_to_date == Decimal("180.00")
    # → 28 Feb 2025: 22 months; 12 × $18 + 10 × $9 = $216 + $90 = $306
    assert a_year_later.earned_to_date == Decimal("306.00")
    # so the next 12 months bring $306 − $180 = $126 (2 × $18 + 10 × $9)
    assert now.expected_next_12_months == Decimal("126.00")


# Commission after the first year


def test_commission_after_first_year_is_six_percent_of_annual_fee():
    result = commission(date(2022, 3, 10), on=date(2024, 6, 20))
    assert result.in_first_year is False
    assert result.rate == Decimal("0.06")
    assert result.base == Decimal("1800.00")
    # 6% × $1,800.00 = $108.00 a year
    assert result.amount == Decimal("108.00")
    assert result.first_year_ends == date(2023, 3, 10)
    # 10 Mar 2022 → 20 Jun 2024: 27 whole months; 12 × $18.00 + 15 × $9.00 = $216 + $135 = $351
    assert result.earned_to_date == Decimal("351.00")
    # 12 × $9.00 = $108.00
    assert result.expected_next_12_months == Decimal("108.00")


def test_commission_on_the_first_anniversary_switches_to_the_later_rate():
    result = commission(date(2024, 1, 15), on=date(2025, 1, 15))
    assert result.in_first_year is False
    assert result.rate == Decimal("0.06")
    # 12 months × $18.00 = $216.00 earned; 12 × $9.00 = $108.00 expected
    assert result.earned_to_date == Decimal("216.00")
    assert result.expected_next_12_months == Decimal("108.00")


def test_commission_of_a_leap_day_start_has_its_first_anniversary_on_28_february():
    result = commission(date(2024, 2, 29), on=date(2025, 2, 28))
    assert result.first_year_ends == date(2025, 2, 28)
    assert result.in_first_year is False
    assert result.earned_to_date == Decimal("216.00")  # 12 × $18.00


def test_commission_earned_to_date_rounds_half_up_to_cents():
    # 1 seat × $0.75; 13 months: 12 × 12% × 0.75 + 1 × 6% × 0.75 = 1.08 + 0.045 = 1.125 → 1.13
    result = commission_for(
        seats=1, unit_price=Decimal("0.75"), start_date=date(2023, 1, 1), status=ACTIVE,
        on=date(2024, 2, 1),
    )  # fmt: skip
    assert result.earned_to_date == Decimal("1.13")
    # 6% × (12 × 0.75 = 9.00) = 0.54
    assert result.amount == Decimal("0.54")
    assert isinstance(result.expected_next_12_months, Decimal)


# Commission by status


def test_commission_of_a_trial_is_nothing_earned_and_nothing_expected():
    result = commission(date(2024, 1, 15), on=date(2024, 6, 20), status=TRIAL)
    assert result.earned_to_date == Decimal("0.00")
    assert result.expected_next_12_months == Decimal("0.00")
    # What it would earn once paid is still known: 12% × $1,800.00 = $216.00
    assert result.amount == Decimal("216.00")


@pytest.mark.parametrize("status", [SUSPENDED, CANCELLED])
def test_commission_of_a_suspended_or_cancelled_subscription_keeps_earnings_expects_nothing(
    status,
):
    result = commission(date(2024, 1, 15), on=date(2024, 6, 20), status=status)
    # 5 whole months × $18.00 = $90.00 already earned
    assert result.earned_to_date == Decimal("90.00")
    assert result.expected_next_12_months == Decimal("0.00")


def test_commission_of_a_subscription_starting_in_the_future_expects_only_months_after_start():
    result = commission(date(2024, 4, 10), on=date(2024, 1, 10))
    assert result.in_first_year is True
    assert result.earned_to_date == Decimal("0.00")
    # Jan, Feb, Mar are before the start; 10 Apr → 10 Jan 2025 is 9 months × $18.00 = $162.00
    assert result.expected_next_12_months == Decimal("162.00")


def test_commission_of_a_future_start_on_another_day_counts_months_completed_within_the_year():
    result = commission(date(2024, 4, 20), on=date(2024, 1, 10))
    # Months complete on 20 May … 20 Dec 2024 (8 of them) before 10 Jan 2025: 8 × $18 = $144
    assert result.expected_next_12_months == Decimal("144.00")


def test_commission_of_a_future_month_end_start_counts_every_month_of_service_in_the_year():
    # Starts 31 Dec 2023; from 30 Jun 2023 the next 12 months run to 30 Jun 2024 and hold six
    # whole months of service (31 Dec → 31 Jan → 29 Feb → 31 Mar → 30 Apr → 31 May → 30 Jun),
    # all in the first year: 6 × $18.00 = $108.00
    assert whole_months_between(date(2023, 12, 31), date(2024, 6, 30)) == 6
    result = commission(date(2023, 12, 31), on=date(2023, 6, 30))
    assert result.expected_next_12_months == Decimal("108.00")


def test_commission_follows_a_custom_rule():
    rule = CommissionRule(first_year_rate=Decimal("0.10"), later_rate=Decimal("0.05"))
    first = commission(date(2024, 1, 15), on=date(2024, 6, 20), rule=rule)
    # 10% × $1,800.00 = $180.00; 5 months × 10% × $150.00 = 5 × $15.00 = $75.00
    assert first.amount == Decimal("180.00")
    assert first.earned_to_date == Decimal("75.00")
    # 7 × $15.00 + 5 × (5% × $150.00 = $7.50) = $105.00 + $37.50 = $142.50
    assert first.expected_next_12_months == Decimal("142.50")
    later = commission(date(2022, 3, 10), on=date(2024, 6, 20), rule=rule)
    # 5% × $1,800.00 = $90.00
    assert later.amount == Decimal("90.00")


def test_commission_rule_describes_itself_in_percent():
    assert CommissionRule().describe() == (
        "The partner of record earns 12% of the first year's value, then 6% of the annual fee "
        "after the first year."
    )
    assert "12.5%" in CommissionRule(first_year_rate=Decimal("0.125")).describe()


def test_a_cancelled_subscription_stops_earning_at_the_end_of_its_term():
    # 10 seats × $15.00 = $150.00 a month; months 15 Jan 2024 → 15 Jan 2025 are 12 at 12% ($18.00
    # each) = $216.00; it was cancelled and its term ended on 15 Jan 2025, so nothing after.
    result = commission_for(
        seats=10, unit_price=Decimal("15.00"), start_date=date(2024, 1, 15), status=CANCELLED,
        on=date(2025, 11, 20), renewal_date=date(2025, 1, 15),
    )  # fmt: skip
    assert result.earned_to_date == Decimal("216.00")
    assert result.expected_next_12_months == Decimal("0.00")
