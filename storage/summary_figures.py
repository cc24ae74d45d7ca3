"""The weekly summary's figures, each one SQL aggregate scoped by partner: orders, renewals, and
the incidents and lost orders behind the at-risk list (its money is in summary_money.py)."""

from __future__ import annotations

import functools
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

    return select(
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
    ).where(Order.partner_id == bindparam("partner_id"))


async def order_figures(
    *, session: AsyncSession, partner_id: int, start: datetime, end: datetime
) -> OrderFigures:
    """Counts the orders filed in the week, those confirmed, declined, expired or cancelled in it
    (whenever filed), those still pending at its end, and the seats confirmed orders added or
    removed; one query."""
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
