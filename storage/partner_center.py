"""Partner Center connections (the schedule's claims, each sync's outcome) and what a sync reads
and writes of a partner's customers and subscriptions. The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, Partner, PartnerCenterConnection, Subscription


async def get(*, session: AsyncSession, partner_id: int) -> PartnerCenterConnection | None:
    """Gets a partner's Partner Center connection."""
    return await session.get(PartnerCenterConnection, partner_id)


async def save(*, session: AsyncSession, connection: PartnerCenterConnection) -> None:
    """Stores a partner's connection, replacing the one before."""
    await session.merge(connection)


async def due(*, session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Lists partners whose scheduled sync is due, longest waiting first and, among those due
    since the same time, the biggest first (so that the longest syncs of a round start first).
    The customers are counted for the due partners only (an index range each), not for all."""
    customers = (
        select(func.count())
        .where(Customer.partner_id == PartnerCenterConnection.partner_id)
        .correlate(PartnerCenterConnection)
        .scalar_subquery()
    )
    result = await session.exec(
        select(PartnerCenterConnection.partner_id)
        .where(PartnerCenterConnection.next_sync_at <= now)
        .order_by(
            PartnerCenterConnection.next_sync_at,
            customers.desc(),
            PartnerCenterConnection.partner_id,
        )
        .limit(limit)
    )
    return list(result.all())


async def claim(
    *, session: AsyncSession, partner_id: int, seen_due_at: datetime, next_at: datetime
) -> bool:
    """Claims a due sync by moving its time forward, unless another process did it first."""
    result = await session.exec(
        update(PartnerCenterConnection)
        .where(
            PartnerCenterConnection.partner_id == partner_id,
            PartnerCenterConnection.next_sync_at <= seen_due_at,
        )
        .values(next_sync_at=next_at)
    )
    return result.rowcount == 1


async def partner_ids_by_mpn(*, session: AsyncSession) -> dict[str, int]:
    """Maps the MPN ids of connected partners to the partners."""
    result = await session.exec(
        select(PartnerCenterConnection.mpn_id, PartnerCenterConnection.partner_id).where(
            PartnerCenterConnection.mpn_id != ""
        )
    )
    return dict(result.all())


async def customers(*, session: AsyncSession, partner_id: int) -> list[Customer]:
    """Lists a partner's customers."""
    result = await session.exec(select(Customer).where(Customer.partner_id == partner_id))
    return list(result.all())


async def synced_subscriptions(*, session: AsyncSession, partner_id: int) -> list[Subscription]:
    """Lists a partner's subscriptions that came from Partner Center."""
    result = await session.exec(
        select(Subscription).where(
            Subscription.partner_id == partner_id, col(Subscription.external_id).is_not(None)
        )
    )
    return list(result.all())


async def lock_partner(*, session: AsyncSession, partner_id: int) -> None:
    """Serialises two syncs of one partner (a scheduled one and `/partnerbot sync`)."""
    await session.exec(
        select(PartnerCenterConnection.partner_id)
        .where(PartnerCenterConnection.partner_id == partner_id)
        .with_for_update()
    )


async def mark_imported(*, session: AsyncSession, partner_id: int, at: datetime) -> None:
    """Records when a partner's subscriptions were last imported from a file."""
    await session.exec(
        update(Partner).where(Partner.id == partner_id).values(subscriptions_imported_at=at)
    )


async def is_connected(*, session: AsyncSession, partner_id: int) -> bool:
    """Tells whether a partner has connected its Partner Center."""
    result = await session.exec(
        select(PartnerCenterConnection.partner_id).where(
            PartnerCenterConnection.partner_id == partner_id
        )
    )
    return result.first() is not None


async def has_synced_subscription(*, session: AsyncSession, customer_id: int) -> bool:
    """Tells whether Partner Center lists any subscription of a customer (in any status)."""
    result = await session.exec(
        select(Subscription.id)
        .where(Subscription.customer_id == customer_id)
        .where(col(Subscription.external_id).is_not(None))
        .limit(1)
    )
    return result.first() is not None
