"""Queries about seat changes: recording one from the day it takes effect, reading a
subscription's changes, and the SQL that takes later changes back out of today's values."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, bindparam, insert, type_coerce
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import SeatChange, Subscription


async def record(
    *,
    session: AsyncSession,
    subscription: Subscription,
    effective_on: date,
    seats_before: int,
    unit_price_before: Decimal,
    now: datetime,
    order_id: int | None = None,
) -> SeatChange | None:
    """Records that a subscription's seats or price (as it now stands) changed on a day; nothing
    when neither changed, or when the day is not after the start (no month had the old value)."""
    unchanged = (seats_before, unit_price_before) == (subscription.seats, subscription.unit_price)
    if unchanged or effective_on <= subscription.start_date:
        return None
    change = SeatChange(
        partner_id=subscription.partner_id,
        subscription_id=subscription.id,
        effective_on=effective_on,
        seats_before=seats_before,
        seats_after=subscription.seats,
        unit_price_before=unit_price_before,
        unit_price_after=subscription.unit_price,
        order_id=order_id,
        recorded_at=now,
    )
    session.add(change)
    return change


async def insert_rows(*, session: AsyncSession, values: Sequence[dict[str, Any]]) -> None:
    """Stores several changes (an import's) in bulk, in the caller's transaction."""
    if values:
        now = datetime.now(UTC)
        await session.exec(
            insert(SeatChange), params=[{**row, "recorded_at": now} for row in values]
        )


@functools.cache
def of_subscriptions_statement():
    """Built once: every customer found with subscriptions runs it."""
    return (
        select(SeatChange)
        .where(col(SeatChange.subscription_id).in_(bindparam("subscription_ids", expanding=True)))
        .order_by(SeatChange.effective_on, SeatChange.id)
    )


async def of_subscriptions(
    *, session: AsyncSession, subscription_ids: Sequence[int]
) -> dict[int, list[SeatChange]]:
    """Each subscription's changes, oldest first (subscriptions without any are left out)."""
    if not subscription_ids:
        return {}
    result = await session.exec(
        of_subscriptions_statement(), params={"subscription_ids": list(subscription_ids)}
    )
    changes: dict[int, list[SeatChange]] = {}
    for change in result.all():
        changes.setdefault(change.subscription_id, []).append(change)
    return changes


def change_cents() -> object:
    """What a change added to the monthly value (after − before), in whole cents, as SQL."""
    table = SeatChange.__table__.c
    after = type_coerce(table.unit_price_after, BigInteger) * SeatChange.seats_after
    before = type_coerce(table.unit_price_before, BigInteger) * SeatChange.seats_before
    return after - before
