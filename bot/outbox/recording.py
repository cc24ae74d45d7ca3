"""Writing back what deliveries came to: the sent rows with their Slack `ts` in one statement, a
429 due again after its Retry-After, and other failures retried later or given up on."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.outbox.delivering import Delivery
from storage import outbox
from storage.db import Sessions
from storage.models import OutboxMessage

MAX_ATTEMPTS = 8

logger = logging.getLogger(__name__)


def retry_delay(attempts: int) -> timedelta:
    """Waits longer after each failed attempt: 2 s, 4 s, 8 s … at most 5 minutes."""
    return timedelta(seconds=min(2**attempts, 300))


async def record_outcomes(
    sessions: Sessions, outcomes: list[tuple[OutboxMessage, Delivery]], *, now: datetime
) -> None:
    """Writes back a batch of outcomes in one transaction: the sent rows with one statement,
    then each failure."""
    async with sessions() as session:
        sent = [(row.id, result.ts) for row, result in outcomes if not result.error]
        await outbox.mark_sent_many(session=session, sent=sent, now=now)
        for row, result in outcomes:
            if result.error:
                await record_failure(session, row, result, now)
        await session.commit()


async def record_failure(
    session: AsyncSession, row: OutboxMessage, result: Delivery, now: datetime
) -> None:
    """A 429 waits out its Retry-After without counting; a look for an earlier post that could
    not be made waits and looks again, never given up; other failures are tried again later, or
    given up on when permanent or after MAX_ATTEMPTS."""
    if result.unknown:
        # Counted, so the next attempt looks again before it posts.
        wait = timedelta(seconds=result.retry_after) if result.retry_after else None
        logger.warning(
            "outbox message %s (%s) to %s waits: %s",
            row.id,
            row.idempotency_key,
            row.channel,
            result.error,
        )
        await outbox.mark_failed(
            session=session,
            message_id=row.id,
            error=result.error,
            retry_at=now + (wait or retry_delay(row.attempts)),
        )
        return
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
