"""The local Entra refuses what the real one refuses, mounted on the local Graph as on the local
Partner Center: a wrong or missing secret, an unknown app or tenant, a scope of another API, a
grant other than client credentials, an app whose consent was withdrawn; tenants and client ids
match in any case."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools.local_entra import GRAPH_DEFAULT_SCOPE, PARTNER_CENTER_SCOPE, LocalEntra
from tests.utils import graph, partner_center
from tests.utils.entra import EntraClient
from tests.utils.tls import trusting_session


@dataclass(frozen=True)
class Mounted:
    entra: LocalEntra
    app: EntraClient
    ca_file: Path
    other_scope: str  # the other local API's, which this Entra gives no token for


@pytest.fixture(params=["Graph", "Partner Center"])
def mounted(request) -> Mounted:
    if request.param == "Graph":
        site = request.getfixturevalue("graph_site")
        app = EntraClient(
            site.graph.base_url, graph.TENANT_ID, graph.CLIENT_ID, graph.SECRET, GRAPH_DEFAULT_SCOPE
        )
        return Mounted(site.graph.entra, app, site.ca_bundle, PARTNER_CENTER_SCOPE)
    local = request.getfixturevalue("local_pc")
    return Mounted(local.entra, partner_center_app(local), local.ca_file, GRAPH_DEFAULT_SCOPE)


def partner_center_app(local) -> EntraClient:
    """The partner's app, registered with its account in the local Partner Center's Entra."""
    local.account(partner_center.TENANT, partner_center.CLIENT_ID, partner_center.SECRET)
    return EntraClient(
        local.url, partner_center.TENANT, partner_center.CLIENT_ID, partner_center.SECRET,
        PARTNER_CENTER_SCOPE,
    )  # fmt: skip


@pytest.fixture
async def http(mounted):
    async with trusting_session(mounted.ca_file) as session:
        yield session


async def test_a_good_secret_gets_a_bearer_token_in_any_case_of_tenant_and_app(http, mounted):
    app = mounted.app

    status, body = await app.ask_token(http, app.tenant.upper(), client_id=app.client_id.upper())

    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    assert body["access_token"] in mounted.entra.tokens


@pytest.mark.parametrize(
    ("form", "status", "error", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"client_secret": None}, 401, "invalid_client", 7000218),
        ({"client_id": "00000000-0000-0000-0000-000000000001"}, 400, "unauthorized_client", 700016),
        (
            {"scope": "https://graph.microsoft.com/ServiceHealth.Read.All"},
            400,
            "invalid_scope",
            1002012,
        ),
        ({"scope": "other API"}, 400, "invalid_scope", 1002012),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"tenant": "fabrikam.onmicrosoft.com"}, 400, "invalid_request", 90002),
    ],
)
async def test_entra_refuses_a_bad_request_with_its_error_and_code(
    http, mounted, form, status, error, code
):
    if form.get("scope") == "other API":
        form = {"scope": mounted.other_scope}

    answer_status, body = await mounted.app.ask_token(http, **form)

    assert answer_status == status
    assert body["error"] == error and body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert "\r\nTrace ID: " in body["error_description"]
    assert mounted.entra.tokens == {}


async def test_an_unknown_tenant_has_no_openid_configuration(http, mounted):
    url = f"{mounted.app.base_url}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
    async with http.get(url) as response:
        assert response.status == 400
        assert (await response.json())["error_codes"] == [90002]


async def test_a_withdrawn_consent_is_refused(http, mounted):
    mounted.entra.apps[mounted.app.client_id].consented = False

    status, body = await mounted.app.ask_token(http)

    assert status == 400 and body["error"] == "invalid_grant" and body["error_codes"] == [65001]


async def test_partner_center_refuses_the_tokens_of_a_withdrawn_consent(local_pc):
    app = partner_center_app(local_pc)
    async with trusting_session(local_pc.ca_file) as http:
        _, before = await app.ask_token(http)
        local_pc.revoke(partner_center.TENANT)
        headers = {"Authorization": f"Bearer {before['access_token']}"}
        async with http.get(f"{local_pc.url}/v1/customers?size=10", headers=headers) as response:
            assert response.status == 401
