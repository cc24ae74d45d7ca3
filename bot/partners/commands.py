"""/partnerbot: which subcommand was typed (help, managers, setup), who may do what, and what each
answers; and the setup form's submission."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.blocks import Message
from bot.errors import UserError
from bot.partner_center import commands as partner_center
from bot.partner_center.messages import status_text as partner_center_status
from bot.partners import messages as setup_messages
from bot.partners.flows import SetupForm, may_set_up, set_up_workspace, setup_problems
from bot.partners.help import help_blocks, not_a_subcommand
from bot.partners.managers import change_managers, is_manager, parse_managers
from bot.partners.messages import SetupAction
from bot.partners.signup import signup_for
from bot.services import Services
from bot.subscriptions.rules import FOR_EVERYONE
from storage import installations, partners
from storage import partner_center as partner_center_store
from storage.installations import InstalledWorkspace
from storage.models import Partner

logger = logging.getLogger(__name__)

# Asks Slack about a person (users.info's `user`); {} when Slack cannot say.
UserInfo = Callable[[str], Awaitable[dict]]

FIELDS = {
    "name": SetupAction.NAME,
    "alert_channel": SetupAction.ALERT_CHANNEL,
    "manager_channel": SetupAction.MANAGER_CHANNEL,
    "orders_channel": SetupAction.ORDERS_CHANNEL,
    "timezone": SetupAction.TIMEZONE,
    "money": SetupAction.MONEY,
}


@dataclass(frozen=True)
class Reply:
    """What /partnerbot answers: a form to open first (its trigger lasts 3 seconds), then the
    private messages."""

    messages: list[Message] = field(default_factory=list)
    form: dict | None = None


@dataclass(frozen=True)
class SetupOutcome:
    """What the setup form's submission comes to: errors shown beside the fields, or the view that
    replaces the form."""

    errors: dict[str, str] | None = None
    view: dict | None = None


def is_workspace_admin(user: dict) -> bool:
    """Tells whether users.info's `user` is an admin or owner of the workspace."""
    return bool(user.get("is_admin") or user.get("is_owner"))


SUBCOMMANDS = ("help", "managers", "setup", "sync")


def subcommand(text: str) -> str:
    """Names the /partnerbot subcommand typed (`help` when nothing is; `setup partner-center`
    for that form), or returns the first word as typed when it is none of them."""
    words = text.split()
    if not words:
        return "help"
    if [word.lower() for word in words[:2]] == ["setup", "partner-center"]:
        return "setup partner-center"
    return words[0].lower() if words[0].lower() in SUBCOMMANDS else words[0]


async def partnerbot_answer(
    services: Services,
    *,
    text: str,
    team_id: str,
    user_id: str,
    partner: Partner | None,
    user_info: UserInfo,
) -> Reply:
    """Answers `/partnerbot …` (a workspace without a partner only gets this far for `setup`)."""
    match subcommand(text):
        case "managers":
            async with services.sessions() as session:
                answer = await managers_answer(
                    session, text.strip(), partner=partner, user_id=user_id, user_info=user_info
                )
            return Reply([Message(answer, [])])
        case "setup":
            return await setup_answer(
                services, team_id=team_id, user_id=user_id, partner=partner, user_info=user_info
            )
        case "setup partner-center" if partner is not None and partner.approved_at is not None:
            answers, form = await partner_center.connect_form_answer(
                services, partner=partner, user_id=user_id
            )
            return Reply(answers, form)
        case "setup partner-center":  # a workspace not set up yet: its setup comes first
            return await setup_answer(
                services, team_id=team_id, user_id=user_id, partner=partner, user_info=user_info
            )
        case "sync" if partner is not None:
            return Reply(
                await partner_center.sync_answer(services, partner=partner, user_id=user_id)
            )
        case "help":
            return Reply([Message("What partnerbot can do", help_blocks())])
    return Reply([not_a_subcommand(subcommand(text))])


async def managers_answer(
    session, text: str, *, partner: Partner, user_id: str, user_info: UserInfo
) -> str:
    """Lists the managers, or adds or removes one: managers and workspace admins may change them."""
    parsed = parse_managers(text)
    if isinstance(parsed, str):
        return parsed
    if parsed.action == "list":
        managers = await partners.manager_ids(session=session, partner_id=partner.id)
        return "Managers: " + (", ".join(f"<@{m}>" for m in managers) or "none yet") + "."
    if not (
        await is_manager(session, partner_id=partner.id, user_id=user_id)
        or is_workspace_admin(await user_info(user_id))
    ):
        managers = await partners.manager_ids(session=session, partner_id=partner.id)
        who = ", ".join(f"<@{m}>" for m in managers) or "nobody yet"
        return (
            f"Only managers ({who}) and workspace admins can change who the managers "
            "are. Nothing was changed."
        )
    return await change_managers(session, partner_id=partner.id, command=parsed)


async def installed_workspace(services: Services, team_id: str) -> InstalledWorkspace | None:
    """Returns the workspace's newest installation (None with one bot token, or none found)."""
    if services.workspaces is None:
        return None
    async with services.sessions() as session:
        return await installations.get_workspace(
            session=session, client_id=services.workspaces.client_id, team_id=team_id
        )


async def allowed_to_set_up(
    services: Services, *, team_id: str, user_id: str, user_info: UserInfo
) -> tuple[bool, dict, InstalledWorkspace | None]:
    """Tells whether someone may set the workspace up; with what Slack said about them and the
    workspace's installation."""
    installed = await installed_workspace(services, team_id)
    user = {"id": user_id, **await user_info(user_id)}
    allowed = may_set_up(
        user_id=user_id,
        is_admin=is_workspace_admin(user),
        installer_id=installed.installer_id if installed is not None else "",
    )
    return allowed, user, installed


async def setup_answer(
    services: Services, *, team_id: str, user_id: str, partner: Partner | None, user_info: UserInfo
) -> Reply:
    """`/partnerbot setup`: the form for whoever may set the workspace up, and the current
    settings of a workspace that already belongs to a partner."""
    allowed, user, installed = await allowed_to_set_up(
        services, team_id=team_id, user_id=user_id, user_info=user_info
    )
    form = None
    if allowed:
        form = setup_messages.setup_form(
            partner=partner,
            name=installed.team_name if installed else "",
            timezone=str(user.get("tz") or services.settings.default_time_zone),
        )
    if partner is not None:
        async with services.sessions() as session:
            managers = await partners.manager_ids(session=session, partner_id=partner.id)
            connection = await partner_center_store.get(session=session, partner_id=partner.id)
        status = partner_center_status(connection, now=services.clock())
        current = setup_messages.current_settings(
            partner, managers, may_change=allowed, partner_center=status
        )
        return Reply([current], form)
    return Reply([] if allowed else [setup_messages.not_allowed()], form)


def setup_form_of(values: dict[str, str]) -> SetupForm:
    """Reads the setup form's inputs, by block id."""
    value = {block_id: text.strip() for block_id, text in values.items()}
    return SetupForm(
        name=value.get(SetupAction.NAME, ""),
        alert_channel=value.get(SetupAction.ALERT_CHANNEL, ""),
        manager_channel=value.get(SetupAction.MANAGER_CHANNEL, ""),
        orders_channel=value.get(SetupAction.ORDERS_CHANNEL) or None,
        timezone=value.get(SetupAction.TIMEZONE, ""),
        # A form opened before the choice existed keeps today's behaviour.
        money=value.get(SetupAction.MONEY) or FOR_EVERYONE,
    )


async def submit_setup(
    services: Services, *, team_id: str, user_id: str, values: dict[str, str], user_info: UserInfo
) -> SetupOutcome:
    """Saves the setup form: a new partner (its first manager is whoever set it up) or the new
    settings of the workspace's partner."""
    form = setup_form_of(values)
    problems = setup_problems(form)
    if problems:
        return SetupOutcome(errors={FIELDS[name]: text for name, text in problems.items()})
    # Checked again: the form may have stayed open while someone's admin role was removed.
    allowed, _, _ = await allowed_to_set_up(
        services, team_id=team_id, user_id=user_id, user_info=user_info
    )
    if not allowed:
        return SetupOutcome(errors={SetupAction.NAME: setup_messages.not_allowed().text})
    try:
        partner, created = await set_up_workspace(
            services.sessions, team_id=team_id, form=form, by=user_id,
            signup=signup_for(
                team_id, policy=services.settings.partner_signup,
                allow_list=services.settings.allowed_workspaces,
                many_workspaces=services.workspaces is not None,
            ),
        )  # fmt: skip
    except UserError as error:
        return SetupOutcome(errors={SetupAction.NAME: str(error)})
    async with services.sessions() as session:
        managers = await partners.manager_ids(session=session, partner_id=partner.id)
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
    return SetupOutcome(
        view=setup_messages.done(partner, managers, created=created, team_id=team_id)
    )
