"""A local Partner Center REST API on loopback, with a local Entra beside it to sign in to
(local_entra.py), answering as Microsoft documents them (tests/fixtures/partner_center/README.md):

- Entra: the OpenID configuration and the client-credentials token endpoint (an unknown tenant,
  app, secret or scope, or an app whose consent was withdrawn, is refused with Entra's error and
  AADSTS code), giving tokens for Partner Center's scope only;
- Partner Center: `GET /v1/customers?size=N`, paged: each page but the last has `links.next`
  whose `MS-ContinuationToken` header must be sent back (a next page without it is a 400), and
  `GET /v1/customers/{id}/subscriptions`; the writes that place orders are in
  local_partner_center_orders.py. A missing, unknown, expired or revoked token is a 401; an
  account only sees its own customers.

Knobs for tests: `throttle(n, retry_after)` answers the next n API calls 429 with Retry-After and
Microsoft's documented body, `fail(n, status, after=k)` answers n calls after the next k with a
server error, `revoke(tenant)` ends an account's consent (every token and new one refused).
For benchmarks: `latency` (seconds every request waits, Entra's included) and `limit`, a
`CallLimit` that throttles each partner tenant's API calls past a rate, as Partner Center does
(429, Retry-After, Microsoft's documented body).
MSAL signs in over https only: start it with an SSL context (the tests make one with trustme)."""

from __future__ import annotations

import ssl
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from devtools.local_entra import PARTNER_CENTER_SCOPE, EntraApp, LocalEntra
from devtools.local_partner_center_orders import OrderRoutes, pc_error
from devtools.microsoft_limits import CallLimit, latency_middleware, retry_after


@dataclass
class Account:
    """One partner's Partner Center account and the app registered in its Entra tenant."""

    app: EntraApp
    customers: list[dict] = field(default_factory=list)
    subscriptions: dict[str, list[dict]] = field(default_factory=dict)
    carts: dict[str, tuple[str, dict]] = field(default_factory=dict)  # id: (customer, cart)
    agreements: dict[str, dict] = field(default_factory=dict)  # by customer: the acceptance

    @property
    def tenant(self) -> str:
        return self.app.tenant_id

    def add_customer(self, customer_id: str, name: str, domain: str) -> dict:
        """Adds a customer in the shape of Partner Center's Customer resource."""
        customer = {
            "id": customer_id,
            "companyProfile": {
                "tenantId": customer_id,
                "domain": domain,
                "companyName": name,
                "attributes": {"objectType": "CustomerCompanyProfile"},
            },
            "relationshipToPartner": "reseller",
            "attributes": {"objectType": "Customer"},
        }
        self.customers.append(customer)
        self.subscriptions.setdefault(customer_id, [])
        return customer


class LocalPartnerCenter(OrderRoutes):
    def __init__(self, *, page_size_limit: int = 500) -> None:
        self.accounts: dict[str, Account] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path with query) of every call
        self.entra = LocalEntra(PARTNER_CENTER_SCOPE)
        self._continuations: dict[str, tuple[str, int, int]] = {}
        self._throttled: list[float] = []
        self._failing: list[int | None] = []
        self._page_size_limit = page_size_limit
        self.latency = 0.0  # seconds every request waits before its answer
        self.limit: CallLimit | None = None  # each partner tenant's API calls, when set
        self._runner: web.AppRunner | None = None
        self.url = ""
        # The certificates a client must trust to reach it, as whoever started it says.
        self.ca_file: Path | None = None

    def account(self, tenant: str, client_id: str, secret: str) -> Account:
        """Registers a partner's account and its app (no Graph roles: Partner Center's)."""
        account = Account(self.entra.register(tenant, client_id, secret=secret, roles=set()))
        self.accounts[account.tenant] = account
        return account

    def throttle(self, times: int, retry_after: float = 1) -> None:
        self._throttled += [retry_after] * times

    def fail(self, times: int, status: int = 503, *, after: int = 0) -> None:
        """Answers `times` calls with `status`, after letting `after` calls through."""
        self._failing += [None] * after + [status] * times

    def revoke(self, tenant: str) -> None:
        self.accounts[tenant.lower()].app.consented = False

    async def start(
        self, ssl_context: ssl.SSLContext, *, ca_file: Path | None = None, host: str = "127.0.0.1"
    ) -> LocalPartnerCenter:
        """Serves https with `ssl_context`; `ca_file` (which trusts its certificate) is kept for
        the clients to be pointed at."""
        app = web.Application(middlewares=[latency_middleware(self)])
        self.entra.add_routes(app)
        app.router.add_get("/v1/customers", self._customers)
        app.router.add_get("/v1/customers/{customer}/subscriptions", self._subscriptions)
        self.add_order_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0, ssl_context=ssl_context)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = self.entra.base_url = f"https://{bound[0]}:{bound[1]}"
        self.ca_file = ca_file
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # Partner Center

    def _caller(self, request: web.Request) -> Account | web.Response:
        self.requests.append((request.method, request.path_qs))
        if self._throttled:
            return throttled(f"{self._throttled.pop(0):g}")
        failing = self._failing.pop(0) if self._failing else None
        if failing is not None:
            return web.Response(status=failing, text="Service Unavailable")
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        token = self.entra.tokens.get(value)
        account = self.accounts.get(token.app.tenant_id) if token else None
        if (
            scheme != "Bearer"
            or token is None
            or account is None
            or token.expires_at < time.time()
            or not token.app.consented
        ):
            return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        if self.limit is not None:
            wait = self.limit.wait(account.tenant)
            if wait:
                return throttled(retry_after(wait))
        return account

    async def _customers(self, request: web.Request) -> web.Response:
        account = self._caller(request)
        if isinstance(account, web.Response):
            return account
        size_text = request.query.get("size", "")
        if not size_text.isdigit() or not 1 <= int(size_text) <= self._page_size_limit:
            return pc_error(400, 400008, "size must be a number from 1 to 500")
        size, offset = int(size_text), 0
        if request.query.get("seekOperation") == "Next":
            token = request.headers.get("MS-ContinuationToken", "")
            tenant, offset, size = self._continuations.get(token, ("", -1, size))
            if tenant != account.tenant or offset < 0:
                return pc_error(400, 400009, "The continuation token is missing or invalid.")
        page = account.customers[offset : offset + size]
        links: dict = {"self": link(f"/customers?size={size}")}
        if offset + size < len(account.customers):
            token = uuid.uuid4().hex
            self._continuations[token] = (account.tenant, offset + size, size)
            links["next"] = link(
                f"/customers?size={size}&seekOperation=Next",
                [{"key": "MS-ContinuationToken", "value": token}],
            )
        return collection(page, links)

    async def _subscriptions(self, request: web.Request) -> web.Response:
        account = self._caller(request)
        if isinstance(account, web.Response):
            return account
        customer = request.match_info["customer"]
        if customer not in account.subscriptions:
            return pc_error(404, 2001, f"Customer {customer} was not found.")
        return collection(account.subscriptions[customer], {})


def throttled(seconds: str) -> web.Response:
    """Partner Center's 429, with the documented body."""
    return web.json_response(
        {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {seconds} seconds."},
        status=429,
        headers={"Retry-After": seconds},
    )


def link(uri: str, headers: list | None = None) -> dict:
    return {"uri": uri, "method": "GET", "headers": headers or []}


def collection(items: list[dict], links: dict) -> web.Response:
    body = {"totalCount": len(items), "items": items, "attributes": {"objectType": "Collection"}}
    if links:
        body["links"] = links
    return web.json_response(body, headers={"MS-RequestId": str(uuid.uuid4())})
