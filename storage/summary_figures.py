"""The weekly summary's figures, each one SQL aggregate scoped by partner: orders, revenue and its
weekly history, commission, renewals, and the incidents and lost orders behind the at-risk list."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    Date,
    Integer,
    and_,
    bindparam,
    case,
    func,
    or_,
    type_coerce,
)
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Customer,
    Incident,
    IncidentAlert,
    Order,
    Subscription,
    UTCDateTime,
)
from storage.subscriptions import monthly_cents, seat_change_cents

CONFIRMED, DECLINED, EXPIRED, PENDING = "confirmed", "declined", "expired", "pending"


def money(cents: object) -> Decimal:
    return Decimal(int(cents or 0)) / 100


@dataclass(frozen=True)
class OrderFigures:
    filed: int
    confirmed: int
    declined: int
    expired: int
    pending_at_end: int
    seats_added: int
    seats_removed: int


@functools.cache
def order_figures_statement():
    """Built once: building this statement costs more than the database takes to run it."""
    start, end = bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime())
    decided_in_week = and_(col(Order.decided_at) >= start, col(Order.decided_at) < end)
    confirmed = and_(Order.state == CONFIRMED, decided_in_week)
    change = Order.seats - func.coalesce(Order.previous_seats, 0)

    def count_if(condition) -> object:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return select(
        count_if(and_(col(Order.filed_at) >= start, col(Order.filed_at) < end)),
        count_if(confirmed),
        count_if(and_(Order.state == DECLINED, decided_in_week)),
        count_if(and_(Order.state == EXPIRED, decided_in_week)),
        count_if(
            and_(
                col(Order.filed_at) < end,
                or_(Order.state == PENDING, col(Order.decided_at) >= end),
            )
        ),
        func.coalesce(func.sum(case((and_(confirmed, change > 0), change), else_=0)), 0),
        func.coalesce(func.sum(case((and_(confirmed, change < 0), -change), else_=0)), 0),
    ).where(Order.partner_id == bindparam("partner_id"))


async def order_figures(
    *, session: AsyncSession, partner_id: int, start: datetime, end: datetime
) -> OrderFigures:
    """Counts the week's orders by what happened to them, and the seats confirmed orders added
    or removed; one query."""
    row = (
        await session.exec(
            order_figures_statement(),
            params={"partner_id": partner_id, "start": start, "end": end},
        )
    ).one()
    return OrderFigures(*(int(value) for value in row))


async def confirmation_delays(
    *, session: AsyncSession, partner_id: int, start: datetime, end: datetime
) -> list[timedelta]:
    """How long each order confirmed in the week waited (for the median)."""
    result = await session.exec(
        select(Order.filed_at, Order.decided_at)
        .where(Order.partner_id == partner_id, Order.state == CONFIRMED)
        .where(col(Order.decided_at) >= start, col(Order.decided_at) < end)
    )
    return [decided - filed for filed, decided in result.all()]


def live_on(day: date):
    """Subscriptions that were billing on a day: started by then, and active, or cancelled but
    still in their paid term (suspended and trial subscriptions do not bill)."""
    return and_(
        col(Subscription.start_date) <= day,
        or_(
            Subscription.status == "active",
            and_(Subscription.status == "cancelled", col(Subscription.renewal_date) > day),
        ),
    )


@functools.cache
def revenue_statements():
    """Today's live subscriptions' value, and the seat changes confirmed since a moment; built
    once."""
    value = monthly_cents()
    current = select(func.coalesce(func.sum(value), 0)).where(
        Subscription.partner_id == bindparam("partner_id"),
        live_on(bindparam("day", type_=Date())),
    )
    changed = seat_change_cents()
    later = (
        select(func.coalesce(func.sum(changed), 0))
        .where(Order.partner_id == bindparam("partner_id"), Order.state == CONFIRMED)
        .where(
            col(Order.previous_seats).is_not(None),
            col(Order.decided_at) >= bindparam("moment", type_=UTCDateTime()),
        )
    )
    return current, later


async def monthly_revenue_at(
    *, session: AsyncSession, partner_id: int, moment: datetime, day: date
) -> Decimal:
    """The monthly recurring revenue at a moment: today's subscriptions that were live then,
    with the seat changes confirmed since taken back out."""
    current, later = revenue_statements()
    now_value = (await session.exec(current, params={"partner_id": partner_id, "day": day})).one()
    taken_back = (
        await session.exec(later, params={"partner_id": partner_id, "moment": moment})
    ).one()
    return money(int(now_value) - int(taken_back))


@dataclass(frozen=True)
class WeekPoint:
    """One week of the chart: revenue as it stood at `moment` (its subscriptions live on `day`),
    and the orders confirmed in [start, end)."""

    moment: datetime
    day: date
    start: datetime
    end: datetime


@functools.cache
def history_statements(weeks: int):
    """The chart's two queries for a number of weeks, with the weeks as parameters; built once."""
    value = monthly_cents()
    current = select(
        *(
            func.coalesce(
                func.sum(case((live_on(bindparam(f"day_{i}", type_=Date())), value), else_=0)), 0
            )
            for i in range(weeks)
        )
    ).where(Subscription.partner_id == bindparam("partner_id"))
    changed = seat_change_cents()
    with_change = and_(Order.state == CONFIRMED, col(Order.previous_seats).is_not(None))
    confirmed = Order.state == CONFIRMED

    def since(i: int):
        return col(Order.decided_at) >= bindparam(f"moment_{i}", type_=UTCDateTime())

    def within(i: int):
        return and_(
            col(Order.decided_at) >= bindparam(f"start_{i}", type_=UTCDateTime()),
            col(Order.decided_at) < bindparam(f"end_{i}", type_=UTCDateTime()),
        )

    later = [
        func.coalesce(func.sum(case((and_(with_change, since(i)), changed), else_=0)), 0)
        for i in range(weeks)
    ]
    counts = [
        func.coalesce(func.sum(case((and_(confirmed, within(i)), 1), else_=0)), 0)
        for i in range(weeks)
    ]
    orders = select(*later, *counts).where(Order.partner_id == bindparam("partner_id"))
    return current, orders


async def weekly_history(
    *, session: AsyncSession, partner_id: int, weeks: list[WeekPoint]
) -> list[tuple[Decimal, int]]:
    """Each week's monthly recurring revenue (as `monthly_revenue_at` works it out) and orders
    confirmed: two queries for all the weeks, each one pass over the partner's rows."""
    if not weeks:
        return []
    current_statement, orders_statement = history_statements(len(weeks))
    day_params: dict = {"partner_id": partner_id}
    order_params: dict = {"partner_id": partner_id}
    for i, week in enumerate(weeks):
        day_params[f"day_{i}"] = week.day
        order_params.update(
            {f"moment_{i}": week.moment, f"start_{i}": week.start, f"end_{i}": week.end}
        )
    current = (await session.exec(current_statement, params=day_params)).one()
    orders = (await session.exec(orders_statement, params=order_params)).one()
    return [
        (money(int(current[i]) - int(orders[i])), int(orders[len(weeks) + i]))
        for i in range(len(weeks))
    ]


def days_between(dialect: str, earlier, later) -> object:
    """Whole days from one date to another, in the database's own date arithmetic."""
    if dialect == "postgresql":
        return type_coerce(later - earlier, Integer)
    return func.cast(func.julianday(later) - func.julianday(earlier), Integer)


@dataclass(frozen=True)
class CommissionFigures:
    earned_this_week: Decimal
    expected_next_12_months: Decimal


@functools.cache
def commission_statements(dialect: str):
    """The week's and the next year's commission sums, for a database's date arithmetic; built
    once."""
    partner_id = bindparam("partner_id")
    week_start = bindparam("week_start", type_=Date())
    week_end = bindparam("week_end", type_=Date())
    annual_cents = monthly_cents() * 12
    age_at_start = days_between(dialect, Subscription.start_date, week_start)
    age_at_end = days_between(dialect, Subscription.start_date, week_end)

    def clamp(value, low, high):
        return case((value < low, low), (value > high, high), else_=value)

    # SQL adds up whole numbers only (cents × days, exact on every database); the rates are
    # applied to the sums in Decimal.
    # This week: the days served in it, split by the first-year boundary.
    served_from = clamp(age_at_start, 0, 10**6)
    served_to = clamp(age_at_end, 0, 10**6)
    first_days = clamp(served_to, 0, 365) - clamp(served_from, 0, 365)
    later_days = (served_to - served_from) - first_days
    # The next 365 days from the week's end: the first-year days left, then later days.
    first_left = clamp(365 - age_at_end, 0, 365)

    def day_sums(*days) -> list:
        return [func.coalesce(func.sum(annual_cents * d), 0) for d in days]

    of_record = and_(
        Subscription.partner_id == partner_id,
        Subscription.partner_of_record_id == partner_id,
    )
    week = select(*day_sums(first_days, later_days)).where(of_record, live_on(week_end))
    year = select(*day_sums(first_left, 365 - first_left)).where(
        of_record, Subscription.status == "active", col(Subscription.start_date) <= week_end
    )
    return week, year


async def commission_figures(
    *,
    session: AsyncSession,
    partner_id: int,
    week_start: date,
    week_end: date,
    rates: tuple[Decimal, Decimal],
) -> CommissionFigures:
    """Commission of the subscriptions this partner is partner of record for, accrued by the
    day: each day of service earns its year's rate (first year, later years) of the day's share
    of the annual value. Figures for this week and for the 365 days after it."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    week, year = commission_statements(dialect)
    week_first, week_later = (
        await session.exec(
            week,
            params={"partner_id": partner_id, "week_start": week_start, "week_end": week_end},
        )
    ).one()
    year_first, year_later = (
        await session.exec(year, params={"partner_id": partner_id, "week_end": week_end})
    ).one()
    first, later = rates

    def accrued(first_cent_days: int, later_cent_days: int) -> Decimal:
        cents = (first * int(first_cent_days) + later * int(later_cent_days)) / 365
        return (cents / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    return CommissionFigures(accrued(week_first, week_later), accrued(year_first, year_later))


@dataclass(frozen=True)
class Renewal:
    customer: str
    plan_code: str
    seats: int
    annual: Decimal


async def renewals_due(
    *, session: AsyncSession, partner_id: int, start: date, end: date, limit: int
) -> tuple[list[Renewal], int]:
    """Active subscriptions renewing between two days, largest annual value first, and how many
    there are in all."""
    annual = monthly_cents() * 12
    scope = and_(
        Subscription.partner_id == partner_id,
        Subscription.status == "active",
        col(Subscription.renewal_date) >= start,
        col(Subscription.renewal_date) < end,
    )
    rows = (
        await session.exec(
            select(Customer.name, Subscription.plan_code, Subscription.seats, annual)
            .join(Customer, col(Customer.id) == Subscription.customer_id)
            .where(scope)
            .order_by(annual.desc(), Customer.name)
            .limit(limit)
        )
    ).all()
    total = (await session.exec(select(func.count()).select_from(Subscription).where(scope))).one()
    return [Renewal(name, plan, seats, money(value)) for name, plan, seats, value in rows], int(
        total
    )


async def incidents_hitting(
    *, session: AsyncSession, partner_id: int, start: datetime, end: datetime
) -> list[Incident]:
    """The incidents this partner was alerted about that overlapped a period."""
    alerted = select(IncidentAlert.incident_id).where(IncidentAlert.partner_id == partner_id)
    result = await session.exec(
        select(Incident)
        .where(col(Incident.id).in_(alerted), Incident.classification == "incident")
        .where(col(Incident.start_at) < end)
        .where(or_(col(Incident.end_at).is_(None), col(Incident.end_at) > start))
        .order_by(Incident.start_at)
    )
    return list(result.all())


async def lost_order_customers(
    *, session: AsyncSession, partner_id: int, start: datetime, end: datetime
) -> list[str]:
    """Customers whose order expired or was declined in a period."""
    result = await session.exec(
        select(Customer.name)
        .distinct()
        .join(Order, col(Order.customer_id) == Customer.id)
        .where(Order.partner_id == partner_id, col(Order.state).in_([DECLINED, EXPIRED]))
        .where(col(Order.decided_at) >= start, col(Order.decided_at) < end)
        .order_by(Customer.name)
    )
    return list(result.all())
