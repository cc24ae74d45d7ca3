"""Slack listeners for /partnerbot: help, the managers of the weekly summaries, and setup (an admin,
or whoever installed the app, connects the workspace to a partner, or changes its channels and
time zone, in a form)."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.errors import UserError
from bot.partners import messages as setup_messages
from bot.partners.flows import SetupForm, may_set_up, set_up_workspace, setup_problems
from bot.partners.help import help_blocks
from bot.partners.managers import change_managers, is_manager, parse_managers
from bot.partners.messages import SetupAction
from bot.services import Services
from handlers.errors import answering_failures
from handlers.replies import DATABASE_ERRORS, database_down_text, failure_reference
from storage import installations, partners
from storage.installations import InstalledWorkspace
from storage.models import Partner

logger = logging.getLogger(__name__)

FIELDS = {
    "name": SetupAction.NAME,
    "alert_channel": SetupAction.ALERT_CHANNEL,
    "manager_channel": SetupAction.MANAGER_CHANNEL,
    "orders_channel": SetupAction.ORDERS_CHANNEL,
    "timezone": SetupAction.TIMEZONE,
}


async def installed_workspace(services: Services, team_id: str) -> InstalledWorkspace | None:
    """Returns the workspace's newest installation (None with one bot token, or none found)."""
    if services.workspaces is None:
        return None
    async with services.sessions() as session:
        return await installations.get_workspace(
            session=session, client_id=services.workspaces.client_id, team_id=team_id
        )


async def slack_user(client, user_id: str) -> dict:
    """Returns what Slack says about someone (users.info), or {} when it cannot say."""
    try:
        info = await client.users_info(user=user_id)
    except SlackApiError:
        logger.warning("users.info failed for %s; treating them as not an admin", user_id)
        return {}
    return info.get("user") or {}


def allowed_to_set_up(user: dict, installed: InstalledWorkspace | None) -> bool:
    """Tells whether someone (users.info's `user`) may set the workspace up."""
    return may_set_up(
        user_id=str(user.get("id") or ""),
        is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        installer_id=installed.installer_id if installed is not None else "",
    )


async def setup_command(ack, command, respond, context, client) -> None:
    await ack()
    services: Services = context["services"]
    partner: Partner | None = context.get("partner")
    team_id, user_id = command.get("team_id", ""), command.get("user_id", "")
    installed = await installed_workspace(services, team_id)
    user = {"id": user_id, **await slack_user(client, user_id)}
    allowed = allowed_to_set_up(user, installed)
    if allowed:
        # First: the trigger that opens a form is good for 3 seconds only.
        form = setup_messages.setup_form(
            partner=partner,
            name=installed.team_name if installed else "",
            timezone=str(user.get("tz") or services.settings.default_time_zone),
        )
        await client.views_open(trigger_id=command["trigger_id"], view=form)
    if partner is not None:
        async with services.sessions() as session:
            managers = await partners.manager_ids(session=session, partner_id=partner.id)
        answer = setup_messages.current_settings(partner, managers, may_change=allowed)
    elif not allowed:
        answer = setup_messages.not_allowed()
    else:
        return
    await respond(text=answer.text, blocks=answer.blocks, response_type="ephemeral")


def form_of(view: dict) -> SetupForm:
    """Reads the setup form's inputs."""
    values = {}
    for block_id, inputs in (view.get("state") or {}).get("values", {}).items():
        for element in inputs.values():
            values[block_id] = (
                element.get("selected_conversation") or element.get("value") or ""
            ).strip()
    return SetupForm(
        name=values.get(SetupAction.NAME, ""),
        alert_channel=values.get(SetupAction.ALERT_CHANNEL, ""),
        manager_channel=values.get(SetupAction.MANAGER_CHANNEL, ""),
        orders_channel=values.get(SetupAction.ORDERS_CHANNEL) or None,
        timezone=values.get(SetupAction.TIMEZONE, ""),
    )


async def setup_submitted(ack, view, body, context, client) -> None:
    services: Services = context["services"]
    team_id = (body.get("team") or {}).get("id", "") or context.team_id or ""
    user_id = (body.get("user") or {}).get("id", "")
    form = form_of(view)
    problems = setup_problems(form)
    if problems:
        await ack(
            response_action="errors",
            errors={FIELDS[field]: text for field, text in problems.items()},
        )
        return
    try:
        # Checked again: the form may have stayed open while someone's admin role was removed.
        installed = await installed_workspace(services, team_id)
        user = {"id": user_id, **await slack_user(client, user_id)}
        if not allowed_to_set_up(user, installed):
            await ack(
                response_action="errors",
                errors={SetupAction.NAME: setup_messages.not_allowed().text},
            )
            return
        partner, created = await set_up_workspace(
            services.sessions, team_id=team_id, form=form, by=user_id
        )
        async with services.sessions() as session:
            managers = await partners.manager_ids(session=session, partner_id=partner.id)
    except UserError as error:
        await ack(response_action="errors", errors={SetupAction.NAME: str(error)})
        return
    except DATABASE_ERRORS:
        reference = failure_reference("saving the setup form", services=services)
        await ack(
            response_action="errors", errors={SetupAction.NAME: database_down_text(reference)}
        )
        return
    if services.workspaces is not None:
        services.workspaces.forget(team_id)
    logger.info(
        "workspace %s %s partner %r (id %s), by %s",
        team_id,
        "set up as" if created else "changed the settings of",
        partner.name,
        partner.id,
        user_id,
    )
    await ack(
        response_action="update",
        view=setup_messages.done(partner, managers, created=created, team_id=team_id),
    )


async def workspace_admin(client, user_id: str) -> bool:
    """Asks Slack whether someone is an admin or owner of the workspace."""
    try:
        info = await client.users_info(user=user_id)
    except SlackApiError:
        logger.warning("users.info failed for %s; treating them as not an admin", user_id)
        return False
    user = info.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner"))


async def managers_command(ack, command, respond, context, client) -> None:
    await ack()
    services: Services = context["services"]
    partner: Partner = context["partner"]
    user_id = command.get("user_id", "")
    parsed = parse_managers((command.get("text") or "").strip())
    async with services.sessions() as session:
        if isinstance(parsed, str):
            text = parsed
        elif parsed.action == "list":
            managers = await partners.manager_ids(session=session, partner_id=partner.id)
            text = "Managers: " + (", ".join(f"<@{m}>" for m in managers) or "none yet") + "."
        elif not (
            await is_manager(session, partner_id=partner.id, user_id=user_id)
            or await workspace_admin(client, user_id)
        ):
            managers = await partners.manager_ids(session=session, partner_id=partner.id)
            who = ", ".join(f"<@{m}>" for m in managers) or "nobody yet"
            text = (
                f"Only managers ({who}) and workspace admins can change who the managers "
                "are. Nothing was changed."
            )
        else:
            text = await change_managers(session, partner_id=partner.id, command=parsed)
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def partnerbot_command(ack, command, respond, context, client) -> None:
    words = (command.get("text") or "").split()
    if words and words[0].lower() == "managers":
        await managers_command(ack, command, respond, context, client)
        return
    if words and words[0].lower() == "setup":
        await setup_command(ack, command, respond, context, client)
        return
    await ack()
    await respond(text="What partnerbot can do", blocks=help_blocks(), response_type="ephemeral")


def register(app: AsyncApp) -> None:
    app.command("/partnerbot")(answering_failures(partnerbot_command))
    app.view(SetupAction.FORM)(setup_submitted)
