"""What every Slack listener and route shares: sending a feature's answers, reading a submitted
form, and the one way a failure gets its reference id, its log line, its count and its words."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.webhook.async_client import AsyncWebhookClient, WebhookResponse

from bot.blocks import MAX_OPTION_TEXT, Message, shorten
from bot.services import Services
from bot.slack_retries import safe_retries
from storage.db import DATABASE_ERRORS  # noqa: F401 - the handlers' one name for it

logger = logging.getLogger(__name__)


class RespondOnce(AsyncRespond):
    """bolt's `respond()`, except that a post to the response_url is sent again only when it
    never reached Slack: slack_sdk's default retry of a dropped connection would post the
    answer twice when Slack had it already; and that posts share the bot's one HTTP session
    when it has one (its pooled connections), instead of opening a session and a connection
    (in production a TLS handshake) for every answer."""

    def __init__(self, *, http: aiohttp.ClientSession | None = None, **given) -> None:
        super().__init__(**given)
        self.http = http

    async def __call__(self, text: str | dict = "", **fields) -> WebhookResponse:
        if self.response_url is None:
            return await super().__call__(text, **fields)
        message = (
            _build_message(**text)
            if isinstance(text, dict)
            else _build_message(text=text, **fields)
        )
        client = AsyncWebhookClient(
            url=self.response_url, proxy=self.proxy, ssl=self.ssl, retry_handlers=safe_retries(),
            session=self.http,
        )  # fmt: skip
        return await client.send_dict(message)


async def answer_in_ack_or_later(
    ack, respond, answers: Awaitable[list[Message]], *, within: float
) -> None:
    """Answers a slash command in its acknowledgement when the answers are ready within
    `within` seconds: Slack shows it at once, and no post to the response_url is needed.
    Otherwise acks in time and sends them to the response_url once they are ready."""
    work = asyncio.ensure_future(answers)
    try:
        # Shielded: at the deadline the work goes on, only the wait for it ends.
        ready = await asyncio.wait_for(asyncio.shield(work), within)
    except TimeoutError:
        await ack()
        await send(respond, await work, replace_original=False)
        return
    first, *rest = ready
    await ack(response_type="ephemeral", **message_fields(first))
    await send(respond, rest, replace_original=False)


def message_fields(message: Message) -> dict:
    return {"text": message.text, **({"blocks": message.blocks} if message.blocks else {})}


async def send(respond, answers: list[Message], *, replace_original: bool) -> None:
    """Sends a feature's answers to the asker privately; the first may replace the message
    that was clicked."""
    for index, message in enumerate(answers):
        await respond(
            response_type="ephemeral",
            replace_original=replace_original and index == 0,
            **message_fields(message),
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


def answer_in_place(body: dict, text: str) -> dict | None:
    """What to acknowledge a submitted form or an options load with when it cannot be served
    (Slack shows nothing else for them): an error beside the form's first input, or one
    explanatory entry in the menu; None for the kinds answered at their response_url."""
    if body.get("type") == "view_submission":
        blocks = (body.get("view") or {}).get("blocks") or []
        inputs = [block.get("block_id") for block in blocks if block.get("type") == "input"]
        if not inputs or not inputs[0]:
            return {}
        return {"response_action": "errors", "errors": {inputs[0]: text[:2000]}}
    if body.get("type") == "block_suggestion":
        option = {"text": {"type": "plain_text", "text": shorten(text, MAX_OPTION_TEXT)}}
        return {"options": [{**option, "value": "unavailable"}]}
    return None
