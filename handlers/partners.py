"""Slack listeners for /partnerbot (help, managers, setup) and the setup form."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.arguments import slash_text
from bot.partner_center import commands as partner_center
from bot.partner_center.messages import ConnectAction
from bot.partners import commands
from bot.partners.messages import SetupAction
from bot.services import Services
from handlers.errors import answering_failures
from handlers.replies import (
    DATABASE_ERRORS,
    database_down_text,
    failure_reference,
    form_values,
    send,
)

logger = logging.getLogger(__name__)


def user_info_from(client) -> commands.UserInfo:
    """Asks Slack about a person with users.info; a failed call is taken as knowing nothing."""

    async def user_info(user_id: str) -> dict:
        try:
            info = await client.users_info(user=user_id)
        except SlackApiError:
            logger.warning("users.info failed for %s; treating them as not an admin", user_id)
            return {}
        return info.get("user") or {}

    return user_info


async def partnerbot_command(ack, command, respond, context, client) -> None:
    await ack()
    reply = await commands.partnerbot_answer(
        context["services"],
        text=slash_text(command.get("text")),
        team_id=command.get("team_id", ""),
        user_id=command.get("user_id", ""),
        partner=context.get("partner"),
        user_info=user_info_from(client),
    )
    if reply.form is not None:
        await client.views_open(trigger_id=command["trigger_id"], view=reply.form)
    await send(respond, reply.messages, replace_original=False)


async def setup_submitted(ack, view, body, context, client) -> None:
    services: Services = context["services"]
    try:
        outcome = await commands.submit_setup(
            services,
            team_id=(body.get("team") or {}).get("id", "") or context.team_id or "",
            user_id=(body.get("user") or {}).get("id", ""),
            values=form_values(view),
            user_info=user_info_from(client),
        )
    except DATABASE_ERRORS:
        reference = failure_reference("saving the setup form", services=services)
        outcome = commands.SetupOutcome(errors={SetupAction.NAME: database_down_text(reference)})
    if outcome.errors:
        await ack(response_action="errors", errors=outcome.errors)
    else:
        await ack(response_action="update", view=outcome.view)


async def connect_submitted(ack, view, body, context) -> None:
    services: Services = context["services"]
    try:
        outcome = await partner_center.submit_connect(
            services,
            partner=context.get("partner"),
            user_id=(body.get("user") or {}).get("id", ""),
            values=form_values(view),
        )
    except DATABASE_ERRORS:
        reference = failure_reference("saving the Partner Center form", services=services)
        text = database_down_text(reference)
        outcome = partner_center.ConnectOutcome(errors={ConnectAction.TENANT: text})
    if outcome.errors:
        await ack(response_action="errors", errors=outcome.errors)
    else:
        await ack(response_action="update", view=outcome.view)


def register(app: AsyncApp) -> None:
    app.command("/partnerbot")(answering_failures(partnerbot_command))
    app.view(SetupAction.FORM)(setup_submitted)
    app.view(ConnectAction.FORM)(connect_submitted)
