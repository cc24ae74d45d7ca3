"""Errors whose message is meant for the person who caused them: shown as is, never a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the message says what and how, in one short paragraph."""


class UnknownPartner(UserError):
    """No partner is registered for a Slack workspace."""

    def __init__(self, team_id: str):
        super().__init__(
            f"No partner is registered for workspace {team_id}; "
            f"add it with `python -m bot partner add NAME --team-id {team_id} …`"
        )
        self.team_id = team_id
