"""A weekly summary (bot.summaries.batch works out what it says); and the scheduled run, claimed
in the run ledger before the summary goes to the outbox, so it is posted once per partner and
week."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from datetime import datetime
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.catalogue import Catalogue
from bot.outbox.rows import post_message
from bot.subscriptions.rules import CommissionRule
from bot.summaries import batch, chart
from bot.summaries import messages as summary_messages
from bot.summaries.rules import Summary, Week, due_week, schedule_from
from storage import outbox
from storage import summaries as runs
from storage.db import Sessions
from storage.models import Partner

# Batches of partners whose scheduled summaries are built at once: the database works on one
# while Python draws another's charts.
SUMMARY_CONCURRENCY = 2
BATCH = 500  # partners whose figures one set of grouped queries works out


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
    summaries = await batch.summaries_of(
        session, [(partner, week)], catalogue=catalogue, rule=rule, now=now
    )
    return summaries[partner.id]


async def chart_history(
    session: AsyncSession, *, partner: Partner, week: Week
) -> list[tuple[str, Decimal, int]]:
    """The last 8 weeks' monthly recurring revenue and orders confirmed, oldest first."""
    return (await batch.chart_histories(session, [(partner, week)]))[partner.id]


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
    """Posts every partner's scheduled summary that is due, once: the (partner, week) rows are
    claimed in the run ledger in the same transaction that queues the summaries and their
    charts, so another process, a restart or a second run finds them taken (and queues
    nothing). The figures are worked out for a batch of partners at once (grouped queries),
    a few batches at a time, so the database works on one while Python draws another's charts.
    `timings` gets each partner's share of its batch's seconds."""
    async with sessions() as session:
        due = [
            (partner, week)
            for partner, row in await runs.scheduled_partners(session=session)
            if (week := due_week(schedule_from(row), partner.timezone, now)) is not None
        ]
        taken = await runs.claimed(
            session=session, runs=[(partner.id, week.monday) for partner, week in due]
        )
    due = [(partner, week) for partner, week in due if (partner.id, week.monday) not in taken]
    slots = asyncio.Semaphore(concurrency)

    async def one(chunk: batch.Due) -> int:
        async with slots:
            started = time.perf_counter()
            posted = await post_batch(sessions, chunk, catalogue=catalogue, rule=rule, now=now)
            if timings is not None:
                timings.extend([(time.perf_counter() - started) / len(chunk)] * len(chunk))
            return posted

    chunks = [due[i : i + BATCH] for i in range(0, len(due), BATCH)]
    return sum(await asyncio.gather(*(one(chunk) for chunk in chunks)))


async def post_batch(
    sessions: Sessions,
    due: batch.Due,
    *,
    catalogue: Catalogue,
    rule: CommissionRule,
    now: datetime,
) -> int:
    """Builds a batch of partners' summaries and charts, then claims their runs and queues
    those it got, in one transaction; how many it queued."""
    async with sessions() as session:
        summaries = await batch.summaries_of(session, due, catalogue=catalogue, rule=rule, now=now)
        histories = await batch.chart_histories(session, due)
    # Drawn off the event loop, so requests go on meanwhile.
    rows = await asyncio.to_thread(
        lambda: {
            partner.id: summary_rows(summaries[partner.id], histories[partner.id], now)
            for partner, _ in due
        }
    )
    async with sessions() as session:
        got = await runs.claim_runs(
            session=session,
            runs=[(partner.id, week.monday) for partner, week in due],
            now=now,
            by=worker_name(),
        )
        await outbox.add(session=session, rows=[row for pid in got for row in rows[pid]])
        await session.commit()
    return len(got)


def summary_rows(
    summary: Summary, history: list[tuple[str, Decimal, int]], now: datetime
) -> list[dict]:
    """A scheduled summary's outbox rows: the message, and its chart in its thread."""
    partner, week = summary.partner, summary.week
    key = f"summary:{partner.id}:{week.monday.isoformat()}"
    message = summary_messages.summary_message(summary, scheduled=True)
    png = chart.weekly_chart(history, title=f"{partner.name}: last {len(history)} weeks")
    return [
        post_message(
            key=key,
            channel=partner.manager_channel,
            message=message,
            partner_id=partner.id,
            now=now,
        ),
        upload_row(
            key=f"{key}:chart",
            channel=partner.manager_channel,
            png=png,
            partner_id=partner.id,
            parent_key=key,
            now=now,
            title=f"Weekly chart, week of {week.words()}",
        ),
    ]


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
    # Drawn off the event loop, so requests go on meanwhile.
    rows = await asyncio.to_thread(summary_rows, summary, history, now)
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
