"""Shared by the outbox tests: a clock the test moves, Slack servers that answer with errors,
and rows queued, read back and posted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.app import outbox_client
from bot.blocks import Message, section
from bot.outbox.rows import post_message
from bot.outbox.worker import OutboxWorker
from bot.settings import load_settings
from devtools.local_slack import LocalSlack
from storage import outbox
from storage.db import Sessions
from storage.models import OutboxMessage

# Real wall-clock time (aware UTC), so that the Slack ts LocalSlack hands out (time.time()) falls
# inside the look-back window the worker searches after a crash.
START = datetime.now(UTC).replace(microsecond=0)
TOKEN = "xoxb-outbox-test"


class Clock:
    """The worker's clock, moved by the test."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class AnsweringSlack(LocalSlack):
    """Answers chat.postMessage with a Slack error (`times` times), everything else as usual."""

    def __init__(self, error: str, times: int = 10**6) -> None:
        super().__init__()
        self.error = error
        self.times = times

    def answer(self, method: str, params: dict) -> dict:
        if method == "chat.postMessage" and self.times > 0:
            self.times -= 1
            return {"ok": False, "error": self.error}
        return super().answer(method, params)


def client_for(slack: LocalSlack) -> AsyncWebClient:
    """The client the bot uses (retry handlers and all), pointed at LocalSlack."""
    return outbox_client(load_settings(slack_api_url=slack.api_url), TOKEN)


def worker_for(sessions: Sessions, slack: LocalSlack, clock: Clock, **options) -> OutboxWorker:
    return OutboxWorker(sessions, client_for(slack), clock=clock, **options)


def message_for(key: str) -> Message:
    return Message(f"plain text of {key}", [section(f"*{key}* in blocks")])


def row(key: str, *, channel: str = "C0OUTBOX", now: datetime = START) -> dict:
    return post_message(
        key=key, channel=channel, message=message_for(key), partner_id=None, now=now
    )


async def queue(sessions: Sessions, *rows: dict) -> None:
    async with sessions() as session:
        await outbox.add(session=session, rows=list(rows))
        await session.commit()


async def stored(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        result = await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))
        return list(result.all())


async def only_row(sessions: Sessions) -> OutboxMessage:
    rows = await stored(sessions)
    assert len(rows) == 1
    return rows[0]


def posted_keys(slack: LocalSlack) -> list[str]:
    """The outbox key of every chat.postMessage LocalSlack received, in arrival order."""
    return [
        call.params["metadata"]["event_payload"]["key"]
        for call in slack.calls_to("chat.postMessage")
    ]


def is_postgres(sessions: Sessions) -> bool:
    return sessions.kw["bind"].dialect.name == "postgresql"
