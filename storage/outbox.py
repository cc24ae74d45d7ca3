"""Queries of the outbox: messages written with the change that caused them, claimed for delivery
with a lease (row locks on PostgreSQL), marked sent with the Slack ts at once."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.columns import UTCDateTime
from storage.models import OutboxMessage

PENDING, SENT, FAILED = "pending", "sent", "failed"


async def add(*, session: AsyncSession, rows: list[dict]) -> None:
    """Writes messages to send, in the caller's transaction; a key written before is kept as it
    was (so writing the same message twice queues it once)."""
    if not rows:
        return
    if len({frozenset(row) for row in rows}) > 1:
        raise ValueError("outbox rows must all have the same columns")
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgres_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(OutboxMessage.__table__).on_conflict_do_nothing(
        index_elements=["idempotency_key"]
    )
    # One statement run for many rows: SQLAlchemy batches them into multi-row INSERTs that stay
    # within both databases' limits on parameters, and compiles the statement once.
    connection = await session.connection()
    await connection.execute(statement, rows)


@functools.cache
def claim_statement():
    """The claim as one statement, built once (building it costs more than running it): an
    UPDATE of the first due rows in id order, returning them. On PostgreSQL the rows are picked
    with FOR UPDATE SKIP LOCKED; on both, the UPDATE checks again that each row is still free,
    so that two workers never both get a row (SQLite takes no row locks)."""
    parent = aliased(OutboxMessage)
    sibling = aliased(OutboxMessage)
    now = bindparam("claim_now", type_=UTCDateTime())
    free = or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) <= now)
    # A thread reply or an edit waits until the message it belongs to is out (it needs its ts),
    # and until every earlier message of that thread has gone, so they arrive in order.
    parent_out = exists().where(
        parent.idempotency_key == OutboxMessage.parent_key, col(parent.state).in_([SENT, FAILED])
    )
    earlier_waiting = exists().where(
        sibling.parent_key == OutboxMessage.parent_key,
        sibling.state == PENDING,
        sibling.id < OutboxMessage.id,
    )
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == PENDING, col(OutboxMessage.next_attempt_at) <= now, free)
        .where(or_(col(OutboxMessage.parent_key).is_(None), and_(parent_out, ~earlier_waiting)))
        .order_by(OutboxMessage.id)
        .limit(bindparam("claim_limit"))
        .with_for_update(skip_locked=True)
        # Materialised: run once. Inlined into the UPDATE, PostgreSQL may run the locking SELECT
        # more than once, each time skipping the rows it just locked, and claim past the limit.
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(select(due.c.id)), OutboxMessage.state == PENDING, free)
        .values(
            claimed_until=bindparam("claim_until", type_=UTCDateTime()),
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


async def claim(
    *, session: AsyncSession, now: datetime, lease: timedelta, limit: int
) -> list[OutboxMessage]:
    """Claims up to `limit` due messages for this worker until the lease runs out, oldest
    first; rows another worker holds are skipped."""
    result = await session.exec(
        claim_statement(),
        params={"claim_now": now, "claim_until": now + lease, "claim_limit": limit},
    )
    return sorted(result.scalars().all(), key=lambda message: message.id)


async def mark_sent_many(
    *, session: AsyncSession, sent: list[tuple[int, str]], now: datetime
) -> None:
    """Records delivered messages and their Slack timestamps, in one statement for them all."""
    if not sent:
        return
    table = OutboxMessage.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("message_id"))
        .values(state=SENT, ts=bindparam("message_ts"), sent_at=now, claimed_until=None)
        .values(last_error="")
    )
    connection = await session.connection()
    await connection.execute(
        statement, [{"message_id": message_id, "message_ts": ts} for message_id, ts in sent]
    )


async def mark_rate_limited(*, session: AsyncSession, message_id: int, retry_at: datetime) -> None:
    """Puts a message Slack answered with 429 back, due at `retry_at`. Slack did not take it, so
    the attempt is not counted: the next one posts without first looking for an earlier post."""
    await session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(
            next_attempt_at=retry_at,
            claimed_until=None,
            attempts=OutboxMessage.attempts - 1,
            last_error="ratelimited",
        )
    )


async def mark_failed(
    *, session: AsyncSession, message_id: int, error: str, retry_at: datetime | None
) -> None:
    """Records a failed attempt: tried again at `retry_at`, or given up when it is None."""
    values = {"last_error": error[:500], "claimed_until": None}
    if retry_at is None:
        values["state"] = FAILED
    else:
        values["next_attempt_at"] = retry_at
    await session.exec(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values))


async def by_key_prefix(*, session: AsyncSession, prefix: str) -> list[OutboxMessage]:
    """Lists the messages whose idempotency key starts with a prefix, oldest first."""
    result = await session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.idempotency_key).startswith(prefix, autoescape=True))
        .order_by(OutboxMessage.id)
    )
    return list(result.all())


async def next_due_after(*, session: AsyncSession, now: datetime) -> datetime | None:
    """When the next message that is not due yet falls due (None: none is waiting)."""
    result = await session.exec(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.state == PENDING, col(OutboxMessage.next_attempt_at) > now
        )
    )
    return result.one()


async def count_by_state(*, session: AsyncSession) -> dict[str, int]:
    """Counts messages in each state."""
    result = await session.exec(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    )
    return {state: int(count) for state, count in result.all()}


async def parents_of(
    *, session: AsyncSession, messages: list[OutboxMessage]
) -> dict[str, OutboxMessage]:
    """Gets the messages that thread replies and edits belong to, by their keys."""
    keys = {message.parent_key for message in messages if message.parent_key}
    if not keys:
        return {}
    result = await session.exec(
        select(OutboxMessage).where(col(OutboxMessage.idempotency_key).in_(keys))
    )
    return {parent.idempotency_key: parent for parent in result.all()}


async def waiting_replies(
    *, session: AsyncSession, prefix: str, marker: str
) -> dict[str, OutboxMessage]:
    """The newest thread reply of each thread that no worker has claimed yet (so it can still be
    changed), among those whose key starts with `prefix` and contains `marker`; by the key of
    the message each belongs to."""
    result = await session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.idempotency_key).startswith(prefix, autoescape=True))
        .where(col(OutboxMessage.idempotency_key).contains(marker, autoescape=True))
        .where(col(OutboxMessage.parent_key).is_not(None))
        .where(OutboxMessage.state == PENDING, col(OutboxMessage.claimed_until).is_(None))
        .order_by(OutboxMessage.id)
    )
    # Oldest first, so the newest of each thread is the one kept.
    return {message.parent_key: message for message in result.all()}


async def replace_waiting_payload(*, session: AsyncSession, message_id: int, payload: str) -> bool:
    """Changes what an unclaimed message will say; False when a worker claimed it meanwhile."""
    result = await session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == PENDING)
        .where(col(OutboxMessage.claimed_until).is_(None))
        .values(payload=payload)
    )
    return result.rowcount == 1


async def extend_leases(*, session: AsyncSession, message_ids: list[int], until: datetime) -> None:
    """Keeps messages claimed while their delivery is still under way."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(message_ids), OutboxMessage.state == PENDING)
        .values(claimed_until=until)
    )
