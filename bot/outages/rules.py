"""Outage rules: which plans an incident touches, how long it lasted, monthly availability and
the service credits it earns customers."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.catalogue import Catalogue, Plan
from bot.money import cents
from bot.zones import zone
from storage.models import Incident

SLA_TARGET = Decimal("0.999")
# (availability below, share of the service's monthly fee credited), strictest first.
CREDIT_STEPS = (
    (Decimal("0.95"), Decimal("1.00")),
    (Decimal("0.99"), Decimal("0.50")),
    (SLA_TARGET, Decimal("0.25")),
)


def plans_with(service: str, catalogue: Catalogue) -> list[str]:
    """The codes of the plans an issue filed under a service name touches (Graph's names, the
    catalogue's own, or Microsoft 365 suite for every plan)."""
    return catalogue.plans_touched_by(service)


def regions_of(incident: Incident) -> list[str]:
    """The regions an incident touches; none means every region."""
    return json.loads(incident.regions) if incident.regions else []


def service_share(plan: Plan, service: str, catalogue: Catalogue) -> Decimal:
    """The part of a plan's fee that pays for the services an issue touches (all of it for a
    Microsoft 365 suite issue); each service's part is the suite's price split in the proportion of
    the services' own plans' list prices (equal parts when one has none)."""
    touched = catalogue.services_named(plan, service)
    if len(touched) == len(plan.services):
        return Decimal(1) if touched else Decimal(0)
    alone = {}
    for other in catalogue.plans.values():
        if len(other.services) == 1 and other.services[0] in plan.services:
            alone.setdefault(other.services[0], other.list_price)
    if set(alone) != set(plan.services) or not sum(alone.values()):
        return Decimal(len(touched)) / len(plan.services)
    return sum(alone[one] for one in touched) / sum(alone.values())


def duration_words(start: datetime, end: datetime) -> str:
    """Says how long something lasted: `2 h 05 min`, `45 min`, `3 d 4 h`, and `40 s` under a
    minute. Minutes are rounded to the nearest (half up): 12:04:00 to 12:05:00 is `1 min`, and
    twenty seconds is `20 s`, not `0 min`."""
    seconds = max(int((end - start).total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = (seconds + 30) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def customer_minutes(customer_seconds: int) -> int:
    """Customer-seconds as customer-minutes, rounded half up once at the end (rounding each
    outage down first made 336 customers × 40 s come to 0)."""
    return (max(customer_seconds, 0) + 30) // 60


def month_of(moment: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """The calendar month around a moment in a time zone, as UTC start and end."""
    local = moment.astimezone(zone(time_zone))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days = calendar.monthrange(start.year, start.month)[1]
    end = (start + timedelta(days=days + 1)).replace(day=1)
    # Re-attach the zone so a DST change inside the month moves the end's offset correctly.
    end = end.replace(tzinfo=zone(time_zone))
    return start.astimezone(zone("UTC")), end.astimezone(zone("UTC"))


def downtime(
    intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> timedelta:
    """Adds up the time within [start, end) covered by any interval, overlaps counted once."""
    clipped = sorted(
        (max(a, start), min(b, end)) for a, b in intervals if min(b, end) > max(a, start)
    )
    total = timedelta(0)
    current_start = current_end = None
    for a, b in clipped:
        if current_end is None or a > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = a, b
        else:
            current_end = max(current_end, b)
    if current_end is not None:
        total += current_end - current_start
    return total


def availability(down: timedelta, start: datetime, end: datetime) -> Decimal:
    """The share of a period the service was up."""
    period = Decimal(int((end - start).total_seconds()))
    return (period - Decimal(int(down.total_seconds()))) / period


def credit_rate(available: Decimal) -> Decimal:
    """The service credit for a month's availability: 25% below 99.9%, 50% below 99%, 100% below
    95% of the service's monthly fee."""
    for below, rate in CREDIT_STEPS:
        if available < below:
            return rate
    return Decimal(0)


@dataclass(frozen=True)
class Credit:
    available: Decimal  # the month's availability, 0..1
    rate: Decimal  # share of the fee credited
    fee: Decimal  # the service's monthly fee for the customer
    amount: Decimal


def credit_for(
    *, intervals: list[tuple[datetime, datetime]], month: tuple[datetime, datetime], fee: Decimal
) -> Credit:
    """Works out a customer's credit for one service and month."""
    start, end = month
    available = availability(downtime(intervals, start, end), start, end)
    rate = credit_rate(available)
    return Credit(available, rate, cents(fee), cents(fee * rate))


def format_availability(available: Decimal) -> str:
    """Writes availability as a percentage with three decimals, rounded down (99.9% must not
    be shown for 99.8996%)."""
    percent = (available * 100).quantize(Decimal("0.001"), rounding="ROUND_FLOOR")
    return f"{percent}%"
