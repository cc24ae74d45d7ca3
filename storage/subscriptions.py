"""Queries about customers' subscriptions."""

from __future__ import annotations

import functools

from sqlalchemy import BigInteger, bindparam, type_coerce
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Subscription

STATUS_ORDER = {"active": 0, "trial": 1, "suspended": 2, "cancelled": 3}


def monthly_cents() -> object:
    """A subscription's monthly value (seats × unit price) in whole cents, as SQL."""
    return type_coerce(Subscription.__table__.c.unit_price, BigInteger) * Subscription.seats


@functools.cache
def of_customer_statement():
    """Built once: every customer found runs it."""
    return (
        select(Subscription)
        .where(Subscription.customer_id == bindparam("customer_id"))
        .order_by(Subscription.renewal_date, Subscription.plan_code, Subscription.id)
    )


async def of_customer(*, session: AsyncSession, customer_id: int) -> list[Subscription]:
    """Lists a customer's subscriptions: live ones first, then by renewal date."""
    result = await session.exec(of_customer_statement(), params={"customer_id": customer_id})
    rows = list(result.all())
    rows.sort(key=lambda s: STATUS_ORDER.get(s.status, 9))  # stable: keeps the renewal order
    return rows
