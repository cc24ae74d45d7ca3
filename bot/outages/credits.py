"""SLA availability and service credits: what an outage costs each affected customer, for the
closing message, one customer's apology and the weekly summaries."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.catalogue import Catalogue
from bot.money import format_money, format_percent, monthly_value
from bot.outages.intake import no_impact
from bot.outages.messages import CreditLine
from bot.outages.rules import (
    credit_for,
    format_availability,
    month_of,
    plans_with,
    regions_of,
    service_share,
)
from storage import outages as incident_rows
from storage.models import Customer, Incident, Partner

# How far back an incident may have started and still count in the month being worked out.
LOOK_BACK = timedelta(days=33)


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
    customer: Customer, incidents: list[Incident], *, until: datetime
) -> list[tuple[datetime, datetime]]:
    """The downtime of incidents in the customer's region, as known at a moment."""
    return [
        (incident.start_at, min(incident.end_at or until, until))
        for incident in incidents
        if incident.start_at < until
        and not no_impact(incident.status)  # a false positive was no downtime
        and (not regions_of(incident) or customer.region in regions_of(incident))
    ]


async def credits_for_partner(
    session: AsyncSession, incident: Incident, partner: Partner, catalogue: Catalogue, now: datetime
) -> list[tuple[Customer, CreditLine, dict | None]]:
    """Works out, per affected customer, this month's availability of the service and the credit
    owed: from all of the month's incidents of the service in the customer's region (overlaps
    counted once) up to the incident's end, against the service's share of the customer's
    monthly fees. A false positive owes nobody anything."""
    if no_impact(incident.status):
        return []
    moment = incident.end_at or now
    fees = await service_fees(
        session,
        partner=partner,
        service=incident.service,
        regions=regions_of(incident),
        catalogue=catalogue,
    )
    month_incidents = await incident_rows.incidents_overlapping(
        session=session,
        service=incident.service,
        start=moment - LOOK_BACK,
        end=moment,
        partner_id=partner.id,
    )
    results = []
    for customer, fee in fees.values():
        month = month_of(moment, customer.timezone or partner.timezone)
        intervals = intervals_for(customer, month_incidents, until=max(moment, now))
        credit = credit_for(intervals=intervals, month=month, fee=fee)
        line = CreditLine(
            customer=customer.name,
            availability=format_availability(credit.available),
            credit=format_money(credit.amount) if credit.amount else "",
            rate=format_percent(credit.rate),
        )
        context = (
            {"availability": line.availability, "amount": line.credit, "rate": line.rate}
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
    never counted twice, however many incidents or weeks it spans)."""
    fees = await service_fees(
        session, partner=partner, service=service, regions=[], catalogue=catalogue
    )
    incidents = await incident_rows.incidents_overlapping(
        session=session,
        service=service,
        start=start - LOOK_BACK,
        end=end,
        partner_id=partner.id,
    )
    owed = Decimal(0)
    for customer, fee in fees.values():
        time_zone = customer.timezone or partner.timezone
        moment = start
        while moment < end:
            month = month_of(moment, time_zone)
            stop = min(month[1], end)
            after = credit_for(
                intervals=intervals_for(customer, incidents, until=stop), month=month, fee=fee
            ).amount
            before = credit_for(
                intervals=intervals_for(customer, incidents, until=moment), month=month, fee=fee
            ).amount
            owed += after - before
            moment = stop
    return owed
