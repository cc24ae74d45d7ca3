"""Outage intake without Slack or a database: Graph-style bodies, signatures, status words."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from bot.catalogue import BUILT_IN, EXCHANGE
from bot.outages.intake import BadIncident, parse_incident, status_words


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
