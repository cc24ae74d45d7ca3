"""An incident through the real server for a partner connected to Partner Center: the alert is
posted at once, then edited in Slack once the ten customers' own service health (a local Graph
answering per tenant) has confirmed it in three of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.app import build_services, create_app
from tests.utils.e2e import Bot, SlackClient, e2e_settings, start_server
from tests.utils.graph import issue_changed_at
from tests.utils.incidents import posts_to, send, text_of
from tests.utils.tenants import connected_partner, ten_tenants, tenant_check_settings


@pytest.fixture
async def checking_bot(sessions, engine, database_url, local_slack, graph_site) -> AsyncIterator:
    settings = e2e_settings(database_url, local_slack, **tenant_check_settings(graph_site))
    services = build_services(settings, engine=engine)
    runner, url = await start_server(await create_app(settings, services=services))
    async with aiohttp.ClientSession() as http:
        yield Bot(url, SlackClient(url, local_slack, http), local_slack, services, http)
    await runner.cleanup()


async def test_an_alert_is_edited_with_the_three_confirmed_customers(
    checking_bot, sessions, graph_site
):
    now = datetime.now(UTC)
    issue = issue_changed_at(
        (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        id="EX900001",
        startDateTime=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    ten_tenants(graph_site.graph, issue)
    partner = await connected_partner(sessions, checking_bot.services.settings)
    slack = checking_bot.local_slack

    status, answer = await send(checking_bot, issue)

    assert status == 201 and answer["partnersNotified"] == 1
    await slack.wait_for(
        lambda: any("Confirmed in their own" in text_of(c) for c in slack.calls_to("chat.update"))
    )
    [root, *_] = posts_to(slack, partner.alert_channel)
    assert "10 customers" in text_of(root) and "who may be affected" in text_of(root)
    [edit] = [c for c in slack.calls_to("chat.update") if "Confirmed in their own" in text_of(c)]
    assert edit.params["channel"] == partner.alert_channel
    text = text_of(edit)
    # Customers 1-3: 10 + 20 + 30 seats at $5.00.
    assert "Confirmed in their own service health:* 3 customers · 60 seats · $300.00" in text
    assert "(not affected, says Microsoft): 5 customers" in text
    assert "*Unknown*, may be affected: 2 customers" in text
    assert len(graph_site.graph.tenant_requests) == 9  # tenant 9 gave the app no token
