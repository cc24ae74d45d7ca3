"""Polls a Graph-style incident feed (`{"value": [serviceHealthIssue, …]}`) and feeds every issue
through the same intake as the hook. A feed that is down or answers garbage is logged; the next
poll tries again."""

from __future__ import annotations

import json
import logging

import aiohttp

from bot.outages import flows
from bot.outages.intake import BadIncident, parse_incident
from bot.services import Services
from bot.settings import secret_value

logger = logging.getLogger(__name__)

FETCH_TIMEOUT = aiohttp.ClientTimeout(total=15)
MAX_FEED_BYTES = 20 * 1024 * 1024


class FeedUnusable(Exception):
    """The feed did not answer with a list of issues."""


async def fetch_issues(url: str, token: str) -> list[dict]:
    """Fetches the feed's issues; raises FeedUnusable saying why it could not."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        async with aiohttp.ClientSession(timeout=FETCH_TIMEOUT) as http:
            async with http.get(url, headers=headers) as response:
                if response.status != 200:
                    raise FeedUnusable(f"HTTP {response.status}")
                raw = await response.content.read(MAX_FEED_BYTES + 1)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise FeedUnusable(f"{type(error).__name__}: {error}") from None
    if len(raw) > MAX_FEED_BYTES:
        raise FeedUnusable("the answer is larger than 20 MiB")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FeedUnusable("the answer is not JSON") from None
    issues = body.get("value") if isinstance(body, dict) else None
    if not isinstance(issues, list):
        raise FeedUnusable('the answer has no "value" list')
    return issues


async def poll_feed(services: Services) -> int:
    """One poll: returns how many incidents were created or changed."""
    settings = services.settings
    try:
        issues = await fetch_issues(
            settings.incident_feed_url or "", secret_value(settings.incident_feed_token)
        )
    except FeedUnusable as problem:
        logger.warning(
            "incident feed %s unusable (%s); trying again at the next poll",
            settings.incident_feed_url,
            problem,
        )
        return 0
    changed = 0
    collapse = flows.update_collapse(services)
    for index, issue in enumerate(issues):
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
            )
        changed += ingested.outcome != "unchanged"
    return changed
