"""A local Microsoft Entra token endpoint and Partner Center REST API on loopback (https, as MSAL
requires), answering as Microsoft documents them (tests/fixtures/partner_center/README.md):

- Entra: `GET /{tenant}/v2.0/.well-known/openid-configuration` and
  `POST /{tenant}/oauth2/v2.0/token` (client credentials only; an unknown tenant, app, secret or
  scope is refused with Entra's error and AADSTS code);
- Partner Center: `GET /v1/customers?size=N`, paged: each page but the last has `links.next`
  whose `MS-ContinuationToken` header must be sent back (a next page without it is a 400), and
  `GET /v1/customers/{id}/subscriptions`. A missing, unknown, expired or revoked token is a 401;
  an account only sees its own customers.

Knobs for tests: `throttle(n, retry_after)` answers the next n API calls 429 with Retry-After and
Microsoft's documented body, `fail(n, status, after=k)` answers n calls after the next k with a
server error, `revoke(tenant)` ends an account's consent (every token and new one refused)."""

from __future__ import annotations

import json
import secrets
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from devtools.local_tls import local_certificate

SCOPE = "https://api.partnercenter.microsoft.com/.default"
TOKEN_SECONDS = 3599


@dataclass
class Account:
    """One partner's Partner Center account and the app registered in its Entra tenant."""

    tenant: str
    client_id: str
    secret: str
    customers: list[dict] = field(default_factory=list)
    subscriptions: dict[str, list[dict]] = field(default_factory=dict)
    revoked: bool = False

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


class LocalPartnerCenter:
    def __init__(self, *, page_size_limit: int = 500) -> None:
        self.accounts: dict[str, Account] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path with query) of every call
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (tenant, expires at)
        self._continuations: dict[str, tuple[str, int, int]] = {}
        self._throttled: list[float] = []
        self._failing: list[int | None] = []
        self._page_size_limit = page_size_limit
        self._runner: web.AppRunner | None = None
        self._directory = tempfile.TemporaryDirectory(prefix="local-partner-center-")
        self.url = ""
        self.ca_file: Path | None = None

    def account(self, tenant: str, client_id: str, secret: str) -> Account:
        """Registers a partner's account and its app."""
        account = Account(tenant.lower(), client_id.lower(), secret)
        self.accounts[account.tenant] = account
        return account

    def throttle(self, times: int, retry_after: float = 1) -> None:
        self._throttled += [retry_after] * times

    def fail(self, times: int, status: int = 503, *, after: int = 0) -> None:
        """Answers `times` calls with `status`, after letting `after` calls through."""
        self._failing += [None] * after + [status] * times

    def revoke(self, tenant: str) -> None:
        self.accounts[tenant.lower()].revoked = True

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> LocalPartnerCenter:
        self.ca_file, context = local_certificate(Path(self._directory.name))
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1/customers", self._customers)
        app.router.add_get("/v1/customers/{customer}/subscriptions", self._subscriptions)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=context)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"https://{bound[0]}:{bound[1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._directory.cleanup()

    # Microsoft Entra

    async def _openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"].lower()
        if tenant not in self.accounts:
            return entra_error(400, "invalid_tenant", f"AADSTS90002: Tenant '{tenant}' not found.")
        base = f"{self.url}/{tenant}"
        return web.json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "issuer": f"{self.url}/{tenant}/v2.0",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "tenant_region_scope": "NA",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        account = self.accounts.get(request.match_info["tenant"].lower())
        if account is None:
            return entra_error(400, "invalid_request", "AADSTS90002: Tenant not found.")
        if form.get("grant_type") != "client_credentials":
            return entra_error(400, "unsupported_grant_type", "AADSTS70003: unsupported grant.")
        if str(form.get("client_id", "")).lower() != account.client_id:
            return entra_error(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not "
                f"found in the directory '{account.tenant}'.",
            )
        if form.get("client_secret") != account.secret:
            return entra_error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in "
                "the request is the client secret value, not the client secret ID.",
            )
        if form.get("scope") != SCOPE:
            return entra_error(
                400, "invalid_scope", "AADSTS1002012: The provided scope is invalid."
            )
        if account.revoked:
            return entra_error(
                400,
                "invalid_grant",
                "AADSTS65001: The user or administrator has not consented to use the application.",
            )
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (account.tenant, time.monotonic() + TOKEN_SECONDS)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "ext_expires_in": TOKEN_SECONDS,
                "access_token": token,
            }
        )

    # Partner Center

    def _caller(self, request: web.Request) -> Account | web.Response:
        self.requests.append((request.method, request.path_qs))
        if self._throttled:
            wait = self._throttled.pop(0)
            return web.json_response(
                {
                    "statusCode": 429,
                    "message": f"Rate limit is exceeded. Try again in {wait:g} seconds.",
                },
                status=429,
                headers={"Retry-After": f"{wait:g}"},
            )
        failing = self._failing.pop(0) if self._failing else None
        if failing is not None:
            return web.Response(status=failing, text="Service Unavailable")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        tenant, expires = self._tokens.get(token, ("", 0.0))
        account = self.accounts.get(tenant)
        if scheme != "Bearer" or account is None or expires < time.monotonic() or account.revoked:
            return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})
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


def link(uri: str, headers: list | None = None) -> dict:
    return {"uri": uri, "method": "GET", "headers": headers or []}


def collection(items: list[dict], links: dict) -> web.Response:
    body = {"totalCount": len(items), "items": items, "attributes": {"objectType": "Collection"}}
    if links:
        body["links"] = links
    return web.json_response(body, headers={"MS-RequestId": str(uuid.uuid4())})


def pc_error(status: int, code: int, description: str) -> web.Response:
    """Partner Center's error body (code, description, errorName…), as its error-codes page."""
    body = {
        "code": code,
        "description": description,
        "data": [],
        "source": "PartnerFD",
        "errorName": "BadRequest" if status == 400 else "NotFound",
    }
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def entra_error(status: int, error: str, description: str) -> web.Response:
    """Microsoft Entra's OAuth error body, with its AADSTS code."""
    body = {
        "error": error,
        "error_description": description,
        "error_codes": [int(description[6:].split(":")[0])]
        if description.startswith("AADSTS")
        else [],
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }
    return web.json_response(body, status=status)
