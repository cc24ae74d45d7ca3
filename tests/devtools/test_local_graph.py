"""The local Graph refuses what the real one refuses: a request without a token, a filter Graph
would not take, a page size too big (its Entra: tests/devtools/test_local_entra.py)."""

from __future__ import annotations

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
