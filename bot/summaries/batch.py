"""Weekly summaries for many partners at once: each figure worked out for every partner whose
week has the same bounds with one grouped query (storage.summary_figures, summary_money,
outage_figures), not partner by partner. A single partner's summary is the same with one."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.catalogue import Catalogue
from bot.outages.credits import credits_owed_between
from bot.outages.owed import credits_owed_of, customer_minutes_of
from bot.outages.rules import plans_with, regions_of
from bot.subscriptions.rules import CommissionRule
from bot.summaries.rules import Summary, Week, WeekFigures, conversion, median_hours
from storage import outage_figures, tenant_checks
from storage import summary_figures as figures
from storage import summary_money as money_figures
from storage.models import Incident, Partner

RENEWALS_SHOWN = 10
CHART_WEEKS = 8
Due = list[tuple[Partner, Week]]


def grouped(due: Due, key: Callable[[Week], Hashable]) -> list[tuple[Week, list[Partner]]]:
    """The partners whose weeks have the same key, with one of those weeks."""
    groups: dict[Hashable, tuple[Week, list[Partner]]] = {}
    for partner, week in due:
        groups.setdefault(key(week), (week, []))[1].append(partner)
    return list(groups.values())


def bounds(week: Week) -> tuple:
    return week.monday, week.start, week.end


async def week_figures_of(
    session: AsyncSession, due: Due, *, catalogue: Catalogue, rule: CommissionRule, now: datetime
) -> dict[int, WeekFigures]:
    """Each partner's figures for its week, by partner id."""
    found: dict[int, WeekFigures] = {}
    for week, partners in grouped(due, bounds):
        found |= await figures_of_group(
            session, partners, week, catalogue=catalogue, rule=rule, now=now
        )
    return found


async def figures_of_group(
    session: AsyncSession,
    partners: list[Partner],
    week: Week,
    *,
    catalogue: Catalogue,
    rule: CommissionRule,
    now: datetime,
) -> dict[int, WeekFigures]:
    ids = [partner.id for partner in partners]
    span = {"session": session, "partner_ids": ids, "start": week.start, "end": week.end}
    orders = await figures.order_figures_of(**span)
    delays = await figures.confirmation_delays_of(**span)
    mrr = await money_figures.revenue_of(
        session=session, partner_ids=ids, days=[week.monday + timedelta(days=6)]
    )
    commission = await money_figures.commission_figures_of(
        session=session,
        partner_ids=ids,
        week_start=week.monday,
        week_end=week.monday + timedelta(days=7),
        rates=(rule.first_year_rate, rule.later_rate),
    )
    hits = await figures.incidents_hitting_of(**span)
    until = min(week.end, now)
    minutes = await customer_minutes_of(
        session, hits=hits, start=week.start, end=until, catalogue=catalogue
    )
    credits = await credits_owed_of(
        session,
        partners=partners,
        services={pid: {incident.service for incident in found} for pid, found in hits.items()},
        start=week.start,
        end=until,
        catalogue=catalogue,
    )
    # A partner whose customers' own service health confirmed an incident the vendor did not
    # place owes those customers too: worked out customer by customer (few partners are).
    confirming = await tenant_checks.partners_with_confirmations(
        session=session,
        partner_ids=ids,
        incident_ids=sorted({incident.id for found in hits.values() for incident in found}),
    )
    for partner in partners:
        if partner.id in confirming:
            credits[partner.id] = sum(
                [
                    await credits_owed_between(
                        session,
                        partner=partner,
                        service=service,
                        start=week.start,
                        end=until,
                        catalogue=catalogue,
                    )  # fmt: skip
                    for service in sorted({incident.service for incident in hits[partner.id]})
                ],
                Decimal(0),
            )
    result = {}
    for pid in ids:
        o = orders[pid]
        decided = o.confirmed + o.declined + o.expired
        result[pid] = WeekFigures(
            o,
            conversion(o.confirmed, decided),
            median_hours(delays[pid]),
            mrr[pid][0],
            commission[pid],
            len(hits[pid]),
            minutes[pid],
            credits[pid],
        )
    return result


def footprints(
    incidents: list[Incident], narrowed: dict[tuple[int, int], list[str]]
) -> list[outage_figures.Footprint]:
    """Where each incident hit, for every partner (its scope, as bot.outages.scope reads it): the
    vendor's regions, every region of a partner's own outage, else a partner's narrowing or,
    for the partners without one, every region."""
    rows = []
    for incident in incidents:
        vendor = regions_of(incident)
        open_ = not vendor and incident.partner_id is None
        for region in vendor or [None]:
            rows.append(outage_figures.Footprint(incident.id, 0, incident.service, region, open_))
        if open_:
            for (pid, iid), regions in narrowed.items():
                if iid == incident.id and regions:
                    rows += [
                        outage_figures.Footprint(iid, pid, incident.service, region, False)
                        for region in regions
                    ]
    return rows


async def at_risk_of(
    session: AsyncSession, due: Due, *, catalogue: Catalogue
) -> dict[int, list[tuple[str, str]]]:
    """Each partner's customers hit by two or more incidents in the last 30 days, or whose
    order expired or was declined in its week."""
    found: dict[int, list[tuple[str, str]]] = {}
    for week, partners in grouped(due, bounds):
        ids = [partner.id for partner in partners]
        since = week.end - timedelta(days=30)
        hits = await figures.incidents_hitting_of(
            session=session, partner_ids=ids, start=since, end=week.end
        )
        incidents = list({i.id: i for group in hits.values() for i in group}.values())
        narrowed = await outage_figures.narrowings(
            session=session, partner_ids=ids, incident_ids=[i.id for i in incidents]
        )
        twice = await outage_figures.names_hit_twice(
            session=session,
            partner_ids=ids,
            incident_ids=[i.id for i in incidents],
            footprints=footprints(incidents, narrowed),
            plans={i.service: plans_with(i.service, catalogue) for i in incidents},
        )
        lost = await figures.lost_order_customers_of(
            session=session, partner_ids=ids, start=week.start, end=week.end
        )
        for pid in ids:
            risky = {
                name: f"hit by {count} incidents in 30 days" for name, count in twice[pid].items()
            }
            for name in lost[pid]:
                reason = "an order expired or was declined this week"
                risky[name] = f"{risky[name]}; {reason}" if name in risky else reason
            found[pid] = sorted(risky.items())
    return found


async def summaries_of(
    session: AsyncSession, due: Due, *, catalogue: Catalogue, rule: CommissionRule, now: datetime
) -> dict[int, Summary]:
    """Everything each partner's summary of its week says, with last week's figures to
    compare; by partner id."""
    options = {"catalogue": catalogue, "rule": rule, "now": now}
    current = await week_figures_of(session, due, **options)
    previous = await week_figures_of(session, [(p, w.previous()) for p, w in due], **options)
    renewals = {}
    for week, partners in grouped(due, lambda w: w.monday):
        start_day = week.monday + timedelta(days=7)
        renewals |= await figures.renewals_due_of(
            session=session,
            partner_ids=[partner.id for partner in partners],
            start=start_day,
            end=start_day + timedelta(days=30),
            limit=RENEWALS_SHOWN,
        )
    risky = await at_risk_of(session, due, catalogue=catalogue)
    return {
        partner.id: Summary(
            partner,
            week,
            current[partner.id],
            previous[partner.id],
            previous[partner.id].mrr,
            *renewals[partner.id],
            risky[partner.id],
        )
        for partner, week in due
    }


def chart_weeks(week: Week) -> list[Week]:
    weeks = [week]
    while len(weeks) < CHART_WEEKS:
        weeks.append(weeks[-1].previous())
    weeks.reverse()
    return weeks


async def chart_histories(
    session: AsyncSession, due: Due
) -> dict[int, list[tuple[str, Decimal, int]]]:
    """Each partner's last 8 weeks' monthly recurring revenue and orders confirmed, oldest
    first; by partner id."""
    found = {}
    for week, partners in grouped(due, lambda w: tuple(bounds(x) for x in chart_weeks(w))):
        weeks = chart_weeks(week)
        points = [
            money_figures.WeekPoint(day=w.monday + timedelta(days=6), start=w.start, end=w.end)
            for w in weeks
        ]
        history = await money_figures.weekly_history_of(
            session=session, partner_ids=[partner.id for partner in partners], weeks=points
        )
        for pid, figures_ in history.items():
            found[pid] = [
                (f"{w.monday.day} {w.monday:%b}", mrr, confirmed)
                for w, (mrr, confirmed) in zip(weeks, figures_, strict=True)
            ]
    return found
