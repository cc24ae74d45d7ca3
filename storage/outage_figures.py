"""Outage figures grouped by partner, for many partners at once (the weekly summaries', the
resolution's credits): affected customers by region, their fees' rows, the incidents of a period
and the partners' narrowings of them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal,
    or_,
    type_coerce,
    union_all,
)
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, Incident, IncidentAlert, IncidentScope, Subscription

ACTIVE = "active"


def partners_in(column_):
    return col(column_).in_(bindparam("partner_ids", expanding=True))


async def customers_by_region(
    *, session: AsyncSession, partner_ids: Sequence[int], plan_codes: list[str]
) -> dict[int, dict[str, int]]:
    """Customers with an active subscription to one of the plans, per partner and region (a
    customer is in one region, so a set of regions' counts add up)."""
    if not partner_ids or not plan_codes:
        return {pid: {} for pid in partner_ids}
    result = await session.exec(
        select(
            Subscription.partner_id,
            Customer.region,
            func.count(func.distinct(Subscription.customer_id)),
        )
        .join(Customer, col(Customer.id) == Subscription.customer_id)
        .where(partners_in(Subscription.partner_id), Subscription.status == ACTIVE)
        .where(col(Subscription.plan_code).in_(plan_codes))
        .group_by(Subscription.partner_id, Customer.region),
        params={"partner_ids": list(partner_ids)},
    )
    counts: dict[int, dict[str, int]] = {pid: {} for pid in partner_ids}
    for pid, region, customers in result.all():
        counts[pid][region] = int(customers)
    return counts


@dataclass(frozen=True)
class FeeRow:
    """An affected subscription, with what its customer's credit needs."""

    partner_id: int
    customer_id: int
    region: str
    timezone: str | None
    plan_code: str
    seats: int
    unit_cents: int
    name: str
    domain: str


async def fee_rows(
    *,
    session: AsyncSession,
    partner_ids: Sequence[int],
    plan_codes: list[str],
    regions: list[str],
) -> list[FeeRow]:
    """The partners' active subscriptions to the plans, of customers in the regions (every
    region when none are given), in the order the per-partner credits read them."""
    if not partner_ids or not plan_codes:
        return []
    query = (
        select(
            Subscription.partner_id,
            Customer.id,
            Customer.region,
            Customer.timezone,
            Subscription.plan_code,
            Subscription.seats,
            type_coerce(Subscription.__table__.c.unit_price, BigInteger),
            Customer.name,
            Customer.domain,
        )
        .join(Customer, col(Customer.id) == Subscription.customer_id)
        .where(partners_in(Subscription.partner_id), Subscription.status == ACTIVE)
        .where(col(Subscription.plan_code).in_(plan_codes))
        .order_by(Subscription.partner_id, Customer.name_key, Customer.id, Subscription.id)
    )
    if regions:
        query = query.where(col(Customer.region).in_(regions))
    connection = await session.connection()
    rows = await connection.execute(query, {"partner_ids": list(partner_ids)})
    return [FeeRow(*row) for row in rows.all()]


async def incidents_of_service(
    *,
    session: AsyncSession,
    service: str,
    start: datetime,
    end: datetime,
    partner_ids: Sequence[int],
) -> list[Incident]:
    """The incidents of a service overlapping a period that concern any of the partners: the
    vendor's, and those the partners declared (advisories are not outages)."""
    result = await session.exec(
        select(Incident)
        .where(Incident.service == service, Incident.classification == "incident")
        .where(or_(col(Incident.partner_id).is_(None), partners_in(Incident.partner_id)))
        .where(col(Incident.start_at) < end)
        .where(or_(col(Incident.end_at).is_(None), col(Incident.end_at) > start)),
        params={"partner_ids": list(partner_ids)},
    )
    return list(result.all())


async def narrowings(
    *, session: AsyncSession, partner_ids: Sequence[int], incident_ids: Sequence[int]
) -> dict[tuple[int, int], list[str]]:
    """The partners' narrowings of some incidents: regions by (partner id, incident id)."""
    if not partner_ids or not incident_ids:
        return {}
    result = await session.exec(
        select(IncidentScope.partner_id, IncidentScope.incident_id, IncidentScope.regions)
        .where(partners_in(IncidentScope.partner_id))
        .where(col(IncidentScope.incident_id).in_(list(incident_ids))),
        params={"partner_ids": list(partner_ids)},
    )
    return {(pid, iid): json.loads(regions) for pid, iid, regions in result.all()}


@dataclass(frozen=True)
class Footprint:
    """Where an incident hit: a plan in a region (None: any region), for every partner alerted
    (partner_id 0) or for one partner's narrowing; `narrowable` rows give way to a narrowing."""

    incident_id: int
    partner_id: int
    plan_code: str
    region: str | None
    narrowable: bool


async def names_hit_twice(
    *,
    session: AsyncSession,
    partner_ids: Sequence[int],
    incident_ids: Sequence[int],
    footprints: list[Footprint],
) -> dict[int, dict[str, int]]:
    """Per partner, the names of its customers hit by two or more of the incidents it was
    alerted about (each customer counted once per incident), with their counts."""
    found: dict[int, dict[str, int]] = {pid: {} for pid in partner_ids}
    if not footprints or not partner_ids:
        return found
    # A union of one-row selects: both databases read it (SQLite has no named VALUES list).
    print_ = union_all(
        *(
            select(
                literal(f.incident_id, Integer).label("incident_id"),
                literal(f.partner_id, Integer).label("partner_id"),
                literal(f.plan_code, String).label("plan_code"),
                literal(f.region, String).label("region"),
                literal(int(f.narrowable), Integer).label("narrowable"),
            )
            for f in footprints
        )
    ).subquery("footprint")
    alert = IncidentAlert.__table__.c
    narrowed = exists().where(
        IncidentScope.incident_id == alert.incident_id,
        IncidentScope.partner_id == alert.partner_id,
    )
    applies = or_(
        print_.c.partner_id == alert.partner_id,
        and_(print_.c.partner_id == 0, or_(print_.c.narrowable == 0, ~narrowed)),
    )
    hits = (
        select(alert.partner_id, alert.incident_id, Customer.id.label("customer_id"), Customer.name)
        .distinct()
        .select_from(IncidentAlert.__table__)
        .join(print_, and_(print_.c.incident_id == alert.incident_id, applies))
        .join(
            Subscription,
            and_(
                Subscription.partner_id == alert.partner_id,
                Subscription.plan_code == print_.c.plan_code,
                Subscription.status == ACTIVE,
            ),
        )
        .join(
            Customer,
            and_(
                col(Customer.id) == Subscription.customer_id,
                Customer.partner_id == alert.partner_id,
                or_(print_.c.region.is_(None), Customer.region == print_.c.region),
            ),
        )
        .where(alert.partner_id.in_(bindparam("partner_ids", expanding=True)))
        .where(alert.incident_id.in_(list(incident_ids)))
        .subquery()
    )
    result = await session.exec(
        select(hits.c.partner_id, hits.c.name, func.count())
        .group_by(hits.c.partner_id, hits.c.name)
        .having(func.count() >= 2),
        params={"partner_ids": list(partner_ids)},
    )
    for pid, name, count in result.all():
        found[pid][name] = int(count)
    return found
