"""What a weekly summary says, from SQL aggregates; and the scheduled run, claimed in the run
ledger before the summary goes to the outbox, so it is posted once per partner and week."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.catalogue import Catalogue
from bot.outages.credits import credits_owed_between, customer_minutes_between
from bot.outages.rules import plans_with
from bot.outages.scope import scope_for
from bot.outbox.rows import post_message
from bot.subscriptions.rules import CommissionRule
from bot.summaries import chart
from bot.summaries import messages as summary_messages
from bot.summaries.rules import (
    Summary,
    Week,
    WeekFigures,
    conversion,
    due_week,
    median_hours,
    schedule_from,
)
from storage import outages as incident_rows
from storage import outbox
from storage import summaries as runs
from storage import summary_figures as figures
from storage import summary_money as money_figures
from storage.db import Sessions
from storage.models import Partner

RENEWALS_SHOWN = 10
CHART_WEEKS = 8
# Partners whose scheduled summaries are built at once: the database works on one while Python
# draws another's chart; more would only queue for the pool's connections.
SUMMARY_CONCURRENCY = 4


async def week_figures(
    session: AsyncSession,
    *,
    partner: Partner,
    week: Week,
    catalogue: Catalogue,
    rule: CommissionRule,
    now: datetime,
) -> WeekFigures:
    orders = await figures.order_figures(
        session=session, partner_id=partner.id, start=week.start, end=week.end
    )
    delays = await figures.confirmation_delays(
        session=session, partner_id=partner.id, start=week.start, end=week.end
    )
    last_day = week.monday + timedelta(days=6)
    mrr = await money_figures.monthly_revenue_at(
        session=session, partner_id=partner.id, day=last_day
    )
    commission = await money_figures.commission_figures(
        session=session,
        partner_id=partner.id,
        week_start=week.monday,
        week_end=week.monday + timedelta(days=7),
        rates=(rule.first_year_rate, rule.later_rate),
    )
    incidents, minutes, credits = await outage_figures(
        session, partner=partner, week=week, catalogue=catalogue, now=now
    )
    decided = orders.confirmed + orders.declined + orders.expired
    return WeekFigures(
        orders,
        conversion(orders.confirmed, decided),
        median_hours(delays),
        mrr,
        commission,
        incidents,
        minutes,
        credits,
    )


async def outage_figures(
    session: AsyncSession, *, partner: Partner, week: Week, catalogue: Catalogue, now: datetime
) -> tuple[int, int, Decimal]:
    """Incidents that hit the partner's customers in the week, their customer-minutes (affected
    customers × minutes within the week), and the SLA credits that became owed in it."""
    hits = await figures.incidents_hitting(
        session=session, partner_id=partner.id, start=week.start, end=week.end
    )
    minutes = await customer_minutes_between(
        session,
        partner=partner,
        incidents=hits,
        start=week.start,
        end=min(week.end, now),
        catalogue=catalogue,
    )
    credits = Decimal(0)
    for service in sorted({incident.service for incident in hits}):
        credits += await credits_owed_between(
            session,
            partner=partner,
            service=service,
            start=week.start,
            end=min(week.end, now),
            catalogue=catalogue,
        )
    return len(hits), minutes, credits


async def at_risk(
    session: AsyncSession, *, partner: Partner, week: Week, catalogue: Catalogue, now: datetime
) -> list[tuple[str, str]]:
    """Customers hit by two or more incidents in the last 30 days, or whose order expired or was
    declined this week."""
    since = week.end - timedelta(days=30)
    hits: dict[str, int] = {}
    for incident in await figures.incidents_hitting(
        session=session, partner_id=partner.id, start=since, end=week.end
    ):
        affected = await incident_rows.affected_customers(
            session=session,
            partner_id=partner.id,
            plan_codes=plans_with(incident.service, catalogue),
            regions=(await scope_for(session, incident, partner.id)).regions,
        )
        for row in affected:
            hits[row.customer.name] = hits.get(row.customer.name, 0) + 1
    risky = {
        name: f"hit by {count} incidents in 30 days" for name, count in hits.items() if count >= 2
    }
    for name in await figures.lost_order_customers(
        session=session, partner_id=partner.id, start=week.start, end=week.end
    ):
        reason = "an order expired or was declined this week"
        risky[name] = f"{risky[name]}; {reason}" if name in risky else reason
    return sorted(risky.items())


async def build_summary(
    session: AsyncSession,
    *,
    partner: Partner,
    week: Week,
    catalogue: Catalogue,
    rule: CommissionRule,
    now: datetime,
) -> Summary:
    """Works out everything a week's summary says, with last week's figures to compare."""
    current = await week_figures(
        session, partner=partner, week=week, catalogue=catalogue, rule=rule, now=now
    )
    previous = await week_figures(
        session, partner=partner, week=week.previous(), catalogue=catalogue, rule=rule, now=now
    )
    start_day = week.monday + timedelta(days=7)
    renewals, total = await figures.renewals_due(
        session=session,
        partner_id=partner.id,
        start=start_day,
        end=start_day + timedelta(days=30),
        limit=RENEWALS_SHOWN,
    )
    return Summary(
        partner,
        week,
        current,
        previous,
        previous.mrr,
        renewals,
        total,
        await at_risk(session, partner=partner, week=week, catalogue=catalogue, now=now),
    )


async def chart_history(
    session: AsyncSession, *, partner: Partner, week: Week
) -> list[tuple[str, Decimal, int]]:
    """The last 8 weeks' monthly recurring revenue and orders confirmed, oldest first."""
    weeks = [week]
    while len(weeks) < CHART_WEEKS:
        weeks.append(weeks[-1].previous())
    weeks.reverse()
    points = [
        money_figures.WeekPoint(day=w.monday + timedelta(days=6), start=w.start, end=w.end)
        for w in weeks
    ]
    history = await money_figures.weekly_history(
        session=session, partner_id=partner.id, weeks=points
    )
    return [
        (f"{w.monday.day} {w.monday:%b}", mrr, confirmed)
        for w, (mrr, confirmed) in zip(weeks, history, strict=True)
    ]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def post_due_summaries(
    sessions: Sessions,
    *,
    catalogue: Catalogue,
    rule: CommissionRule,
    now: datetime,
    concurrency: int = SUMMARY_CONCURRENCY,
    timings: list[float] | None = None,
) -> int:
    """Posts every partner's scheduled summary that is due, once: the (partner, week) row is
    claimed in the run ledger in the same transaction that queues the summary and its chart, so
    another process, a restart or a second run finds it taken (and queues nothing). A few
    partners are worked on at once, each in a session of its own, so the database works on one
    partner's figures while Python draws another's chart. `timings` gets each partner's seconds."""
    async with sessions() as session:
        due = [
            (partner, week)
            for partner, row in await runs.scheduled_partners(session=session)
            if (week := due_week(schedule_from(row), partner.timezone, now)) is not None
        ]
    slots = asyncio.Semaphore(concurrency)

    async def one(partner: Partner, week: Week) -> bool:
        async with slots:
            started = time.perf_counter()
            async with sessions() as session:
                posted = await post_summary(
                    session, partner=partner, week=week, catalogue=catalogue, rule=rule, now=now
                )
            if timings is not None:
                timings.append(time.perf_counter() - started)
            return posted

    return sum(await asyncio.gather(*(one(partner, week) for partner, week in due)))


async def post_summary(
    session: AsyncSession,
    *,
    partner: Partner,
    week: Week,
    catalogue: Catalogue,
    rule: CommissionRule,
    now: datetime,
) -> bool:
    """Builds one partner's summary and chart, then claims its (partner, week) run and queues
    them; False when another process or an earlier run has it."""
    if await runs.run_claimed(session=session, partner_id=partner.id, week_start=week.monday):
        return False
    # Built before the claim, so the write transaction that claims and queues stays short.
    summary = await build_summary(
        session, partner=partner, week=week, catalogue=catalogue, rule=rule, now=now
    )
    history = await chart_history(session, partner=partner, week=week)
    key = f"summary:{partner.id}:{week.monday.isoformat()}"
    message = summary_messages.summary_message(summary, scheduled=True)
    rows = [
        post_message(
            key=key,
            channel=partner.manager_channel,
            message=message,
            partner_id=partner.id,
            now=now,
        )
    ]
    # Drawn off the event loop, so requests go on meanwhile.
    png = await asyncio.to_thread(
        chart.weekly_chart, history, title=f"{partner.name}: last {len(history)} weeks"
    )
    rows.append(
        upload_row(
            key=f"{key}:chart",
            channel=partner.manager_channel,
            png=png,
            partner_id=partner.id,
            parent_key=key,
            now=now,
            title=f"Weekly chart, week of {week.words()}",
        )
    )
    await session.commit()  # ends the reads
    if not await runs.claim_run(
        session=session,
        partner_id=partner.id,
        week_start=week.monday,
        now=now,
        by=worker_name(),
    ):
        await session.rollback()
        return False
    await outbox.add(session=session, rows=rows)
    await session.commit()
    return True


def upload_row(
    *,
    key: str,
    channel: str,
    png: bytes,
    partner_id: int,
    parent_key: str,
    now: datetime,
    title: str,
) -> dict:
    """An outbox row that uploads a PNG into the thread of the message it belongs to."""
    row = post_message(
        key=key,
        channel=channel,
        message=summary_messages.chart_note(),
        partner_id=partner_id,
        now=now,
    )
    payload = {
        "content_b64": base64.b64encode(png).decode(),
        "filename": "weekly-chart.png",
        "title": title,
    }
    return {
        **row,
        "method": "files.upload_v2",
        "parent_key": parent_key,
        "payload": json.dumps(payload),
    }
