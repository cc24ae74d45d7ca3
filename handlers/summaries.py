"""Slack listeners for /summary, /partnerbot managers and the App Home tab."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from bot.partners.managers import is_manager
from bot.services import Services
from bot.summaries import flows
from bot.summaries import messages as summary_messages
from bot.summaries.rules import ScheduleOff, next_run, parse_schedule, week_of, when_words
from handlers.errors import answering_failures
from handlers.replies import send
from storage import partners
from storage import summaries as figures
from storage.models import Partner

logger = logging.getLogger(__name__)


async def summary_command(ack, command, respond, context) -> None:
    await ack()
    services: Services = context["services"]
    partner: Partner = context["partner"]
    user_id = command.get("user_id", "")
    text = (command.get("text") or "").strip()
    now = services.clock()
    async with services.sessions() as session:
        if not await is_manager(session, partner_id=partner.id, user_id=user_id):
            managers = await partners.manager_ids(session=session, partner_id=partner.id)
            await send(respond, summary_messages.not_a_manager(managers), replace_original=False)
            return
        words = text.lower().split()
        if words and words[0] == "schedule":
            answers = await schedule_answer(
                session, " ".join(words[1:]), partner=partner, user_id=user_id, now=now
            )
        elif not words or words == ["this-week"] or words == ["last-week"]:
            week = week_of(now, partner.timezone)
            if words == ["last-week"]:
                week = week.previous()
            summary = await flows.build_summary(
                session,
                partner=partner,
                week=week,
                catalogue=services.catalogue,
                rule=services.rule,
                now=now,
            )
            answers = [summary_messages.summary_message(summary, scheduled=False)]
        else:
            answers = summary_messages.answer(
                "That is not a /summary command. " + summary_messages.usage_text()
            )
    await send(respond, answers, replace_original=False)


async def schedule_answer(session, text: str, *, partner: Partner, user_id: str, now) -> list:
    parsed = parse_schedule(text)
    if isinstance(parsed, str):
        return summary_messages.answer(parsed + " Nothing was changed.")
    if isinstance(parsed, ScheduleOff):
        await figures.save_schedule(
            session=session,
            partner_id=partner.id,
            weekday=None,
            at_minutes=None,
            enabled=False,
            by=user_id,
            now=now,
        )
        await session.commit()
        return summary_messages.answer(
            "The weekly summary is off; `/summary schedule monday 09:00` turns it on again."
        )
    row = await figures.save_schedule(
        session=session,
        partner_id=partner.id,
        weekday=parsed.weekday,
        at_minutes=parsed.at_minutes,
        enabled=True,
        by=user_id,
        now=now,
    )
    await session.commit()
    schedule = flows.schedule_from(row)
    upcoming = when_words(next_run(schedule, partner.timezone, now), partner.timezone)
    return summary_messages.answer(
        f"The weekly summary goes to <#{partner.manager_channel}> on {schedule.words()} "
        f"({partner.timezone}) — next: {upcoming}."
    )


async def home_opened(event, context, client) -> None:
    services: Services = context["services"]
    partner: Partner = context["partner"]
    user_id = event.get("user", "")
    now = services.clock()
    async with services.sessions() as session:
        manager = await is_manager(session, partner_id=partner.id, user_id=user_id)
        summary = None
        if manager:
            summary = await flows.build_summary(
                session,
                partner=partner,
                week=week_of(now, partner.timezone),
                catalogue=services.catalogue,
                rule=services.rule,
                now=now,
            )
    view = summary_messages.home_view(is_manager=manager, summary=summary)
    await client.views_publish(user_id=user_id, view=view)


def register(app: AsyncApp) -> None:
    app.command("/summary")(answering_failures(summary_command))
    app.event("app_home_opened")(home_opened)
