"""How far each incident feed has been read: one row per feed, its mark only ever moves forward."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import IncidentFeedMark
from storage.outages import dialect_insert


async def get_mark(*, session: AsyncSession, feed: str) -> datetime | None:
    """Gets the newest lastModifiedDateTime the feed has read in full (None: never read)."""
    row = await session.get(IncidentFeedMark, feed)
    return row.last_modified_at if row is not None else None


async def advance_mark(
    *, session: AsyncSession, feed: str, url: str, to: datetime, now: datetime
) -> None:
    """Moves the feed's mark forward to `to`; a mark already further on (another process read
    more meanwhile) stays where it is."""
    values = {"feed": feed, "url": url[:500], "last_modified_at": to, "updated_at": now}
    inserted = await session.exec(
        dialect_insert(session)(IncidentFeedMark)
        .values(values)
        .on_conflict_do_nothing(index_elements=["feed"])
    )
    if inserted.rowcount != 1:
        connection = await session.connection()
        await connection.execute(
            update(IncidentFeedMark)
            .where(col(IncidentFeedMark.feed) == feed, col(IncidentFeedMark.last_modified_at) < to)
            .values(last_modified_at=to, updated_at=now)
        )
