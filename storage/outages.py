"""Queries about incidents: upsert by external id, who is affected (aggregated in SQL, per
partner), alerts, followers and apology templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ApologyTemplate,
    Customer,
    Incident,
    IncidentAlert,
    IncidentFollower,
    IncidentTenantCheck,
    Partner,
    Subscription,
)
from storage.subscriptions import monthly_cents

ACTIVE = "active"
CONFIRMED = "confirmed"


def dialect_insert(session: AsyncSession):
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgres_insert if dialect == "postgresql" else sqlite_insert


async def get_by_external_id(*, session: AsyncSession, external_id: str) -> Incident | None:
    """Gets an incident by the vendor's (or the declaring partner's) id, locked for update."""
    result = await session.exec(
        select(Incident).where(Incident.external_id == external_id).with_for_update()
    )
    return result.first()


async def find_by_external_id(*, session: AsyncSession, external_id: str) -> Incident | None:
    """Finds an incident by the vendor's id as people type it (any case), without a lock."""
    result = await session.exec(select(Incident).where(Incident.external_id == external_id))
    found = result.first()
    if found is None:
        result = await session.exec(
            select(Incident).where(func.upper(Incident.external_id) == external_id.upper())
        )
        found = result.first()
    return found


async def get(*, session: AsyncSession, incident_id: int) -> Incident | None:
    """Gets an incident by its own id."""
    return await session.get(Incident, incident_id)


async def claim_external_id(*, session: AsyncSession, incident: Incident) -> bool:
    """Inserts a new incident unless one with its external id exists (a concurrent delivery of
    the same body); True when this call inserted it."""
    values = incident.model_dump(exclude={"id"})
    statement = dialect_insert(session)(Incident).values(values)
    result = await session.exec(statement.on_conflict_do_nothing(index_elements=["external_id"]))
    return result.rowcount == 1


@dataclass(frozen=True)
class PartnerImpact:
    partner_id: int
    customers: int
    seats: int
    monthly: Decimal


def affected_filter(*, plan_codes: list[str], regions: list[str], confirmed_for: int | None = None):
    """Active subscriptions to a plan with the service, of customers in the regions (all when
    none are given); with `confirmed_for`, only of customers whose own service health lists
    that incident."""
    conditions = [Subscription.status == ACTIVE, col(Subscription.plan_code).in_(plan_codes)]
    if regions:
        conditions.append(col(Customer.region).in_(regions))
    if confirmed_for is not None:
        conditions.append(col(Customer.id).in_(confirmed_customers(confirmed_for)))
    return and_(*conditions)


def confirmed_customers(incident_id: int):
    """The customers whose own service health lists an incident, as a subquery."""
    return select(IncidentTenantCheck.customer_id).where(
        IncidentTenantCheck.incident_id == incident_id, IncidentTenantCheck.result == CONFIRMED
    )


async def impact_by_partner(
    *,
    session: AsyncSession,
    plan_codes: list[str],
    regions: list[str],
    partner_id: int | None = None,
    confirmed_for: int | None = None,
) -> list[PartnerImpact]:
    """Counts the affected customers, their seats and monthly value, per partner."""
    query = (
        select(
            Subscription.partner_id,
            func.count(func.distinct(Subscription.customer_id)),
            func.sum(Subscription.seats),
            func.sum(monthly_cents()),
        )
        .join(Customer, col(Customer.id) == Subscription.customer_id)
        .where(affected_filter(plan_codes=plan_codes, regions=regions, confirmed_for=confirmed_for))
        .group_by(Subscription.partner_id)
        .order_by(Subscription.partner_id)
    )
    if partner_id is not None:
        query = query.where(Subscription.partner_id == partner_id)
    rows = (await session.exec(query)).all()
    return [
        PartnerImpact(pid, int(count), int(seats or 0), Decimal(int(cents or 0)) / 100)
        for pid, count, seats, cents in rows
    ]


@dataclass(frozen=True)
class AffectedCustomer:
    customer: Customer
    seats: int
    monthly: Decimal


async def affected_customers(
    *,
    session: AsyncSession,
    partner_id: int,
    plan_codes: list[str],
    regions: list[str],
    limit: int | None = None,
    customer_id: int | None = None,
) -> list[AffectedCustomer]:
    """Lists one partner's affected customers, most seats first."""
    seats = func.sum(Subscription.seats).label("seats")
    query = (
        select(Customer, seats, func.sum(monthly_cents()))
        .join(Subscription, col(Subscription.customer_id) == Customer.id)
        .where(Subscription.partner_id == partner_id, Customer.partner_id == partner_id)
        .where(affected_filter(plan_codes=plan_codes, regions=regions))
        .group_by(Customer.id)
        .order_by(seats.desc(), Customer.name_key, Customer.id)
    )
    if customer_id is not None:
        query = query.where(Customer.id == customer_id)
    if limit is not None:
        query = query.limit(limit)
    rows = (await session.exec(query)).all()
    return [AffectedCustomer(c, int(s), Decimal(int(m)) / 100) for c, s, m in rows]


async def top_affected_by_partner(
    *,
    session: AsyncSession,
    plan_codes: list[str],
    regions: list[str],
    limit: int,
    partner_id: int | None = None,
    confirmed_for: int | None = None,
) -> dict[int, list[tuple[str, int]]]:
    """Each partner's largest affected customers (name and seats, most seats first), for every
    partner at once: one query ranks them within each partner."""
    seats = func.sum(Subscription.seats).label("seats")
    per_customer = (
        select(
            Subscription.partner_id.label("partner_id"),
            Customer.id.label("customer_id"),
            Customer.name.label("name"),
            Customer.name_key.label("name_key"),
            seats,
        )
        .join(Customer, col(Customer.id) == Subscription.customer_id)
        .where(col(Customer.partner_id) == Subscription.partner_id)
        .where(affected_filter(plan_codes=plan_codes, regions=regions, confirmed_for=confirmed_for))
        .group_by(Subscription.partner_id, Customer.id, Customer.name, Customer.name_key)
    )
    if partner_id is not None:
        per_customer = per_customer.where(Subscription.partner_id == partner_id)
    per_customer = per_customer.subquery()
    rank = (
        func.row_number()
        .over(
            partition_by=per_customer.c.partner_id,
            order_by=(
                per_customer.c.seats.desc(),
                per_customer.c.name_key,
                per_customer.c.customer_id,
            ),
        )
        .label("rank")
    )
    ranked = select(per_customer, rank).subquery()
    rows = await session.exec(
        select(ranked.c.partner_id, ranked.c.name, ranked.c.seats)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.partner_id, ranked.c.rank)
    )
    top: dict[int, list[tuple[str, int]]] = {}
    for pid, name, customer_seats in rows.all():
        top.setdefault(pid, []).append((name, int(customer_seats)))
    return top


async def affected_subscriptions(
    *, session: AsyncSession, partner_id: int, plan_codes: list[str], regions: list[str]
) -> list[tuple[Customer, Subscription]]:
    """Lists one partner's affected subscriptions with their customers (for credits)."""
    result = await session.exec(
        select(Customer, Subscription)
        .join(Subscription, col(Subscription.customer_id) == Customer.id)
        .where(Subscription.partner_id == partner_id)
        .where(affected_filter(plan_codes=plan_codes, regions=regions))
        .order_by(Customer.name_key, Customer.id, Subscription.id)
    )
    return list(result.all())


async def incidents_overlapping(
    *,
    session: AsyncSession,
    service: str,
    start: datetime,
    end: datetime,
    partner_id: int,
) -> list[Incident]:
    """Lists the incidents of a service that overlap a period and concern a partner: the
    vendor's, and the partner's own declared ones (advisories are not outages)."""
    result = await session.exec(
        select(Incident)
        .where(Incident.service == service, Incident.classification == "incident")
        .where(or_(col(Incident.partner_id).is_(None), Incident.partner_id == partner_id))
        .where(col(Incident.start_at) < end)
        .where(or_(col(Incident.end_at).is_(None), col(Incident.end_at) > start))
    )
    return list(result.all())


async def alerts_of(*, session: AsyncSession, incident_id: int) -> list[IncidentAlert]:
    """Lists the partners' alerts of an incident."""
    result = await session.exec(
        select(IncidentAlert).where(IncidentAlert.incident_id == incident_id)
    )
    return list(result.all())


async def add_alerts(*, session: AsyncSession, alerts: list[IncidentAlert]) -> None:
    """Records partners' alerts with one statement; one that exists already is kept as it is."""
    if not alerts:
        return
    statement = dialect_insert(session)(IncidentAlert.__table__).on_conflict_do_nothing(
        index_elements=["incident_id", "partner_id"]
    )
    connection = await session.connection()
    await connection.execute(statement, [alert.model_dump(exclude={"id"}) for alert in alerts])


async def partners_by_id(*, session: AsyncSession, partner_ids: list[int]) -> dict[int, Partner]:
    """Gets partners by id."""
    if not partner_ids:
        return {}
    result = await session.exec(select(Partner).where(col(Partner.id).in_(partner_ids)))
    return {partner.id: partner for partner in result.all()}


async def followers_by_partner(*, session: AsyncSession, incident_id: int) -> dict[int, list[str]]:
    """Who follows an incident, per partner workspace."""
    result = await session.exec(
        select(IncidentFollower.partner_id, IncidentFollower.user_id)
        .where(IncidentFollower.incident_id == incident_id)
        .order_by(IncidentFollower.partner_id, IncidentFollower.user_id)
    )
    found: dict[int, list[str]] = {}
    for pid, user_id in result.all():
        found.setdefault(pid, []).append(user_id)
    return found


async def set_following(
    *, session: AsyncSession, incident_id: int, partner_id: int, user_id: str, follow: bool
) -> None:
    """Makes someone follow an incident, or stop following it."""
    existing = await session.get(IncidentFollower, (incident_id, partner_id, user_id))
    if follow and existing is None:
        session.add(
            IncidentFollower(incident_id=incident_id, partner_id=partner_id, user_id=user_id)
        )
    elif not follow and existing is not None:
        await session.delete(existing)


async def template_of(*, session: AsyncSession, partner_id: int, kind: str) -> str | None:
    """Gets a partner's own wording of a template, or None for the shipped one."""
    row = await session.get(ApologyTemplate, (partner_id, kind))
    return row.body if row else None


async def templates_by_partner(
    *, session: AsyncSession, partner_ids: list[int], kind: str
) -> dict[int, str]:
    """The partners' own wordings of a template, for those that have one."""
    if not partner_ids:
        return {}
    result = await session.exec(
        select(ApologyTemplate.partner_id, ApologyTemplate.body).where(
            ApologyTemplate.kind == kind, col(ApologyTemplate.partner_id).in_(partner_ids)
        )
    )
    return dict(result.all())


async def recent_for_partner(
    *, session: AsyncSession, partner_id: int, since: datetime, limit: int
) -> list[Incident]:
    """Lists the incidents a partner was alerted about or declared: open ones and recent ones."""
    alerted = select(IncidentAlert.incident_id).where(IncidentAlert.partner_id == partner_id)
    result = await session.exec(
        select(Incident)
        .where(or_(col(Incident.id).in_(alerted), Incident.partner_id == partner_id))
        .where(or_(Incident.is_resolved == False, col(Incident.updated_at) >= since))  # noqa: E712
        .order_by(col(Incident.start_at).desc())
        .limit(limit)
    )
    return list(result.all())
