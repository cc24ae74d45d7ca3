"""Staff changes to orders from /order: the recent list, cancelling an order and sending a new
link for it. Each change is one conditional UPDATE, so two people acting at once change it once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.orders.rules import OrderState, effective_state, expiry, new_token, staff_can_change
from storage import customers
from storage import orders as order_rows
from storage.models import Customer, Order, Partner

RECENT_DAYS = 30
MAX_LISTED = 25


async def recent_orders(
    session: AsyncSession, *, partner: Partner, now: datetime
) -> list[tuple[Order, Customer]]:
    """The partner's pending orders and those of the last 30 days, newest first."""
    since = now - timedelta(days=RECENT_DAYS)
    return await order_rows.recent(
        session=session, partner_id=partner.id, since=since, limit=MAX_LISTED
    )


@dataclass(frozen=True)
class StaffChange:
    """What cancel or resend came to."""

    order: Order | None  # None: no such order of this partner
    customer: Customer | None = None
    changed: bool = False
    state: OrderState | None = None
    token: str = ""  # the new link's token, after a resend


async def changeable(
    session: AsyncSession, *, partner: Partner, order_id: int, now: datetime
) -> tuple[Order, Customer | None] | StaffChange:
    """Finds a partner's order that staff may still change, or says why they may not (ending
    the read, so the change that follows starts its own transaction)."""
    order = await order_rows.get(session=session, partner_id=partner.id, order_id=order_id)
    if order is None:
        return StaffChange(None)
    customer = await customers.get(
        session=session, partner_id=partner.id, customer_id=order.customer_id
    )
    state = effective_state(order.state, order.expires_at, now)
    await session.commit()
    if not staff_can_change(order.state, order.expires_at, now):
        return StaffChange(order, customer, changed=False, state=state)
    return order, customer


async def cancel_order(
    session: AsyncSession, *, partner: Partner, order_id: int, by: str, now: datetime
) -> StaffChange:
    """Cancels a pending order of the partner; its link stops working at once."""
    found = await changeable(session, partner=partner, order_id=order_id, now=now)
    if isinstance(found, StaffChange):
        return found
    order, customer = found
    won = await order_rows.decide(
        session=session, order_id=order.id, state=OrderState.CANCELLED, now=now, decided_by=by
    )
    await session.commit()
    if not won:
        await session.refresh(order)
        return StaffChange(order, customer, False, OrderState(order.state))
    await session.refresh(order)
    return StaffChange(order, customer, True, OrderState.CANCELLED)


async def resend_order(
    session: AsyncSession, *, partner: Partner, order_id: int, now: datetime, ttl_days: int
) -> StaffChange:
    """Issues a fresh link for a pending order, with a fresh expiry; the old link stops working."""
    found = await changeable(session, partner=partner, order_id=order_id, now=now)
    if isinstance(found, StaffChange):
        return found
    order, customer = found
    token, stored_hash = new_token()
    won = await order_rows.replace_token(
        session=session,
        order_id=order.id,
        token_hash=stored_hash,
        expires_at=expiry(now, ttl_days),
        now=now,
    )
    await session.commit()
    await session.refresh(order)
    if not won:
        return StaffChange(order, customer, False, OrderState(order.state))
    return StaffChange(order, customer, True, OrderState.PENDING, token=token)
