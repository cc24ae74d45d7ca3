"""Polls the incident feed, Microsoft Graph's service health issues (or a feed shaped like them),
into the same intake as the hook. The first poll reads the whole list (history is recorded without
alerts by the intake); later ones ask only for issues changed since the newest one read, with an
overlap. A feed that is down, throttles, refuses the sign-in or answers garbage is logged, and
the next poll tries again; nothing read in part moves the mark."""

from __future__ import annotations

import hashlib
import json
import logging
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp

from bot.entra import GRAPH_SCOPE, AppCredentials, AppTokens, TokenRefused
from bot.outages import flows
from bot.outages.confirming import confirm_soon
from bot.outages.graph_pages import FETCH_TIMEOUT, FeedThrottled, FeedUnusable, IssueReader
from bot.outages.intake import BadIncident, parse_incident, parse_time
from bot.services import Services
from bot.settings import Settings, secret_value
from storage import feed_marks

logger = logging.getLogger(__name__)

# Graph's list is not a log: an issue changed just before a poll may show up in the list a
# little later, with that earlier time. Reading the last 15 minutes again costs nothing (the
# intake answers "unchanged") and such an issue is not lost.
OVERLAP = timedelta(minutes=15)


class FixedToken:
    """INCIDENT_FEED_TOKEN as a bearer token (a feed of one's own, not Entra), or nothing."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def authorization(self) -> str | None:
        return f"Bearer {self._token}" if self._token else None

    async def renew(self) -> bool:
        return False

    def close(self) -> None:
        pass  # no connection of its own


class EntraCredentials:
    """Tokens of the feed's Microsoft Entra app; a token Graph refused is dropped once."""

    def __init__(self, app: AppCredentials, tokens: AppTokens) -> None:
        self._app = app
        self._tokens = tokens

    async def authorization(self) -> str | None:
        return f"Bearer {await self._tokens.token(self._app, GRAPH_SCOPE)}"

    async def renew(self) -> bool:
        await self._tokens.forget(self._app)
        return True

    def close(self) -> None:
        self._tokens.close()


@dataclass
class FeedPoller:
    """What one process keeps between polls: the sign-in (MSAL's token cache) and when Graph
    allows the next request after throttling."""

    settings: Settings
    credentials: FixedToken | EntraCredentials
    not_before: datetime | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> FeedPoller:
        if settings.feed_signs_in:
            tokens = AppTokens(ca_file=settings.incident_feed_ca_bundle)
            return cls(settings, EntraCredentials(feed_app(settings), tokens))
        return cls(settings, FixedToken(secret_value(settings.incident_feed_token)))

    def close(self) -> None:
        self.credentials.close()


def feed_app(settings: Settings) -> AppCredentials:
    """The feed's Entra app, with its secret or its certificate (validation made sure of one)."""
    return AppCredentials(
        authority_host=settings.incident_feed_authority_host,
        tenant=settings.incident_feed_tenant_id or "",
        client_id=settings.incident_feed_client_id or "",
        secret=secret_value(settings.incident_feed_client_secret),
        certificate=settings.incident_feed_certificate,
        thumbprint=settings.incident_feed_certificate_thumbprint or "",
    )


def poller_of(services: Services) -> FeedPoller:
    """This process's poller, built again when the settings change."""
    poller = services.feed
    if not isinstance(poller, FeedPoller) or poller.settings is not services.settings:
        if poller is not None:
            poller.close()  # its connections to Entra, kept alive, go with it
        poller = services.feed = FeedPoller.for_settings(services.settings)
    return poller


def feed_key(settings: Settings) -> str:
    """Names the feed's mark: another URL or tenant is another feed, read from the start."""
    source = f"{settings.incident_feed_tenant_id or ''}|{settings.feed_url}"
    return hashlib.sha256(source.encode()).hexdigest()


def tls_context(settings: Settings) -> ssl.SSLContext | bool:
    """The system's trusted CAs, or those of INCIDENT_FEED_CA_BUNDLE."""
    bundle = settings.incident_feed_ca_bundle
    return ssl.create_default_context(cafile=str(bundle)) if bundle else True


async def poll_feed(services: Services) -> int:
    """One poll: returns how many incidents were created or changed."""
    settings, poller, now = services.settings, poller_of(services), services.clock()
    if poller.not_before is not None and now < poller.not_before:
        logger.info("incident feed throttled; not asking again before %s", poller.not_before)
        return 0
    async with services.sessions() as session:
        mark = await feed_marks.get_mark(session=session, feed=feed_key(settings))
    issues = await read_changed(services, poller, mark - OVERLAP if mark else None)
    if issues is None:
        return 0
    changed, newest = await ingest_issues(services, issues)
    if newest is not None and (mark is None or newest > mark):
        async with services.sessions() as session:
            await feed_marks.advance_mark(
                session=session, feed=feed_key(settings), url=settings.feed_url or "",
                to=newest, now=now,
            )  # fmt: skip
            await session.commit()
    return changed


async def read_changed(
    services: Services, poller: FeedPoller, since: datetime | None
) -> list | None:
    """Every issue changed since `since` (all of them when None), or None when the feed could
    not be read in full this time (logged, saying why)."""
    settings, url = services.settings, services.settings.feed_url or ""
    try:
        connector = aiohttp.TCPConnector(ssl=tls_context(settings))
        async with aiohttp.ClientSession(timeout=FETCH_TIMEOUT, connector=connector) as http:
            reader = IssueReader(http, poller.credentials, services.sleep)
            return await reader.read(url, changed_since=since)
    except FeedThrottled as problem:
        poller.not_before = services.clock() + timedelta(seconds=problem.wait)
        logger.warning("incident feed %s throttled (%s); this poll gives up", url, problem)
    except TokenRefused as refused:
        problem = sign_in_problem(feed_app(settings), refused)
        logger.error("incident feed %s: sign-in failed, nothing read: %s", url, problem)
    except FeedUnusable as problem:
        logger.warning(
            "incident feed %s unusable (%s); trying again at the next poll", url, problem
        )
    return None


def sign_in_problem(app: AppCredentials, refused: TokenRefused) -> str:
    """Why the feed's app got no token, naming the app and tenant."""
    if refused.error == "unreachable":
        return f"{app.who}: {refused.description}"
    return f"Microsoft Entra refused the sign-in of {app.who}: {refused}"


async def ingest_issues(services: Services, issues: list) -> tuple[int, datetime | None]:
    """Feeds every issue through the intake; returns how many changed something, and the newest
    lastModifiedDateTime read (of skipped issues too: a bad one is not warned about every poll)."""
    changed, newest = 0, None
    collapse = flows.update_collapse(services)
    for index, issue in enumerate(issues):
        newest = max(filter(None, (newest, last_modified(issue))), default=None)
        try:
            incoming = parse_incident(json.dumps(issue).encode(), services.catalogue)
        except BadIncident as problem:
            logger.warning("incident feed item %d skipped: %s", index, problem)
            continue
        now = services.clock()
        async with services.sessions() as session:
            ingested = await flows.ingest(
                session,
                incoming,
                catalogue=services.catalogue,
                now=now,
                collapse=collapse,
                history=flows.history_before(services, now),
                tenant_checks=services.settings.outage_tenant_checks,
            )
        changed += ingested.outcome not in ("unchanged", "stale")
        if ingested.partners and ingested.outcome in ("created", "updated"):
            confirm_soon(services, ingested.incident.id)
    return changed, newest


def last_modified(issue: object) -> datetime | None:
    if not isinstance(issue, dict) or not issue.get("lastModifiedDateTime"):
        return None
    try:
        return parse_time(issue["lastModifiedDateTime"], "lastModifiedDateTime")
    except BadIncident:
        return None
