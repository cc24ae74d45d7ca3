"""The local Graph refuses what the real one refuses: a request without a token, a filter Graph
would not take, a page size too big (its Entra: tests/devtools/test_local_entra.py)."""

from __future__ import annotations

import jwt
import pytest

from devtools.local_entra import GRAPH_DEFAULT_SCOPE
from tests.utils.entra import EntraClient
from tests.utils.graph import CLIENT_ID, SECRET, TENANT_ID, issue_changed_at
from tests.utils.tls import trusting_session


@pytest.fixture
async def http(graph_site):
    async with trusting_session(graph_site.ca_bundle) as session:
        yield session


async def ask_token(http, graph_site) -> tuple[int, dict]:
    app = EntraClient(graph_site.graph.base_url, TENANT_ID, CLIENT_ID, SECRET, GRAPH_DEFAULT_SCOPE)
    return await app.ask_token(http)


async def list_issues(http, graph_site, query: str = "", token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.get(graph_site.graph.issues_url + query, headers=headers) as response:
        return response.status, response.headers, await response.json()


async def test_graph_refuses_a_request_without_a_token_or_with_an_unknown_one(http, graph_site):
    status, headers, body = await list_issues(http, graph_site)
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationToken"
    assert headers["WWW-Authenticate"].startswith("Bearer ")
    status, _, body = await list_issues(http, graph_site, token="made-up")
    assert status == 401 and body["error"]["message"] == "Access token validation failure."


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?$filter=lastModifiedDateTime ge '2026-11-20T10:00:00Z'", "incompatible types"),
        ("?$filter=details/any(d: d/name eq 'x')", "Invalid filter clause"),
        ("?$filter=lastModifiedDateTime ge yesterday", "is not a DateTimeOffset"),
        ("?$top=1001", "Must be between 1 and 1000"),
        ("?$expand=posts", "Query option '$expand' is not allowed"),
    ],
)
async def test_graph_refuses_what_it_does_not_take(http, graph_site, query, message):
    _, token = await ask_token(http, graph_site)
    status, _, body = await list_issues(http, graph_site, query, token["access_token"])
    assert status == 400 and body["error"]["code"] == "BadRequest"
    assert message in body["error"]["message"]


async def test_graph_pages_and_filters_as_documented(http, graph_site):
    graph = graph_site.graph
    graph.put(*(issue_changed_at(f"2026-11-20T1{n}:00:00Z", id=f"EX{n}") for n in range(5)))
    _, token = await ask_token(http, graph_site)
    query = "?$filter=lastModifiedDateTime%20ge%202026-11-20T11:00:00Z&$top=2"

    status, _, first = await list_issues(http, graph_site, query, token["access_token"])
    assert status == 200 and [issue["id"] for issue in first["value"]] == ["EX1", "EX2"]
    async with http.get(
        first["@odata.nextLink"], headers={"Authorization": f"Bearer {token['access_token']}"}
    ) as response:
        second = await response.json()
    assert [issue["id"] for issue in second["value"]] == ["EX3", "EX4"]
    assert "@odata.nextLink" not in second


async def test_graph_throttles_when_told_to_with_its_retry_after(http, graph_site):
    graph_site.graph.refuse_next(1, retry_after=30)
    _, token = await ask_token(http, graph_site)
    status, headers, body = await list_issues(http, graph_site, token=token["access_token"])
    assert status == 429 and headers["Retry-After"] == "30"
    assert body["error"]["code"] == "TooManyRequests"


# Each tenant's own service health, by the token's tid


async def get_issue(http, graph_site, issue_id: str, token: str):
    url = f"{graph_site.graph.issues_url}/{issue_id}"
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json()


async def test_each_tenant_sees_only_the_issues_its_service_health_lists(http, graph_site):
    graph, customer_a, customer_b = graph_site.graph, "tenant-a-0001", "tenant-b-0002"
    graph.entra.consent(CLIENT_ID, customer_a)
    graph.entra.consent(CLIENT_ID, customer_b)
    graph.put(issue_changed_at("2026-11-20T11:00:00Z", id="EX1"))
    graph.list_in_tenant(customer_a, "EX1")
    app = EntraClient(graph.base_url, TENANT_ID, CLIENT_ID, SECRET, GRAPH_DEFAULT_SCOPE)
    _, token_a = await app.ask_token(http, customer_a)
    _, token_b = await app.ask_token(http, customer_b)

    assert jwt.decode(token_a["access_token"], options={"verify_signature": False})["tid"] == (
        customer_a
    )
    status, body = await get_issue(http, graph_site, "EX1", token_a["access_token"])
    assert status == 200 and body["id"] == "EX1"
    status, body = await get_issue(http, graph_site, "EX1", token_b["access_token"])
    assert status == 404 and body["error"]["code"] == "NotFound"
    # The partner's own tenant lists nothing of it either.
    _, own = await app.ask_token(http)
    assert (await get_issue(http, graph_site, "EX1", own["access_token"]))[0] == 404


async def test_a_tenant_without_consent_or_permission_is_refused(http, graph_site):
    graph = graph_site.graph
    graph.entra.add_tenant("tenant-c-0003")
    graph.entra.consent(CLIENT_ID, "tenant-d-0004", roles=set())
    graph.put(issue_changed_at("2026-11-20T11:00:00Z", id="EX1"))
    graph.list_in_tenant("tenant-d-0004", "EX1")
    app = EntraClient(graph.base_url, TENANT_ID, CLIENT_ID, SECRET, GRAPH_DEFAULT_SCOPE)

    status, refused = await app.ask_token(http, "tenant-c-0003")
    assert status == 400 and refused["error"] == "unauthorized_client"
    assert "AADSTS700016" in refused["error_description"]
    _, token = await app.ask_token(http, "tenant-d-0004")
    status, body = await get_issue(http, graph_site, "EX1", token["access_token"])
    assert status == 403 and "ServiceHealth.Read.All" in body["error"]["message"]


async def test_a_tenant_told_to_throttle_answers_429_with_retry_after(http, graph_site):
    graph = graph_site.graph
    graph.entra.consent(CLIENT_ID, "tenant-a-0001")
    graph.put(issue_changed_at("2026-11-20T11:00:00Z", id="EX1"))
    graph.throttle_tenant("tenant-a-0001", 7)
    app = EntraClient(graph.base_url, TENANT_ID, CLIENT_ID, SECRET, GRAPH_DEFAULT_SCOPE)
    _, token = await app.ask_token(http, "tenant-a-0001")
    url = f"{graph.issues_url}/EX1"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    async with http.get(url, headers=headers) as response:
        assert response.status == 429 and response.headers["Retry-After"] == "7"
    assert (await get_issue(http, graph_site, "EX1", token["access_token"]))[0] == 404
