"""Outage intake without Slack or a database: Graph-style bodies, signatures, status words."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from bot.catalogue import BUILT_IN, EXCHANGE
from bot.outages.intake import STATUS_WORDS, BadIncident, parse_incident, status_words


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def body(**fields) -> bytes:
    base = {"id": "EX1", "service": "exchange online", "startDateTime": "2026-11-01T08:00:00Z"}
    return json.dumps({**base, **fields}).encode()


def test_intake_reads_graph_fields_and_defaults():
    incoming = parse_incident(
        body(
            regions=["europe", "Europe"],
            posts=[{"description": {"content": "first"}}, {"description": {"content": " second "}}],
        ),
        BUILT_IN,
    )
    assert incoming.service == EXCHANGE  # the catalogue's spelling
    assert incoming.regions == ("Europe",)
    assert incoming.classification == "incident" and incoming.status == "investigating"
    assert incoming.posts == ("first", "second") and incoming.end_at is None
    assert incoming.start_at == at("2026-11-01T08:00:00")
    resolved = parse_incident(body(status="serviceRestored"), BUILT_IN)
    assert resolved.is_resolved  # a resolving status resolves even without isResolved
    assert parse_incident(body(), BUILT_IN).body_hash == parse_incident(body(), BUILT_IN).body_hash
    assert (
        parse_incident(body(title="x"), BUILT_IN).body_hash
        != parse_incident(body(), BUILT_IN).body_hash
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\xff", "not valid JSON"),
        (body(id=""), "`id` must not be empty"),
        (body(id=7), "`id` must be a string"),
        (body(classification="rumour"), "`classification` must be incident or advisory"),
        (body(startDateTime=None), "`startDateTime` must be an ISO 8601 date"),
        (body(regions="Europe"), "`regions` must be a list"),
        (body(posts=[1]), "`posts[0]` must be an object"),
    ],
)
def test_intake_names_the_problem(raw, problem):
    with pytest.raises(BadIncident, match=re.escape(problem)):
        parse_incident(raw, BUILT_IN)


def test_status_words_are_plain():
    assert status_words("serviceDegradation") == "degraded"
    assert status_words("restoringService") == "restoring service"


def test_enums_in_either_spelling_and_unknown_future_values_are_understood():
    for status in STATUS_WORDS:
        for spelling in (status, status.upper(), status[0].upper() + status[1:]):
            assert parse_incident(body(status=spelling), BUILT_IN).status == status
    documented = parse_incident(body(status="ServiceRestored", classification="Advisory"), BUILT_IN)
    assert documented.classification == "advisory" and documented.is_resolved
    future = parse_incident(
        body(status="unknownFutureValue", classification="unknownFutureValue"), BUILT_IN
    )
    assert future.status == "unknownFutureValue" and future.classification == "unknown"
    assert status_words(future.status) == "status not known to partnerbot"
    assert not future.is_resolved
    assert parse_incident(body(status="mitigated"), BUILT_IN).is_resolved is False
    assert parse_incident(body(status="extendedRecovery"), BUILT_IN).is_resolved is False
    assert parse_incident(body(isResolved=None), BUILT_IN).is_resolved is False


def test_posts_are_read_as_text_and_the_last_modified_time_is_kept():
    incoming = parse_incident(
        body(
            lastModifiedDateTime="2020-11-14T11:06:53.353Z",
            posts=[
                {"description": {"contentType": "html", "content": "<p>Title: A &amp; B</p>\\\n"}},
                {"description": {"contentType": "Text", "content": "Plain <b>\\\nnext"}},
            ],
        ),
        BUILT_IN,
    )
    assert incoming.posts == ("Title: A & B", "Plain <b>\nnext")
    assert incoming.last_modified == datetime(2020, 11, 14, 11, 6, 53, 353000, tzinfo=UTC)


def test_a_service_no_plan_includes_keeps_graphs_name():
    assert parse_incident(body(service="Microsoft Teams"), BUILT_IN).service == "Microsoft Teams"


def test_the_states_between_open_and_closed_read_as_people_expect():
    assert status_words("mitigated") == "mitigated: impact relieved, not yet resolved"
    assert status_words("extendedRecovery").startswith("extended recovery: restored for most")
    assert status_words("investigationSuspended").endswith("Microsoft needs more information")
    assert status_words("falsePositive") == "closed: no impact (false positive)"
    assert status_words("postIncidentReviewPublished").startswith("resolved")
    assert status_words("reported") == "reported, not yet confirmed"
