"""Partner workspaces: what a valid registration is, registering one, linking and setting up a
workspace, and taking note of an install."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from bot.arguments import CHANNEL_ID, TEAM_ID, USER_ID
from bot.blocks import Message, escape, section
from bot.errors import UserError
from bot.outbox.rows import post_message
from bot.partners.signup import Signup, approved_text, refused_text
from bot.services import Services
from bot.subscriptions.rules import FOR_EVERYONE, MONEY_SETTINGS
from bot.zones import is_time_zone
from storage import installations, outbox, partners
from storage.db import DATABASE_ERRORS, Sessions
from storage.models import Partner

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    name: str
    team_id: str
    alert_channel: str
    manager_channel: str
    orders_channel: str | None
    timezone: str
    managers: list[str]


def registration(
    *, name: str, team_id: str, alert_channel: str, manager_channel: str,
    orders_channel: str | None, timezone: str, managers: str | None,
) -> Registration:  # fmt: skip
    """Checks a `partner add` request and returns it cleaned up, or says what is wrong."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise UserError("NAME must be 1 to 200 characters")
    team_id = team_id_of(team_id)
    channels = {
        "--alert-channel": alert_channel,
        "--manager-channel": manager_channel,
        "--orders-channel": orders_channel,
    }
    for option, channel in channels.items():
        if channel is not None and not CHANNEL_ID.match(channel.strip().upper()):
            raise UserError(
                f"{option} {channel!r} is not a Slack channel id such as C0123ABCD "
                "(in Slack: channel details → the id at the bottom)"
            )
    if not is_time_zone(timezone):
        raise UserError(f"--timezone {timezone!r} is not an IANA time zone such as Europe/Berlin")
    manager_ids = [m.strip().upper() for m in (managers or "").split(",") if m.strip()]
    for manager in manager_ids:
        if not USER_ID.match(manager):
            raise UserError(f"--managers: {manager!r} is not a Slack user id such as U0123ABCD")
    return Registration(
        name=name,
        team_id=team_id,
        alert_channel=alert_channel.strip().upper(),
        manager_channel=manager_channel.strip().upper(),
        orders_channel=orders_channel.strip().upper() if orders_channel else None,
        timezone=timezone,
        managers=list(dict.fromkeys(manager_ids)),
    )


async def add_partner(
    sessions: Sessions, request: Registration, *, approved: bool = True
) -> Partner:
    """Registers a partner workspace (waiting for the operator's approval unless `approved`); a
    workspace belongs to one partner only."""
    async with sessions() as session:
        existing = await partners.get_by_team_id(session=session, team_id=request.team_id)
        if existing is not None:
            raise UserError(
                f"workspace {request.team_id} is already registered to partner {existing.name!r}"
            )
        partner = Partner(
            name=request.name,
            team_id=request.team_id,
            alert_channel=request.alert_channel,
            manager_channel=request.manager_channel,
            orders_channel=request.orders_channel,
            timezone=request.timezone,
            approved_at=datetime.now(UTC) if approved else None,
        )
        try:
            await partners.add(session=session, partner=partner, managers=request.managers)
            await session.commit()
        except IntegrityError:
            raise UserError(f"workspace {request.team_id} is already registered") from None
        return partner


@dataclass(frozen=True)
class Linked:
    partner: Partner
    previous_team_id: str  # the workspace the partner had before (the same when unchanged)

    @property
    def changed(self) -> bool:
        return self.partner.team_id != self.previous_team_id


def team_id_of(text: str) -> str:
    """Returns a Slack workspace id cleaned up, or says what is wrong with it."""
    team_id = text.strip().upper()
    if not TEAM_ID.match(team_id):
        raise UserError(f"--team-id {text.strip()!r} is not a Slack workspace id such as T0123ABCD")
    return team_id


async def link_workspace(
    sessions: Sessions, *, team_id: str, partner_id: int | None = None, name: str | None = None,
    client_id: str | None = None,
) -> Linked:  # fmt: skip
    """Links a workspace to an existing partner (by id or by its exact name): the partner's
    workspace becomes `team_id`. With many workspaces (`client_id`), only a workspace that has
    installed partnerbot can be linked. A workspace belongs to one partner only."""
    team_id = team_id_of(team_id)
    async with sessions() as session:
        if client_id is not None:
            installed = await installations.get_workspace(
                session=session, client_id=client_id, team_id=team_id
            )
            if installed is None:
                raise UserError(
                    f"--team-id {team_id}: no workspace with that id has installed partnerbot "
                    "(install it from PUBLIC_BASE_URL/slack/install first)"
                )
        if partner_id is not None:
            partner = await partners.get_by_id(session=session, partner_id=partner_id)
            if partner is None:
                raise UserError(f"--partner-id {partner_id}: no partner has that id")
        else:
            found = await partners.list_by_name(
                session=session, name=" ".join((name or "").split())
            )
            if not found:
                raise UserError(f"--name {name!r}: no partner has that name")
            if len(found) > 1:
                ids = ", ".join(str(p.id) for p in found)
                raise UserError(f"--name {name!r}: {len(found)} partners have that name (ids "
                                f"{ids}); use --partner-id")  # fmt: skip
            partner = found[0]
        owner = await partners.get_by_team_id(session=session, team_id=team_id)
        if owner is not None and owner.id != partner.id:
            raise UserError(
                f"workspace {team_id} is already linked to partner {owner.name!r} (id {owner.id})"
            )
        previous = partner.team_id
        if owner is None:
            try:
                await partners.set_team_id(session=session, partner=partner, team_id=team_id)
                await session.commit()
            except IntegrityError:  # linked to another partner a moment ago
                raise UserError(f"workspace {team_id} is already linked to a partner") from None
        return Linked(partner=partner, previous_team_id=previous)


@dataclass(frozen=True)
class SetupForm:
    """What an admin typed and picked in the setup form."""

    name: str
    alert_channel: str
    manager_channel: str
    orders_channel: str | None
    timezone: str
    money: str = FOR_EVERYONE  # who sees commission and prices (Partner.money_for_managers_only)


def may_set_up(*, user_id: str, is_admin: bool, installer_id: str) -> bool:
    """Tells whether someone may set a workspace up or change its settings: a workspace admin or
    owner, or whoever installed partnerbot there (the install asked Slack for their consent)."""
    return is_admin or bool(user_id and user_id == installer_id)


def setup_problems(form: SetupForm) -> dict[str, str]:
    """Says what is wrong with a setup form, per field (`name`, `alert_channel`, …); empty when
    it can be saved."""
    problems = {}
    name = " ".join(form.name.split())
    if not name or len(name) > 200:
        problems["name"] = "Type the partner's name (1 to 200 characters)."
    for field, required in (
        ("alert_channel", True),
        ("manager_channel", True),
        ("orders_channel", False),
    ):
        channel = getattr(form, field)
        if (channel and not CHANNEL_ID.match(channel)) or (required and not channel):
            problems[field] = "Pick a channel from the list."
    if not is_time_zone(form.timezone.strip()):
        problems["timezone"] = (
            f"{form.timezone.strip()!r} is not a time zone; type an IANA name such as "
            "Europe/Berlin."
        )
    if form.money not in MONEY_SETTINGS:
        problems["money"] = "Pick who sees commission and prices."
    return problems


async def set_up_workspace(
    sessions: Sessions, *, team_id: str, form: SetupForm, by: str, signup: Signup
) -> tuple[Partner, bool]:
    """Registers the workspace as a partner (whoever sets it up becomes its first manager; it
    waits for approval when `signup` says so, and a refused workspace raises UserError), or
    changes the settings of the partner it belongs to; returns the partner and whether it is
    new."""
    name = " ".join(form.name.split())
    timezone = form.timezone.strip()
    async with sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id=team_id)
        if partner is not None:
            await partners.update_settings(
                session=session, partner=partner, name=name, alert_channel=form.alert_channel,
                manager_channel=form.manager_channel, orders_channel=form.orders_channel,
                timezone=timezone, money_for_managers_only=form.money,
            )  # fmt: skip
            await session.commit()
            return partner, False
    request = registration(
        name=name,
        team_id=team_id,
        alert_channel=form.alert_channel,
        manager_channel=form.manager_channel,
        orders_channel=form.orders_channel,
        timezone=timezone,
        managers=by,
    )
    if signup is Signup.REFUSED:
        raise UserError(refused_text(team_id))
    partner = await add_partner(sessions, request, approved=signup is Signup.APPROVED)
    if form.money != FOR_EVERYONE:
        async with sessions() as session:
            partner = await partners.set_money_setting(
                session=session, partner_id=partner.id, setting=form.money
            )
            await session.commit()
    return partner, True


async def workspace_installed(
    services: Services, *, team_id: str, team_name: str, by: str
) -> Partner | None:
    """Takes note of an install that Slack just completed: other processes' cached token of the
    workspace goes, and the partner it is linked to, if any, is returned (None also when the
    database does not answer: the workspace is installed all the same)."""
    if services.workspaces is not None:
        services.workspaces.forget(team_id)
    try:
        async with services.sessions() as session:
            partner = await partners.get_by_team_id(session=session, team_id=team_id)
    except DATABASE_ERRORS:
        logger.exception("could not look up the partner of workspace %s", team_id)
        partner = None
    logger.info(
        "workspace %s (%s) installed partnerbot, by %s; %s",
        team_id,
        team_name,
        by,
        f"linked to partner {partner.name!r}" if partner else "not linked to a partner yet",
    )
    return partner


async def partner_of_workspace(sessions: Sessions, team_id: str) -> Partner | None:
    """Gets the partner a Slack workspace belongs to (None: not set up yet)."""
    async with sessions() as session:
        return await partners.get_by_team_id(session=session, team_id=team_id)


async def approve_partner(sessions: Sessions, team_id: str, *, now: datetime) -> Partner:
    """Approves a workspace that set itself up, and tells its managers' channel (through the
    outbox); approving one approved already changes nothing."""
    team_id = team_id_of(team_id)
    async with sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id=team_id)
        if partner is None:
            raise UserError(f"no partner is registered for workspace {team_id}")
        if partner.approved_at is not None:
            return partner
        partner.approved_at = now
        text = approved_text(partner.name)
        await outbox.add(
            session=session,
            rows=[
                post_message(
                    key=f"partner:{partner.id}:approved",
                    channel=partner.manager_channel,
                    message=Message(escape(text), [section(escape(text))]),
                    partner_id=partner.id,
                    now=now,
                )
            ],
        )
        await session.commit()
        return partner
