"""Money: cents rounded half up, and how amounts and rates are written."""

from __future__ import annotations

from decimal import Decimal

from bot.money import annual_value, cents, format_money, format_percent, monthly_value

# 10 seats of BPOS-S at the list price: 10 × $15.00 = $150.00 a month, × 12 = $1,800.00 a year.
SEATS = 10
PRICE = Decimal("15.00")


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
