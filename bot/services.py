"""What every listener and route needs, built once per process and handed down explicitly."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalogue import Catalogue
from bot.customers import NameIndex
from bot.entra import AppTokens
from bot.metrics import Metrics
from bot.settings import Settings
from bot.subscriptions.rules import CommissionRule
from bot.workspaces import WorkspaceTokens
from bot.zones import utc_now
from storage.db import Sessions


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    catalogue: Catalogue
    rule: CommissionRule
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = utc_now
    # How jobs wait (a feed told by Graph to retry later); tests pass one that only records.
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # The incident feed's poller (bot/outages/feed.py): its sign-in and throttling, kept
    # between polls; built at the first poll.
    feed: Any = None
    # Many workspaces (OAuth): slack_sdk's installation store and the cached token lookups;
    # both None with one SLACK_BOT_TOKEN.
    installations: AsyncInstallationStore | None = None
    workspaces: WorkspaceTokens | None = None
    # Microsoft Entra app-only tokens (Partner Center), cached per app until they expire
    # (the incident feed keeps its own, trusting INCIDENT_FEED_CA_BUNDLE).
    app_tokens: AppTokens = field(default_factory=AppTokens)
    # The big partners' customer names for typo suggestions, kept a minute (bot/customers.py).
    names: NameIndex = field(default_factory=NameIndex)
    # The web app's one HTTP session for posts to response_urls, open while it runs (None:
    # each post opens its own, as in the shell).
    response_http: Any = None
    # Work started in the background (an incident's tenant checks), kept until it ends.
    background: set[asyncio.Task] = field(default_factory=set)
    # Set by the web app once its outbox worker runs; flows' callers wake it after a commit.
    wake_outbox: Callable[[], None] = lambda: None

    def close_tokens(self) -> None:
        """Closes the connections to Microsoft Entra that the tokens keep alive: the shared
        ones' and the incident feed's (at shutdown; both open anew if used again)."""
        self.app_tokens.close()
        if self.feed is not None:
            self.feed.close()
