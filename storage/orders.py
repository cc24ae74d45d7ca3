"""Queries about orders; every change of state is a conditional UPDATE, so it happens once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, Order, Subscription

PENDING = "pending"


async def add(*, session: AsyncSession, order: Order) -> Order:
    """Stores a new order and gives it its id."""
    session.add(order)
    await session.flush()
    return order


async def get_by_token_hash(*, session: AsyncSession, token_hash: str) -> Order | None:
    """Gets the order a link's token hash belongs to."""
    result = await session.exec(select(Order).where(Order.token_hash == token_hash))
    return result.first()


async def get(*, session: AsyncSession, partner_id: int, order_id: int) -> Order | None:
    """Gets one of a partner's orders by id (None for another partner's order)."""
    result = await session.exec(
        select(Order).where(Order.id == order_id, Order.partner_id == partner_id)
    )
    return result.first()


async def recent(
    *, session: AsyncSession, partner_id: int, since: datetime, limit: int
) -> list[tuple[Order, Customer]]:
    """Lists a partner's pending orders and those filed since a time, newest first."""
    result = await session.exec(
        select(Order, Customer)
        .join(Customer, col(Customer.id) == Order.customer_id)
        .where(Order.partner_id == partner_id)
        .where(or_(Order.state == PENDING, col(Order.filed_at) >= since))
        .order_by(col(Order.filed_at).desc(), col(Order.id).desc())
        .limit(limit)
    )
    return list(result.all())


async def decide(
    *, session: AsyncSession, order_id: int, state: str, now: datetime, **audit: str
) -> bool:
    """Moves a pending, unexpired order to a final state; False when it was no longer pending
    (someone else decided first)."""
    result = await session.exec(
        update(Order)
        .where(Order.id == order_id, Order.state == PENDING, col(Order.expires_at) > now)
        .values(state=state, decided_at=now, **audit)
    )
    return result.rowcount == 1


async def replace_token(
    *, session: AsyncSession, order_id: int, token_hash: str, expires_at: datetime, now: datetime
) -> bool:
    """Gives a pending order a new link (the old one stops working) and a new expiry."""
    result = await session.exec(
        update(Order)
        .where(Order.id == order_id, Order.state == PENDING, col(Order.expires_at) > now)
        .values(token_hash=token_hash, expires_at=expires_at, reminded_at=None)
    )
    return result.rowcount == 1


async def expire_due(*, session: AsyncSession, now: datetime) -> list[int]:
    """Marks every pending order past its expiry as expired and returns their ids (only the
    caller that changed a row gets its id, so each expiry is reported once)."""
    result = await session.exec(
        update(Order)
        .where(Order.state == PENDING, col(Order.expires_at) <= now)
        .values(state="expired", decided_at=now)
        .returning(Order.id)
    )
    return [row[0] for row in result.all()]


async def mark_reminders_due(
    *, session: AsyncSession, now: datetime, expiring_by: datetime
) -> list[int]:
    """Marks pending orders whose link expires by a time (so it has been out long enough) and
    that were not reminded about yet, and returns their ids (each once, whichever process
    asks)."""
    result = await session.exec(
        update(Order)
        .where(
            Order.state == PENDING,
            col(Order.reminded_at).is_(None),
            col(Order.expires_at) <= expiring_by,
            col(Order.expires_at) > now,
        )
        .values(reminded_at=now)
        .returning(Order.id)
    )
    return [row[0] for row in result.all()]


async def with_customers(
    *, session: AsyncSession, order_ids: list[int]
) -> list[tuple[Order, Customer]]:
    """Gets orders by id with their customers."""
    if not order_ids:
        return []
    result = await session.exec(
        select(Order, Customer)
        .join(Customer, col(Customer.id) == Order.customer_id)
        .where(col(Order.id).in_(order_ids))
        .order_by(Order.id)
    )
    return list(result.all())


async def subscription_for_plan(
    *, session: AsyncSession, customer_id: int, plan_code: str
) -> Subscription | None:
    """Gets the customer's live subscription to a plan (not cancelled), newest first."""
    result = await session.exec(
        select(Subscription)
        .where(Subscription.customer_id == customer_id, Subscription.plan_code == plan_code)
        .where(Subscription.status != "cancelled")
        .order_by(col(Subscription.start_date).desc(), col(Subscription.id).desc())
    )
    return result.first()


async def subscription_by_key(
    *, session: AsyncSession, customer_id: int, plan_code: str, start_date
) -> Subscription | None:
    """Gets the subscription with this identity (customer, plan, start date), in any status."""
    result = await session.exec(
        select(Subscription).where(
            Subscription.customer_id == customer_id,
            Subscription.plan_code == plan_code,
            Subscription.start_date == start_date,
        )
    )
    return result.first()


async def placements_due(
    *, session: AsyncSession, now: datetime, limit: int
) -> list[tuple[int, int]]:
    """Lists confirmed orders whose placement in Partner Center is due (id, tries so far),
    longest waiting first."""
    result = await session.exec(
        select(Order.id, Order.placement_attempts)
        .where(Order.placement == "pending", col(Order.placement_due_at) <= now)
        .order_by(Order.placement_due_at)
        .limit(limit)
    )
    return list(result.all())


async def claim_placement(
    *, session: AsyncSession, order_id: int, seen_due_at: datetime, next_at: datetime
) -> bool:
    """Claims a due placement by moving its time forward (to when a retry would be due),
    unless another process did it first."""
    result = await session.exec(
        update(Order)
        .where(
            Order.id == order_id,
            Order.placement == "pending",
            col(Order.placement_due_at) <= seen_due_at,
        )
        .values(placement_due_at=next_at, placement_attempts=Order.placement_attempts + 1)
    )
    return result.rowcount == 1
