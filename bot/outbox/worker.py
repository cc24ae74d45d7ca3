"""The outbox: Slack messages are written as rows in the transaction that decides to send them,
and this worker delivers them afterwards.

A row is claimed with a lease (claiming.py), posted (delivering.py), and marked sent with its
Slack `ts` at once (recording.py). A crash before the post loses nothing: the row is claimed
again when its lease runs out. A crash between Slack accepting the post and that mark would
repeat it, so every post carries its row's key as message metadata and a second attempt first
looks for it in the channel (lookup.py) and records the message found instead of posting again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import claiming, delivering, recording
from bot.outbox.delivering import Delivery
from bot.workspaces import WorkspaceClients
from bot.zones import utc_now
from storage.db import Sessions
from storage.models import OutboxMessage

LEASE = timedelta(seconds=60)
POLL_SECONDS = 2.0
STOP_GRACE_SECONDS = 5.0  # how long a stop waits for the posts under way
BATCH = 20
CONCURRENCY = 8

logger = logging.getLogger(__name__)


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
        self._senders: list[asyncio.Task] = []  # the tasks that call Slack, while running
        self._held: dict[int, OutboxMessage] = {}  # claimed and not yet written back
        self._outcomes: list[tuple[OutboxMessage, Delivery]] = []
        self._written = asyncio.Event()  # some outcomes were written back: rows may be due
        self._flush = asyncio.Event()  # outcomes are waiting to be written back
        self._stopping = asyncio.Event()

    async def client_for(self, row: OutboxMessage) -> AsyncWebClient:
        """The Web API client that speaks for the workspace a row goes to; raises
        WorkspaceUnavailable when none does (the workspace uninstalled the app)."""
        return await self.clients.for_partner(row.partner_id)

    def wake(self) -> None:
        """Tells the worker there are new rows, so it need not wait for its next poll."""
        self.ready.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run(), name="outbox")

    async def stop(self, *, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stops between statements: no new claim, the posts under way finish and are written
        back. Past `grace` the posts still waiting for Slack are given up (their rows stay
        claimed until the lease runs out, then are looked for before being posted again), but
        a database statement is never cancelled: one cut half-way keeps its connection, and on
        SQLite the write lock, until the garbage collector closes it, and every other writer
        fails meanwhile. Statements end by themselves, within the database's own timeouts."""
        if self._task is None:
            return
        self._stopping.set()
        self.ready.set()
        self._flush.set()
        done, _ = await asyncio.wait({self._task}, timeout=grace)
        if not done:
            for sender in self._senders:
                sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def run(self) -> None:
        """Feeds claimed rows to `concurrency` senders until cancelled."""
        queue: asyncio.Queue[tuple[OutboxMessage, OutboxMessage | None]] = asyncio.Queue()
        senders = self._senders = [
            asyncio.create_task(self._sender(queue), name=f"outbox-sender-{n}")
            for n in range(self.concurrency)
        ]
        keepers = [
            asyncio.create_task(self._renew_leases(), name="outbox-leases"),
            asyncio.create_task(self._writer(), name="outbox-writer"),
        ]
        try:
            await self._feed(queue)
        except asyncio.CancelledError:
            for task in (*senders, *keepers):
                task.cancel()
            raise
        finally:
            # Rows not yet taken by a sender stay claimed until their lease runs out.
            while not queue.empty():
                queue.get_nowait()
            for _ in senders:
                queue.put_nowait(None)
            # Senders end after the post under way, the keepers between statements.
            self._stopping.set()
            self._flush.set()
            await asyncio.gather(*senders, *keepers, return_exceptions=True)
            # What was posted but not yet written back is recorded now if the database lets us;
            # otherwise the next claim finds the post by its metadata.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._write_outcomes())

    async def _feed(self, queue: asyncio.Queue) -> None:
        # Up to two rows per sender are held, so a sender never waits for the next claim.
        capacity = 2 * self.concurrency
        while not self._stopping.is_set():
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
                asyncio.ensure_future(self._stopping.wait()),
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
            due = await claiming.next_due(self.sessions, now=self.clock())
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
        claimed = await claiming.claim_due(
            self.sessions, now=self.clock(), lease=self.lease, limit=limit
        )
        for row, _ in claimed:
            self._held[row.id] = row
        return claimed

    async def _sender(self, queue: asyncio.Queue) -> None:
        while (claimed := await queue.get()) is not None:
            row, parent = claimed
            result = await self.outcome(row, parent)
            # Appended only now: the writer swaps the list while calls are in flight.
            self._outcomes.append((row, result))
            self._flush.set()

    async def _writer(self) -> None:
        while not self._stopping.is_set():
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
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.lease.total_seconds() / 3)
                return
            if not self._held:
                continue
            with contextlib.suppress(Exception):
                await claiming.extend_leases(
                    self.sessions, list(self._held), until=self.clock() + self.lease
                )

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
        return await delivering.outcome(self.clients, row, parent)

    async def _write_outcomes(self) -> None:
        """Writes back every outcome waiting: the sent rows with one statement, then failures."""
        if not self._outcomes:
            return
        outcomes, self._outcomes = self._outcomes, []
        now = self.clock()
        try:
            await recording.record_outcomes(self.sessions, outcomes, now=now)
        except BaseException:
            self._outcomes[:0] = outcomes  # not written: kept for the next try
            raise
        for row, _ in outcomes:
            self._held.pop(row.id, None)
        self._written.set()
