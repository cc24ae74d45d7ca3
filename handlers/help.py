"""Slack listeners for /partnerbot, and for the commands whose features are not built yet."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.messages.help import coming_soon_blocks, help_blocks
from handlers.errors import answering_failures

NOT_BUILT_YET = ("/summary",)


async def partnerbot_command(ack, respond) -> None:
    await ack()
    await respond(text="What partnerbot can do", blocks=help_blocks(), response_type="ephemeral")


async def coming_soon_command(ack, command, respond) -> None:
    await ack()
    name = command["command"]
    await respond(
        text=f"{name} is coming soon", blocks=coming_soon_blocks(name), response_type="ephemeral"
    )


def register(app: AsyncApp) -> None:
    app.command("/partnerbot")(answering_failures(partnerbot_command))
    for name in NOT_BUILT_YET:
        app.command(name)(answering_failures(coming_soon_command))
