"""Outage rules without Slack or a database: plans hit, availability and credits, durations,
intake parsing, the /outage arguments and the apology templates."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.catalogue import BUILT_IN, EXCHANGE, SHAREPOINT
from bot.outages import apology
from bot.outages.commands import Declare, Resolve, Usage, parse_outage_command
from bot.outages.intake import BadIncident, parse_incident, signature_valid, status_words
from bot.outages.rules import (
    availability,
    credit_for,
    credit_rate,
    downtime,
    duration_words,
    format_availability,
    month_of,
    plans_with,
    service_share,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_plans_with_a_service_are_the_suite_and_the_single_service_plan():
    assert plans_with(EXCHANGE, BUILT_IN) == ["BPOS-S", "EXO"]
    assert plans_with(SHAREPOINT, BUILT_IN) == ["BPOS-S", "SPO"]


def test_a_suites_fee_is_split_by_the_services_own_list_prices():
    suite = BUILT_IN.get("BPOS-S")
    # EXO 5.00, SPO 5.25, OCO 2.00, OLM 4.50: 16.75 in all.
    assert service_share(suite, EXCHANGE, BUILT_IN) == Decimal("5.00") / Decimal("16.75")
    assert service_share(BUILT_IN.get("EXO"), EXCHANGE, BUILT_IN) == 1
    assert service_share(BUILT_IN.get("EXO"), SHAREPOINT, BUILT_IN) == 0
    shares = sum(service_share(suite, s, BUILT_IN) for s in suite.services)
    assert abs(shares - 1) < Decimal("1e-20")


def test_overlapping_incidents_count_once_and_are_clipped_to_the_month():
    month = (at("2026-11-01T00:00:00"), at("2026-12-01T00:00:00"))
    intervals = [
        (at("2026-11-10T08:00:00"), at("2026-11-10T10:00:00")),
        (at("2026-11-10T09:00:00"), at("2026-11-10T11:00:00")),  # overlaps: 08:00-11:00 = 3 h
        (at("2026-11-20T00:00:00"), at("2026-11-20T00:30:00")),  # 30 min
        (at("2026-10-31T23:00:00"), at("2026-11-01T01:00:00")),  # 1 h inside November
        (at("2026-12-01T00:00:00"), at("2026-12-01T05:00:00")),  # December: none
    ]
    assert downtime(intervals, *month) == timedelta(hours=4, minutes=30)
    assert downtime([], *month) == timedelta(0)


def test_credit_steps_at_their_boundaries():
    assert credit_rate(Decimal("1")) == 0
    assert credit_rate(Decimal("0.999")) == 0  # exactly the SLA: no credit
    assert credit_rate(Decimal("0.99899")) == Decimal("0.25")
    assert credit_rate(Decimal("0.99")) == Decimal("0.25")
    assert credit_rate(Decimal("0.98999")) == Decimal("0.50")
    assert credit_rate(Decimal("0.95")) == Decimal("0.50")
    assert credit_rate(Decimal("0.9499")) == Decimal("1.00")


def test_a_30_day_month_with_44_minutes_down_keeps_the_sla_and_45_do_not():
    month = (at("2026-11-01T00:00:00"), at("2026-12-01T00:00:00"))  # 43,200 minutes
    start = at("2026-11-05T00:00:00")
    ok = credit_for(
        intervals=[(start, start + timedelta(minutes=43))], month=month, fee=Decimal("100")
    )
    # 43.2 minutes is exactly 0.1% of the month: 43 minutes down keeps 99.9%.
    assert ok.amount == 0 and ok.available > Decimal("0.999")
    hit = credit_for(
        intervals=[(start, start + timedelta(minutes=44))], month=month, fee=Decimal("100")
    )
    assert hit.rate == Decimal("0.25") and hit.amount == Decimal("25.00")


def test_the_month_is_the_readers_calendar_month_across_dst():
    # 31 Oct 2026 23:30 UTC is already 1 Nov 00:30 in Berlin.
    start, end = month_of(at("2026-10-31T23:30:00"), "Europe/Berlin")
    assert (start, end) == (at("2026-10-31T23:00:00"), at("2026-11-30T23:00:00"))
    # October 2026 in Berlin lasts 745 hours: summer time ends on the 25th.
    october = month_of(at("2026-10-10T08:00:00"), "Europe/Berlin")
    assert october[1] - october[0] == timedelta(hours=745)
    assert month_of(at("2026-10-10T08:00:00"), "UTC")[1] - month_of(
        at("2026-10-10T08:00:00"), "UTC"
    )[0] == timedelta(days=31)


def test_availability_is_shown_rounded_down():
    month = (at("2026-11-01T00:00:00"), at("2026-12-01T00:00:00"))
    available = availability(timedelta(minutes=44), *month)
    # 1 - 44/43200 = 0.998981…: shown as 99.898%, never rounded up to 99.899% or 99.9%.
    assert format_availability(available) == "99.898%"


def test_durations_in_words():
    start = at("2026-11-01T08:00:00")
    assert duration_words(start, start + timedelta(minutes=45)) == "45 min"
    assert duration_words(start, start + timedelta(hours=2, minutes=5)) == "2 h 05 min"
    assert duration_words(start, start + timedelta(days=3, hours=4)) == "3 d 4 h"


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


def test_signature_is_checked_over_the_raw_body():
    import hashlib
    import hmac

    raw = b'{"id": "EX1"}'
    good = "sha256=" + hmac.new(b"key", raw, hashlib.sha256).hexdigest()
    assert signature_valid("key", raw, good)
    assert not signature_valid("key", raw + b" ", good)
    assert not signature_valid("other", raw, good)
    assert not signature_valid("key", raw, good.removeprefix("sha256="))


def test_status_words_are_plain():
    assert status_words("serviceDegradation") == "degraded"
    assert status_words("restoringService") == "restoring service"


def test_outage_command_arguments():
    assert parse_outage_command("declare Exchange Online Europe — Mail delayed", BUILT_IN) == (
        Declare(EXCHANGE, "Europe", "Mail delayed")
    )
    assert parse_outage_command("declare office live meeting -- Calls drop", BUILT_IN) == (
        Declare("Office Live Meeting", None, "Calls drop")
    )
    assert parse_outage_command("resolve #12", BUILT_IN) == Resolve(12)
    problem = parse_outage_command("declare <!channel> — x", BUILT_IN)
    assert isinstance(problem, Usage) and "&lt;!channel&gt;" in problem.problem
    assert (
        "Middle East &amp; Africa"
        in parse_outage_command("declare Exchange Online Moon — x", BUILT_IN).problem
    )


def test_shipped_templates_render_and_escape_values_for_slack():
    context = apology.sample_context()
    context["customer"] = {**context["customer"], "name": "<!channel> & Co"}
    text = apology.render(apology.shipped("apology"), context).text
    assert "&lt;!channel&gt; &amp; Co" in text and "<!channel>" not in text
    assert "Northwind Cloud Partners" in text and "We are sorry" in text
    closing = apology.render(apology.shipped("closing"), context).text
    assert "$12.50" in closing and "99.687%" in closing
    without_credit = apology.render(apology.shipped("closing"), {**context, "credit": None}).text
    assert "service credit" not in without_credit


def test_a_partner_template_that_does_not_render_is_refused_with_the_reason():
    assert apology.check_template("Hi {{ customer.name }}") == ""
    assert "has no attribute 'nmae'" in apology.check_template("Hi {{ customer.nmae.first }}")
    assert "line 1" in apology.check_template("Hi {% if %}")
    assert "unsafe" in apology.check_template("{{ customer.__class__.__mro__ }}")
    assert apology.check_template("   ") == "the template is empty"
    assert "longer than" in apology.check_template("x" * 3001)
    # A closing text must also render when no credit is owed.
    assert apology.check_template("{{ credit.amount }}") != ""
