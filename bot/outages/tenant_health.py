"""Asks one customer's tenant whether its own service health lists a vendor issue: Microsoft
Graph's `GET /admin/serviceAnnouncement/issues/{id}` with an app-only token from the customer's
tenant (the partner's multi-tenant app, consented there). 200 is confirmed, 404 not listed;
a refusal (no consent, 401/403), throttling past its budget or an outage of Graph leaves it
unknown, saying why."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from urllib.parse import quote

import aiohttp

from bot.entra import GRAPH_SCOPE, AppCredentials, AppTokens, TokenRefused
from storage.tenant_checks import CONFIRMED, NOT_LISTED, UNKNOWN

logger = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=30)
DEFAULT_RETRY_AFTER = 10.0  # Graph's guidance without a Retry-After: back off, then ask again
ISSUE_PATH = "/admin/serviceAnnouncement/issues/"

Answer = tuple[str, str]  # result, and why when unknown


@dataclass
class TenantAsker:
    """Asks tenants on behalf of one partner's app; tokens come from (and are cached by) the
    shared AppTokens, one per tenant. `refusals` keeps Entra's or Graph's words of each refusal
    for the managers' notice."""

    http: aiohttp.ClientSession
    tokens: AppTokens
    app: AppCredentials  # the partner's app; its tenant is replaced by each customer's
    graph_url: str
    retry_budget: float
    sleep: object = asyncio.sleep
    refusals: dict[str, str] = field(default_factory=dict)

    def app_in(self, tenant: str) -> AppCredentials:
        return AppCredentials(
            self.app.authority_host, tenant, self.app.client_id, self.app.secret,
            self.app.certificate, self.app.thumbprint,
        )  # fmt: skip

    async def ask(self, tenant: str | None, issue_id: str) -> Answer:
        """What the tenant's service health says of the issue."""
        if not tenant:
            return UNKNOWN, "no_tenant"
        app = self.app_in(tenant)
        url = self.graph_url.rstrip("/") + ISSUE_PATH + quote(issue_id, safe="")
        waited, renewed = 0.0, False
        while True:
            try:
                token = await self.tokens.token(app, GRAPH_SCOPE)
            except TokenRefused as refused:
                if refused.error == "unreachable":
                    return UNKNOWN, "unavailable"
                self.refusals[tenant] = f"Microsoft Entra: {refused}"
                return UNKNOWN, "refused"
            status, retry_after, detail = await self.get(url, token)
            if status == 200:
                return CONFIRMED, ""
            if status == 404:
                return NOT_LISTED, ""
            if status == 401 and not renewed:
                await self.tokens.forget(app)
                renewed = True
                continue
            if status in (401, 403):
                self.refusals[tenant] = f"Microsoft Graph: HTTP {status} {detail}".strip()
                return UNKNOWN, "refused"
            if status in (429, 503):
                wait = seconds_of(retry_after)
                if waited + wait > self.retry_budget:
                    return UNKNOWN, "throttled"
                waited += wait
                await self.sleep(wait)
                continue
            logger.warning("service health of tenant %s: HTTP %s %s", tenant, status, detail)
            return UNKNOWN, "unavailable"

    async def get(self, url: str, token: str) -> tuple[int, str | None, str]:
        """One request: its status, Retry-After and Graph's error message."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            async with self.http.get(url, headers=headers, timeout=TIMEOUT) as response:
                detail = ""
                if response.status != 200:
                    try:
                        body = await response.json(content_type=None)
                        detail = str(((body or {}).get("error") or {}).get("message", ""))[:300]
                    except (ValueError, aiohttp.ContentTypeError, AttributeError):
                        detail = ""
                return response.status, response.headers.get("Retry-After"), detail
        except (aiohttp.ClientError, TimeoutError) as error:
            return 599, None, f"{type(error).__name__}: {error}"


def seconds_of(retry_after: str | None) -> float:
    """Retry-After in seconds (Graph sends whole seconds)."""
    try:
        return max(float(retry_after), 0.0) if retry_after else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
