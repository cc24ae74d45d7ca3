"""The outbox: Slack messages are written as rows in the transaction that decides to send them,
and this worker delivers them afterwards.

A row is claimed with a lease, posted, and marked sent with its Slack `ts` at once. A crash
before the post loses nothing: the row is claimed again when its lease runs out. A crash between
Slack accepting the post and that mark would repeat it, so every post carries its row's key as
message metadata and a second attempt first looks for it in the channel (conversations.history)
and records the message found instead of posting again."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.messages import Message
from bot.zones import utc_now
from storage import outbox
from storage.db import Sessions
from storage.models import OutboxMessage

LEASE = timedelta(seconds=60)
LOOKBACK = timedelta(minutes=5)  # how far before a row was written its message could be
METADATA_EVENT = "partnerbot_outbox"
POLL_SECONDS = 2.0
BATCH = 20
CONCURRENCY = 8
MAX_ATTEMPTS = 8
# Errors that another attempt cannot fix: the message is marked failed at once.
PERMANENT_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "no_permission",
    "missing_scope",
    "user_not_found",
    "invalid_blocks",
    "msg_too_long",
    "cannot_dm_bot",
    "user_disabled",
    "invalid_arguments",
}

logger = logging.getLogger(__name__)


def post_message(
    *, key: str, channel: str, message: Message, partner_id: int | None, now: datetime, **arguments
) -> dict:
    """An outbox row for chat.postMessage; `key` names the message so it is queued once."""
    payload = {"text": message.text, "blocks": message.blocks, **arguments}
    return {
        "idempotency_key": key,
        "partner_id": partner_id,
        "parent_key": None,
        "method": "chat.postMessage",
        "channel": channel,
        "payload": json.dumps(payload, separators=(",", ":")),
        "state": outbox.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_until": None,
        "sent_at": None,
        "ts": "",
        "last_error": "",
        "created_at": now,
    }


def retry_delay(attempts: int) -> timedelta:
    """Waits longer after each failed attempt: 2 s, 4 s, 8 s … at most 5 minutes."""
    return timedelta(seconds=min(2**attempts, 300))


@dataclass
class Delivery:
    """What one attempt came to."""

    ts: str = ""
    error: str = ""
    permanent: bool = False


class OutboxWorker:
    """Delivers due outbox rows with bounded concurrency until stopped."""

    def __init__(
        self,
        sessions: Sessions,
        client: AsyncWebClient,
        *,
        clock: Callable[[], datetime] = utc_now,
        poll_seconds: float = POLL_SECONDS,
        concurrency: int = CONCURRENCY,
        lease: timedelta = LEASE,
    ) -> None:
        self.sessions = sessions
        self.lease = lease
        self.client = client
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.slots = asyncio.Semaphore(concurrency)
        self.ready = asyncio.Event()
        self._task: asyncio.Task | None = None

    def wake(self) -> None:
        """Tells the worker there are new rows, so it need not wait for its next poll."""
        self.ready.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run(self) -> None:
        while True:
            try:
                delivered = await self.deliver_due()
            except Exception:  # noqa: BLE001 - a database hiccup must not stop deliveries
                logger.exception("outbox pass failed; trying again shortly")
                delivered = 0
            if delivered:
                continue  # there may be more due rows
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), self.poll_seconds)
            self.ready.clear()

    async def deliver_due(self) -> int:
        """Claims due rows and delivers them; returns how many were claimed."""
        async with self.sessions() as session:
            rows = await outbox.claim(
                session=session, now=self.clock(), lease=self.lease, limit=BATCH
            )
            await session.commit()
        await asyncio.gather(*(self.deliver(row) for row in rows))
        return len(rows)

    async def deliver(self, row: OutboxMessage) -> None:
        # The lease is renewed from the claim on, while the row waits for a slot too.
        async with self.holding(row):
            async with self.sessions() as session:
                parent = await outbox.parent_of(session=session, message=row)
            async with self.slots:
                if parent is not None and not parent.ts:
                    result = Delivery(
                        error=f"the message it belongs to ({parent.idempotency_key}) was never "
                        "posted",
                        permanent=True,
                    )
                else:
                    result = await self.attempt(row, parent)
        async with self.sessions() as session:
            if not result.error:
                await outbox.mark_sent(
                    session=session, message_id=row.id, ts=result.ts, now=self.clock()
                )
            else:
                give_up = result.permanent or row.attempts >= MAX_ATTEMPTS
                retry_at = None if give_up else self.clock() + retry_delay(row.attempts)
                level = logging.ERROR if give_up else logging.WARNING
                logger.log(
                    level,
                    "outbox message %s (%s) to %s failed: %s%s",
                    row.id,
                    row.idempotency_key,
                    row.channel,
                    result.error,
                    " - giving up" if give_up else "",
                )
                await outbox.mark_failed(
                    session=session, message_id=row.id, error=result.error, retry_at=retry_at
                )
            await session.commit()

    @contextlib.asynccontextmanager
    async def holding(self, row: OutboxMessage):
        """Keeps renewing the row's lease while it is being delivered, so a slow delivery (a big
        upload, a long Retry-After) is not taken for a dead worker's and done a second time."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease.total_seconds() / 3)
                async with self.sessions() as session:
                    await outbox.extend_lease(
                        session=session, message_id=row.id, until=self.clock() + self.lease
                    )
                    await session.commit()

        renewing = asyncio.get_running_loop().create_task(renew())
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await renewing

    def arguments(self, row: OutboxMessage, parent: OutboxMessage | None) -> dict:
        """The Web API arguments: the stored payload without our own notes (keys starting with
        `_`), the thread or message it belongs to, and the row's key as message metadata."""
        payload = {k: v for k, v in json.loads(row.payload).items() if not k.startswith("_")}
        arguments = {"channel": row.channel, **payload}
        if parent is not None and row.method == "chat.update":
            arguments.update(channel=parent.channel, ts=parent.ts)
        elif parent is not None:
            arguments["thread_ts"] = parent.ts
        if row.method == "chat.postMessage":
            arguments["metadata"] = {
                "event_type": METADATA_EVENT,
                "event_payload": {"key": row.idempotency_key},
            }
        return arguments

    async def attempt(self, row: OutboxMessage, parent: OutboxMessage | None = None) -> Delivery:
        if row.method == "files.upload_v2":
            return await self.upload(row, parent)
        arguments = self.arguments(row, parent)
        try:
            if row.method == "chat.postMessage" and row.attempts > 1:
                # An earlier attempt may have been posted just before a crash: look first.
                ts = await self.already_posted(row, arguments)
                if ts:
                    return Delivery(ts=ts)
            response = await self.client.api_call(row.method, json=arguments)
        except SlackApiError as error:
            code = str(error.response.get("error", "error"))
            return Delivery(error=code, permanent=code in PERMANENT_ERRORS)
        except Exception as error:  # noqa: BLE001 - network trouble of any kind: try again later
            return Delivery(error=f"{type(error).__name__}: {error}")
        return Delivery(ts=str(response.get("ts", "")))

    async def upload(self, row: OutboxMessage, parent: OutboxMessage | None) -> Delivery:
        """Uploads a file (a chart), in the thread of the message it belongs to. Files carry no
        metadata, so a crash between Slack storing it and the mark could upload it twice."""
        payload = json.loads(row.payload)
        arguments = {
            "channel": row.channel,
            "file": base64.b64decode(payload["content_b64"]),
            "filename": payload["filename"],
            "title": payload["title"],
        }
        if parent is not None:
            arguments["thread_ts"] = parent.ts
        try:
            response = await self.client.files_upload_v2(**arguments)
        except SlackApiError as error:
            code = str(error.response.get("error", "error"))
            return Delivery(error=code, permanent=code in PERMANENT_ERRORS)
        except Exception as error:  # noqa: BLE001 - network trouble of any kind: try again later
            return Delivery(error=f"{type(error).__name__}: {error}")
        files = response.get("files") or [{}]
        return Delivery(ts=str(files[0].get("id", "uploaded")))

    async def already_posted(self, row: OutboxMessage, arguments: dict) -> str:
        """Finds the message an earlier attempt posted, by the key in its metadata; "" if none.

        chat.postMessage has no idempotency key, so this is what makes a retry after a crash
        safe: the message is looked up in the channel (or thread) before it is posted again."""
        channel = arguments["channel"]
        if channel.startswith(("U", "W")):  # a DM: find the conversation's id
            opened = await self.client.api_call("conversations.open", json={"users": channel})
            channel = opened["channel"]["id"]
        oldest = str((row.created_at - LOOKBACK).timestamp())
        method = "conversations.replies" if "thread_ts" in arguments else "conversations.history"
        params = {"channel": channel, "oldest": oldest, "limit": 200, "include_all_metadata": True}
        if "thread_ts" in arguments:
            params["ts"] = arguments["thread_ts"]
        found = await self.client.api_call(method, http_verb="GET", params=params)
        for message in found.get("messages", []):
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT
                and metadata.get("event_payload", {}).get("key") == row.idempotency_key
            ):
                return str(message.get("ts", ""))
        return ""
