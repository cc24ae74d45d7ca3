"""Partner workspaces: what a valid registration is, and registering one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from bot.errors import UserError
from bot.zones import is_time_zone
from storage import partners
from storage.db import Sessions
from storage.models import Partner

# Slack ids: a kind letter, then upper-case letters and digits, at least one digit (so a channel
# *name* such as "general" is not taken for an id).
TEAM_ID = re.compile(r"^[TE](?=[A-Z0-9]*[0-9])[A-Z0-9]{1,31}$")
CHANNEL_ID = re.compile(r"^[CGD](?=[A-Z0-9]*[0-9])[A-Z0-9]{1,31}$")
USER_ID = re.compile(r"^[UW](?=[A-Z0-9]*[0-9])[A-Z0-9]{1,31}$")


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
    team_id = team_id.strip().upper()
    if not TEAM_ID.match(team_id):
        raise UserError(f"--team-id {team_id!r} is not a Slack workspace id such as T0123ABCD")
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


async def add_partner(sessions: Sessions, request: Registration) -> Partner:
    """Registers a partner workspace; a workspace belongs to one partner only."""
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
        )
        try:
            await partners.add(session=session, partner=partner, managers=request.managers)
            await session.commit()
        except IntegrityError:
            raise UserError(f"workspace {request.team_id} is already registered") from None
        return partner
