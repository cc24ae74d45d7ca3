"""The HTTP route Slack posts every command, interaction and event to. A request is bounded, its
signature verified and its body's shape checked before bolt parses or routes anything, and the
same signed request (a replay, or Slack's retry of an event) is acted on once."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.replays import first_sight_and_partner, request_key
from handlers.context import (
    ANSWER_WITHIN_SECONDS,
    DEADLINE,
    LOADED_PARTNER,
    VERIFIED_REQUEST,
    seconds_left,
)
from handlers.pages import SERVICES
from handlers.replies import DATABASE_ERRORS, failure_reference
from handlers.request_bodies import TooLarge, body_within
from handlers.slack_payloads import FORM, Malformed, form_fields, read_slack_body
from handlers.slack_signature import signature_problem

BOLT_APP = web.AppKey("bolt_app", AsyncApp)
SIGNING_SECRET = web.AppKey("signing_secret", str)

# The largest body Slack sends this app is an interaction carrying one of its views (a click in
# a modal or the Home tab, a form submitted, with the inputs' state): Slack refuses a view over
# 250 kB (views.open/update/publish answer view_too_large), and form-encoding Block Kit JSON adds
# about half again; events are smaller (a message's text stops at 40,000 characters). Twice the
# largest view leaves room for both and refuses anything far above them.
LARGEST_SLACK_BODY = 512 * 1024
# Slack checks the TLS certificate of a URL with `ssl_check=1&token=…`, unsigned.
LARGEST_SSL_CHECK = 200

logger = logging.getLogger(__name__)


def refuse(request: web.Request, status: int, reason: str, size: int | None = None) -> web.Response:
    """Answers a request that is not acted on, and logs it in one line of bounded length: the
    reason is ours, the request's own text never appears."""
    length = request.content_length if size is None else size
    logger.warning(
        "refused a request to %s with %d: %s (%s bytes, from %s)",
        request.path,
        status,
        reason,
        "unknown" if length is None else length,
        (request.remote or "")[:64],
    )
    return web.Response(status=status, text=f"{reason}\n")


def is_ssl_check(request: web.Request, body: bytes) -> bool:
    if request.content_type != FORM or len(body) > LARGEST_SSL_CHECK:
        return False
    try:
        fields = form_fields(body.decode("ascii"))
    except (UnicodeDecodeError, Malformed):
        return False
    return fields.get("ssl_check") == "1" and set(fields) <= {"ssl_check", "token"}


def bolt_request(request: web.Request, text: str, body: dict) -> AsyncBoltRequest:
    """The request for bolt, marked verified, with the body as read here."""
    bolt = AsyncBoltRequest(
        body=text,
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]
        context={VERIFIED_REQUEST: True},
    )
    if bolt.body != body:
        # bolt reads any form body containing the word "payload" as an interaction, so a slash
        # command whose text says "payload" would reach it empty.
        bolt.body = body
        bolt.context = build_async_context(AsyncBoltContext({VERIFIED_REQUEST: True}), body)
    return bolt


async def acted_on_before(request: web.Request, body: dict, context) -> bool:
    """Records the request; True when some process has seen it already. The same session finds
    the workspace's partner and leaves it in the context for the partner middleware. A database
    that does not answer (within the request's deadline) lets it through: the partner look-up
    after this answers for that."""
    key = request_key(body, request.headers.get("X-Slack-Signature", ""))
    if key is None:
        return False
    services = request.app[SERVICES]
    try:
        seen = first_sight_and_partner(
            services.sessions, key, team_id=context.team_id or "", now=services.clock()
        )
        first, context[LOADED_PARTNER] = await asyncio.wait_for(seen, seconds_left(context))
        return not first
    except DATABASE_ERRORS:
        failure_reference("recording a Slack request", services=services, error=False)
        return False


async def slack_events(request: web.Request) -> web.StreamResponse:
    deadline = asyncio.get_running_loop().time() + ANSWER_WITHIN_SECONDS
    try:
        raw = await body_within(request, LARGEST_SLACK_BODY)
    except TooLarge:
        return refuse(request, 413, f"body over {LARGEST_SLACK_BODY} bytes")
    if is_ssl_check(request, raw):
        return web.Response(status=200)
    problem = signature_problem(
        request.headers, raw, signing_secret=request.app[SIGNING_SECRET], now=time.time()
    )
    if problem is not None:
        return refuse(request, 401, problem, len(raw))
    text = raw.decode("utf-8")  # the signature check decoded it already
    try:
        body = read_slack_body(text, request.content_type)
        dispatched = bolt_request(request, text, body)
    except Malformed as malformed:
        return refuse(request, 400, str(malformed), len(raw))
    except Exception as error:  # noqa: BLE001 - whatever bolt cannot read is refused, not a 500
        return refuse(request, 400, f"unreadable by bolt ({type(error).__name__})", len(raw))
    dispatched.context[DEADLINE] = deadline
    if await acted_on_before(request, body, dispatched.context):
        logger.info("a Slack request seen before was acknowledged and not acted on again")
        return web.Response(status=200)
    bolt_app = request.app[BOLT_APP]
    return await to_aiohttp_response(await bolt_app.async_dispatch(dispatched))


def register(web_app: web.Application, *, signing_secret: str) -> None:
    web_app[SIGNING_SECRET] = signing_secret
    web_app.router.add_post("/slack/events", slack_events)
