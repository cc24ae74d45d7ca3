"""Partner Center's REST API as the sync reads it: the partner's customers (paged: `links.next`
carries the `MS-ContinuationToken` header to send back) and each customer's subscriptions. A 429
is waited out for its Retry-After while the sync's budget lasts; anything else that is not a 200
stops the sync with a reason its admins can act on. A sync keeps each partner's calls under
PARTNER_CENTER_CALLS_PER_MINUTE (Partner Center throttles the calls of each partner tenant), so
that a partner with thousands of customers is paced instead of throttled past its budget."""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import aiohttp

PAGE_SIZE = 100
MAX_PAGES = 10_000
MAX_BODY_BYTES = 32 * 1024 * 1024
TIMEOUT = aiohttp.ClientTimeout(total=60)
# Without a Retry-After, Microsoft's guidance is to back off; this is the first wait.
DEFAULT_RETRY_AFTER = 30.0

Reason = Literal["consent", "throttled", "unavailable", "answer"]


class PartnerCenterFailed(Exception):
    """A call did not give what the sync needs; `reason` says which kind of trouble it is."""

    def __init__(self, reason: Reason, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class RetryBudget:
    """Seconds a whole sync may spend waiting for Retry-After, shared by all its calls."""

    seconds: float
    spent: float = field(default=0.0)

    def take(self, wait: float) -> bool:
        if self.spent + wait > self.seconds:
            return False
        self.spent += wait
        return True


class Pace:
    """At most `per_minute` calls a minute: a tenth of a minute's worth at once after a quiet
    spell, then one at a time at that rate; `take` waits for the next call's turn."""

    def __init__(self, per_minute: float, *, clock=time.monotonic, sleep=asyncio.sleep):
        self._per_second = per_minute / 60
        self._burst = max(1.0, per_minute / 10)
        self._left = self._burst
        self._clock = clock
        self._sleep = sleep
        self._at = clock()
        self.waited = 0.0  # seconds spent waiting for a turn, in all

    async def take(self) -> None:
        while True:
            now = self._clock()
            self._left = min(self._burst, self._left + (now - self._at) * self._per_second)
            self._at = now
            if self._left >= 1:
                self._left -= 1
                return
            wait = (1 - self._left) / self._per_second
            self.waited += wait
            await self._sleep(wait)


@functools.lru_cache(maxsize=8)
def ssl_context(ca_file: Path | None) -> ssl.SSLContext | None:
    """The system's trust, plus the operator's extra certificates when given; made once per file
    and process (loading the system's certificates takes some 30 ms, and every partner's sync and
    outage check connects anew)."""
    if ca_file is None:
        return None
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=str(ca_file))
    return context


class PartnerCenterClient:
    """What every call to Partner Center shares: the connection, the token, the headers and
    the budget for waiting out its 429s."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        base_url: str,
        token: str,
        budget: RetryBudget,
        sleep=asyncio.sleep,
        pace: Pace | None = None,
    ):
        self._http = http
        self._pace = pace
        self._base = base_url.rstrip("/")
        self._token = token
        self._budget = budget
        self._sleep = sleep

    def _headers(self, request_id: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """A call's headers: MS-RequestId as given (a retry of a write repeats it), and a new
        MS-CorrelationId for every call, as Partner Center's headers page asks."""
        return {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "MS-RequestId": request_id,
            "MS-CorrelationId": str(uuid.uuid4()),
            **(extra or {}),
        }

    async def _exchange(
        self, method: str, url: str, headers: dict[str, str], body=None
    ) -> tuple[int, bytes] | None:
        if self._pace is not None:
            await self._pace.take()
        return await exchange(
            self._http, method, url, headers=headers, body=body, budget=self._budget,
            sleep=self._sleep,
        )  # fmt: skip


class PartnerCenterApi(PartnerCenterClient):
    async def customers(self) -> list[dict]:
        """Every customer of the partner, page after page."""
        return await self._every_item(f"/v1/customers?size={PAGE_SIZE}", "customers")

    async def subscriptions(self, customer_id: str) -> list[dict]:
        """Every subscription of one customer."""
        return await self._every_item(f"/v1/customers/{customer_id}/subscriptions", "subscriptions")

    async def _every_item(self, uri: str, what: str) -> list[dict]:
        """The items of every page, following `links.next` from `uri`."""
        found: list[dict] = []
        headers: dict[str, str] = {}
        for _ in range(MAX_PAGES):
            body = await self._get(uri, headers)
            found += items_of(body)
            following = next_page(body)
            if following is None:
                return found
            uri, headers = following
        raise PartnerCenterFailed("answer", f"more than {MAX_PAGES:,} pages of {what}")

    async def _get(self, uri: str, extra: dict[str, str]) -> dict:
        url = self._base + (uri if uri.startswith("/v1/") else "/v1" + uri)
        while True:
            headers = self._headers(str(uuid.uuid4()), extra)
            answered = await self._exchange("GET", url, headers)
            if answered is None:
                continue  # throttled, waited out: asked again with new request ids
            status, raw = answered
            return decoded(status, raw, url)


async def exchange(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    budget: RetryBudget,
    sleep,
    body=None,
) -> tuple[int, bytes] | None:
    """One call to Partner Center: its status and body, or None once a 429 has been waited out
    for its Retry-After (the caller asks again); raises PartnerCenterFailed when it cannot be
    reached, or stays throttled past the budget."""
    try:
        async with http.request(
            method, url, headers=headers, json=body, timeout=TIMEOUT
        ) as response:
            raw = await response.content.read(MAX_BODY_BYTES + 1)
            status, retry_after = response.status, response.headers.get("Retry-After")
    except (aiohttp.ClientError, TimeoutError) as error:
        raise PartnerCenterFailed("unavailable", f"{type(error).__name__}: {error}") from None
    if status != 429:
        return status, raw
    wait = seconds_of(retry_after)
    if not budget.take(wait):
        raise PartnerCenterFailed(
            "throttled", f"still throttled after waiting {budget.spent:.0f} s"
        )
    await sleep(wait)
    return None


def decoded(status: int, raw: bytes, url: str) -> dict:
    """The JSON object of a 200; any other answer as the failure it is."""
    if status in (401, 403):
        raise PartnerCenterFailed("consent", f"HTTP {status} from {url}")
    if status >= 500:
        raise PartnerCenterFailed("unavailable", f"HTTP {status} from {url}")
    if status != 200:
        raise PartnerCenterFailed("answer", f"HTTP {status} from {url}")
    if len(raw) > MAX_BODY_BYTES:
        raise PartnerCenterFailed("answer", f"an answer larger than 32 MiB from {url}")
    try:
        body = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PartnerCenterFailed("answer", f"an answer that is not JSON from {url}") from None
    if not isinstance(body, dict):
        raise PartnerCenterFailed("answer", f"an answer that is not a JSON object from {url}")
    return body


def items_of(body: dict) -> list[dict]:
    """A collection's items; a collection without a list of objects is no collection."""
    items = body.get("items")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise PartnerCenterFailed("answer", 'a collection without an "items" list of objects')
    return items


def next_page(body: dict) -> tuple[str, dict[str, str]] | None:
    """The next page's URI and headers (its MS-ContinuationToken), or None on the last page."""
    following = (body.get("links") or {}).get("next")
    if not following:
        return None
    uri = following.get("uri") if isinstance(following, dict) else None
    if not isinstance(uri, str) or not uri.startswith("/"):
        raise PartnerCenterFailed("answer", 'a "next" link without a relative "uri"')
    headers = {
        str(header.get("key")): str(header.get("value"))
        for header in following.get("headers") or []
        if isinstance(header, dict) and header.get("key")
    }
    return uri, headers


def seconds_of(retry_after: str | None) -> float:
    """Reads Retry-After as seconds (Partner Center sends whole seconds)."""
    try:
        seconds = float(retry_after) if retry_after is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        seconds = DEFAULT_RETRY_AFTER
    return max(seconds, 0.0)
