"""Slack listeners for /partnerbot: help, the managers of the weekly summaries, and setup."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.partners.help import help_blocks
from handlers.errors import answering_failures
from handlers.setup import setup_command
from handlers.summaries import managers_command


async def partnerbot_command(ack, command, respond, context, client) -> None:
    words = (command.get("text") or "").split()
    if words and words[0].lower() == "managers":
        await managers_command(ack, command, respond, context, client)
        return
    if words and words[0].lower() == "setup":
        await setup_command(ack, command, respond, context, client)
        return
    await ack()
    await respond(text="What partnerbot can do", blocks=help_blocks(), response_type="ephemeral")


def register(app: AsyncApp) -> None:
    app.command("/partnerbot")(answering_failures(partnerbot_command))
