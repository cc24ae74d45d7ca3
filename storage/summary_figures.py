"""The weekly summary's figures, each one SQL aggregate grouped by partner, for any number of
partners at once (the scheduled run's) or one: orders, renewals, and the incidents and lost
orders behind the at-risk list (its money is in summary_money.py)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import (
    and_,
    bindparam,
    case,
    func,
    or_,
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
from storage.subscriptions import monthly_cents

CONFIRMED, DECLINED, EXPIRED, PENDING = "confirmed", "declined", "expired", "pending"
CANCELLED = "cancelled"


def money(cents: object) -> Decimal:
    return Decimal(int(cents or 0)) / 100


def partners_in(column):
    """A partner column within a bound, expanding list of partner ids (`partner_ids`)."""
    return col(column).in_(bindparam("partner_ids", expanding=True))


@dataclass(frozen=True)
class OrderFigures:
    filed: int
    confirmed: int
    declined: int
    expired: int
    cancelled: int  # by staff (/order cancel)
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

    return (
        select(
            Order.partner_id,
            count_if(and_(col(Order.filed_at) >= start, col(Order.filed_at) < end)),
            count_if(confirmed),
            count_if(and_(Order.state == DECLINED, decided_in_week)),
            count_if(and_(Order.state == EXPIRED, decided_in_week)),
            count_if(and_(Order.state == CANCELLED, decided_in_week)),
            count_if(
                and_(
                    col(Order.filed_at) < end,
                    or_(Order.state == PENDING, col(Order.decided_at) >= end),
                )
            ),
            func.coalesce(func.sum(case((and_(confirmed, change > 0), change), else_=0)), 0),
            func.coalesce(func.sum(case((and_(confirmed, change < 0), -change), else_=0)), 0),
        )
        .where(partners_in(Order.partner_id))
        .group_by(Order.partner_id)
    )


NO_ORDERS = OrderFigures(0, 0, 0, 0, 0, 0, 0, 0)


async def order_figures_of(
    *, session: AsyncSession, partner_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, OrderFigures]:
    """Each partner's order figures for one week (see `order_figures`), by partner id; one
    query for them all."""
    rows = await session.exec(
        order_figures_statement(),
        params={"partner_ids": list(partner_ids), "start": start, "end": end},
    )
    found = {pid: OrderFigures(*(int(value) for value in row)) for pid, *row in rows.all()}
    return {pid: found.get(pid, NO_ORDERS) for pid in partner_ids}


async def order_figures(
    *, session: AsyncSession, partner_id: int, start: datetime, end: datetime
) -> OrderFigures:
    """Counts the orders filed in the week, those confirmed, declined, expired or cancelled in it
    (whenever filed), those still pending at its end, and the seats confirmed orders added or
    removed; one query."""
    figures = await order_figures_of(
        session=session, partner_ids=[partner_id], start=start, end=end
    )
    return figures[partner_id]


async def confirmation_delays_of(
    *, session: AsyncSession, partner_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[timedelta]]:
    """How long each order confirmed in the week waited (for the median), by partner id."""
    result = await session.exec(
        select(Order.partner_id, Order.filed_at, Order.decided_at)
        .where(partners_in(Order.partner_id), Order.state == CONFIRMED)
        .where(col(Order.decided_at) >= start, col(Order.decided_at) < end),
        params={"partner_ids": list(partner_ids)},
    )
    delays: dict[int, list[timedelta]] = {pid: [] for pid in partner_ids}
    for pid, filed, decided in result.all():
        delays[pid].append(decided - filed)
    return delays


async def confirmation_delays(
    *, session: AsyncSession, partner_id: int, start: datetime, end: datetime
) -> list[timedelta]:
    """How long each order confirmed in the week waited (for the median)."""
    delays = await confirmation_delays_of(
        session=session, partner_ids=[partner_id], start=start, end=end
    )
    return delays[partner_id]


@dataclass(frozen=True)
class Renewal:
    customer: str
    plan_code: str
    seats: int
    annual: Decimal


async def renewals_due_of(
    *, session: AsyncSession, partner_ids: Sequence[int], start: date, end: date, limit: int
) -> dict[int, tuple[list[Renewal], int]]:
    """Each partner's active subscriptions renewing between two days, largest annual value
    first (at most `limit`), and how many there are in all; by partner id, two queries."""
    annual = monthly_cents() * 12
    scope = and_(
        partners_in(Subscription.partner_id),
        Subscription.status == "active",
        col(Subscription.renewal_date) >= start,
        col(Subscription.renewal_date) < end,
    )
    rank = (
        func.row_number()
        .over(partition_by=Subscription.partner_id, order_by=(annual.desc(), Customer.name))
        .label("rank")
    )
    ranked = (
        select(
            Subscription.partner_id.label("partner_id"),
            Customer.name.label("name"),
            Subscription.plan_code.label("plan_code"),
            Subscription.seats.label("seats"),
            annual.label("annual"),
            rank,
        )
        .join(Customer, col(Customer.id) == Subscription.customer_id)
        .where(scope)
        .subquery()
    )
    params = {"partner_ids": list(partner_ids)}
    rows = await session.exec(
        select(
            ranked.c.partner_id, ranked.c.name, ranked.c.plan_code, ranked.c.seats, ranked.c.annual
        )  # fmt: skip
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.partner_id, ranked.c.rank),
        params=params,
    )
    found: dict[int, list[Renewal]] = {pid: [] for pid in partner_ids}
    for pid, name, plan, seats, value in rows.all():
        found[pid].append(Renewal(name, plan, seats, money(value)))
    totals = await session.exec(
        select(Subscription.partner_id, func.count())
        .where(scope)
        .group_by(Subscription.partner_id),
        params=params,
    )
    counted = dict(totals.all())
    return {pid: (found[pid], int(counted.get(pid, 0))) for pid in partner_ids}


async def renewals_due(
    *, session: AsyncSession, partner_id: int, start: date, end: date, limit: int
) -> tuple[list[Renewal], int]:
    """Active subscriptions renewing between two days, largest annual value first, and how many
    there are in all."""
    due = await renewals_due_of(
        session=session, partner_ids=[partner_id], start=start, end=end, limit=limit
    )
    return due[partner_id]


async def incidents_hitting_of(
    *, session: AsyncSession, partner_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Incident]]:
    """The incidents each partner was alerted about that overlapped a period, by partner id."""
    result = await session.exec(
        select(IncidentAlert.partner_id, Incident)
        .join(Incident, col(Incident.id) == IncidentAlert.incident_id)
        .where(partners_in(IncidentAlert.partner_id), Incident.classification == "incident")
        .where(col(Incident.start_at) < end)
        .where(or_(col(Incident.end_at).is_(None), col(Incident.end_at) > start))
        .order_by(Incident.start_at, Incident.id),
        params={"partner_ids": list(partner_ids)},
    )
    hits: dict[int, list[Incident]] = {pid: [] for pid in partner_ids}
    for pid, incident in result.all():
        hits[pid].append(incident)
    return hits


async def incidents_hitting(
    *, session: AsyncSession, partner_id: int, start: datetime, end: datetime
) -> list[Incident]:
    """The incidents this partner was alerted about that overlapped a period."""
    hits = await incidents_hitting_of(
        session=session, partner_ids=[partner_id], start=start, end=end
    )
    return hits[partner_id]


async def lost_order_customers_of(
    *, session: AsyncSession, partner_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[str]]:
    """Customers whose order expired or was declined in a period, by partner id."""
    result = await session.exec(
        select(Order.partner_id, Customer.name)
        .distinct()
        .join(Order, col(Order.customer_id) == Customer.id)
        .where(partners_in(Order.partner_id), col(Order.state).in_([DECLINED, EXPIRED]))
        .where(col(Order.decided_at) >= start, col(Order.decided_at) < end)
        .order_by(Order.partner_id, Customer.name),
        params={"partner_ids": list(partner_ids)},
    )
    lost: dict[int, list[str]] = {pid: [] for pid in partner_ids}
    for pid, name in result.all():
        lost[pid].append(name)
    return lost


async def lost_order_customers(
    *, session: AsyncSession, partner_id: int, start: datetime, end: datetime
) -> list[str]:
    """Customers whose order expired or was declined in a period."""
    lost = await lost_order_customers_of(
        session=session, partner_ids=[partner_id], start=start, end=end
    )
    return lost[partner_id]
