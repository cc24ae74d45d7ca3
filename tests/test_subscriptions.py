"""Subscription rules: money, dates, commission, and how a typed name finds a customer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.arguments import clean_query, fold, like_pattern
from bot.money import annual_value, cents, format_money, format_percent, monthly_value
from bot.subscriptions.flows import suggest
from bot.subscriptions.rules import (
    ACTIVE,
    CANCELLED,
    SUSPENDED,
    TRIAL,
    CommissionRule,
    commission_for,
)
from bot.zones import add_months, add_years, days_until, whole_months_between

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


# Money


def test_cents_rounds_half_up_not_to_even():
    # Banker's rounding would give 0.12 and 2.67; the rule is half up.
    assert cents(Decimal("0.125")) == Decimal("0.13")
    assert cents(Decimal("2.675")) == Decimal("2.68")
    assert cents(Decimal("0.005")) == Decimal("0.01")
    assert cents(Decimal("0.0049")) == Decimal("0.00")


def test_cents_rounds_negative_half_cents_away_from_zero():
    assert cents(Decimal("-0.005")) == Decimal("-0.01")


def test_format_money_writes_dollars_with_thousands_separators_and_two_decimals():
    assert format_money(Decimal("1800")) == "$1,800.00"
    assert format_money(Decimal("0")) == "$0.00"
    assert format_money(Decimal("7.5")) == "$7.50"
    assert format_money(Decimal("999.999")) == "$1,000.00"
    assert format_money(Decimal("1234567.891")) == "$1,234,567.89"
    assert format_money(Decimal("1000000000")) == "$1,000,000,000.00"


def test_format_money_puts_the_minus_sign_before_the_dollar():
    assert format_money(Decimal("-5")) == "-$5.00"
    assert format_money(Decimal("-1800.5")) == "-$1,800.50"


def test_format_money_rounds_half_a_cent_up():
    assert format_money(Decimal("0.005")) == "$0.01"
    assert format_money(Decimal("-0.005")) == "-$0.01"


def test_format_money_never_shows_minus_zero():
    # -0.004 rounds to -0.00, which is no debt at all.
    assert format_money(Decimal("-0.004")) == "$0.00"


def test_format_percent_drops_needless_zeros():
    assert format_percent(Decimal("0.12")) == "12%"
    assert format_percent(Decimal("0.06")) == "6%"
    assert format_percent(Decimal("0.125")) == "12.5%"
    # 0.10 × 100 = 10.00, which must not come out as 1E+1%.
    assert format_percent(Decimal("0.10")) == "10%"
    assert format_percent(Decimal("1")) == "100%"
    assert format_percent(Decimal("0")) == "0%"


def test_monthly_value_is_seats_times_price_in_exact_decimal():
    # 3 × 0.10 = 0.30 exactly (a float would make it 0.30000000000000004).
    value = monthly_value(3, Decimal("0.10"))
    assert isinstance(value, Decimal)
    assert value == Decimal("0.30")
    # 10 × 15.00 = 150.00
    assert monthly_value(SEATS, PRICE) == Decimal("150.00")


def test_annual_value_is_twelve_months_of_seats_in_exact_decimal():
    # 10 × 15.00 × 12 = 1,800.00
    value = annual_value(SEATS, PRICE)
    assert isinstance(value, Decimal)
    assert value == Decimal("1800.00")
    # 3 × 5.25 × 12 = 15.75 × 12 = 189.00
    assert annual_value(3, Decimal("5.25")) == Decimal("189.00")
    # 1 × 0.10 × 12 = 1.20
    assert annual_value(1, Decimal("0.10")) == Decimal("1.20")


# Dates


def test_add_years_keeps_the_calendar_day():
    assert add_years(date(2024, 1, 15), 1) == date(2025, 1, 15)
    assert add_years(date(2024, 1, 15), 3) == date(2027, 1, 15)


def test_add_years_turns_29_february_into_28_february_in_a_common_year():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    # Four years on is a leap year again.
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 15), 1, date(2024, 2, 15)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year: February has 29 days
        (date(2023, 1, 31), 1, date(2023, 2, 28)),  # common year
        (date(2024, 1, 31), 3, date(2024, 4, 30)),  # April has 30 days
        (date(2024, 12, 15), 1, date(2025, 1, 15)),  # the year wraps
        (date(2024, 11, 30), 3, date(2025, 2, 28)),  # wraps into a short February
        (date(2024, 1, 15), 24, date(2026, 1, 15)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),  # backwards into a short month
        (date(2024, 1, 15), -1, date(2023, 12, 15)),  # backwards across the year
        (date(2024, 5, 20), 0, date(2024, 5, 20)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_last_day_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2024, 1, 15), date(2024, 2, 14), 0),  # one day short of a month
        (date(2024, 1, 15), date(2024, 2, 15), 1),  # same day next month
        (date(2024, 1, 31), date(2024, 2, 28), 0),  # 29 February is the month's end in 2024
        (date(2024, 1, 31), date(2024, 2, 29), 1),  # the last day of a shorter month counts
        (date(2023, 1, 31), date(2023, 2, 28), 1),  # 28 February ends the month in 2023
        (date(2024, 1, 31), date(2024, 3, 30), 1),  # March has a 31st: not two months yet
        (date(2024, 1, 31), date(2024, 3, 31), 2),
        (date(2024, 2, 29), date(2024, 3, 28), 0),
        (date(2024, 2, 29), date(2025, 2, 28), 12),  # the first anniversary of a leap day
        (date(2023, 12, 20), date(2024, 1, 19), 0),  # across the new year, a day short
        (date(2023, 12, 20), date(2025, 12, 20), 24),
        (date(2024, 5, 1), date(2024, 5, 1), 0),  # same day
        (date(2024, 5, 1), date(2024, 3, 1), 0),  # end before start
    ],
)
def test_whole_months_between_counts_completed_months_only(start, end, expected):
    assert whole_months_between(start, end) == expected


def test_days_until_counts_forwards_and_backwards():
    assert days_until(date(2024, 6, 20), date(2024, 6, 20)) == 0
    assert days_until(date(2024, 6, 21), date(2024, 6, 20)) == 1
    # 28 Feb → 29 Feb → 1 Mar in the leap year 2024; one day less in 2023.
    assert days_until(date(2024, 3, 1), date(2024, 2, 28)) == 2
    assert days_until(date(2023, 3, 1), date(2023, 2, 28)) == 1
    assert days_until(date(2024, 6, 17), date(2024, 6, 20)) == -3
    # A whole leap year: 366 days.
    assert days_until(date(2025, 1, 1), date(2024, 1, 1)) == 366


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


# Matching


def test_fold_ignores_letter_case_and_extra_spaces():
    assert fold("  Contoso   LTD \t") == "contoso ltd"
    assert fold("Straße") == "strasse"
    assert fold("") == ""


def test_clean_query_drops_invisible_and_control_characters():
    # NUL and a zero-width space inside a word vanish; spaces collapse.
    assert clean_query("con\x00toso\u200b   Ltd ") == "contoso Ltd"
    assert clean_query("\x00\u200b") == ""


def test_clean_query_keeps_tabs_and_line_breaks_as_spaces_between_words():
    # A tab or a line break between two words separates them like a space would.
    assert clean_query("Fabrikam\tDental") == "Fabrikam Dental"
    assert clean_query("Fabrikam\nDental") == "Fabrikam Dental"
    assert clean_query("Fabrikam\u00a0Dental") == "Fabrikam Dental"


def test_like_pattern_finds_text_anywhere():
    assert like_pattern("contoso") == "%contoso%"


def test_like_pattern_takes_percent_underscore_and_backslash_literally():
    # Each wildcard gets one backslash before it; a backslash itself is doubled.
    assert like_pattern("50%") == "%50\\%%"
    assert like_pattern("a_b") == "%a\\_b%"
    assert like_pattern("a\\b") == "%a\\\\b%"
    # The backslash added before % must not be doubled again.
    assert like_pattern("\\%_") == "%\\\\\\%\\_%"


CANDIDATES = [  # as stored: names folded
    (11, "contoso ltd", "contoso.onmicrosoft.com"),
    (12, "fabrikam dental", "fabrikam.onmicrosoft.com"),
    (13, "northwind traders", "northwindtraders.com"),
    (14, "adventure works", "adventure-works.com"),
    (15, "contoso pharmaceuticals", "contosopharma.onmicrosoft.com"),
    (16, "tailspin toys", "tailspintoys.com"),
    (17, "wide world importers", "wideworldimporters.com"),
]


def test_suggest_finds_a_customer_despite_a_typo_in_the_name():
    assert suggest("cntoso", CANDIDATES, limit=5)[0] == 11


def test_suggest_finds_a_customer_by_a_mistyped_domain():
    assert suggest("fabrkam.onmicrosoft.com", CANDIDATES, limit=5)[0] == 12
    assert suggest("tailspintoy.com", CANDIDATES, limit=5) == [16]


def test_suggest_ignores_letter_case():
    assert suggest("NORTHWND TRADERS", CANDIDATES, limit=5) == [13]


def test_suggest_finds_nothing_for_unrelated_text():
    assert suggest("xyzzy qwerty", CANDIDATES, limit=5) == []
    assert suggest("1234567", CANDIDATES, limit=5) == []


def test_suggest_returns_the_best_match_first():
    # "contso ltd" is one letter off "Contoso Ltd" but far from "Contoso Pharmaceuticals".
    assert suggest("contso ltd", CANDIDATES, limit=5)[0] == 11
    # A domain typo puts its own customer ahead of the other onmicrosoft.com tenants.
    found = suggest("contosopharma.onmicrosft.com", CANDIDATES, limit=5)
    assert found[0] == 15
    assert found.index(15) < found.index(11)


def test_suggest_respects_the_limit():
    assert len(suggest("cntoso", CANDIDATES, limit=5)) > 1
    assert suggest("cntoso", CANDIDATES, limit=1) == [11]


def test_suggest_returns_each_customer_once_even_when_name_and_domain_both_match():
    found = suggest("contoso", CANDIDATES, limit=5)
    assert len(found) == len(set(found))
    assert set(found) >= {11, 15}


def test_suggest_of_no_candidates_is_nothing():
    assert suggest("contoso", [], limit=5) == []


def test_a_cancelled_subscription_stops_earning_at_the_end_of_its_term():
    # 10 seats × $15.00 = $150.00 a month; months 15 Jan 2024 → 15 Jan 2025 are 12 at 12% ($18.00
    # each) = $216.00; it was cancelled and its term ended on 15 Jan 2025, so nothing after.
    result = commission_for(
        seats=10, unit_price=Decimal("15.00"), start_date=date(2024, 1, 15), status=CANCELLED,
        on=date(2025, 11, 20), renewal_date=date(2025, 1, 15),
    )  # fmt: skip
    assert result.earned_to_date == Decimal("216.00")
    assert result.expected_next_12_months == Decimal("0.00")
