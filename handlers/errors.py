"""The one place Slack listener failures are handled: a short private answer, never a traceback."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp

from bot.errors import UserError
from handlers.context import VERIFIED_REQUEST
from handlers.replies import (
    DATABASE_ERRORS,
    answer_in_place,
    database_down_text,
    failure_reference,
    something_went_wrong_text,
)

logger = logging.getLogger(__name__)


def is_verified(request, context) -> bool:
    """Tells whether a request is known to be Slack's: verified by its signature over HTTP, or
    come over Socket Mode's authenticated connection."""
    socket_mode = request is not None and getattr(request, "mode", "") == "socket_mode"
    return socket_mode or bool(context.get(VERIFIED_REQUEST))


def failure_text(error: Exception, services) -> str:
    """What the person is told of a failure (logged and counted first, unless it is theirs)."""
    if isinstance(error, UserError):
        return str(error)
    database = isinstance(error, DATABASE_ERRORS)
    reference = failure_reference(
        "handling a Slack request",
        services=services,
        kind="database" if database else "unexpected",
        error=error,
    )
    return database_down_text(reference) if database else something_went_wrong_text(reference)


async def handle_error(error: Exception, body: dict, respond, context, request=None) -> None:
    """Logs a failure and answers the person who asked, at the response_url of their request;
    never at the response_url of a body whose signature was not verified, which anyone can
    write (the bot would post wherever it says)."""
    text = failure_text(error, context.get("services"))
    await tell(text, body, respond, context, request)


async def tell(text: str, body: dict, respond, context, request) -> None:
    if respond is not None and body.get("response_url") and is_verified(request, context):
        await respond(text=text, response_type="ephemeral", replace_original=False)


def answering_failures(listener: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Wraps a listener so that its failures reach handle_error.

    bolt's own error path loses the answer when a listener fails within ~10 ms of acking (its
    runner then resets the acknowledgement and Slack sees no response at all), so listeners are
    registered through this wrapper; app.error still catches failures outside listeners."""
    wanted = set(inspect.signature(listener).parameters)

    async def guarded(
        ack, body, respond, context, client, logger, command, action, view, payload, request
    ):
        given = {
            "ack": ack, "body": body, "respond": respond, "context": context, "client": client,
            "logger": logger, "command": command, "action": action, "view": view,
            "payload": payload,
        }  # fmt: skip
        try:
            await listener(**{name: value for name, value in given.items() if name in wanted})
        except Exception as error:  # noqa: BLE001 - every failure gets an answer, and is logged
            text = failure_text(error, context.get("services"))
            if ack.response is None:
                if "command" in body:
                    # Not acked yet: the acknowledgement itself carries the answer.
                    await ack(text=text, response_type="ephemeral")
                    return
                # A form or a menu can only be answered in the acknowledgement itself.
                await ack(**(answer_in_place(body, text) or {}))
            await tell(text, body, respond, context, request)

    guarded.__name__ = guarded.__qualname__ = listener.__name__
    return guarded


def register(app: AsyncApp) -> None:
    app.error(handle_error)
