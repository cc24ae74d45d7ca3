"""LocalSlack's OAuth installs: the code from the authorize page traded for a team's bot token,
and an uninstall that revokes it."""

from __future__ import annotations

import itertools

BOT_USER_ID = "UBOTLOCAL"


class Installs:
    """The part of LocalSlack that installs the app; its state lives on LocalSlack."""

    next_install: tuple[str, str, str] | None
    deny_next_install: bool
    codes: dict[str, tuple[str, str, str]]
    bot_tokens: dict[str, str]
    revoked_tokens: set[str]
    redirect_uri: str
    _installs: itertools.count

    def access(self, params: dict) -> dict:
        """oauth.v2.access: trades a code from the authorize page for its team's bot token,
        once."""
        installed = self.codes.pop(str(params.get("code", "")), None)
        if installed is None:
            return {"ok": False, "error": "invalid_code"}
        team_id, user_id, team_name = installed
        token = f"xoxb-{team_id}-{next(self._installs)}"
        self.bot_tokens[token] = team_id
        return {
            "ok": True,
            "app_id": "A0LOCAL",
            "authed_user": {"id": user_id},
            "scope": "commands,chat:write",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": BOT_USER_ID,
            "team": {"id": team_id, "name": team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def uninstall(self, team_id: str) -> None:
        """Revokes every bot token of a team, as uninstalling the app does."""
        self.revoked_tokens |= {t for t, team in self.bot_tokens.items() if team == team_id}
