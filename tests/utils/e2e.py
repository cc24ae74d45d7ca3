"""The bot on a loopback port for end-to-end tests: settings that point it at a local Slack, and
a client that sends it what Slack would send, signed, and collects the answers."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot.settings import load_settings
from devtools.local_slack import LocalSlack
from devtools.slack_limits import message_refusal
from devtools.slack_requests import (
    block_action_body,
    block_suggestion_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)

SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef"


INCIDENT_SECRET = "e2e-incident-secret-0123456789"


@dataclass
class Answer:
    """What Slack got back for one request: the HTTP answer, then the posts to response_url."""

    status: int
    body: str
    messages: list[dict]

    @property
    def texts(self) -> list[str]:
        """Every piece of text a person would read, message by message."""
        return [all_text(message) for message in self.messages]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)


def all_text(message: dict) -> str:
    parts = [message.get("text", "")]

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                parts.append(node.get("text", ""))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("blocks", []))
    return "\n".join(parts)


def message_in_ack(body: str) -> dict | None:
    """The message an acknowledgement carries, checked as Slack checks a message (an ack is
    limited like one), or None for an empty acknowledgement."""
    if not body.strip():
        return None
    try:
        message = json.loads(body)
    except ValueError:
        message = {"text": body}  # bolt sends a text-only answer as the bare text
    if not isinstance(message, dict) or not ("text" in message or "blocks" in message):
        return None
    refusal = message_refusal(message)
    assert refusal is None, f"Slack would refuse the acknowledgement: {refusal}"
    return message


class SlackClient:
    """Sends what Slack would send to the bot, signed, and collects the answers."""

    def __init__(self, base_url: str, local_slack: LocalSlack, http: aiohttp.ClientSession):
        self.base_url = base_url
        self.local_slack = local_slack
        self.http = http

    async def post(self, body: str, headers: dict) -> tuple[int, str]:
        async with self.http.post(f"{self.base_url}/slack/events", data=body, headers=headers) as r:
            return r.status, await r.text()

    async def send(self, body: str, key: str, *, wait_for: int) -> Answer:
        """Sends a request and collects `wait_for` messages: the one its acknowledgement carries,
        if any (Slack shows it at once), then the posts to its response_url."""
        status, text = await self.post(body, signed_headers(SIGNING_SECRET, body))
        messages = []
        if status == 200 and wait_for:
            in_ack = message_in_ack(text)
            messages = [in_ack] if in_ack is not None else []
            if len(messages) < wait_for:
                posted = await self.local_slack.wait_for_responses(key, wait_for - len(messages))
                messages += posted
        return Answer(status, text, messages)

    async def command(
        self, command: str, text: str, *, team_id: str, user_id: str = "U0STAFF", wait_for: int = 1
    ) -> Answer:
        key = uuid.uuid4().hex
        body = slash_command_body(
            command=command, text=text, team_id=team_id, user_id=user_id,
            response_url=self.local_slack.response_url(key),
        )  # fmt: skip
        return await self.send(body, key, wait_for=wait_for)

    async def click(
        self, action: dict, *, block_id: str, team_id: str, user_id: str = "U0STAFF",
        wait_for: int = 1,
    ) -> Answer:  # fmt: skip
        key = uuid.uuid4().hex
        body = block_action_body(
            action=action, block_id=block_id, team_id=team_id, user_id=user_id,
            response_url=self.local_slack.response_url(key),
        )  # fmt: skip
        return await self.send(body, key, wait_for=wait_for)

    async def submit(
        self, view: dict, values: dict, *, team_id: str, user_id: str = "U0STAFF"
    ) -> tuple[int, dict]:
        """Submits a modal as Slack would; returns the HTTP status and the bot's JSON answer."""
        body = view_submission_body(view=view, values=values, team_id=team_id, user_id=user_id)
        status, text = await self.post(body, signed_headers(SIGNING_SECRET, body))
        return status, json.loads(text) if text.strip() else {}

    async def options(
        self, *, action_id: str, value: str, team_id: str, view: dict | None = None
    ) -> tuple[int, dict]:
        """Asks for an external select's options as Slack does while someone types."""
        body = block_suggestion_body(
            action_id=action_id,
            block_id=action_id,
            value=value,
            team_id=team_id,
            user_id="U0STAFF",
            view=view,
        )
        status, text = await self.post(body, signed_headers(SIGNING_SECRET, body))
        return status, json.loads(text) if text.strip() else {}


async def start_server(web_app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


def e2e_settings(database_url: str, local_slack: LocalSlack, **overrides):
    return load_settings(
        database_url=database_url,
        slack_bot_token="xoxb-e2e-token",
        slack_signing_secret=SIGNING_SECRET,
        secret_key="e2e-secret-key-0123456789abcdef0123456789",
        slack_api_url=local_slack.api_url,
        **{
            "incident_webhook_secret": INCIDENT_SECRET,
            "outage_update_collapse_seconds": 0.3,
            # Jobs run when a test runs them, on the test's clock.
            "run_scheduler": False,
            **overrides,
        },
    )


@dataclass
class Bot:
    url: str
    slack: SlackClient
    local_slack: LocalSlack
    services: object
    http: aiohttp.ClientSession

    async def get_json(self, path: str) -> tuple[int, dict]:
        async with self.http.get(self.url + path) as response:
            return response.status, json.loads(await response.text())
