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
from storage.summary_figures import partners_in

ACTIVE = "active"


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
    """Where an incident hit: its service in a region (None: any region), for every partner
    alerted (partner_id 0) or for one partner's narrowing; `narrowable` rows give way to a
    narrowing."""

    incident_id: int
    partner_id: int
    service: str
    region: str | None
    narrowable: bool


def rows_of(rows: list[tuple], columns: list[tuple[str, object]], name: str):
    """Literal rows as a table both databases read (SQLite has no named VALUES list)."""
    return union_all(
        *(
            select(
                *(
                    literal(value, kind).label(label)
                    for value, (label, kind) in zip(row, columns, strict=True)
                )
            )
            for row in rows
        )
    ).subquery(name)


async def names_hit_twice(
    *,
    session: AsyncSession,
    partner_ids: Sequence[int],
    incident_ids: Sequence[int],
    footprints: list[Footprint],
    plans: dict[str, list[str]],
) -> dict[int, dict[str, int]]:
    """Per partner, the names of its customers hit by two or more of the incidents it was
    alerted about, with their counts: a customer is hit once by an incident whose service one
    of its active plans has (`plans`: the plans of each service), in the incident's scope.
    Counted as the partner's incidents by service and region, joined to its customers'
    services, so the database reads each subscription once, not once per incident."""
    found: dict[int, dict[str, int]] = {pid: {} for pid in partner_ids}
    pairs = [(service, plan) for service, codes in plans.items() for plan in codes]
    if not footprints or not partner_ids or not pairs:
        return found
    print_ = rows_of(
        [(f.incident_id, f.partner_id, f.service, f.region, int(f.narrowable)) for f in footprints],
        [
            ("incident_id", Integer),
            ("partner_id", Integer),
            ("service", String),
            ("region", String),
            ("narrowable", Integer),
        ],  # fmt: skip
        "footprint",
    )
    offered = rows_of(pairs, [("service", String), ("plan_code", String)], "offered")
    alert = IncidentAlert.__table__.c
    narrowed = exists().where(
        IncidentScope.incident_id == alert.incident_id,
        IncidentScope.partner_id == alert.partner_id,
    )
    applies = or_(
        print_.c.partner_id == alert.partner_id,
        and_(print_.c.partner_id == 0, or_(print_.c.narrowable == 0, ~narrowed)),
    )
    # How many of its incidents hit each service in each region (None: every region), per partner.
    counts = (
        select(
            alert.partner_id.label("partner_id"),
            print_.c.service.label("service"),
            print_.c.region.label("region"),
            func.count().label("incidents"),
        )
        .select_from(IncidentAlert.__table__)
        .join(print_, and_(print_.c.incident_id == alert.incident_id, applies))
        .where(alert.partner_id.in_(bindparam("partner_ids", expanding=True)))
        .where(alert.incident_id.in_(list(incident_ids)))
        .group_by(alert.partner_id, print_.c.service, print_.c.region)
        .subquery("counts")
    )
    # The services each customer has through its active plans, once each.
    services = (
        select(
            Subscription.partner_id.label("partner_id"),
            Subscription.customer_id.label("customer_id"),
            offered.c.service.label("service"),
        )
        .distinct()
        .join(offered, offered.c.plan_code == Subscription.plan_code)
        .where(partners_in(Subscription.partner_id), Subscription.status == ACTIVE)
        .subquery("services")
    )
    hits = func.sum(counts.c.incidents)
    result = await session.exec(
        select(services.c.partner_id, Customer.name, hits)
        .join(
            Customer,
            and_(
                col(Customer.id) == services.c.customer_id,
                Customer.partner_id == services.c.partner_id,
            ),
        )
        .join(
            counts,
            and_(
                counts.c.partner_id == services.c.partner_id,
                counts.c.service == services.c.service,
                or_(counts.c.region.is_(None), counts.c.region == Customer.region),
            ),
        )
        .group_by(services.c.partner_id, Customer.name)
        .having(hits >= 2),
        params={"partner_ids": list(partner_ids)},
    )
    for pid, name, count in result.all():
        found[pid][name] = int(count)
    return found
