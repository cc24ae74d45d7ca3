"""The middleware every Slack request passes: services into the context, and the caller's partner.

A workspace that is not registered, or a database that does not answer, gets its answer here, so
no listener ever runs without a partner, except the two kinds made for a workspace without one:
setting it up (`/partnerbot setup`), and Slack saying the app was uninstalled."""

from __future__ import annotations

import asyncio
import json
import logging

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.partners.flows import partner_of_workspace
from bot.partners.messages import SetupAction, not_set_up_text
from bot.services import Services
from handlers.replies import DATABASE_ERRORS, database_down_text, failure_reference

logger = logging.getLogger(__name__)

PARTNER_LOOKUP_TIMEOUT = 2.0  # seconds; Slack gives up after 3
# Set in the context when the workspace's token could not be looked up (many workspaces).
WORKSPACE_LOOKUP_FAILED = "workspace_lookup_failed"
# Set in the context of an HTTP request whose signature handlers/slack_events.py verified; only
# then may an answer go to the response_url its body names.
VERIFIED_REQUEST = "verified_request"


def is_setup_request(body: dict) -> bool:
    """Tells whether a request sets up a workspace (`/partnerbot setup` and its form), which
    works before the workspace belongs to a partner."""
    if body.get("command") == "/partnerbot":
        return (body.get("text") or "").strip().lower().split()[:1] == ["setup"]
    if body.get("type") == "view_submission":
        return (body.get("view") or {}).get("callback_id") == SetupAction.FORM
    return False


def is_installation_event(body: dict) -> bool:
    """Tells whether a request is Slack saying the app lost its access to a workspace."""
    return body.get("type") == "event_callback" and (body.get("event") or {}).get("type") in (
        "app_uninstalled",
        "tokens_revoked",
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
        if is_installation_event(body):
            # Whether or not the workspace belongs to a partner, its installation goes.
            await next()
            return

        def database_down(what: str) -> BoltResponse:
            reference = failure_reference(
                f"while {what}", services=services, error=what == "loading partner"
            )
            return ephemeral(database_down_text(reference)) if kind == "command" else resp

        if context.get(WORKSPACE_LOOKUP_FAILED):
            return database_down("finding the workspace's token")
        try:
            partner = await asyncio.wait_for(
                partner_of_workspace(services.sessions, team_id), PARTNER_LOOKUP_TIMEOUT
            )
        except DATABASE_ERRORS:
            return database_down("loading partner")
        if partner is None and is_setup_request(body):
            context["partner"] = None
            await next()
            return
        if partner is None:
            text = not_set_up_text(team_id, many_workspaces=services.workspaces is not None)
            return ephemeral(text) if kind == "command" else resp
        context["partner"] = partner
        await next()

    return load_partner
