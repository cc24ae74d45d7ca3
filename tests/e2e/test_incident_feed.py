"""The incident feed poll: a Graph-style list fetched over HTTP and fed through the intake; a feed
that is down or answers garbage is logged and never stops the bot."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from pydantic import SecretStr
from sqlmodel import select

from bot.scheduler import jobs_for, run_job
from storage.models import Incident
from tests.utils.e2e import start_server
from tests.utils.incidents import incident, posts_to, two_partners


class Feed:
    """A feed server whose answer the test sets."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b'{"value": []}'
        self.authorizations: list[str] = []

    async def serve(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization", ""))
        return web.Response(status=self.status, body=self.body, content_type="application/json")


@pytest.fixture
async def feed():
    served = Feed()
    app = web.Application()
    app.router.add_get("/issues", served.serve)
    runner, url = await start_server(app)
    served.url = url + "/issues"
    yield served
    await runner.cleanup()


async def test_the_feed_is_polled_into_alerts_and_bad_answers_are_survived(
    bot, sessions, feed, caplog
):
    a, _, _ = await two_partners(sessions)
    bot.services.settings = bot.services.settings.model_copy(
        update={"incident_feed_url": feed.url, "incident_feed_token": SecretStr("feed-token")}
    )
    (poll,) = [job for job in jobs_for(bot.services) if job.id == "poll-incident-feed"]
    feed.body = json.dumps({"value": [incident(), {"id": "EX9", "service": "Teams"}]}).encode()

    assert await run_job(poll, bot.services) == 1
    assert await run_job(poll, bot.services) == 0  # the same issue again changes nothing
    assert feed.authorizations[0] == "Bearer feed-token"
    # A service no plan includes is no reason to skip (it is stored, alerting nobody); an item
    # without its start time is.
    assert "incident feed item 1 skipped: `startDateTime` must be" in caplog.text
    slack = bot.local_slack
    await slack.wait_for(lambda: len(posts_to(slack, a.alert_channel)) == 2)

    for status, body in ((500, b"oops"), (200, b"<html>"), (200, b'{"items": []}')):
        feed.status, feed.body = status, body
        assert await run_job(poll, bot.services) == 0
    assert (
        "HTTP 500" in caplog.text and "not JSON" in caplog.text and 'no "value" list' in caplog.text
    )
    feed.status, feed.body = (
        200,
        json.dumps({"value": [incident(status="serviceRestored", isResolved=True)]}).encode(),
    )
    assert await run_job(poll, bot.services) == 1
    async with sessions() as session:
        (stored,) = (await session.exec(select(Incident))).all()
    assert stored.is_resolved and stored.version == 2


async def test_without_a_feed_url_there_is_no_poll_job(bot):
    assert "poll-incident-feed" not in {job.id for job in jobs_for(bot.services)}


async def test_a_service_no_plan_includes_is_stored_quietly_poll_after_poll(
    bot, sessions, feed, caplog
):
    await two_partners(sessions)
    bot.services.settings = bot.services.settings.model_copy(update={"incident_feed_url": feed.url})
    (poll,) = [job for job in jobs_for(bot.services) if job.id == "poll-incident-feed"]
    dynamics = incident(id="CR1", service="Dynamics 365 Apps", status="ServiceDegradation")
    feed.body = json.dumps({"value": [dynamics]}).encode()
    assert await run_job(poll, bot.services) == 1
    assert await run_job(poll, bot.services) == 0
    assert "skipped" not in caplog.text and "unknown service" not in caplog.text
    async with sessions() as session:
        (stored,) = (await session.exec(select(Incident))).all()
    assert stored.service == "Dynamics 365 Apps" and stored.status == "serviceDegradation"
    assert bot.local_slack.calls_to("chat.postMessage") == []
