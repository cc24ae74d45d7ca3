"""What outages cost in a period, for many partners at once (the scheduled weekly summaries):
customer-minutes, and the service credits that became owed, from a few grouped queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.catalogue import Catalogue
from bot.money import cents, format_money, format_percent, monthly_value
from bot.outages.closing import CreditLine
from bot.outages.intake import no_impact
from bot.outages.rules import (
    credit_for,
    customer_minutes,
    format_availability,
    month_of,
    plans_with,
    service_share,
)
from bot.outages.scope import Scope, scope_of
from storage import outage_figures
from storage.models import Incident, Partner

# How far back an incident may have started and still count in the month being worked out.
LOOK_BACK = timedelta(days=33)


def intervals_in(
    region: str, incidents: list[Incident], scopes: dict[int, Scope], *, until: datetime
) -> list[tuple[datetime, datetime]]:
    """The downtime of incidents in a region (by each one's scope for the partner), as known
    at a moment."""
    return [
        (incident.start_at, min(incident.end_at or until, until))
        for incident in incidents
        if incident.start_at < until
        and not no_impact(incident.status)  # a false positive was no downtime
        and (not scopes[incident.id].regions or region in scopes[incident.id].regions)
    ]


async def scopes_of(
    session: AsyncSession, partner_ids: Sequence[int], incidents: list[Incident]
) -> dict[int, dict[int, Scope]]:
    """Each partner's scopes of some incidents: by partner id, then incident id."""
    narrowed = await outage_figures.narrowings(
        session=session, partner_ids=partner_ids, incident_ids=[i.id for i in incidents]
    )
    return {
        pid: {i.id: scope_of(i, narrowed.get((pid, i.id))) for i in incidents}
        for pid in partner_ids
    }


async def customer_minutes_of(
    session: AsyncSession,
    *,
    hits: dict[int, list[Incident]],
    start: datetime,
    end: datetime,
    catalogue: Catalogue,
) -> dict[int, int]:
    """Each partner's customer-minutes of its incidents within a period (by partner id): the
    customers in each incident's scope times the seconds it lasted within the period, added up,
    then rounded to minutes once. One query per service for every partner."""
    incidents = list({i.id: i for found in hits.values() for i in found}.values())
    scopes = await scopes_of(session, list(hits), incidents)
    counts = {}
    for service in sorted({i.service for i in incidents}):
        counts[service] = await outage_figures.customers_by_region(
            session=session,
            partner_ids=[
                pid for pid, found in hits.items() if any(i.service == service for i in found)
            ],
            plan_codes=plans_with(service, catalogue),
        )
    minutes = {}
    for pid, found in hits.items():
        seconds = 0
        for incident in found:
            if no_impact(incident.status):
                continue
            regions = counts[incident.service].get(pid, {})
            scope = scopes[pid][incident.id].regions
            customers = sum(n for region, n in regions.items() if not scope or region in scope)
            lasted = min(incident.end_at or end, end) - max(incident.start_at, start)
            seconds += customers * max(int(lasted.total_seconds()), 0)
        minutes[pid] = customer_minutes(seconds)
    return minutes


async def credits_owed_of(
    session: AsyncSession,
    *,
    partners: Sequence[Partner],
    services: dict[int, set[str]],
    start: datetime,
    end: datetime,
    catalogue: Catalogue,
) -> dict[int, Decimal]:
    """The service credits that became owed within a period, per partner (by id), for the
    services given for it: per customer and month, the month-to-date credit at the period's end
    less the one at its start (so a month's credit is never counted twice, however many
    incidents or weeks it spans). Only incidents whose scope is known count: one the vendor did
    not place is a credit a customer may claim, not owed. A few queries per service."""
    owed = {partner.id: Decimal(0) for partner in partners}
    by_id = {partner.id: partner for partner in partners}
    for service in sorted(set().union(*services.values()) if services else set()):
        pids = [pid for pid in owed if service in services.get(pid, ())]
        incidents = await outage_figures.incidents_of_service(
            session=session, service=service, start=start - LOOK_BACK, end=end, partner_ids=pids
        )
        scopes = await scopes_of(session, pids, incidents)
        known = {
            pid: [i for i in incidents if i.partner_id in (None, pid) and scopes[pid][i.id].known]
            for pid in pids
        }
        pids = [pid for pid in pids if known[pid]]  # nothing known: nothing owed
        places = {tuple(scopes[pid][i.id].regions) for pid in pids for i in known[pid]}
        regions = [] if () in places else sorted({r for place in places for r in place})
        plans = plans_with(service, catalogue)
        rows = await outage_figures.fee_rows(
            session=session, partner_ids=pids, plan_codes=plans, regions=regions
        )
        # Partners alerted about the same incidents, scoped alike, share their rates.
        signature = {
            pid: tuple((i.id, tuple(scopes[pid][i.id].regions)) for i in known[pid]) for pid in pids
        }
        rates: dict[tuple, list[tuple[Decimal, Decimal]]] = {}
        fees = fees_by_customer(rows, service, catalogue)
        for (pid, _), (region, time_zone, fee) in fees.items():
            zone = time_zone or by_id[pid].timezone
            key = (signature[pid], region, zone)
            if key not in rates:
                rates[key] = month_rates(
                    region, zone, known[pid], scopes[pid], start=start, end=end
                )
            for after, before in rates[key]:
                owed[pid] += cents(fee * after) - cents(fee * before)
    return owed


def fees_by_customer(
    rows: list[outage_figures.FeeRow], service: str, catalogue: Catalogue
) -> dict[tuple[int, int], tuple[str, str | None, Decimal]]:
    """Each customer's region, time zone and the part of its monthly fees that pays for the
    service, by (partner id, customer id)."""
    shares: dict[str, Decimal] = {}
    fees: dict[tuple[int, int], tuple[str, str | None, Decimal]] = {}
    for row in rows:
        if row.plan_code not in shares:
            plan = catalogue.get(row.plan_code)
            shares[row.plan_code] = service_share(plan, service, catalogue) if plan else Decimal(1)
        price = (Decimal(row.unit_cents) / 100).quantize(Decimal("0.01"))
        monthly = monthly_value(row.seats, price) * shares[row.plan_code]
        key = (row.partner_id, row.customer_id)
        earlier = fees.get(key)
        fees[key] = (row.region, row.timezone, (earlier[2] if earlier else Decimal(0)) + monthly)
    return fees


def month_rates(
    region: str,
    time_zone: str,
    incidents: list[Incident],
    scopes: dict[int, Scope],
    *,
    start: datetime,
    end: datetime,
) -> list[tuple[Decimal, Decimal]]:
    """For each month a period touches (in a time zone), the credit rate of a customer in a
    region at the end of the period's part of the month, and at its start."""
    found = []
    moment = start
    while moment < end:
        month = month_of(moment, time_zone)
        stop = min(month[1], end)
        after = credit_for(
            intervals=intervals_in(region, incidents, scopes, until=stop),
            month=month,
            fee=Decimal(0),
        ).rate
        before = credit_for(
            intervals=intervals_in(region, incidents, scopes, until=moment),
            month=month,
            fee=Decimal(0),
        ).rate
        found.append((after, before))
        moment = stop
    return found


async def credits_at_resolution(
    session: AsyncSession,
    incident: Incident,
    *,
    partners: dict[int, Partner],
    scopes: dict[int, Scope],
    catalogue: Catalogue,
    now: datetime,
) -> dict[int, list[CreditLine]]:
    """Every partner's credit lines of a resolved incident at once (by partner id), as
    bot.outages.credits.credits_for_partner works them out for one: per affected customer, this
    month's availability of the service and its credit, from the month's incidents of the
    service in its region up to the incident's end."""
    if no_impact(incident.status) or not partners:
        return {}
    pids = sorted(partners)
    moment = incident.end_at or now
    places = {tuple(scopes[pid].regions) for pid in pids}
    rows = await outage_figures.fee_rows(
        session=session,
        partner_ids=pids,
        plan_codes=plans_with(incident.service, catalogue),
        regions=[] if () in places else sorted({r for place in places for r in place}),
    )
    others = await outage_figures.incidents_of_service(
        session=session,
        service=incident.service,
        start=moment - LOOK_BACK,
        end=moment,
        partner_ids=pids,
    )
    their_scopes = await scopes_of(session, pids, others)
    names = {(row.partner_id, row.customer_id): (row.name, row.domain) for row in rows}
    lines: dict[int, list[CreditLine]] = {pid: [] for pid in pids}
    credits: dict[tuple, tuple[Decimal, Decimal]] = {}
    fees = fees_by_customer(rows, incident.service, catalogue)
    counted: dict[int, tuple[list[Incident], tuple]] = {}
    for pid in pids:
        # With the incident's scope known, only the incidents known to have hit count.
        found = [
            other
            for other in others
            if other.partner_id in (None, pid)
            and (their_scopes[pid][other.id].known or not scopes[pid].known)
        ]
        counted[pid] = (found, tuple((i.id, tuple(their_scopes[pid][i.id].regions)) for i in found))
    for (pid, customer_id), (region, time_zone, fee) in fees.items():
        regions = scopes[pid].regions
        if regions and region not in regions:
            continue  # outside this partner's scope (another partner's scope is wider)
        zone = time_zone or partners[pid].timezone
        key = (counted[pid][1], region, zone)
        if key not in credits:
            incidents = counted[pid][0]
            credit = credit_for(
                intervals=intervals_in(
                    region, incidents, their_scopes[pid], until=max(moment, now)
                ),
                month=month_of(moment, zone),
                fee=Decimal(0),
            )
            credits[key] = (credit.available, credit.rate)
        available, rate = credits[key]
        amount = cents(fee * rate)
        name, domain = names[(pid, customer_id)]
        lines[pid].append(
            CreditLine(
                customer=name,
                availability=format_availability(available),
                credit=format_money(amount) if amount else "",
                rate=format_percent(rate),
                amount=amount,
                domain=domain,
                owed=scopes[pid].known,
            )
        )
    return lines
