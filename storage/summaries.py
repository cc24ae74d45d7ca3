"""When each partner's weekly summary is posted (its schedule), and the run ledger that makes a
scheduled summary happen once per partner and week."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Partner, SummaryRun, SummarySchedule
from storage.outages import dialect_insert


async def schedule_of(*, session: AsyncSession, partner_id: int) -> SummarySchedule | None:
    return await session.get(SummarySchedule, partner_id)


async def scheduled_partners(
    *, session: AsyncSession
) -> list[tuple[Partner, SummarySchedule | None]]:
    """Every approved partner with its schedule (None: the default, Mondays at 09:00)."""
    result = await session.exec(
        select(Partner, SummarySchedule)
        .join(SummarySchedule, col(SummarySchedule.partner_id) == Partner.id, isouter=True)
        .where(col(Partner.approved_at).is_not(None))
        .order_by(Partner.id)
    )
    return list(result.all())


async def claim_run(
    *, session: AsyncSession, partner_id: int, week_start: date, now: datetime, by: str
) -> bool:
    """Claims the scheduled summary of a partner's week; True for the one caller that got it."""
    statement = dialect_insert(session)(SummaryRun).values(
        partner_id=partner_id, week_start=week_start, claimed_at=now, claimed_by=by[:100]
    )
    result = await session.exec(
        statement.on_conflict_do_nothing(index_elements=["partner_id", "week_start"])
    )
    return result.rowcount == 1


async def save_schedule(
    *,
    session: AsyncSession,
    partner_id: int,
    weekday: int | None,
    at_minutes: int | None,
    enabled: bool,
    by: str,
    now: datetime,
) -> SummarySchedule:
    """Sets when a partner's summary is posted (or turns it off, keeping the time)."""
    row = await session.get(SummarySchedule, partner_id) or SummarySchedule(partner_id=partner_id)
    if weekday is not None and at_minutes is not None:
        row.weekday, row.at_minutes = weekday, at_minutes
    row.enabled, row.updated_by, row.updated_at = enabled, by, now
    session.add(row)
    await session.flush()
    return row


async def run_claimed(*, session: AsyncSession, partner_id: int, week_start: date) -> bool:
    """Tells whether a partner's week has been claimed already (a cheap check before building)."""
    return await session.get(SummaryRun, (partner_id, week_start)) is not None


async def claimed(*, session: AsyncSession, runs: list[tuple[int, date]]) -> set[tuple[int, date]]:
    """Which of some (partner, week) runs have been claimed already."""
    if not runs:
        return set()
    result = await session.exec(
        select(SummaryRun.partner_id, SummaryRun.week_start).where(
            col(SummaryRun.partner_id).in_({pid for pid, _ in runs}),
            col(SummaryRun.week_start).in_({week for _, week in runs}),
        )
    )
    return set(result.all()) & set(runs)


async def claim_runs(
    *, session: AsyncSession, runs: list[tuple[int, date]], now: datetime, by: str
) -> set[int]:
    """Claims the scheduled summaries of several partners' weeks in one statement; the ids of
    the partners whose run this call got (another process or an earlier run has the rest)."""
    if not runs:
        return set()
    statement = (
        dialect_insert(session)(SummaryRun)
        .values(
            [
                {"partner_id": pid, "week_start": week, "claimed_at": now, "claimed_by": by[:100]}
                for pid, week in runs
            ]
        )
        .on_conflict_do_nothing(index_elements=["partner_id", "week_start"])
        .returning(SummaryRun.partner_id)
    )
    result = await session.exec(statement)
    return {pid for (pid,) in result.all()}
