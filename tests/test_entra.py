"""App-only tokens from Microsoft Entra (bot/entra.py), against the local Entra over TLS: one
token per app until it is forgotten, Entra's refusals as its code and first line, the operator's
certificates trusted even when REQUESTS_CA_BUNDLE names others, and no wait without end."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket

import pytest
import trustme

from bot.entra import GRAPH_SCOPE, PARTNER_CENTER_SCOPE, AppCredentials, AppTokens, TokenRefused
from tests.utils.graph import CLIENT_ID, SECRET, TENANT_ID


def app_of(graph_site, **changes) -> AppCredentials:
    app = AppCredentials(graph_site.graph.authority_host, TENANT_ID, CLIENT_ID, SECRET)
    return dataclasses.replace(app, **changes)


@pytest.fixture
def tokens(graph_site):
    tokens = AppTokens(ca_file=graph_site.ca_bundle)
    yield tokens
    tokens.close()


async def test_one_token_is_handed_out_until_it_is_forgotten(tokens, graph_site):
    app = app_of(graph_site)

    first = await tokens.token(app, GRAPH_SCOPE)
    again = await tokens.token(app, GRAPH_SCOPE)
    await tokens.forget(app)
    renewed = await tokens.token(app, GRAPH_SCOPE)

    assert again == first and renewed != first
    assert len(graph_site.graph.entra.token_requests) == 2
    assert first in graph_site.graph.entra.tokens and renewed in graph_site.graph.entra.tokens


async def test_a_wrong_secret_is_refused_with_entras_code_and_first_line(tokens, graph_site):
    app = app_of(graph_site, secret="not-the-secret")

    with pytest.raises(TokenRefused) as refused:
        await tokens.token(app, GRAPH_SCOPE)

    assert refused.value.error == "invalid_client"
    assert refused.value.description.startswith("AADSTS7000215: Invalid client secret provided.")
    assert "Trace ID" not in refused.value.description  # Entra's second line
    assert "not-the-secret" not in f"{refused.value} {refused.value!r} {app!r}"


async def test_a_scope_of_another_api_is_refused(tokens, graph_site):
    with pytest.raises(TokenRefused) as refused:
        await tokens.token(app_of(graph_site), PARTNER_CENTER_SCOPE)

    assert refused.value.error == "invalid_scope"
    assert refused.value.description.startswith("AADSTS1002012: ")


async def test_the_ca_file_counts_even_when_requests_ca_bundle_names_another(
    tokens, graph_site, monkeypatch, tmp_path
):
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))

    assert await tokens.token(app_of(graph_site), GRAPH_SCOPE)


async def test_without_the_ca_file_the_local_certificate_is_not_trusted(graph_site):
    tokens = AppTokens()

    with pytest.raises(TokenRefused) as refused:
        await tokens.token(app_of(graph_site), GRAPH_SCOPE)
    tokens.close()

    assert refused.value.error == "unreachable"
    assert "CERTIFICATE_VERIFY_FAILED" in refused.value.description
    assert graph_site.graph.entra.token_requests == []


async def test_an_entra_nobody_answers_on_is_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tokens = AppTokens()

    with pytest.raises(TokenRefused) as refused:
        await tokens.token(
            AppCredentials(f"https://127.0.0.1:{port}", TENANT_ID, CLIENT_ID, SECRET), GRAPH_SCOPE
        )
    tokens.close()

    assert refused.value.error == "unreachable"


async def test_an_entra_that_never_answers_is_given_up_after_the_timeout():
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Never answers: the client gives up and closes first (a client without a timeout is
        # cut off after 20 s, which does not say "timed out").
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(), 20)
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tokens = AppTokens(timeout=0.5)
    app = AppCredentials(f"https://127.0.0.1:{port}", TENANT_ID, CLIENT_ID, SECRET)

    async with server:
        with pytest.raises(TokenRefused) as refused:
            await tokens.token(app, GRAPH_SCOPE)
    tokens.close()

    assert refused.value.error == "unreachable"
    assert "timed out" in refused.value.description


def test_app_credentials_never_print_their_secret():
    app = AppCredentials("https://login.microsoftonline.com", TENANT_ID, CLIENT_ID, SECRET)

    assert SECRET not in repr(app) and SECRET not in str(app)
    assert app.who == f"app {CLIENT_ID} in tenant {TENANT_ID}"


async def test_only_the_most_recently_used_apps_are_kept(graph_site):
    graph_site.graph.entra.consent(CLIENT_ID, "tenant-a-0001")
    graph_site.graph.entra.consent(CLIENT_ID, "tenant-b-0002")
    tokens = AppTokens(ca_file=graph_site.ca_bundle, most=2)
    tenants = (TENANT_ID, "tenant-a-0001", "tenant-b-0002")
    home, a, b = (app_of(graph_site, tenant=tenant) for tenant in tenants)

    await tokens.token(home, GRAPH_SCOPE)
    await tokens.token(a, GRAPH_SCOPE)
    await tokens.token(home, GRAPH_SCOPE)  # used again: a is now the oldest
    await tokens.token(b, GRAPH_SCOPE)  # a third app: a goes, with its token
    await tokens.token(home, GRAPH_SCOPE)
    await tokens.token(a, GRAPH_SCOPE)
    tokens.close()

    asked = [request["tenant"] for request in graph_site.graph.entra.token_requests]
    assert asked == [TENANT_ID, "tenant-a-0001", "tenant-b-0002", "tenant-a-0001"]
