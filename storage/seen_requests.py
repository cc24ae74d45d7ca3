"""The record of Slack requests already acted on: one row per request, written once."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import bindparam, delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.columns import UTCDateTime
from storage.models import SeenSlackRequest
from storage.outages import dialect_insert


@functools.cache
def first_sight_statement(insert):
    """Built once per dialect: every Slack request runs it."""
    values = {"key": bindparam("key"), "seen_at": bindparam("seen_at", type_=UTCDateTime())}
    return (
        insert(SeenSlackRequest.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
    )


async def record_first_sight(*, session: AsyncSession, key: str, now: datetime) -> bool:
    """Records a request's key; True for the one caller that wrote it, False when it was
    there already (whichever process wrote it)."""
    statement = first_sight_statement(dialect_insert(session))
    connection = await session.connection()  # Core: one row, and its rowcount
    result = await connection.execute(statement, {"key": key, "seen_at": now})
    return result.rowcount == 1


async def forget_seen_before(*, session: AsyncSession, before: datetime) -> int:
    """Deletes the records of requests seen before `before`; returns how many went."""
    connection = await session.connection()
    result = await connection.execute(
        delete(SeenSlackRequest).where(col(SeenSlackRequest.seen_at) < before)
    )
    return result.rowcount or 0
