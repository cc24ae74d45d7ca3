"""The weekly summary's money, each figure SQL aggregates grouped by partner, for any number of
partners at once: monthly recurring revenue on a day and its weekly history, and commission
accrued by the day. Every figure values
a day with the seats and price it had: today's values with the seat changes effective after that
day taken back out (storage.seat_changes)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, Integer, and_, bindparam, case, func, or_, select, type_coerce
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.columns import UTCDateTime
from storage.models import Order, SeatChange, Subscription
from storage.seat_changes import change_cents
from storage.subscriptions import monthly_cents
from storage.summary_figures import partners_in

CONFIRMED = "confirmed"


def money(cents: object) -> Decimal:
    return Decimal(int(cents or 0)) / 100


def live_on(day):
    """Subscriptions that were billing on a day: started by then, and active, or cancelled but
    still in their paid term (suspended and trial subscriptions do not bill)."""
    return and_(
        col(Subscription.start_date) <= day,
        or_(
            Subscription.status == "active",
            and_(Subscription.status == "cancelled", col(Subscription.renewal_date) > day),
        ),
    )


def changes_of_partners(*columns):
    """Figures over seat changes joined to their subscriptions, per partner of the bound
    `partner_ids` (the partner id first)."""
    return (
        select(SeatChange.partner_id, *columns)
        .select_from(SeatChange)
        .join(Subscription, col(Subscription.id) == SeatChange.subscription_id)
        .where(partners_in(SeatChange.partner_id))
        .group_by(SeatChange.partner_id)
    )


def of_partners(*columns):
    """Figures over subscriptions, per partner of the bound `partner_ids` (the id first)."""
    return (
        select(Subscription.partner_id, *columns)
        .where(partners_in(Subscription.partner_id))
        .group_by(Subscription.partner_id)
    )


async def sums_by_partner(
    session: AsyncSession, statement, params: dict, partner_ids: Sequence[int], width: int
) -> dict[int, list[int]]:
    """Runs a grouped statement: each partner's sums, zeros for a partner without rows."""
    rows = await session.exec(statement, params={**params, "partner_ids": list(partner_ids)})
    found = {pid: [int(value) for value in sums] for pid, *sums in rows.all()}
    return {pid: found.get(pid, [0] * width) for pid in partner_ids}


def day_sums(columns) -> list:
    return [func.coalesce(func.sum(column), 0) for column in columns]


@functools.cache
def revenue_statements(days: int):
    """For a number of days: today's value of the subscriptions live on each, and the changes
    after each day of those subscriptions; built once."""
    value, changed = monthly_cents(), change_cents()
    current = of_partners(
        *day_sums(
            case((live_on(bindparam(f"day_{i}", type_=Date())), value), else_=0)
            for i in range(days)
        )
    )

    def later(i: int):
        day = bindparam(f"day_{i}", type_=Date())
        return case((and_(live_on(day), col(SeatChange.effective_on) > day), changed), else_=0)

    taken_back = changes_of_partners(*day_sums(later(i) for i in range(days)))
    return current, taken_back


async def revenue_of(
    *, session: AsyncSession, partner_ids: Sequence[int], days: list[date]
) -> dict[int, list[Decimal]]:
    """Each partner's monthly recurring revenue on each day (see `revenue_on`), by partner id;
    two queries for all the partners and days."""
    if not days:
        return {pid: [] for pid in partner_ids}
    current_statement, later_statement = revenue_statements(len(days))
    params: dict = {f"day_{i}": d for i, d in enumerate(days)}
    current = await sums_by_partner(session, current_statement, params, partner_ids, len(days))
    later = await sums_by_partner(session, later_statement, params, partner_ids, len(days))
    return {
        pid: [money(now - back) for now, back in zip(current[pid], later[pid], strict=True)]
        for pid in partner_ids
    }


async def revenue_on(*, session: AsyncSession, partner_id: int, days: list[date]) -> list[Decimal]:
    """The monthly recurring revenue on each day: the subscriptions live that day, each with the
    seats and price it had then. Two queries for all the days."""
    revenue = await revenue_of(session=session, partner_ids=[partner_id], days=days)
    return revenue[partner_id]


async def monthly_revenue_at(*, session: AsyncSession, partner_id: int, day: date) -> Decimal:
    """The monthly recurring revenue on a day."""
    (revenue,) = await revenue_on(session=session, partner_id=partner_id, days=[day])
    return revenue


@dataclass(frozen=True)
class WeekPoint:
    """One week of the chart: revenue on `day` (its last), orders confirmed in [start, end)."""

    day: date
    start: datetime
    end: datetime


@functools.cache
def confirmed_statement(weeks: int):
    """Orders confirmed in each of a number of weeks; built once."""

    def within(i: int):
        return and_(
            Order.state == CONFIRMED,
            col(Order.decided_at) >= bindparam(f"start_{i}", type_=UTCDateTime()),
            col(Order.decided_at) < bindparam(f"end_{i}", type_=UTCDateTime()),
        )

    counts = day_sums(case((within(i), 1), else_=0) for i in range(weeks))
    return (
        select(Order.partner_id, *counts)
        .where(partners_in(Order.partner_id))
        .group_by(Order.partner_id)
    )


async def weekly_history_of(
    *, session: AsyncSession, partner_ids: Sequence[int], weeks: list[WeekPoint]
) -> dict[int, list[tuple[Decimal, int]]]:
    """Each partner's weekly history (see `weekly_history`), by partner id; three queries."""
    if not weeks:
        return {pid: [] for pid in partner_ids}
    revenue = await revenue_of(
        session=session, partner_ids=partner_ids, days=[week.day for week in weeks]
    )
    params: dict = {}
    for i, week in enumerate(weeks):
        params |= {f"start_{i}": week.start, f"end_{i}": week.end}
    counts = await sums_by_partner(
        session, confirmed_statement(len(weeks)), params, partner_ids, len(weeks)
    )
    return {pid: list(zip(revenue[pid], counts[pid], strict=True)) for pid in partner_ids}


async def weekly_history(
    *, session: AsyncSession, partner_id: int, weeks: list[WeekPoint]
) -> list[tuple[Decimal, int]]:
    """Each week's monthly recurring revenue on its last day and its orders confirmed."""
    history = await weekly_history_of(session=session, partner_ids=[partner_id], weeks=weeks)
    return history[partner_id]


def days_between(dialect: str, earlier, later) -> object:
    """Whole days from one date to another, in the database's own date arithmetic."""
    if dialect == "postgresql":
        return type_coerce(later - earlier, Integer)
    return func.cast(func.julianday(later) - func.julianday(earlier), Integer)


def clamp(value, low, high):
    return case((value < low, low), (value > high, high), else_=value)


def earlier_of(one, other):
    return case((one < other, one), else_=other)


@dataclass(frozen=True)
class CommissionFigures:
    earned_this_week: Decimal
    expected_next_12_months: Decimal


def first_and_later(served_from, served_to) -> tuple:
    """The days of [served_from, served_to) (days of age, not before 0) in the first year and
    after it."""
    first = clamp(served_to, 0, 365) - clamp(served_from, 0, 365)
    return first, (served_to - served_from) - first


@functools.cache
def commission_statements(dialect: str):
    """The week's and the next year's commission sums in whole cent-days, from today's values and
    from the seat changes to take back out, for a database's date arithmetic; built once."""
    week_start = bindparam("week_start", type_=Date())
    week_end = bindparam("week_end", type_=Date())

    def age(day) -> object:
        return days_between(dialect, Subscription.start_date, day)

    # SQL adds up whole numbers only (cents × days, exact on every database); the rates are
    # applied to the sums in Decimal. A cancelled subscription serves until its renewal date.
    served_until = case(
        (
            and_(Subscription.status == "cancelled", col(Subscription.renewal_date) < week_end),
            Subscription.renewal_date,
        ),
        else_=week_end,
    )
    served_from = clamp(age(week_start), 0, 10**6)
    served_to = clamp(age(served_until), 0, 10**6)
    # A change's old value held until the day before it took effect.
    before_change = clamp(age(earlier_of(SeatChange.effective_on, served_until)), 0, 10**6)
    before_change = case((before_change < served_from, served_from), else_=before_change)
    served_in_week = and_(
        col(Subscription.start_date) < week_end,
        or_(
            Subscription.status == "active",
            and_(Subscription.status == "cancelled", col(Subscription.renewal_date) > week_start),
        ),
    )
    of_record = Subscription.partner_of_record_id == Subscription.partner_id
    annual, annual_change = monthly_cents() * 12, change_cents() * 12

    def weighted(value, days) -> list:
        return day_sums(value * d for d in days)

    week = of_partners(*weighted(annual, first_and_later(served_from, served_to))).where(
        of_record, served_in_week
    )
    week_back = changes_of_partners(
        *weighted(annual_change, first_and_later(served_from, before_change))
    ).where(of_record, served_in_week, col(SeatChange.effective_on) > week_start)
    # The next 365 days from the week's end, at the values of the week's last day.
    first_left = clamp(365 - age(week_end), 0, 365)
    projected = and_(
        of_record, Subscription.status == "active", col(Subscription.start_date) <= week_end
    )
    year = of_partners(*weighted(annual, (first_left, 365 - first_left))).where(projected)
    year_back = changes_of_partners(*weighted(annual_change, (first_left, 365 - first_left))).where(
        projected, col(SeatChange.effective_on) >= week_end
    )
    return week, week_back, year, year_back


async def commission_figures_of(
    *,
    session: AsyncSession,
    partner_ids: Sequence[int],
    week_start: date,
    week_end: date,
    rates: tuple[Decimal, Decimal],
) -> dict[int, CommissionFigures]:
    """Each partner's commission figures (see `commission_figures`), by partner id; four
    queries for them all."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    params = {"week_start": week_start, "week_end": week_end}
    sums = [
        await sums_by_partner(session, statement, params, partner_ids, 2)
        for statement in commission_statements(dialect)
    ]
    week, week_back, year, year_back = sums
    first, later = rates

    def accrued(sums: list[int], back: list[int]) -> Decimal:
        first_days, later_days = sums[0] - back[0], sums[1] - back[1]
        cents = (first * first_days + later * later_days) / 365
        return (cents / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    return {
        pid: CommissionFigures(
            accrued(week[pid], week_back[pid]), accrued(year[pid], year_back[pid])
        )
        for pid in partner_ids
    }


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
    of the annual value it had that day. Figures for this week, and for the 365 days after it at
    the values of the week's last day."""
    figures = await commission_figures_of(
        session=session,
        partner_ids=[partner_id],
        week_start=week_start,
        week_end=week_end,
        rates=rates,
    )
    return figures[partner_id]
