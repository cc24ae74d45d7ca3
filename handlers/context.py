"""The middleware every Slack request passes: services into the context, and the caller's partner.

A workspace that is not registered or waits for approval, or a database that does not answer, gets
its answer here, so no listener ever runs without an approved partner, except the two kinds made
for a workspace without one: setting it up (`/partnerbot setup`), and Slack saying the app was
uninstalled."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.blocks import escape
from bot.partners.flows import partner_of_workspace
from bot.partners.messages import SetupAction, not_set_up_text
from bot.partners.signup import waiting_text
from bot.services import Services
from handlers.replies import (
    DATABASE_ERRORS,
    RespondOnce,
    answer_in_place,
    database_down_text,
    failure_reference,
)

if TYPE_CHECKING:
    from storage.models import Partner

logger = logging.getLogger(__name__)

# Slack waits 3 seconds for an answer; everything before a listener runs (recording the request,
# finding the caller's partner) shares one deadline within them, so that a database that does not
# answer still gets the person a "database down" answer in time.
ANSWER_WITHIN_SECONDS = 2.5
# The loop time by which that must be done, set when the request arrives.
DEADLINE = "answer_deadline"
# Set in the context when the workspace's token could not be looked up (many workspaces).
WORKSPACE_LOOKUP_FAILED = "workspace_lookup_failed"
# Set in the context of an HTTP request whose signature handlers/slack_events.py verified; only
# then may an answer go to the response_url its body names.
VERIFIED_REQUEST = "verified_request"
# The workspace's partner (None: not set up), when handlers/slack_events.py found it in the
# session that recorded the request; the middleware then does not look it up again.
LOADED_PARTNER = "loaded_partner"


def seconds_left(context) -> float:
    """What is left of the request's deadline (the whole budget when it has none: Socket Mode,
    the shell)."""
    deadline = context.get(DEADLINE)
    if deadline is None:
        return ANSWER_WITHIN_SECONDS
    return max(0.0, deadline - asyncio.get_running_loop().time())


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


def acknowledged() -> BoltResponse:
    return BoltResponse(status=200, body="")


async def answer_instead(kind: str, body: dict, context, text: str) -> BoltResponse:
    """Answers a request that no listener will see, in the way its kind allows: a private
    message to a command or a click, an error beside a submitted form's first field, a single
    explanatory entry in a menu that asked for options; an event is only acknowledged."""
    if kind == "command":
        return ephemeral(text)
    in_place = answer_in_place(body, text)
    if in_place is not None:
        return json_answer(in_place)
    respond = context.get("respond")
    if respond is not None and body.get("response_url"):
        await respond(text=text, response_type="ephemeral", replace_original=False)
    return acknowledged()


def json_answer(answer: dict) -> BoltResponse:
    return BoltResponse(
        status=200, body=json.dumps(answer), headers={"content-type": "application/json"}
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


async def loaded_partner(services: Services, team_id: str, context) -> Partner | None:
    """The workspace's partner: as found with the request's record, or looked up now."""
    if LOADED_PARTNER in context:
        return context[LOADED_PARTNER]
    return await asyncio.wait_for(
        partner_of_workspace(services.sessions, team_id), seconds_left(context)
    )


def partner_middleware(services: Services):
    """Builds the global middleware that loads the caller's partner."""

    async def load_partner(req: AsyncBoltRequest, resp: BoltResponse, next, context, body):
        context["services"] = services
        if context.get("response_url"):
            context["respond"] = RespondOnce(
                response_url=context["response_url"],
                proxy=context.client.proxy,
                ssl=context.client.ssl,
                http=services.response_http,
            )
        kind, name = request_name(body)
        services.metrics.slack_requests.labels(kind, name).inc()
        team_id = context.team_id or ""
        if is_installation_event(body):
            # Whether or not the workspace belongs to a partner, its installation goes.
            await next()
            return

        async def database_down(what: str) -> BoltResponse:
            reference = failure_reference(
                f"while {what}", services=services, error=what == "loading partner"
            )
            return await answer_instead(kind, body, context, database_down_text(reference))

        if context.get(WORKSPACE_LOOKUP_FAILED):
            return await database_down("finding the workspace's token")
        try:
            partner = await loaded_partner(services, team_id, context)
        except DATABASE_ERRORS:
            return await database_down("loading partner")
        setting_up = is_setup_request(body)
        if partner is None and not setting_up:
            text = not_set_up_text(team_id, many_workspaces=services.workspaces is not None)
            return await answer_instead(kind, body, context, text)
        if partner is not None and partner.approved_at is None and not setting_up:
            return await answer_instead(kind, body, context, escape(waiting_text(partner.name)))
        context["partner"] = partner
        await next()

    return load_partner
