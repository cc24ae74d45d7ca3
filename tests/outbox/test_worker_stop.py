"""Stopping the outbox worker never cuts a database statement half-way, even past its grace: on
SQLite a statement cancelled in flight keeps its connection, and with it the write lock, until
the garbage collector closes it, and every other writer waits and fails ("database is locked")."""

from __future__ import annotations

import asyncio
import sqlite3

from storage import schema
from storage.db import create_engine, session_factory
from tests.utils.outbox import Clock, queue, row, worker_for


async def test_a_stop_past_its_grace_lets_the_claim_under_way_finish(local_slack, tmp_path):
    path = tmp_path / "stop.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await schema.upgrade(engine)
        sessions = session_factory(engine)
        await queue(sessions, row("waiting"))
        # Another writer holds the lock: the worker's claim waits for it, inside its statement.
        blocker = sqlite3.connect(path, timeout=0, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        worker = worker_for(sessions, local_slack, Clock(), poll_seconds=60)
        worker.start()
        await asyncio.sleep(0.3)
        stopping = asyncio.create_task(worker.stop(grace=0.2))
        await asyncio.sleep(0.5)  # past the grace, the claim still waiting
        blocker.execute("ROLLBACK")
        blocker.close()
        await asyncio.wait_for(stopping, 15)

        # The claim went through and its transaction ended: a writer gets the lock at once.
        writer = sqlite3.connect(path, timeout=0.5, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("ROLLBACK")
        finally:
            writer.close()
    finally:
        await engine.dispose()
