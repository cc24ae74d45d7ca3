"""The one place Slack listener failures are handled: a short private answer, never a traceback."""

from __future__ import annotations

import logging
import uuid

from slack_bolt.async_app import AsyncApp
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import UserError
from handlers.context import database_down_text

logger = logging.getLogger(__name__)


def something_went_wrong_text(reference: str) -> str:
    return (
        f"Something went wrong on our side (ref {reference}). "
        "It has been logged; please try again, and quote the ref if it keeps happening."
    )


async def handle_error(error: Exception, body: dict, respond, context) -> None:
    services = context.get("services")
    if isinstance(error, UserError):
        text = str(error)
    else:
        reference = uuid.uuid4().hex[:8]
        database = isinstance(error, SQLAlchemyError | OSError | TimeoutError)
        kind = "database" if database else "unexpected"
        logger.error("%s failure handling a Slack request (ref %s)", kind, reference,
                     exc_info=error)  # fmt: skip
        if services is not None:
            services.metrics.errors.labels(kind).inc()
        text = database_down_text(reference) if database else something_went_wrong_text(reference)
    if respond is not None and body.get("response_url"):
        await respond(text=text, response_type="ephemeral", replace_original=False)


def register(app: AsyncApp) -> None:
    app.error(handle_error)
