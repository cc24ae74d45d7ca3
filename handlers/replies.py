"""What every Slack listener and route shares: sending a feature's answers, reading a submitted
form, and the one way a failure gets its reference id, its log line, its count and its words."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import SQLAlchemyError

from bot.blocks import Message
from bot.services import Services

logger = logging.getLogger(__name__)

# What a database that is down, restarting or unreachable raises through SQLAlchemy and asyncpg.
DATABASE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


async def send(respond, answers: list[Message], *, replace_original: bool) -> None:
    """Sends a feature's answers to the asker privately; the first may replace the message
    that was clicked."""
    for index, message in enumerate(answers):
        blocks = {"blocks": message.blocks} if message.blocks else {}
        await respond(
            text=message.text,
            response_type="ephemeral",
            replace_original=replace_original and index == 0,
            **blocks,
        )


def form_values(view: dict) -> dict[str, str]:
    """Reads a submitted modal's inputs: the value typed or the option picked, per block."""
    values = {}
    for block_id, inputs in (view.get("state") or {}).get("values", {}).items():
        for element in inputs.values():
            picked = element.get("selected_option") or {}
            values[block_id] = (
                picked.get("value")
                or element.get("selected_conversation")
                or element.get("value")
                or ""
            )
    return values


def failure_reference(
    what: str,
    *,
    services: Services | None,
    kind: str = "database",
    error: BaseException | bool = True,
) -> str:
    """Logs a failure once under a new reference id, counts it by kind, and returns the id for
    the answer, so that a person quoting it can be matched to the log line."""
    reference = uuid.uuid4().hex[:8]
    label = "database failure" if kind == "database" else f"{kind} failure"
    logger.error("%s %s (ref %s)", label, what, reference, exc_info=error)
    if services is not None:
        services.metrics.errors.labels(kind).inc()
    return reference


def database_down_text(reference: str) -> str:
    return (
        "partnerbot cannot reach its database right now, so it cannot answer. "
        f"Please try again in a minute (ref {reference})."
    )


def something_went_wrong_text(reference: str) -> str:
    return (
        f"Something went wrong on our side (ref {reference}). "
        "It has been logged; please try again, and quote the ref if it keeps happening."
    )
