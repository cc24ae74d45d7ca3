"""The incident feed against a local Microsoft Graph and Entra: every page read, only what changed
asked for after the first poll, 429/503 waited out as Retry-After says, tokens fetched once and
renewed when they run out or Graph refuses them, and a refused sign-in logged with nothing read."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import trustme
from sqlmodel import select

from bot.outages.feed import poll_feed
from bot.outages.intake import RESOLVED_STATUSES, STATUS_WORDS
from bot.settings import load_settings
from devtools.local_entra import thumbprint_of
from storage.models import Incident, IncidentFeedMark
from tests.utils.graph import CLIENT_ID, TENANT_ID, Sleeps, issue_changed_at, published_issues

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def feed(services, sessions, graph_site, database_url):
    """The bot's services with a feed that signs in to the local Entra with its secret."""

    def configure(**overrides):
        services.settings = load_settings(
            database_url=database_url, secret_key="x" * 20, **graph_site.settings(**overrides)
        )
        return services

    configure()
    services.clock = lambda: NOW
    services.sleep = Sleeps()
    services.configure = configure
    return services


async def stored(sessions) -> dict[str, Incident]:
    async with sessions() as session:
        return {i.external_id: i for i in (await session.exec(select(Incident))).all()}


def five_issues() -> list[dict]:
    return [issue_changed_at(f"2026-11-20T11:0{n}:00Z", id=f"EX90000{n}") for n in range(5)]


# Pages


async def test_every_page_is_read(feed, sessions, graph_site):
    graph_site.graph.page_size = 2
    graph_site.graph.put(*five_issues())

    assert await poll_feed(feed) == 5

    assert sorted(await stored(sessions)) == [f"EX90000{n}" for n in range(5)]
    skips = [request["query"].get("$skip") for request in graph_site.graph.issue_requests]
    assert skips == [None, "2", "4"]


async def test_microsofts_published_issues_come_in_through_the_feed(feed, sessions, graph_site):
    graph_site.graph.put(*published_issues())

    # All four are over (resolved, or last changed in 2020-2022): recorded, nobody alerted.
    assert await poll_feed(feed) == 4

    incidents = await stored(sessions)
    assert sorted(incidents) == ["CR384241", "EX226792", "EX415080", "MO226784"]
    assert incidents["MO226784"].service == "Microsoft 365 suite"


async def test_every_documented_status_in_both_spellings_comes_in_through_the_feed(
    feed, sessions, graph_site
):
    issues = []
    for number, status in enumerate(STATUS_WORDS):
        for spelling in (status, status[0].upper() + status[1:]):
            issues.append(
                issue_changed_at("2026-11-20T11:00:00Z", id=f"EX8{number:02d}{spelling[0]}",
                                 status=spelling)
            )  # fmt: skip
    graph_site.graph.put(*issues)

    assert await poll_feed(feed) == len(issues)

    incidents = await stored(sessions)
    for issue in issues:
        incident = incidents[issue["id"]]
        assert incident.status == issue["status"][0].lower() + issue["status"][1:]
        assert incident.is_resolved == (incident.status in RESOLVED_STATUSES), issue["status"]


# Only what changed


async def test_the_second_poll_asks_only_for_what_changed_since_the_newest_issue_read(
    feed, sessions, graph_site
):
    graph = graph_site.graph
    graph.put(
        *(issue_changed_at(f"2026-11-20T{h}:00:00Z", id=f"EX{h}") for h in ("08", "09", "11"))
    )
    assert await poll_feed(feed) == 3
    graph.put(issue_changed_at("2026-11-20T11:30:00Z", id="EX09", status="serviceRestored"))

    assert await poll_feed(feed) == 1

    first, second = graph.issue_requests
    assert "$filter" not in first["query"] and first["ids"] == ["EX08", "EX09", "EX11"]
    # The newest read was last changed at 11:00; less the 15-minute overlap.
    assert second["query"]["$filter"] == "lastModifiedDateTime ge 2026-11-20T10:45:00Z"
    assert second["ids"] == ["EX09", "EX11"]  # EX08 did not change
    assert (await stored(sessions))["EX09"].status == "serviceRestored"
    async with sessions() as session:
        (mark,) = (await session.exec(select(IncidentFeedMark))).all()
    assert mark.last_modified_at == datetime(2026, 11, 20, 11, 30, tzinfo=UTC)


async def test_an_issue_changed_in_the_overlap_is_not_lost(feed, sessions, graph_site):
    graph = graph_site.graph
    graph.put(issue_changed_at("2026-11-20T11:00:00Z", id="EX1"))
    assert await poll_feed(feed) == 1
    # Graph lists late a change made at 10:50, before the newest issue the first poll read.
    graph.put(issue_changed_at("2026-11-20T10:50:00Z", id="EX2"))

    assert await poll_feed(feed) == 1

    assert sorted(await stored(sessions)) == ["EX1", "EX2"]


async def test_a_poll_that_fails_half_way_does_not_move_the_mark(feed, sessions, graph_site):
    graph = graph_site.graph
    graph.page_size = 2
    graph.put(*five_issues())
    graph.refuse_next(1, status=503, retry_after=None)  # page 1 waits 5 s, then reads
    assert await poll_feed(feed) == 5
    graph.put(issue_changed_at("2026-11-20T11:40:00Z", id="EX900001", status="serviceRestored"))
    graph.refuse_next(1, retry_after=600, after=1)  # page 1 read, page 2 refused

    assert await poll_feed(feed) == 0
    assert [r["ids"] for r in graph.issue_requests[-2:]] == [["EX900000", "EX900001"], []]

    async with sessions() as session:
        (mark,) = (await session.exec(select(IncidentFeedMark))).all()
    assert mark.last_modified_at == datetime(2026, 11, 20, 11, 4, tzinfo=UTC)


# Throttling


async def test_429_is_waited_out_for_its_retry_after_and_the_poll_goes_on(
    feed, sessions, graph_site
):
    graph_site.graph.put(*five_issues())
    graph_site.graph.refuse_next(2, retry_after=7)

    assert await poll_feed(feed) == 5

    assert feed.sleep.waits == [7.0, 7.0]
    assert len(graph_site.graph.issue_requests) == 3


async def test_503_without_retry_after_backs_off_doubling(feed, graph_site):
    graph_site.graph.refuse_next(3, status=503, retry_after=None)

    assert await poll_feed(feed) == 0  # an empty list, read at the fourth try

    assert feed.sleep.waits == [5.0, 10.0, 20.0]
    assert len(graph_site.graph.issue_requests) == 4


async def test_a_long_retry_after_gives_the_poll_up_and_no_request_is_made_before_it(
    feed, sessions, graph_site, caplog
):
    graph = graph_site.graph
    graph.put(*five_issues())
    graph.refuse_next(1, retry_after=120)

    assert await poll_feed(feed) == 0
    assert feed.sleep.waits == []
    assert "throttled (HTTP 429 at try 1 of 4; Graph asks to wait 120 s)" in caplog.text

    feed.clock = lambda: NOW + timedelta(seconds=119)
    assert await poll_feed(feed) == 0
    assert len(graph.issue_requests) == 1  # not asked again before its time

    feed.clock = lambda: NOW + timedelta(seconds=120)
    assert await poll_feed(feed) == 5
    assert len(graph.issue_requests) == 2


async def test_a_feed_that_keeps_throttling_is_asked_four_times_then_left(
    feed, sessions, graph_site
):
    graph_site.graph.put(*five_issues())
    graph_site.graph.refuse_next(10, retry_after=1)

    assert await poll_feed(feed) == 0

    assert feed.sleep.waits == [1.0, 1.0, 1.0]
    assert len(graph_site.graph.issue_requests) == 4
    assert await stored(sessions) == {}


# Tokens


async def test_the_token_is_fetched_once_and_reused(feed, graph_site):
    assert await poll_feed(feed) == 0
    assert await poll_feed(feed) == 0

    assert len(graph_site.graph.entra.token_requests) == 1
    first, second = (r["authorization"] for r in graph_site.graph.issue_requests)
    assert first == second and first.startswith("Bearer ")


async def test_a_token_about_to_expire_is_renewed(feed, graph_site):
    graph_site.graph.entra.token_lifetime = 240  # MSAL renews tokens with under 5 minutes left

    await poll_feed(feed)
    await poll_feed(feed)

    assert len(graph_site.graph.entra.token_requests) == 2
    first, second = (r["authorization"] for r in graph_site.graph.issue_requests)
    assert first != second


async def test_a_token_graph_refuses_is_dropped_and_a_new_one_asked_for_once(
    feed, sessions, graph_site
):
    graph = graph_site.graph
    assert await poll_feed(feed) == 0
    graph.entra.revoke_tokens()
    graph.put(*five_issues())

    assert await poll_feed(feed) == 5

    assert len(graph.entra.token_requests) == 2
    statuses = [r["authorization"] for r in graph.issue_requests]
    assert len(statuses) == 3 and statuses[1] != statuses[2]


async def test_a_second_401_gives_the_poll_up(feed, sessions, graph_site, caplog):
    graph = graph_site.graph
    graph.entra.token_lifetime = 0  # every token handed out has already expired
    graph.put(*five_issues())

    assert await poll_feed(feed) == 0

    assert len(graph.entra.token_requests) == 2
    assert len(graph.issue_requests) == 2
    assert "HTTP 401: InvalidAuthenticationToken: Lifetime validation failed" in caplog.text
    assert await stored(sessions) == {}


# Sign-in refused


async def test_a_wrong_secret_is_logged_clearly_and_nothing_is_read(
    feed, sessions, graph_site, caplog
):
    feed.configure(incident_feed_client_secret="not-the-secret")
    graph_site.graph.put(*five_issues())

    with caplog.at_level(logging.ERROR):
        assert await poll_feed(feed) == 0

    assert "sign-in failed, nothing read" in caplog.text
    assert "invalid_client: AADSTS7000215: Invalid client secret provided" in caplog.text
    assert "not-the-secret" not in caplog.text
    assert graph_site.graph.issue_requests == []
    assert await stored(sessions) == {}


async def test_an_unknown_tenant_is_logged_clearly(feed, graph_site, caplog):
    feed.configure(incident_feed_tenant_id="fabrikam.onmicrosoft.com")

    assert await poll_feed(feed) == 0

    assert (
        "in tenant fabrikam.onmicrosoft.com: Unable to get authority configuration" in caplog.text
    )
    assert graph_site.graph.issue_requests == []


async def test_an_app_without_service_health_permission_is_refused_by_graph(
    feed, graph_site, caplog
):
    graph_site.graph.entra.apps[CLIENT_ID].roles = set()

    assert await poll_feed(feed) == 0

    assert "HTTP 403: UnknownError: Missing role permissions" in caplog.text
    assert "ServiceHealth.Read.All" in caplog.text


# Certificates


def certificate_files(tmp_path, name: str):
    authority = trustme.CA(key_type=trustme.KeyType.RSA)
    issued = authority.issue_cert(f"{name}.partnerbot.test", key_type=trustme.KeyType.RSA)
    key = tmp_path / f"{name}.key.pem"
    issued.private_key_pem.write_to_path(str(key))
    return key, issued.cert_chain_pems[0].bytes()


def sign_in_with_certificate(feed, key, certificate: bytes) -> None:
    """The feed signs in with this key and the thumbprint of its certificate, no secret."""
    feed.configure(
        incident_feed_client_secret=None,
        incident_feed_certificate=key,
        incident_feed_certificate_thumbprint=thumbprint_of(certificate),
    )


async def test_the_app_signs_in_with_a_certificate(feed, sessions, graph_site, tmp_path):
    key, certificate = certificate_files(tmp_path, "feed")
    graph_site.graph.entra.register(TENANT_ID, CLIENT_ID, certificate_pem=certificate)
    sign_in_with_certificate(feed, key, certificate)
    graph_site.graph.put(*five_issues())

    assert await poll_feed(feed) == 5

    (request,) = graph_site.graph.entra.token_requests
    assert "client_secret" not in request
    assert request["client_assertion_type"] == (
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )


async def test_a_certificate_not_registered_on_the_app_is_refused(
    feed, graph_site, tmp_path, caplog
):
    _, registered = certificate_files(tmp_path, "registered")
    other_key, other = certificate_files(tmp_path, "other")
    graph_site.graph.entra.register(TENANT_ID, CLIENT_ID, certificate_pem=registered)
    sign_in_with_certificate(feed, other_key, other)

    assert await poll_feed(feed) == 0

    assert "AADSTS700027: The certificate with identifier used to sign" in caplog.text
    assert graph_site.graph.issue_requests == []
