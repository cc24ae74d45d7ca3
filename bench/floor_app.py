"""The floor for bench/commands.py: a bare bolt AsyncApp on aiohttp whose /subscription answers one
fixed block in its acknowledgement (the cheapest correct answer a bolt app can give), with
nothing of the bot in between.

Run by the bench with PORT, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_API_URL set."""

from __future__ import annotations

import os

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

FIXED_TEXT = "Contoso Dental: 1 subscription"
FIXED_BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{FIXED_TEXT}*"}}]


async def subscription_command(ack) -> None:
    await ack(text=FIXED_TEXT, blocks=FIXED_BLOCKS, response_type="ephemeral")


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def floor_web_app() -> web.Application:
    app = AsyncApp(
        client=AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
        ),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=False,  # as the bot
    )
    app.command("/subscription")(subscription_command)
    web_app = app.web_app(path="/slack/events")
    web_app.router.add_get("/healthz", healthz)
    return web_app


if __name__ == "__main__":
    web.run_app(
        floor_web_app(),
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        access_log=None,
        print=None,
    )
