"""A local Microsoft Graph service health list, with a local Entra beside it to sign in to
(local_entra.py), on loopback, for the incident feed's tests.

`GET /v1.0/admin/serviceAnnouncement/issues` answers as Graph documents, refusals included: pages
linked by `@odata.nextLink` (100 issues a page by default; `$top` and `Prefer:
odata.maxpagesize` up to 1,000), `$filter=lastModifiedDateTime ge|gt|le|lt|eq <DateTimeOffset>`
(a quoted date or another clause is a 400, as on Graph), 401 `InvalidAuthenticationToken` for a
missing, unknown or expired token, 403 for an app without the `ServiceHealth.Read.All` role, and
429 or 503 with Retry-After when told to.

`GET /v1.0/admin/serviceAnnouncement/issues/{id}` answers for the tenant the token was issued in
(its `tid`), as each tenant's own service health does: the issue when that tenant's list holds it
(`list_in_tenant`), else 404 `NotFound`; 401 without a valid token, 403 when the app holds no
`ServiceHealth.Read.All` in that tenant, 429 with Retry-After when a tenant is told to throttle
(`throttle_tenant`), or a share of all tenants' requests drawn at random (`throttled_share`,
seeded). Every request waits `latency` seconds first, as on a network to Microsoft (benchmarks).
MSAL signs in over https only: start it with an SSL context (the tests make one with trustme)."""

from __future__ import annotations

import random
import re
import ssl
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web

from devtools.local_entra import GRAPH_DEFAULT_SCOPE, READ_SERVICE_HEALTH, LocalEntra
from devtools.microsoft_limits import latency_middleware

ISSUES_PATH = "/v1.0/admin/serviceAnnouncement/issues"
MAX_PAGE_SIZE = 1000
FILTER = re.compile(r"^\s*lastModifiedDateTime\s+(ge|gt|le|lt|eq)\s+(\S+)\s*$")
DATE_TIME_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$"
)
# What Graph answers with a 401 (Graph's own app id is 00000003-0000-0000-c000-000000000000).
CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    'authorize", client_id="00000003-0000-0000-c000-000000000000"'
)
CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#admin/serviceAnnouncement/issues"
COMPARE = {
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b,
}


class LocalGraph:
    """Graph's issue list and the Entra that signs its callers in; records every request."""

    def __init__(self) -> None:
        self.entra = LocalEntra(GRAPH_DEFAULT_SCOPE)
        self.issues: list[dict] = []
        self.page_size = 100
        # Each list request: its query, its Authorization, the ids of the issues it got.
        self.issue_requests: list[dict] = []
        self._refusals: list[tuple[int, float | None] | None] = []  # None: answered
        # Each tenant's own service health: the issue ids it lists, by tenant id (lower case).
        self.tenant_issues: dict[str, set[str]] = {}
        self._tenant_throttles: dict[str, list[float]] = {}
        # A share of the requests for one issue answered 429, drawn at random (the same run twice).
        self.throttled_share = 0.0
        self.throttled_retry_after = 1
        self._random = random.Random(2026)
        self.latency = 0.0  # seconds every request waits before its answer
        # Each request for one issue: tenant (from the token's tid), issue id, status answered.
        self.tenant_requests: list[tuple[str, str, int]] = []
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # Knobs

    def put(self, *issues: dict) -> None:
        """Adds issues, or replaces those with the same id where they stand in the list."""
        for issue in issues:
            at = next((i for i, old in enumerate(self.issues) if old["id"] == issue["id"]), None)
            if at is None:
                self.issues.append(issue)
            else:
                self.issues[at] = issue

    def refuse_next(
        self, times: int, *, status: int = 429, retry_after: float | None = 2, after: int = 0
    ) -> None:
        """After `after` answered list requests, the next `times` get `status` (429 or 503)
        with this Retry-After (None: without one)."""
        self._refusals.extend([None] * after + [(status, retry_after)] * times)

    def list_in_tenant(self, tenant_id: str, *issue_ids: str) -> None:
        """The tenant's own service health lists these issues (the issues themselves are put)."""
        self.tenant_issues.setdefault(tenant_id.lower(), set()).update(issue_ids)

    def throttle_tenant(self, tenant_id: str, *retry_afters: float) -> None:
        """The tenant's next requests get 429, one per Retry-After given."""
        self._tenant_throttles.setdefault(tenant_id.lower(), []).extend(retry_afters)

    @property
    def authority_host(self) -> str:
        return self.base_url

    @property
    def issues_url(self) -> str:
        return self.base_url + ISSUES_PATH

    # Server

    async def start(
        self, ssl_context: ssl.SSLContext | None, host: str = "127.0.0.1"
    ) -> LocalGraph:
        app = web.Application(middlewares=[latency_middleware(self)])
        self.entra.add_routes(app)
        app.router.add_get(ISSUES_PATH, self.list_issues)
        app.router.add_get(ISSUES_PATH + "/{issue_id}", self.get_issue)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0, ssl_context=ssl_context)
        await site.start()
        bound_host, port = self._runner.addresses[0][:2]
        self.base_url = f"{'https' if ssl_context else 'http'}://{bound_host}:{port}"
        self.entra.base_url = self.base_url
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # Graph

    async def list_issues(self, request: web.Request) -> web.Response:
        record = {
            "query": dict(request.query),
            "authorization": request.headers.get("Authorization"),
            "ids": [],
        }
        self.issue_requests.append(record)
        refused = self.authorization_refusal(request.headers.get("Authorization", ""))
        if refused is not None:
            return refused
        refusal = self._refusals.pop(0) if self._refusals else None
        if refusal is not None:
            status, retry_after = refusal
            code = "TooManyRequests" if status == 429 else "serviceNotAvailable"
            headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
            return graph_error(status, code, "Too many requests. Please try again later.", headers)
        try:
            matching = self.filtered(request.query.get("$filter"))
            size = self.requested_page_size(request)
            skip = int(request.query.get("$skip", "0"))
            unknown = sorted(
                name
                for name in request.query
                if name.startswith("$") and name not in ("$filter", "$top", "$skip")
            )
            if skip < 0 or unknown:
                raise ValueError(f"Query option '{(unknown or ['$skip'])[0]}' is not allowed.")
        except ValueError as problem:
            return graph_error(400, "BadRequest", str(problem))
        body = {"@odata.context": CONTEXT, "value": matching[skip : skip + size]}
        record["ids"] = [issue["id"] for issue in body["value"]]
        if skip + size < len(matching):
            body["@odata.nextLink"] = self.next_link(request, skip + size)
        return web.json_response(body)

    async def get_issue(self, request: web.Request) -> web.Response:
        issue_id = request.match_info["issue_id"]
        header = request.headers.get("Authorization", "")
        refused = self.authorization_refusal(header)
        token = self.entra.tokens.get(header.partition(" ")[2])
        tenant = token.tenant_id if token else ""
        wait = None
        if refused is None and self._tenant_throttles.get(tenant):
            wait = self._tenant_throttles[tenant].pop(0)
        elif refused is None and self.throttled_share:
            if self._random.random() < self.throttled_share:
                wait = self.throttled_retry_after
        if wait is not None:
            refused = graph_error(
                429,
                "TooManyRequests",
                "Too many requests. Please try again later.",
                {"Retry-After": f"{wait:g}"},
            )
        if refused is None:
            issue = next((i for i in self.issues if i["id"] == issue_id), None)
            if issue is None or issue_id not in self.tenant_issues.get(tenant, set()):
                refused = graph_error(
                    404, "NotFound", f"The requested issue '{issue_id}' was not found."
                )
        self.tenant_requests.append((tenant, issue_id, refused.status if refused else 200))
        if refused is not None:
            return refused
        return web.json_response(
            {"@odata.context": CONTEXT.replace("/issues", "/issues/$entity"), **issue}
        )

    def authorization_refusal(self, header: str) -> web.Response | None:
        challenge = {"WWW-Authenticate": CHALLENGE}
        scheme, _, value = header.partition(" ")
        if scheme != "Bearer" or not value:
            return graph_error(
                401, "InvalidAuthenticationToken", "Access token is empty.", challenge
            )
        token = self.entra.tokens.get(value)
        if token is None:
            return graph_error(
                401, "InvalidAuthenticationToken", "Access token validation failure.", challenge
            )
        if token.expires_at <= time.time():
            return graph_error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
                challenge,
            )
        roles = token.app.roles_in(token.tenant_id) if token.tenant_id else token.app.roles
        if READ_SERVICE_HEALTH not in roles:
            return graph_error(
                403,
                "UnknownError",
                "Missing role permissions on the request. API requires one of "
                f"'{READ_SERVICE_HEALTH}'. Roles on the request "
                f"'{','.join(sorted(roles))}'.",
            )
        return None

    def filtered(self, clause: str | None) -> list[dict]:
        if clause is None:
            return list(self.issues)
        match = FILTER.match(clause)
        if match is None:
            raise ValueError(f"Invalid filter clause: {clause}")
        operator, literal = match.groups()
        if literal.startswith("'"):
            raise ValueError(
                "Invalid filter clause: A binary operator with incompatible types was detected. "
                "Found operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind "
                f"'{operator}'."
            )
        if not DATE_TIME_OFFSET.match(literal):
            raise ValueError(f"Invalid filter clause: '{literal}' is not a DateTimeOffset.")
        moment = iso_time(literal)
        return [
            issue
            for issue in self.issues
            if COMPARE[operator](iso_time(issue["lastModifiedDateTime"]), moment)
        ]

    def requested_page_size(self, request: web.Request) -> int:
        size = self.page_size
        preference = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("Prefer", ""))
        if preference:
            size = min(int(preference.group(1)), MAX_PAGE_SIZE)
        if "$top" in request.query:
            top = int(request.query["$top"])
            if not 1 <= top <= MAX_PAGE_SIZE:
                raise ValueError(
                    f"Invalid page size specified: '{top}'. Must be between 1 and 1000 inclusive."
                )
            size = top
        return size

    def next_link(self, request: web.Request, skip: int) -> str:
        parts = [
            f"{name}={quote(request.query[name], safe='')}"
            for name in ("$filter", "$top")
            if name in request.query
        ]
        parts.append(f"$skip={skip}")
        return f"{self.base_url}{ISSUES_PATH}?{'&'.join(parts)}"


def iso_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def graph_error(status: int, code: str, message: str, headers: dict | None = None) -> web.Response:
    """An error as Graph writes it: `{"error": {"code", "message", "innerError"}}`."""
    request_id = str(uuid.uuid4())
    return web.json_response(
        {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": request_id,
                    "client-request-id": request_id,
                },
            }
        },
        status=status,
        headers=headers,
    )
