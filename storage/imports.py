"""Bulk reads and writes of imports: a partner's rows in one query, new rows in bulk inserts,
changed rows in bulk updates by id. The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, Subscription

Values = Sequence[dict[str, Any]]


async def customer_ids_by_domain(*, session: AsyncSession, partner_id: int) -> dict[str, int]:
    """Maps each of a partner's customer domains to the customer's id."""
    result = await session.exec(
        select(Customer.domain, Customer.id).where(Customer.partner_id == partner_id)
    )
    return dict(result.all())


async def subscriptions_by_key(
    *, session: AsyncSession, partner_id: int
) -> dict[tuple[int, str, date], Subscription]:
    """Maps each of a partner's subscriptions by its customer id, plan code and start date (those
    from Partner Center are named by their own id, not by these)."""
    result = await session.exec(
        select(Subscription).where(
            Subscription.partner_id == partner_id, col(Subscription.external_id).is_(None)
        )
    )
    return {(s.customer_id, s.plan_code, s.start_date): s for s in result.all()}


async def insert_customers(*, session: AsyncSession, values: Values) -> None:
    """Inserts customers in bulk, stamped as created and updated now."""
    await _insert(session, Customer, values)


async def update_customers(*, session: AsyncSession, values: Values) -> None:
    """Updates customers in bulk by id, stamped as updated now."""
    await _update(session, Customer, values)


async def insert_subscriptions(*, session: AsyncSession, values: Values) -> None:
    """Inserts subscriptions in bulk, stamped as created and updated now."""
    await _insert(session, Subscription, values)


async def update_subscriptions(*, session: AsyncSession, values: Values) -> None:
    """Updates subscriptions in bulk by id, stamped as updated now."""
    await _update(session, Subscription, values)


async def _insert(session: AsyncSession, model: type, values: Values) -> None:
    if not values:
        return
    now = datetime.now(UTC)
    # A bulk INSERT of plain rows: no ORM object per row; SQLAlchemy sends the rows in batches.
    rows = [{**row, "created_at": now, "updated_at": now} for row in values]
    await session.exec(insert(model), params=rows)


async def _update(session: AsyncSession, model: type, values: Values) -> None:
    if not values:
        return
    now = datetime.now(UTC)
    # ORM bulk UPDATE by primary key: one executemany per set of columns, keyed by "id".
    await session.exec(update(model), params=[{**row, "updated_at": now} for row in values])
