"""Who may become a partner by setting a workspace up in Slack (PARTNER_SIGNUP): with one bot
token the one workspace is the operator's own; with many workspaces the operator decides."""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum


class Signup(StrEnum):
    APPROVED = "approved"  # a partner at once
    PENDING = "pending"  # registered, waiting for `python -m bot partner approve`
    REFUSED = "refused"  # not a partner workspace: nothing is stored


def signup_for(
    team_id: str, *, policy: str, allow_list: Collection[str], many_workspaces: bool
) -> Signup:
    """Decides what setting a new workspace up comes to under the operator's policy."""
    if not many_workspaces or policy == "open":
        return Signup.APPROVED
    if policy == "allow-list":
        return Signup.APPROVED if team_id.upper() in allow_list else Signup.REFUSED
    return Signup.PENDING


def refused_text(team_id: str) -> str:
    return (
        f"This workspace ({team_id}) is not one of the partner workspaces partnerbot serves, so it "
        "cannot be set up here and nothing was saved. If your company is a partner, ask whoever "
        f"runs partnerbot to add workspace {team_id} to its allow-list."
    )


def waiting_text(name: str) -> str:
    """What everyone in a workspace waiting for approval is told, whatever they ask."""
    return (
        f"partnerbot is set up for {name} and waiting for approval by whoever runs it; until "
        "then it shows nothing here. You will hear in your managers' channel once it is "
        "approved. `/partnerbot setup` shows and changes what was entered."
    )


def approved_text(name: str) -> str:
    return (
        f"partnerbot is ready for {name}: your customers and their subscriptions can be "
        "imported now, and `/partnerbot help` shows what you can ask."
    )
