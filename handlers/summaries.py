"""Slack listeners for /summary and the App Home tab."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.arguments import slash_text
from bot.services import Services
from bot.summaries.commands import home_view, summary_answer
from handlers.errors import answering_failures
from handlers.replies import send
from storage.models import Partner


async def summary_command(ack, command, respond, context) -> None:
    await ack()
    services: Services = context["services"]
    partner: Partner = context["partner"]
    async with services.sessions() as session:
        answers = await summary_answer(
            session,
            slash_text(command.get("text")),
            partner=partner,
            user_id=command.get("user_id", ""),
            now=services.clock(),
            catalogue=services.catalogue,
            rule=services.rule,
        )
    await send(respond, answers, replace_original=False)


async def home_opened(event, context, client) -> None:
    services: Services = context["services"]
    partner: Partner = context["partner"]
    user_id = event.get("user", "")
    async with services.sessions() as session:
        view = await home_view(
            session,
            partner=partner,
            user_id=user_id,
            now=services.clock(),
            catalogue=services.catalogue,
            rule=services.rule,
        )
    await client.views_publish(user_id=user_id, view=view)


def register(app: AsyncApp) -> None:
    app.command("/summary")(answering_failures(summary_command))
    app.event("app_home_opened")(home_opened)
