"""A subscription's seats and price over time: from its start, and from the day each change took
effect. A month keeps the value it had; a month in which the seats changed is valued by the day."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from bot.money import MONTHS_IN_YEAR
from bot.zones import add_months


@dataclass(frozen=True)
class SeatPeriod:
    """Seats at a price, from a day on (until the next period's day)."""

    starts: date
    seats: int
    unit_price: Decimal

    @property
    def monthly(self) -> Decimal:
        return self.seats * self.unit_price


class Change(Protocol):
    """A recorded change (storage.models.SeatChange has these)."""

    effective_on: date
    seats_before: int
    unit_price_before: Decimal
    seats_after: int
    unit_price_after: Decimal


def periods_of(
    *, start_date: date, seats: int, unit_price: Decimal, changes: Sequence[Change] = ()
) -> tuple[SeatPeriod, ...]:
    """The periods of a subscription, from its current seats and price and its changes (oldest
    first): before the first change its seats were that change's `before`."""
    ordered = sorted(changes, key=lambda c: c.effective_on)
    if not ordered:
        return (SeatPeriod(start_date, seats, unit_price),)
    periods = [SeatPeriod(start_date, ordered[0].seats_before, ordered[0].unit_price_before)]
    periods += [SeatPeriod(c.effective_on, c.seats_after, c.unit_price_after) for c in ordered]
    # The subscription's own columns are the truth about today.
    last = periods[-1]
    periods[-1] = SeatPeriod(last.starts, seats, unit_price)
    return tuple(periods)


def value_between(periods: Sequence[SeatPeriod], begins: date, ends: date) -> Decimal:
    """The value of one month of service [begins, ends): each period's monthly value for its
    share of the month's days (not rounded)."""
    days = (ends - begins).days
    if days <= 0:
        return Decimal(0)
    if len(periods) == 1:
        return periods[0].monthly
    total = Decimal(0)
    for period, following in zip(periods, [*periods[1:], None], strict=True):
        start = max(period.starts, begins)
        end = min(following.starts, ends) if following else ends
        if end > start:
            total += period.monthly * (end - start).days / days
    return total


def month_values(periods: Sequence[SeatPeriod], start_date: date, months: int) -> list[Decimal]:
    """The value of each of the first `months` months of service (month 1 first)."""
    return [
        value_between(periods, add_months(start_date, i), add_months(start_date, i + 1))
        for i in range(months)
    ]


def first_year_value(periods: Sequence[SeatPeriod], start_date: date) -> Decimal:
    """The first year's value: its twelve months, each as it was (or, ahead, as it stands)."""
    return sum(month_values(periods, start_date, MONTHS_IN_YEAR), Decimal(0))
