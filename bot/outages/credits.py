"""SLA availability and service credits: what an outage costs each affected customer, for the
closing message, one customer's apology and the weekly summaries."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.catalogue import Catalogue
from bot.money import cents, format_money, format_percent, monthly_value
from bot.outages.closing import CreditLine
from bot.outages.intake import no_impact
from bot.outages.owed import (
    LOOK_BACK,
    credits_owed_of,
    customer_minutes_of,
    intervals_in,
    month_rates,
)
from bot.outages.rules import (
    credit_for,
    format_availability,
    month_of,
    plans_with,
    service_share,
)
from bot.outages.scope import Scope, scope_for, scopes_for
from storage import outages as incident_rows
from storage import tenant_checks
from storage.models import Customer, Incident, Partner
from storage.tenant_checks import CONFIRMED, NOT_LISTED, UNKNOWN

HEALTH_WORDS = {CONFIRMED: "confirmed", UNKNOWN: "unknown", "": "not asked yet"}


async def service_fees(
    session: AsyncSession,
    *,
    partner: Partner,
    service: str,
    regions: list[str],
    catalogue: Catalogue,
) -> dict[int, tuple[Customer, Decimal]]:
    """Each affected customer with the part of its monthly fees that pays for the service."""
    pairs = await incident_rows.affected_subscriptions(
        session=session,
        partner_id=partner.id,
        plan_codes=plans_with(service, catalogue),
        regions=regions,
    )
    fees: dict[int, tuple[Customer, Decimal]] = {}
    for customer, subscription in pairs:
        plan = catalogue.get(subscription.plan_code)
        share = service_share(plan, service, catalogue) if plan else Decimal(1)
        monthly = monthly_value(subscription.seats, subscription.unit_price)
        fees[customer.id] = (
            customer,
            fees.get(customer.id, (customer, Decimal(0)))[1] + monthly * share,
        )
    return fees


def intervals_for(
    customer: Customer, incidents: list[Incident], scopes: dict[int, Scope], *, until: datetime
) -> list[tuple[datetime, datetime]]:
    """The downtime of incidents in the customer's region (by each one's scope for the
    customer's partner), as known at a moment."""
    return intervals_in(customer.region, incidents, scopes, until=until)


async def month_downtime(
    session: AsyncSession, *, partner: Partner, service: str, start: datetime, end: datetime
) -> tuple[list[Incident], dict[int, Scope]]:
    """The incidents of a service a partner's customers may have been down in, over a period
    (looking back far enough for a month), with their scopes for the partner."""
    incidents = await incident_rows.incidents_overlapping(
        session=session, service=service, start=start - LOOK_BACK, end=end, partner_id=partner.id
    )
    return incidents, await scopes_for(session, incidents, partner.id)


async def credits_for_partner(
    session: AsyncSession,
    incident: Incident,
    partner: Partner,
    catalogue: Catalogue,
    now: datetime,
    scope: Scope | None = None,
    answers: dict[int, tuple[str, str]] | None = None,
) -> list[tuple[Customer, CreditLine, dict | None]]:
    """Works out, per affected customer, this month's availability of the service and its
    credit: from the month's incidents of the service in the customer's region (overlaps
    counted once) up to the incident's end, against the service's share of the customer's
    monthly fees. With the incident's scope known, that is the credit owed, from the incidents
    known to have hit the customer; unknown, it is what the customer can claim if it was
    affected (by every incident that may have hit it). With `answers` (the customers' own
    service health, asked for a connected partner), a confirmed customer's credit is owed, one
    whose service health does not list the incident gets none, and the rest can claim theirs.
    A false positive owes nobody anything."""
    if no_impact(incident.status):
        return []
    scope = scope or await scope_for(session, incident, partner.id)
    moment = incident.end_at or now
    fees = await service_fees(
        session,
        partner=partner,
        service=incident.service,
        regions=scope.regions,
        catalogue=catalogue,
    )
    incidents, scopes = await month_downtime(
        session, partner=partner, service=incident.service, start=moment, end=moment
    )
    known_incidents = [other for other in incidents if scopes[other.id].known]
    if scope.known:
        incidents = known_incidents
    results = []
    for customer, fee in fees.values():
        found = answers.get(customer.id, ("", ""))[0] if answers is not None else ""
        if found == NOT_LISTED:
            continue  # its own service health says the incident did not hit it
        owed = scope.known or found == CONFIRMED
        counted = incidents
        if found == CONFIRMED:
            # Owed: the incidents known to have hit it, this one (confirmed) among them.
            counted = known_incidents + [incident]
        month = month_of(moment, customer.timezone or partner.timezone)
        intervals = intervals_for(customer, counted, scopes, until=max(moment, now))
        credit = credit_for(intervals=intervals, month=month, fee=fee)
        line = CreditLine(
            customer=customer.name,
            availability=format_availability(credit.available),
            credit=format_money(credit.amount) if credit.amount else "",
            rate=format_percent(credit.rate),
            amount=credit.amount,
            domain=customer.domain,
            owed=owed,
            health=HEALTH_WORDS.get(found, "") if answers is not None else "",
        )
        context = (
            {
                "availability": line.availability,
                "amount": line.credit,
                "rate": line.rate,
                "owed": owed,
            }
            if line.credit
            else None
        )
        results.append((customer, line, context))
    return results


async def credits_owed_between(
    session: AsyncSession,
    *,
    partner: Partner,
    service: str,
    start: datetime,
    end: datetime,
    catalogue: Catalogue,
) -> Decimal:
    """The service credits that became owed within a period: per customer and month, the
    month-to-date credit at the period's end less the one at its start (so a month's credit is
    never counted twice, however many incidents or weeks it spans). Only incidents whose scope
    is known count, and for a customer also those its own service health confirmed: one the
    vendor did not place is otherwise a credit a customer may claim, not owed. Without such
    confirmations this is bot.outages.owed.credits_owed_of for one partner."""
    every, scopes = await month_downtime(
        session, partner=partner, service=service, start=start, end=end
    )
    confirmed = await tenant_checks.confirmed_pairs(
        session=session,
        partner_id=partner.id,
        incident_ids=[incident.id for incident in every if not scopes[incident.id].known],
    )
    if not confirmed:
        owed = await credits_owed_of(
            session,
            partners=[partner],
            services={partner.id: {service}},
            start=start,
            end=end,
            catalogue=catalogue,
        )
        return owed[partner.id]
    fees = await service_fees(
        session, partner=partner, service=service, regions=[], catalogue=catalogue
    )
    known = [incident for incident in every if scopes[incident.id].known]
    owed = Decimal(0)
    for customer, fee in fees.values():
        incidents = known + [i for i in every if (i.id, customer.id) in confirmed]
        time_zone = customer.timezone or partner.timezone
        for after, before in month_rates(
            customer.region, time_zone, incidents, scopes, start=start, end=end
        ):
            owed += cents(fee * after) - cents(fee * before)
    return owed


async def customer_minutes_between(
    session: AsyncSession,
    *,
    partner: Partner,
    incidents: list[Incident],
    start: datetime,
    end: datetime,
    catalogue: Catalogue,
) -> int:
    """Customer-minutes of outage within a period: for each incident, the partner's customers
    in its scope (those who may have been affected, when the vendor did not say where) times
    the seconds it lasted within the period, added up, then rounded to minutes once."""
    minutes = await customer_minutes_of(
        session, hits={partner.id: incidents}, start=start, end=end, catalogue=catalogue
    )
    return minutes[partner.id]
