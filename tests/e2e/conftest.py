"""End-to-end fixtures: the real aiohttp server on a loopback port, a local Slack-compatible Web API
server it talks to, and a client that signs requests exactly as Slack does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.app import build_services, create_app
from devtools.local_slack import LocalSlack
from tests.utils.e2e import Bot, SlackClient, e2e_settings, start_server
from tests.utils.partner_center import KEY


@pytest.fixture
async def local_slack() -> AsyncIterator[LocalSlack]:
    """The strict LocalSlack: every message and view the bot sends is checked as Slack checks
    it, and the bot is a member of no channel until it joins one (it joins the public channels
    it posts to; partners' channels are public). A test fails if anything was refused."""
    slack = await LocalSlack().start()
    yield slack
    await slack.stop()
    assert not slack.refused, slack.refusals()


@pytest.fixture
async def bot(sessions, engine, database_url, local_slack) -> AsyncIterator[Bot]:
    """The bot's real HTTP server on loopback, pointed at the local Slack server."""
    settings = e2e_settings(database_url, local_slack)
    services = build_services(settings, engine=engine)
    runner, url = await start_server(await create_app(settings, services=services))
    async with aiohttp.ClientSession() as http:
        yield Bot(url, SlackClient(url, local_slack, http), local_slack, services, http)
    await runner.cleanup()


@pytest.fixture
async def pc_bot(sessions, engine, database_url, local_slack, local_pc) -> AsyncIterator[Bot]:
    """The bot's real server with a local Partner Center (`bot.partner_center`) to connect to."""
    settings = e2e_settings(
        database_url, local_slack,
        partner_center_key=KEY, partner_center_authority=local_pc.url,
        partner_center_api_url=local_pc.url, partner_center_ca_file=local_pc.ca_file,
        partner_center_retry_budget=2,
    )  # fmt: skip
    services = build_services(settings, engine=engine)
    runner, url = await start_server(await create_app(settings, services=services))
    async with aiohttp.ClientSession() as http:
        bot = Bot(url, SlackClient(url, local_slack, http), local_slack, services, http)
        bot.partner_center = local_pc  # type: ignore[attr-defined]
        yield bot
    await runner.cleanup()
