"""Queries about a partner's customers: lookups by name or domain, always scoped by partner."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import bindparam, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer

# Fuzzy suggestions read at most this many names of one partner.
MAX_FUZZY_CANDIDATES = 20_000


@dataclass(frozen=True)
class CustomerMatches:
    customers: list[Customer]  # the first matches, by name
    total: int  # how many match in all
    exact: bool  # matched a whole name or domain rather than a part


@functools.cache
def exact_statement():
    """Built once: most look-ups are a whole domain or name, answered by this one statement."""
    folded = bindparam("folded")
    return (
        select(Customer)
        .where(Customer.partner_id == bindparam("partner_id"))
        .where(or_(Customer.domain == folded, Customer.name_key == folded))
        .order_by(Customer.name_key, Customer.id)
        .limit(bindparam("limit"))
    )


@functools.cache
def containing_statement():
    """The first customers whose name or domain contains the pattern, each with how many match
    in all (counted before the limit), in one statement."""
    pattern = bindparam("pattern")
    contains = or_(
        col(Customer.name_key).like(pattern, escape="\\"),
        col(Customer.domain).like(pattern, escape="\\"),
    )
    return (
        select(Customer, func.count().over())
        .where(Customer.partner_id == bindparam("partner_id"), contains)
        .order_by(Customer.name_key, Customer.id)
        .limit(bindparam("limit"))
    )


async def find(
    *, session: AsyncSession, partner_id: int, folded: str, pattern: str, limit: int
) -> CustomerMatches:
    """Finds a partner's customers whose name or domain is, or else contains, the folded text."""
    exact = await session.exec(
        exact_statement(), params={"partner_id": partner_id, "folded": folded, "limit": limit}
    )
    exact_matches = list(exact.all())
    if exact_matches:
        return CustomerMatches(exact_matches, len(exact_matches), exact=True)

    found = await session.exec(
        containing_statement(),
        params={"partner_id": partner_id, "pattern": pattern, "limit": limit},
    )
    rows = found.all()
    total = rows[0][1] if rows else 0
    return CustomerMatches([customer for customer, _ in rows], int(total), exact=False)


async def ids_names_and_domains(
    *, session: AsyncSession, partner_id: int
) -> list[tuple[int, str, str]]:
    """Lists a partner's customer ids, folded names and domains, for fuzzy suggestions (plain
    tuples: a big partner has thousands)."""
    connection = await session.connection()
    result = await connection.execute(
        select(Customer.id, Customer.name_key, Customer.domain)
        .where(Customer.partner_id == partner_id)
        .limit(MAX_FUZZY_CANDIDATES)
    )
    return [tuple(row) for row in result.all()]


async def get_many(
    *, session: AsyncSession, partner_id: int, customer_ids: list[int]
) -> dict[int, Customer]:
    """Gets several of a partner's customers by id."""
    if not customer_ids:
        return {}
    result = await session.exec(
        select(Customer).where(
            Customer.partner_id == partner_id, col(Customer.id).in_(customer_ids)
        )
    )
    return {customer.id: customer for customer in result.all()}


async def get(*, session: AsyncSession, partner_id: int, customer_id: int) -> Customer | None:
    """Gets one of a partner's customers by id (None for another partner's customer)."""
    result = await session.exec(
        select(Customer).where(Customer.id == customer_id, Customer.partner_id == partner_id)
    )
    return result.first()


async def by_domain(*, session: AsyncSession, partner_id: int) -> dict[str, Customer]:
    """Maps each of a partner's customer domains to the customer."""
    result = await session.exec(select(Customer).where(Customer.partner_id == partner_id))
    return {customer.domain: customer for customer in result.all()}


async def count(*, session: AsyncSession, partner_id: int | None = None) -> int:
    """Counts customers, of one partner or of all."""
    query = select(func.count()).select_from(Customer)
    if partner_id is not None:
        query = query.where(Customer.partner_id == partner_id)
    return int((await session.exec(query)).one())
