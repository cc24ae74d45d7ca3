"""The scheduler's order sweeps: expiring orders past their expiry and reminding filers of
orders still waiting, each queued for Slack once through the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.orders import messages as order_messages
from bot.orders.rules import reminders_due_if_expiring_by
from bot.outbox.rows import post_message
from storage import orders as order_rows
from storage import outbox
from storage import partners as partner_rows


async def expire_orders(session: AsyncSession, *, now: datetime) -> int:
    """Expires pending orders past their expiry and tells each filer, once."""
    expired = await order_rows.expire_due(session=session, now=now)
    await queue_filer_notices(session, order_ids=expired, now=now, kind="expired")
    await session.commit()
    return len(expired)


async def remind_filers(session: AsyncSession, *, now: datetime, ttl_days: int = 14) -> int:
    """Reminds the filer of each order whose link has waited 3 days (counted from a resend, if
    any), once."""
    due = await order_rows.mark_reminders_due(
        session=session, now=now, expiring_by=reminders_due_if_expiring_by(now, ttl_days)
    )
    await queue_filer_notices(session, order_ids=due, now=now, kind="reminder")
    await session.commit()
    return len(due)


async def queue_filer_notices(
    session: AsyncSession, *, order_ids: list[int], now: datetime, kind: str
) -> None:
    rows = []
    for order, customer in await order_rows.with_customers(session=session, order_ids=order_ids):
        partner = await partner_rows.get_by_id(session=session, partner_id=order.partner_id)
        if partner is None:
            continue
        build = order_messages.expired if kind == "expired" else order_messages.reminder
        message = build(order, customer=customer, partner=partner)
        # A reminder is keyed by the order's current expiry: a resent order may get one again.
        suffix = order.expires_at.isoformat() if kind == "reminder" else ""
        rows.append(
            post_message(
                key=f"order:{order.id}:{kind}:{suffix}",
                channel=order.filed_by,
                message=message,
                partner_id=partner.id,
                now=now,
            )
        )
    await outbox.add(session=session, rows=rows)
