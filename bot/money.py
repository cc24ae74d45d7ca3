"""Money: Decimal amounts rounded half up to cents, and how they are written."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MONTHS_IN_YEAR = 12


def cents(amount: Decimal) -> Decimal:
    """Rounds money to cents, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """Formats money as `$1,800.00` (and `-$5.00`)."""
    rounded = cents(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.2f}"


def format_percent(rate: Decimal) -> str:
    """Formats a rate such as 0.12 as `12%` (and 0.125 as `12.5%`)."""
    percent = (rate * 100).normalize()
    return f"{percent:f}%"


def monthly_value(seats: int, unit_price: Decimal) -> Decimal:
    """Returns what the seats cost a month."""
    return cents(seats * unit_price)


def annual_value(seats: int, unit_price: Decimal) -> Decimal:
    """Returns what the seats cost a year."""
    return cents(seats * unit_price * MONTHS_IN_YEAR)
