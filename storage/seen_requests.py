"""The record of Slack requests already acted on: one row per request, written once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import SeenSlackRequest
from storage.outages import dialect_insert


async def record_first_sight(*, session: AsyncSession, key: str, now: datetime) -> bool:
    """Records a request's key; True for the one caller that wrote it, False when it was
    there already (whichever process wrote it)."""
    statement = dialect_insert(session)(SeenSlackRequest).values(key=key, seen_at=now)
    result = await session.exec(statement.on_conflict_do_nothing(index_elements=["key"]))
    return result.rowcount == 1


async def forget_seen_before(*, session: AsyncSession, before: datetime) -> int:
    """Deletes the records of requests seen before `before`; returns how many went."""
    connection = await session.connection()
    result = await connection.execute(
        delete(SeenSlackRequest).where(col(SeenSlackRequest.seen_at) < before)
    )
    return result.rowcount or 0
