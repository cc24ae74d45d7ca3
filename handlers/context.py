"""The middleware every Slack request passes: services into the context, and the caller's partner.

A workspace that is not registered, or a database that does not answer, gets its answer here, so
no listener ever runs without a partner."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.services import Services
from storage import partners

logger = logging.getLogger(__name__)

PARTNER_LOOKUP_TIMEOUT = 2.0  # seconds; Slack gives up after 3


def not_set_up_text(team_id: str) -> str:
    return (
        "This workspace is not set up for partnerbot yet, so there is nothing to show. "
        "Ask whoever runs partnerbot to register it with "
        f'`python -m bot partner add "Your company" --team-id {team_id} '
        "--alert-channel C… --manager-channel C…`, then try again."
    )


def database_down_text(reference: str) -> str:
    return (
        "partnerbot cannot reach its database right now, so it cannot answer. "
        f"Please try again in a minute (ref {reference})."
    )


def ephemeral(text: str) -> BoltResponse:
    """An immediate, private answer to a slash command."""
    return BoltResponse(
        status=200,
        body=json.dumps({"response_type": "ephemeral", "text": text}),
        headers={"content-type": "application/json"},
    )


def request_name(body: dict) -> tuple[str, str]:
    """Names a request for metrics: its kind (command, action, event) and name."""
    if "command" in body:
        return "command", str(body["command"])
    if body.get("type") == "block_actions" and body.get("actions"):
        return "action", str(body["actions"][0].get("action_id", "")).split(":")[0]
    if body.get("type") == "event_callback":
        return "event", str(body.get("event", {}).get("type", ""))
    return "other", str(body.get("type", ""))


def partner_middleware(services: Services):
    """Builds the global middleware that loads the caller's partner."""

    async def load_partner(req: AsyncBoltRequest, resp: BoltResponse, next, context, body):
        context["services"] = services
        kind, name = request_name(body)
        services.metrics.slack_requests.labels(kind, name).inc()
        team_id = context.team_id or ""

        async def lookup():
            async with services.sessions() as session:
                return await partners.get_by_team_id(session=session, team_id=team_id)

        try:
            partner = await asyncio.wait_for(lookup(), PARTNER_LOOKUP_TIMEOUT)
        except (SQLAlchemyError, OSError, TimeoutError):
            reference = uuid.uuid4().hex[:8]
            logger.exception("database unavailable while loading partner (ref %s)", reference)
            services.metrics.errors.labels("database").inc()
            return ephemeral(database_down_text(reference)) if kind == "command" else resp
        if partner is None:
            return ephemeral(not_set_up_text(team_id)) if kind == "command" else resp
        context["partner"] = partner
        await next()

    return load_partner
