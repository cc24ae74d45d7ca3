"""The incident feed poll: the real scheduler reads a local Microsoft Graph, signed in to a local
Entra, into alerts; a Graph-style list of one's own with a fixed token still works; a feed that is
down or answers garbage is logged and never stops the bot."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from aiohttp import web
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from pydantic import SecretStr
from sqlmodel import select

from bot.scheduler import build_scheduler, jobs_for, run_job
from bot.zones import utc_now
from storage.models import Incident, OutboxMessage
from tests.utils.e2e import e2e_settings, start_server
from tests.utils.graph import issue_changed_at, published_issues
from tests.utils.incidents import count, incident, posts_to, text_of, two_partners


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


def graph_time(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def test_the_scheduler_reads_microsoft_graph_into_alerts_and_then_only_what_changed(
    bot, sessions, database_url, graph_site
):
    a, b, c = await two_partners(sessions)
    graph = graph_site.graph
    graph.page_size = 2  # Microsoft's four published issues and the open one: three pages
    hour_ago = utc_now() - timedelta(hours=1)
    open_issue = issue_changed_at(
        graph_time(hour_ago), id="EX990001", startDateTime=graph_time(hour_ago)
    )
    graph.put(*published_issues(), open_issue)
    bot.services.settings = e2e_settings(database_url, bot.local_slack, **graph_site.settings())
    slack = bot.local_slack

    scheduler = build_scheduler(bot.services)  # every job runs once at start, the poll too
    ran, all_ran = set(), asyncio.Event()

    def finished(event) -> None:
        ran.add(event.job_id)
        if len(ran) == len(scheduler.get_jobs()):
            all_ran.set()

    scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        await asyncio.wait_for(all_ran.wait(), 10)
    finally:
        scheduler.shutdown(wait=False)
    await slack.wait_for(lambda: len(posts_to(slack, b.alert_channel)) == 2)

    assert [len(request["ids"]) for request in graph.issue_requests] == [2, 2, 1]
    assert len(graph.entra.token_requests) == 1
    # The published issues are history (resolved, or last changed in 2020-2022): recorded, and
    # nobody alerted; the open Exchange Online issue alerts the partners with Exchange customers.
    assert await count(sessions, Incident) == 5
    assert "Exchange Online" in text_of(posts_to(slack, a.alert_channel)[0])
    assert posts_to(slack, c.alert_channel) == []

    now = graph_time(utc_now())
    restored = {"status": "serviceRestored", "isResolved": True, "endDateTime": now}
    graph.put({**open_issue, **restored, "lastModifiedDateTime": now})
    (poll,) = [job for job in jobs_for(bot.services) if job.id == "poll-incident-feed"]
    assert await run_job(poll, bot.services) == 1

    last = graph.issue_requests[-1]
    assert last["query"]["$filter"].startswith("lastModifiedDateTime ge ")
    assert last["ids"] == ["EX990001"]
    assert len(graph.entra.token_requests) == 1  # the same token, an hour's worth
    async with sessions() as session:
        stored = (
            await session.exec(select(Incident).where(Incident.external_id == "EX990001"))
        ).one()
        queued = (await session.exec(select(OutboxMessage))).all()
    assert stored.is_resolved and stored.version == 2
    # Each alerted partner's root is edited to say so.
    edits = {row.idempotency_key for row in queued if row.idempotency_key.endswith(":edit:2")}
    assert edits == {f"incident:{stored.id}:partner:{p.id}:root:edit:2" for p in (a, b)}
