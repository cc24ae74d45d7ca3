"""Subscription rules: money, commission and renewal arithmetic, and how a customer is looked up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.money import MONTHS_IN_YEAR, annual_value, cents, format_percent
from bot.subscriptions.seat_history import SeatPeriod, first_year_value, month_values
from bot.zones import add_months, add_years, whole_months_between

ACTIVE, SUSPENDED, CANCELLED, TRIAL = "active", "suspended", "cancelled", "trial"
STATUSES = (ACTIVE, SUSPENDED, CANCELLED, TRIAL)
BILLING_CYCLES = ("monthly", "annual")
BILLING_OWNERS = ("vendor", "partner")


@dataclass(frozen=True)
class CommissionRule:
    """The partner of record earns first_year_rate of the first year, then later_rate."""

    first_year_rate: Decimal = Decimal("0.12")
    later_rate: Decimal = Decimal("0.06")

    def describe(self) -> str:
        """Says the rule in one sentence."""
        return (
            f"The partner of record earns {format_percent(self.first_year_rate)} of the first "
            f"year's value, then {format_percent(self.later_rate)} of the annual fee after the "
            "first year."
        )


@dataclass(frozen=True)
class Commission:
    """What a subscription earns its partner of record, on a given day."""

    in_first_year: bool
    rate: Decimal  # the rate that applies today
    base: Decimal  # the first year's value, or the annual fee after it
    amount: Decimal  # rate × base: this year's commission
    first_year_ends: date
    earned_to_date: Decimal  # accrued month by month since the start
    expected_next_12_months: Decimal  # zero unless the subscription is active


def earned_by(
    day: date, *, periods: Sequence[SeatPeriod], start_date: date, rule: CommissionRule
) -> Decimal:
    """Adds up the commission of the whole months of service from the start to a day: months 1-12
    earn the first-year rate of the month's value, later months the later rate. Each month is
    valued as it was (seat_history): a change counts from the day it took effect."""
    months = whole_months_between(start_date, day)
    if len(periods) == 1:
        first_year_months = min(months, MONTHS_IN_YEAR)
        later_months = months - first_year_months
        rates = rule.first_year_rate * first_year_months + rule.later_rate * later_months
        return periods[0].monthly * rates
    values = month_values(periods, start_date, months)
    first, later = values[:MONTHS_IN_YEAR], values[MONTHS_IN_YEAR:]
    return rule.first_year_rate * sum(first, Decimal(0)) + rule.later_rate * sum(later, Decimal(0))


def commission_for(
    *,
    seats: int,
    unit_price: Decimal,
    start_date: date,
    status: str,
    on: date,
    rule: CommissionRule = CommissionRule(),
    renewal_date: date | None = None,
    periods: Sequence[SeatPeriod] = (),
) -> Commission:
    """Works out the commission of one subscription: each month of service earns the rate of its
    year (first-year rate for months 1-12, the later rate after), on the month's value as it was
    (`periods`, from seat_history.periods_of; none: today's seats since the start). A cancelled
    subscription served until its renewal date (the end of its term) and earned nothing after."""
    periods = periods or (SeatPeriod(start_date, seats, unit_price),)
    first_year_ends = add_years(start_date, 1)
    in_first_year = on < first_year_ends
    rate = rule.first_year_rate if in_first_year else rule.later_rate
    # The first year's value as it was month by month; after it, today's annual fee.
    base = (
        cents(first_year_value(periods, start_date))
        if in_first_year or status == TRIAL
        else annual_value(seats, unit_price)
    )

    served_until = on
    if status == CANCELLED and renewal_date is not None:
        served_until = min(on, renewal_date)
    earned = earned_by(served_until, periods=periods, start_date=start_date, rule=rule)
    expected = Decimal(0)
    if status == ACTIVE:
        # What the months of service completed over the next twelve months will earn.
        later = earned_by(add_months(on, MONTHS_IN_YEAR), periods=periods,
                          start_date=start_date, rule=rule)  # fmt: skip
        expected = later - earned
    if status == TRIAL:
        earned = Decimal(0)

    return Commission(
        in_first_year=in_first_year,
        rate=rate,
        base=base,
        amount=cents(rate * base),
        first_year_ends=first_year_ends,
        earned_to_date=cents(earned),
        expected_next_12_months=cents(expected),
    )


# What a partner keeps for its managers (Partner.money_for_managers_only).
FOR_EVERYONE, COMMISSION_ONLY, COMMISSION_AND_PRICES = "none", "commission", "all"
MONEY_SETTINGS = (FOR_EVERYONE, COMMISSION_ONLY, COMMISSION_AND_PRICES)


@dataclass(frozen=True)
class MoneyShown:
    """What money a reader of /subscription sees."""

    commission: bool = True
    prices: bool = True  # unit prices, monthly and annual values


EVERYTHING = MoneyShown()


def money_shown(setting: str, *, is_manager: bool) -> MoneyShown:
    """A partner decides whether commission (and prices) are for its managers only; an unknown
    setting keeps the most back."""
    if is_manager or setting == FOR_EVERYONE:
        return EVERYTHING
    return MoneyShown(commission=False, prices=setting == COMMISSION_ONLY)
