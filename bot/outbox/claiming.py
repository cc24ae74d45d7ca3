"""Claiming due outbox rows with a lease, keeping the leases of rows still being delivered, and
telling when the next row falls due.

A crash before the post loses nothing: the row is claimed again when its lease runs out."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import outbox
from storage.db import Sessions
from storage.models import OutboxMessage


async def claim_due(
    sessions: Sessions, *, now: datetime, lease: timedelta, limit: int
) -> list[tuple[OutboxMessage, OutboxMessage | None]]:
    """Claims up to `limit` due rows, each with the message it belongs to (if any)."""
    async with sessions() as session:
        rows = await outbox.claim(session=session, now=now, lease=lease, limit=limit)
        await session.commit()
        parents = await outbox.parents_of(session=session, messages=rows)
    return [(row, parents.get(row.parent_key or "")) for row in rows]


async def extend_leases(sessions: Sessions, message_ids: list[int], *, until: datetime) -> None:
    """Keeps rows claimed until a later moment."""
    async with sessions() as session:
        await outbox.extend_leases(session=session, message_ids=message_ids, until=until)
        await session.commit()


async def next_due(sessions: Sessions, *, now: datetime) -> datetime | None:
    """When the next row waiting falls due (None: nothing waits)."""
    async with sessions() as session:
        return await outbox.next_due_after(session=session, now=now)
