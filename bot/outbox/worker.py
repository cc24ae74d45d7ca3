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

from bot.workspaces import WorkspaceClients, WorkspaceUnavailable
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
MAX_RETRY_AFTER = 300.0  # seconds; a longer Retry-After is taken as this
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


def retry_delay(attempts: int) -> timedelta:
    """Waits longer after each failed attempt: 2 s, 4 s, 8 s … at most 5 minutes."""
    return timedelta(seconds=min(2**attempts, 300))


@dataclass
class Delivery:
    """What one attempt came to."""

    ts: str = ""
    error: str = ""
    permanent: bool = False
    # Slack said 429: the call left no trace, so it is tried again after this many seconds
    # without counting as an attempt (and without looking for an earlier post first).
    retry_after: float | None = None


def failure(error: SlackApiError) -> Delivery:
    """What a Slack error answer means for the row: wait out a 429, give up on what another
    attempt cannot fix, try the rest again later."""
    code = str(error.response.get("error", "error"))
    if error.response.status_code == 429:
        retry_after = error.response.headers.get("Retry-After") or error.response.headers.get(
            "retry-after"
        )
        try:
            seconds = max(float(retry_after), 1.0)
        except (TypeError, ValueError):
            seconds = 1.0
        return Delivery(error="ratelimited", retry_after=min(seconds, MAX_RETRY_AFTER))
    return Delivery(error=code, permanent=code in PERMANENT_ERRORS)


class OutboxWorker:
    """Delivers due outbox rows with bounded concurrency until stopped.

    Running, it keeps up to `concurrency` calls to Slack in flight: a feeder claims rows as
    slots free up, the senders post them, and the outcomes are written back in batches (one
    UPDATE for many rows), so the database costs a few statements per batch, not per message.
    A 429 does not hold a slot while its Retry-After runs out: the row goes back to the table,
    due again after it. One task renews the leases of every row this worker holds."""

    def __init__(
        self,
        sessions: Sessions,
        client: AsyncWebClient | None = None,
        *,
        clients: WorkspaceClients | None = None,
        clock: Callable[[], datetime] = utc_now,
        poll_seconds: float = POLL_SECONDS,
        concurrency: int = CONCURRENCY,
        lease: timedelta = LEASE,
    ) -> None:
        self.sessions = sessions
        self.lease = lease
        if clients is None:
            if client is None:
                raise TypeError("OutboxWorker needs a client, or clients for many workspaces")
            clients = WorkspaceClients(lambda _token: client, token=client.token or "")
        # Per workspace: each row goes out with the token of its partner's workspace.
        self.clients = clients
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.concurrency = concurrency
        self.ready = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._held: dict[int, OutboxMessage] = {}  # claimed and not yet written back
        self._outcomes: list[tuple[OutboxMessage, Delivery]] = []
        self._written = asyncio.Event()  # some outcomes were written back: rows may be due
        self._flush = asyncio.Event()  # outcomes are waiting to be written back

    async def client_for(self, row: OutboxMessage) -> AsyncWebClient:
        """The Web API client that speaks for the workspace a row goes to; raises
        WorkspaceUnavailable when none does (the workspace uninstalled the app)."""
        return await self.clients.for_partner(row.partner_id)

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
        """Feeds claimed rows to `concurrency` senders until cancelled."""
        queue: asyncio.Queue[tuple[OutboxMessage, OutboxMessage | None]] = asyncio.Queue()
        helpers = [
            asyncio.create_task(self._sender(queue), name=f"outbox-sender-{n}")
            for n in range(self.concurrency)
        ]
        helpers.append(asyncio.create_task(self._renew_leases(), name="outbox-leases"))
        helpers.append(asyncio.create_task(self._writer(), name="outbox-writer"))
        try:
            await self._feed(queue)
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            # What was posted but not yet written back is recorded now if the database lets us;
            # otherwise the next claim finds the post by its metadata.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._write_outcomes())

    async def _feed(self, queue: asyncio.Queue) -> None:
        # Up to two rows per sender are held, so a sender never waits for the next claim.
        capacity = 2 * self.concurrency
        while True:
            # Cleared before the claim, so news that comes while it runs still ends the wait.
            self._written.clear()
            self.ready.clear()
            room = capacity - len(self._held)
            claimed = 0
            if room >= max(1, self.concurrency // 2):
                try:
                    claimed = await self._claim(room, queue)
                except Exception:  # noqa: BLE001 - a database hiccup must not stop deliveries
                    logger.exception("outbox claim failed; trying again shortly")
                    await asyncio.sleep(min(self.poll_seconds, 1.0))
                    continue
            if claimed and len(self._held) < capacity:
                continue  # there may be more due rows
            # Wait for new rows (wake), for outcomes written back (replies whose root just went
            # out become due), or for the next poll.
            waiters = [
                asyncio.ensure_future(self.ready.wait()),
                asyncio.ensure_future(self._written.wait()),
            ]
            # While rows are held, their outcomes end the wait soon; otherwise wait until the
            # next row falls due.
            timeout = self.poll_seconds if self._held else await self._idle_seconds()
            done, pending = await asyncio.wait(
                waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()

    async def _idle_seconds(self) -> float:
        """How long to wait for news: until the next row falls due, at most one poll."""
        try:
            async with self.sessions() as session:
                due = await outbox.next_due_after(session=session, now=self.clock())
        except Exception:  # noqa: BLE001 - then the poll finds it
            return self.poll_seconds
        if due is None:
            return self.poll_seconds
        return min(self.poll_seconds, max(0.01, (due - self.clock()).total_seconds()))

    async def _claim(self, limit: int, queue: asyncio.Queue) -> int:
        claimed = await self.claim(limit)
        for pair in claimed:
            queue.put_nowait(pair)
        return len(claimed)

    async def claim(self, limit: int) -> list[tuple[OutboxMessage, OutboxMessage | None]]:
        """Claims up to `limit` due rows, each with the message it belongs to (if any); they are
        held, and their leases renewed, until their outcomes are written."""
        async with self.sessions() as session:
            rows = await outbox.claim(
                session=session, now=self.clock(), lease=self.lease, limit=limit
            )
            await session.commit()
            parents = await outbox.parents_of(session=session, messages=rows)
        for row in rows:
            self._held[row.id] = row
        return [(row, parents.get(row.parent_key or "")) for row in rows]

    async def _sender(self, queue: asyncio.Queue) -> None:
        while True:
            row, parent = await queue.get()
            result = await self.outcome(row, parent)
            # Appended only now: the writer swaps the list while calls are in flight.
            self._outcomes.append((row, result))
            self._flush.set()

    async def _writer(self) -> None:
        while True:
            await self._flush.wait()
            self._flush.clear()
            try:
                await self._write_outcomes()
            except Exception:  # noqa: BLE001 - kept in memory and written with the next batch
                logger.exception("writing outbox outcomes failed; trying again shortly")
                await asyncio.sleep(0.5)
                self._flush.set()

    async def _renew_leases(self) -> None:
        """Keeps every held row claimed while it waits for a sender or is being delivered, so a
        slow delivery (a big upload, a slow Slack) is not taken for a dead worker's."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if not self._held:
                continue
            with contextlib.suppress(Exception):
                async with self.sessions() as session:
                    await outbox.extend_leases(
                        session=session,
                        message_ids=list(self._held),
                        until=self.clock() + self.lease,
                    )
                    await session.commit()

    async def deliver_due(self) -> int:
        """Claims one batch of due rows, delivers them and writes their outcomes; returns how
        many were claimed (the step the running worker repeats, for tests and tools)."""
        claimed = await self.claim(BATCH)
        slots = asyncio.Semaphore(self.concurrency)

        async def deliver(row: OutboxMessage, parent: OutboxMessage | None) -> None:
            async with slots:
                result = await self.outcome(row, parent)
            self._outcomes.append((row, result))

        await asyncio.gather(*(deliver(row, parent) for row, parent in claimed))
        await self._write_outcomes()
        return len(claimed)

    async def outcome(self, row: OutboxMessage, parent: OutboxMessage | None) -> Delivery:
        """Delivers one row (or finds it cannot be) and says how it went."""
        if parent is not None and not parent.ts:
            return Delivery(
                error=f"the message it belongs to ({parent.idempotency_key}) was never posted",
                permanent=True,
            )
        try:
            return await self.attempt(row, parent)
        except Exception as error:  # noqa: BLE001 - whatever it was, the row is tried again
            logger.exception("outbox message %s could not be attempted", row.id)
            return Delivery(error=f"{type(error).__name__}: {error}")

    async def _write_outcomes(self) -> None:
        """Writes back every outcome waiting: the sent rows with one statement, then failures."""
        if not self._outcomes:
            return
        outcomes, self._outcomes = self._outcomes, []
        now = self.clock()
        try:
            async with self.sessions() as session:
                sent = [(row.id, result.ts) for row, result in outcomes if not result.error]
                await outbox.mark_sent_many(session=session, sent=sent, now=now)
                for row, result in outcomes:
                    if result.error:
                        await self._record_failure(session, row, result, now)
                await session.commit()
        except BaseException:
            self._outcomes[:0] = outcomes  # not written: kept for the next try
            raise
        for row, _ in outcomes:
            self._held.pop(row.id, None)
        self._written.set()

    async def _record_failure(
        self, session, row: OutboxMessage, result: Delivery, now: datetime
    ) -> None:
        if result.retry_after is not None:
            await outbox.mark_rate_limited(
                session=session,
                message_id=row.id,
                retry_at=now + timedelta(seconds=result.retry_after),
            )
            return
        give_up = result.permanent or row.attempts >= MAX_ATTEMPTS
        retry_at = None if give_up else now + retry_delay(row.attempts)
        logger.log(
            logging.ERROR if give_up else logging.WARNING,
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
        try:
            client = await self.client_for(row)
        except WorkspaceUnavailable as error:
            # No retry brings a token back; reinstalling does, and the message is stale by then.
            return Delivery(error=f"workspace unavailable: {error}", permanent=True)
        try:
            if row.method == "files.upload_v2":
                return await self.upload(client, row, parent)
            arguments = self.arguments(row, parent)
            if row.method == "chat.postMessage" and row.attempts > 1:
                # An earlier attempt may have been posted just before a crash: look first.
                ts = await self.already_posted(client, row, arguments)
                if ts:
                    return Delivery(ts=ts)
            response = await client.api_call(row.method, json=arguments)
        except SlackApiError as error:
            return failure(error)
        except Exception as error:  # noqa: BLE001 - network trouble of any kind: try again later
            return Delivery(error=f"{type(error).__name__}: {error}")
        return Delivery(ts=str(response.get("ts", "")))

    async def upload(
        self, client: AsyncWebClient, row: OutboxMessage, parent: OutboxMessage | None
    ) -> Delivery:
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
        response = await client.files_upload_v2(**arguments)
        files = response.get("files") or [{}]
        return Delivery(ts=str(files[0].get("id", "uploaded")))

    async def already_posted(
        self, client: AsyncWebClient, row: OutboxMessage, arguments: dict
    ) -> str:
        """Finds the message an earlier attempt posted, by the key in its metadata; "" if none.

        chat.postMessage has no idempotency key, so this is what makes a retry after a crash
        safe: the message is looked up in the channel (or thread) before it is posted again."""
        channel = arguments["channel"]
        if channel.startswith(("U", "W")):  # a DM: find the conversation's id
            opened = await client.api_call("conversations.open", json={"users": channel})
            channel = opened["channel"]["id"]
        oldest = str((row.created_at - LOOKBACK).timestamp())
        method = "conversations.replies" if "thread_ts" in arguments else "conversations.history"
        params = {"channel": channel, "oldest": oldest, "limit": 200, "include_all_metadata": True}
        if "thread_ts" in arguments:
            params["ts"] = arguments["thread_ts"]
        found = await client.api_call(method, http_verb="GET", params=params)
        for message in found.get("messages", []):
            metadata = message.get("metadata") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT
                and metadata.get("event_payload", {}).get("key") == row.idempotency_key
            ):
                return str(message.get("ts", ""))
        return ""
