"""/summary and the App Home tab: who may see the figures, which week a command asks for, and
saving the schedule; each returns what to send."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import Message
from bot.catalogue import Catalogue
from bot.partners.managers import is_manager
from bot.subscriptions.rules import CommissionRule
from bot.summaries import flows
from bot.summaries import messages as summary_messages
from bot.summaries.rules import (
    Schedule,
    ScheduleOff,
    next_run,
    parse_schedule,
    schedule_from,
    week_of,
    when_words,
)
from storage import partners
from storage import summaries as schedules
from storage.models import Partner

WEEKS = ("this-week", "last-week")


async def summary_answer(
    session: AsyncSession,
    text: str,
    *,
    partner: Partner,
    user_id: str,
    now: datetime,
    catalogue: Catalogue,
    rule: CommissionRule,
) -> list[Message]:
    """Answers `/summary [this-week | last-week | schedule …]`, for the partner's managers only."""
    if not await is_manager(session, partner_id=partner.id, user_id=user_id):
        managers = await partners.manager_ids(session=session, partner_id=partner.id)
        return summary_messages.not_a_manager(managers)
    words = text.strip().lower().split()
    if words and words[0] == "schedule":
        return await schedule_answer(
            session, " ".join(words[1:]), partner=partner, user_id=user_id, now=now
        )
    if len(words) > 1 or (words and words[0] not in WEEKS):
        return summary_messages.answer(
            "That is not a /summary command. " + summary_messages.usage_text()
        )
    week = week_of(now, partner.timezone)
    if words == ["last-week"]:
        week = week.previous()
    summary = await flows.build_summary(
        session, partner=partner, week=week, catalogue=catalogue, rule=rule, now=now
    )
    return [summary_messages.summary_message(summary, scheduled=False)]


async def schedule_answer(
    session: AsyncSession, text: str, *, partner: Partner, user_id: str, now: datetime
) -> list[Message]:
    """Saves `<weekday> <HH:MM>` or `off` as the partner's schedule and says what it means; a
    schedule that cannot be read changes nothing."""
    parsed = parse_schedule(text)
    if isinstance(parsed, str):
        return summary_messages.answer(parsed + " Nothing was changed.")
    schedule = await save_schedule(session, parsed, partner=partner, user_id=user_id, now=now)
    if not schedule.enabled:
        return summary_messages.answer(
            "The weekly summary is off; `/summary schedule monday 09:00` turns it on again."
        )
    upcoming = when_words(next_run(schedule, partner.timezone, now), partner.timezone)
    return summary_messages.answer(
        f"The weekly summary goes to <#{partner.manager_channel}> on {schedule.words()} "
        f"({partner.timezone}) — next: {upcoming}."
    )


async def save_schedule(
    session: AsyncSession,
    parsed: Schedule | ScheduleOff,
    *,
    partner: Partner,
    user_id: str,
    now: datetime,
) -> Schedule:
    """Stores a new schedule, or turns the summary off keeping its time; returns what is stored."""
    on = isinstance(parsed, Schedule)
    row = await schedules.save_schedule(
        session=session,
        partner_id=partner.id,
        weekday=parsed.weekday if on else None,
        at_minutes=parsed.at_minutes if on else None,
        enabled=on,
        by=user_id,
        now=now,
    )
    await session.commit()
    return schedule_from(row)


async def home_view(
    session: AsyncSession,
    *,
    partner: Partner,
    user_id: str,
    now: datetime,
    catalogue: Catalogue,
    rule: CommissionRule,
) -> dict:
    """The App Home tab someone sees: this week's summary when they are a manager."""
    manager = await is_manager(session, partner_id=partner.id, user_id=user_id)
    summary = None
    if manager:
        summary = await flows.build_summary(
            session,
            partner=partner,
            week=week_of(now, partner.timezone),
            catalogue=catalogue,
            rule=rule,
            now=now,
        )
    return summary_messages.home_view(is_manager=manager, summary=summary)
