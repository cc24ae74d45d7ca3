"""Which bot token speaks for which workspace.

With one SLACK_BOT_TOKEN, that token speaks for every partner. With many workspaces (OAuth), each
partner's workspace (its team id) has its own installation in slack_sdk's tables; its newest bot
token is looked up there and kept for a minute, so a burst of messages or requests costs one
query per workspace, and an uninstall is noticed within that minute (at once in the process that
received Slack's app_uninstalled event)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.web.async_client import AsyncWebClient

from storage import installations, partners
from storage.db import Sessions

logger = logging.getLogger(__name__)

TOKEN_TTL_SECONDS = 60.0
MAX_CLIENTS = 4096  # clients kept per token; beyond this the oldest are dropped
MAX_JOINED = 100_000  # (token, channel) pairs remembered as joined; beyond this, forgotten


class WorkspaceUnavailable(Exception):
    """No bot token speaks for the workspace a message is for; the message says why."""


@dataclass
class _Cached:
    value: object
    until: float


class WorkspaceTokens:
    """The newest bot installation of each workspace, and each partner's workspace, cached for
    `ttl` seconds. Only what was found is kept: a workspace installed a moment ago is found on
    the next lookup."""

    def __init__(
        self,
        sessions: Sessions,
        *,
        client_id: str,
        ttl: float = TOKEN_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.client_id = client_id
        self.ttl = ttl
        self.clock = clock
        self._bots: dict[str, _Cached] = {}
        self._teams: dict[int, _Cached] = {}

    async def bot(self, team_id: str) -> Bot | None:
        """Returns the workspace's newest bot installation, or None when it has none."""
        cached = self._bots.get(team_id)
        if cached is not None and cached.until > self.clock():
            return cached.value  # type: ignore[return-value]
        async with self.sessions() as session:
            found = await installations.newest_bot(
                session=session, client_id=self.client_id, team_id=team_id
            )
        if found is None:
            self._bots.pop(team_id, None)
        else:
            self._bots[team_id] = _Cached(found, self.clock() + self.ttl)
        return found

    async def team_of(self, partner_id: int) -> str | None:
        """Returns the team id of a partner's workspace, or None when the partner is gone."""
        cached = self._teams.get(partner_id)
        if cached is not None and cached.until > self.clock():
            return cached.value  # type: ignore[return-value]
        async with self.sessions() as session:
            partner = await partners.get_by_id(session=session, partner_id=partner_id)
        if partner is None:
            self._teams.pop(partner_id, None)
            return None
        self._teams[partner_id] = _Cached(partner.team_id, self.clock() + self.ttl)
        return partner.team_id

    def forget(self, team_id: str | None = None) -> None:
        """Drops what is kept about a workspace (installed, uninstalled, linked), or everything."""
        if team_id is None:
            self._bots.clear()
            self._teams.clear()
            return
        self._bots.pop(team_id, None)
        for partner_id, cached in list(self._teams.items()):
            if cached.value == team_id:
                del self._teams[partner_id]


class WorkspaceClients:
    """The Web API client that speaks for a partner's workspace, for work done outside a Slack
    request (the outbox worker): the one token's client, or the client with the bot token of the
    workspace the partner is linked to."""

    def __init__(
        self,
        make_client: Callable[[str], AsyncWebClient],
        *,
        token: str = "",
        tokens: WorkspaceTokens | None = None,
    ) -> None:
        self.make_client = make_client
        self.token = token
        self.tokens = tokens
        self._clients: dict[str, AsyncWebClient] = {}
        # Channels each token joined (or need not join) in this process: joined once, not
        # before every post.
        self._joined: set[tuple[str, str]] = set()

    def has_joined(self, token: str | None, channel: str) -> bool:
        return (token or "", channel) in self._joined

    def remember_joined(self, token: str | None, channel: str) -> None:
        if len(self._joined) >= MAX_JOINED:
            self._joined.clear()  # joining again costs one call and changes nothing
        self._joined.add((token or "", channel))

    def forget_joined(self, token: str | None, channel: str) -> None:
        self._joined.discard((token or "", channel))

    def _client(self, token: str) -> AsyncWebClient:
        client = self._clients.get(token)
        if client is None:
            if len(self._clients) >= MAX_CLIENTS:
                self._clients.pop(next(iter(self._clients)))
            client = self._clients[token] = self.make_client(token)
        return client

    async def for_partner(self, partner_id: int | None) -> AsyncWebClient:
        """Returns the client for a partner's workspace; raises WorkspaceUnavailable when no
        token speaks for it (never installed, uninstalled, or the partner is gone)."""
        if self.tokens is None:
            return self._client(self.token)
        if partner_id is None:
            raise WorkspaceUnavailable("no partner named: no workspace's token can send it")
        team_id = await self.tokens.team_of(partner_id)
        if team_id is None:
            raise WorkspaceUnavailable(f"partner {partner_id} no longer exists")
        bot = await self.tokens.bot(team_id)
        if bot is None or not bot.bot_token:
            raise WorkspaceUnavailable(
                f"workspace {team_id} has no partnerbot installation (not installed, or "
                "uninstalled); it sends nothing until installed again from /slack/install"
            )
        return self._client(bot.bot_token)
