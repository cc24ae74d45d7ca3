"""The local Entra as the local Partner Center mounts it: tokens for Partner Center's scope only,
tenants and client ids in any case, and a withdrawn consent refused as Entra refuses it, at the
token endpoint and by the API (the Graph side: tests/devtools/test_local_graph.py)."""

from __future__ import annotations

import pytest

from devtools.local_entra import GRAPH_DEFAULT_SCOPE, PARTNER_CENTER_SCOPE
from tests.utils.partner_center import CLIENT_ID, SECRET, TENANT
from tests.utils.tls import trusting_session


@pytest.fixture
async def http(local_pc):
    local_pc.account(TENANT, CLIENT_ID, SECRET)
    async with trusting_session(local_pc.ca_file) as session:
        yield session


async def ask_token(http, local_pc, tenant: str = TENANT, **form) -> tuple[int, dict]:
    body = {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "scope": PARTNER_CENTER_SCOPE,
        **form,
    }
    async with http.post(f"{local_pc.url}/{tenant}/oauth2/v2.0/token", data=body) as response:
        return response.status, await response.json()


async def customers(http, local_pc, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.get(f"{local_pc.url}/v1/customers?size=10", headers=headers) as response:
        return response.status


async def test_a_token_for_partner_center_in_any_case_of_tenant_and_app(http, local_pc):
    status, body = await ask_token(
        http, local_pc, tenant=TENANT.upper(), client_id=CLIENT_ID.upper()
    )

    assert status == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 3599
    assert await customers(http, local_pc, body["access_token"]) == 200


@pytest.mark.parametrize(
    ("form", "status", "error", "code"),
    [
        ({"scope": GRAPH_DEFAULT_SCOPE}, 400, "invalid_scope", 1002012),
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"client_id": "00000000-0b1c-4b3e-9f5a-2c7d1e4b6a90"}, 400, "unauthorized_client", 700016),
        ({"tenant": "fabrikam.onmicrosoft.com"}, 400, "invalid_request", 90002),
    ],
)
async def test_partner_centers_entra_refuses_with_entras_error_and_code(
    http, local_pc, form, status, error, code
):
    answer_status, body = await ask_token(http, local_pc, **form)

    assert answer_status == status
    assert body["error"] == error and body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")


async def test_a_withdrawn_consent_refuses_new_tokens_and_those_handed_out(http, local_pc):
    _, before = await ask_token(http, local_pc)

    local_pc.revoke(TENANT)
    status, body = await ask_token(http, local_pc)

    assert status == 400 and body["error"] == "invalid_grant" and body["error_codes"] == [65001]
    assert await customers(http, local_pc, before["access_token"]) == 401
