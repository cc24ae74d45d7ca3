"""Who may read a partner's summaries: its managers, kept by `/partnerbot managers`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import USER_ID
from storage import partners

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class ManagersCommand:
    action: str  # add | remove | list
    user_id: str = ""


def parse_managers(text: str) -> ManagersCommand | str:
    """Reads `managers add|remove @user` or `managers` (the list); the problem as text else."""
    words = text.split()
    if len(words) == 1:
        return ManagersCommand("list")
    if len(words) != 3 or words[1].lower() not in ("add", "remove"):
        return (
            "Type `/partnerbot managers add @someone`, `/partnerbot managers remove @someone` "
            "or `/partnerbot managers`."
        )
    mention = MENTION.match(words[2])
    user_id = mention[1] if mention else words[2].upper()
    if not USER_ID.match(user_id):
        return "Mention the person, e.g. `/partnerbot managers add @jane`."
    return ManagersCommand(words[1].lower(), user_id)


async def is_manager(session: AsyncSession, *, partner_id: int, user_id: str) -> bool:
    return user_id in await partners.manager_ids(session=session, partner_id=partner_id)


async def change_managers(
    session: AsyncSession, *, partner_id: int, command: ManagersCommand
) -> str:
    """Adds or removes a manager (the caller has checked who may); returns the answer."""
    who = f"<@{command.user_id}>"
    if command.action == "remove":
        current = await partners.manager_ids(session=session, partner_id=partner_id)
        if current == [command.user_id]:
            return f"{who} is the last manager; add another before removing them."
    changed = await partners.set_manager(
        session=session,
        partner_id=partner_id,
        user_id=command.user_id,
        manager=command.action == "add",
    )
    await session.commit()
    if command.action == "add":
        return (
            f"{who} is now a manager: they get `/summary`."
            if changed
            else (f"{who} is already a manager.")
        )
    return f"{who} is no longer a manager." if changed else f"{who} was not a manager."
