"""Queries about partner workspaces and their managers."""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, Partner, PartnerManager


@functools.cache
def by_team_id_statement():
    """Built once: every Slack request runs it, and building it costs more than running it."""
    return select(Partner).where(Partner.team_id == bindparam("team_id"))


async def get_by_team_id(*, session: AsyncSession, team_id: str) -> Partner | None:
    """Gets the partner that owns a Slack workspace."""
    result = await session.exec(by_team_id_statement(), params={"team_id": team_id})
    return result.first()


async def get_by_id(*, session: AsyncSession, partner_id: int) -> Partner | None:
    """Gets a partner by its id."""
    return await session.get(Partner, partner_id)


async def list_all(*, session: AsyncSession) -> list[Partner]:
    """Lists every partner, by name."""
    result = await session.exec(select(Partner).order_by(Partner.name, Partner.id))
    return list(result.all())


async def with_most_customers(*, session: AsyncSession) -> Partner | None:
    """Gets the partner with the most customers (ties: the oldest), or None when there is none."""
    customers = (
        select(Customer.partner_id, func.count().label("customers"))
        .group_by(Customer.partner_id)
        .subquery()
    )
    result = await session.exec(
        select(Partner)
        .outerjoin(customers, customers.c.partner_id == Partner.id)
        .order_by(func.coalesce(customers.c.customers, 0).desc(), Partner.id)
        .limit(1)
    )
    return result.first()


async def count(*, session: AsyncSession) -> int:
    """Counts the partners."""
    result = await session.exec(select(func.count()).select_from(Partner))
    return int(result.one())


async def add(*, session: AsyncSession, partner: Partner, managers: list[str]) -> Partner:
    """Adds a partner and its managers (the caller commits)."""
    session.add(partner)
    await session.flush()
    for user_id in managers:
        session.add(PartnerManager(partner_id=partner.id, user_id=user_id))
    await session.flush()
    return partner


@functools.cache
def manager_ids_statement():
    return (
        select(PartnerManager.user_id)
        .where(PartnerManager.partner_id == bindparam("partner_id"))
        .order_by(PartnerManager.user_id)
    )


async def manager_ids(*, session: AsyncSession, partner_id: int) -> list[str]:
    """Lists the Slack user ids of a partner's managers."""
    result = await session.exec(manager_ids_statement(), params={"partner_id": partner_id})
    return list(result.all())


async def set_manager(
    *, session: AsyncSession, partner_id: int, user_id: str, manager: bool
) -> bool:
    """Makes someone a manager of a partner, or not; False when that was already so."""
    existing = await session.get(PartnerManager, (partner_id, user_id))
    if manager and existing is None:
        session.add(PartnerManager(partner_id=partner_id, user_id=user_id))
        return True
    if not manager and existing is not None:
        await session.delete(existing)
        return True
    return False


async def list_by_name(*, session: AsyncSession, name: str) -> list[Partner]:
    """Lists the partners with this name, in any letter case (names are not unique)."""
    result = await session.exec(
        select(Partner).where(func.lower(Partner.name) == name.lower()).order_by(Partner.id)
    )
    return list(result.all())


async def set_team_id(*, session: AsyncSession, partner: Partner, team_id: str) -> Partner:
    """Moves a partner to another workspace (the caller commits)."""
    partner.team_id = team_id
    session.add(partner)
    await session.flush()
    return partner


async def update_settings(
    *, session: AsyncSession, partner: Partner, name: str, alert_channel: str,
    manager_channel: str, orders_channel: str | None, timezone: str,
    money_for_managers_only: str,
) -> Partner:  # fmt: skip
    """Changes a partner's name, channels, time zone and who sees the money (the caller
    commits)."""
    partner.name = name
    partner.alert_channel = alert_channel
    partner.manager_channel = manager_channel
    partner.orders_channel = orders_channel
    partner.timezone = timezone
    partner.money_for_managers_only = money_for_managers_only
    session.add(partner)
    await session.flush()
    return partner


async def set_money_setting(*, session: AsyncSession, partner_id: int, setting: str) -> Partner:
    """Sets who of a partner sees commission and prices (the caller commits)."""
    partner = await session.get(Partner, partner_id)
    partner.money_for_managers_only = setting
    session.add(partner)
    await session.flush()
    return partner
