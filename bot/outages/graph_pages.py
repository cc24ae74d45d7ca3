"""Reads Microsoft Graph's list of service health issues (`GET /admin/serviceAnnouncement/issues`)
as Graph serves it: page after page through `@odata.nextLink`, only the issues changed since a
moment (`$filter=lastModifiedDateTime ge …`), waiting out a 429 or 503 for its `Retry-After`
(within bounds, or giving the poll up), and after a 401 asking once for a new token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import quote

import aiohttp
from yarl import URL

FETCH_TIMEOUT = aiohttp.ClientTimeout(total=30)
MAX_PAGE_BYTES = 20 * 1024 * 1024
MAX_PAGES = 100  # 10,000 issues at Graph's default page size: far more than a tenant has
MAX_TRIES = 4  # of one page, when Graph answers 429 or 503
MAX_WAIT = 60.0  # seconds: a longer Retry-After gives the poll up instead of holding it
DEFAULT_WAIT = 5.0  # seconds, doubling, when a 429 or 503 says no Retry-After


class FeedUnusable(Exception):
    """The feed did not answer with its issues; the message says why, in one line."""


class FeedThrottled(FeedUnusable):
    """Graph kept answering 429 or 503; no request before `wait` seconds have passed."""

    def __init__(self, message: str, wait: float) -> None:
        super().__init__(message)
        self.wait = wait


class Credentials(Protocol):
    async def authorization(self) -> str | None:
        """The Authorization header to send (None: none)."""

    async def renew(self) -> bool:
        """Drops a token Graph refused; True when asking again with a new one can help."""


@dataclass(frozen=True)
class IssueReader:
    http: aiohttp.ClientSession
    credentials: Credentials
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def read(self, url: str, *, changed_since: datetime | None) -> list[dict]:
        """Every issue of the list (changed since `changed_since`, when given), all pages."""
        link, issues, seen = with_filter(url, changed_since), [], set()
        for _ in range(MAX_PAGES):
            seen.add(link)
            body = await self.page(link)
            issues.extend(body["value"])
            next_link = body.get("@odata.nextLink")
            if next_link is None:
                return issues
            link = checked_next_link(next_link, url, seen)
        raise FeedUnusable(f"more than {MAX_PAGES} pages of issues; the rest was not read")

    async def page(self, link: str) -> dict:
        """One page; waits out 429/503 and renews a refused token once."""
        tries, renewed = 0, False
        while True:
            status, headers, raw = await self.get(link)
            if status == 200:
                return page_body(raw)
            if status == 401 and not renewed and await self.credentials.renew():
                renewed = True
                continue
            if status in (429, 503):
                wait = retry_after(headers.get("Retry-After"), tries)
                tries += 1
                if tries >= MAX_TRIES or wait > MAX_WAIT:
                    raise FeedThrottled(
                        f"HTTP {status} at try {tries} of {MAX_TRIES}; "
                        f"Graph asks to wait {wait:g} s",
                        wait,
                    )
                await self.sleep(wait)
                continue
            raise FeedUnusable(f"HTTP {status}{graph_error(raw)}")

    async def get(self, link: str) -> tuple[int, dict, bytes]:
        headers = {"Accept": "application/json"}
        authorization = await self.credentials.authorization()
        if authorization:
            headers["Authorization"] = authorization
        try:
            async with self.http.get(URL(link, encoded=True), headers=headers) as response:
                raw = await response.content.read(MAX_PAGE_BYTES + 1)
                return response.status, dict(response.headers), raw
        except (aiohttp.ClientError, TimeoutError) as error:
            raise FeedUnusable(f"{type(error).__name__}: {error}") from None


def with_filter(url: str, changed_since: datetime | None) -> str:
    """The list's first page: all of it, or only what changed since a moment. Graph compares
    DateTimeOffset literals unquoted; spaces are sent as %20, as Graph's own links do."""
    if changed_since is None:
        return url
    moment = changed_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = "$filter=" + quote(f"lastModifiedDateTime ge {moment}", safe="")
    return url + ("&" if "?" in url else "?") + query


def checked_next_link(next_link: object, url: str, seen: set[str]) -> str:
    """The next page's address, if it is one: on the feed's own host (the token is never sent
    elsewhere) and not a page already read (a loop)."""
    if not isinstance(next_link, str):
        raise FeedUnusable("@odata.nextLink is not a link")
    there, here = URL(next_link), URL(url)
    if (there.scheme, there.host, there.port) != (here.scheme, here.host, here.port):
        raise FeedUnusable(f"@odata.nextLink leads to another host ({there.host}); not followed")
    if next_link in seen:
        raise FeedUnusable("@odata.nextLink leads back to a page already read")
    return next_link


def page_body(raw: bytes) -> dict:
    if len(raw) > MAX_PAGE_BYTES:
        raise FeedUnusable("a page is larger than 20 MiB")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FeedUnusable("the answer is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        raise FeedUnusable('the answer has no "value" list')
    return body


def retry_after(header: str | None, tries: int) -> float:
    """Seconds to wait, as Retry-After says (seconds or an HTTP date); without one, 5 s doubling
    with each try, as Graph's throttling guidance asks (back off, never hammer)."""
    if header:
        header = header.strip()
        if header.isdigit():
            return float(header)
        try:
            moment = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return max(0.0, (moment - datetime.now(UTC)).total_seconds())
    return DEFAULT_WAIT * 2**tries


def graph_error(raw: bytes) -> str:
    """Graph's error, `{"error": {"code", "message"}}`, as ": code: message" ("" without one)."""
    try:
        error = json.loads(raw).get("error")
        return f": {error['code']}: {str(error.get('message', ''))[:200]}"
    except (ValueError, AttributeError, TypeError, KeyError):
        return ""
