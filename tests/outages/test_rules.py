"""Outage rules without Slack or a database: plans hit, availability and credits, durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.catalogue import BUILT_IN, EXCHANGE, SHAREPOINT
from bot.outages.rules import (
    availability,
    credit_for,
    credit_rate,
    customer_minutes,
    downtime,
    duration_words,
    format_availability,
    month_of,
    plans_with,
    service_share,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


TODAYS_PLANS = ["M365-BB", "M365-BS", "M365-BP", "O365-E3", "M365-E3", "M365-E5"]


def test_plans_with_a_service_are_the_suites_and_the_single_service_plans():
    assert plans_with(EXCHANGE, BUILT_IN) == ["BPOS-S", "EXO", "EXO-P1", *TODAYS_PLANS]
    assert plans_with(SHAREPOINT, BUILT_IN) == ["BPOS-S", "SPO", *TODAYS_PLANS]
    assert plans_with("Microsoft Intune", BUILT_IN) == ["M365-BP", "M365-E3", "M365-E5"]
    assert plans_with("Power BI", BUILT_IN) == ["M365-E5"]


def test_graph_names_reach_the_older_services_under_their_names_of_today():
    # Office Communications Online became Teams (and Skype for Business); Live Meeting's meetings
    # are Teams meetings.
    assert plans_with("Microsoft Teams", BUILT_IN) == ["BPOS-S", "OCO", "OLM", *TODAYS_PLANS]
    assert plans_with("Skype for Business", BUILT_IN) == ["BPOS-S", "OCO"]
    assert plans_with("microsoft TEAMS", BUILT_IN) == plans_with("Microsoft Teams", BUILT_IN)
    assert BUILT_IN.spelling_of("onedrive FOR business") == "OneDrive for Business"
    assert BUILT_IN.spelling_of("skype for business") == "Skype for Business"


def test_a_microsoft_365_suite_issue_touches_every_plan_and_all_of_its_fee():
    every = ["BPOS-S", "EXO", "SPO", "OCO", "OLM", "EXO-P1", *TODAYS_PLANS]
    assert plans_with("Microsoft 365 suite", BUILT_IN) == every
    for code in every:
        assert service_share(BUILT_IN.get(code), "Microsoft 365 SUITE", BUILT_IN) == 1


def test_a_service_no_plan_includes_touches_nothing():
    assert plans_with("Dynamics 365 Apps", BUILT_IN) == []
    assert BUILT_IN.spelling_of("Dynamics 365 Apps") == "Dynamics 365 Apps"
    assert service_share(BUILT_IN.get("M365-E5"), "Dynamics 365 Apps", BUILT_IN) == 0


def test_a_suites_fee_is_split_by_the_services_own_list_prices():
    suite = BUILT_IN.get("BPOS-S")
    # EXO 5.00, SPO 5.25, OCO 2.00, OLM 4.50: 16.75 in all.
    assert service_share(suite, EXCHANGE, BUILT_IN) == Decimal("5.00") / Decimal("16.75")
    assert service_share(BUILT_IN.get("EXO"), EXCHANGE, BUILT_IN) == 1
    assert service_share(BUILT_IN.get("EXO"), SHAREPOINT, BUILT_IN) == 0
    shares = sum(service_share(suite, s, BUILT_IN) for s in suite.services)
    assert abs(shares - 1) < Decimal("1e-20")
    # A Teams issue touches both of BPOS-S's Teams-era services: OCO 2.00 + OLM 4.50 of 16.75.
    assert service_share(suite, "Microsoft Teams", BUILT_IN) == Decimal("6.50") / Decimal("16.75")


def test_a_plan_whose_services_have_no_plans_of_their_own_splits_its_fee_equally():
    # Business Basic: Exchange, SharePoint, OneDrive, Teams, Office for the web; only the first two
    # are sold alone, so each of the five is a fifth.
    basic = BUILT_IN.get("M365-BB")
    assert service_share(basic, "Microsoft Teams", BUILT_IN) == Decimal(1) / 5
    assert service_share(basic, EXCHANGE, BUILT_IN) == Decimal(1) / 5


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


def test_a_one_minute_outage_lasts_a_minute_and_a_shorter_one_its_seconds():
    # Issue 14: "after 0 min (from 12:04 to 12:05)".
    start = at("2026-11-01T12:04:00")
    assert duration_words(start, start + timedelta(minutes=1)) == "1 min"
    assert duration_words(start + timedelta(seconds=50), start + timedelta(seconds=70)) == "20 s"
    assert duration_words(start, start + timedelta(seconds=59)) == "59 s"
    # Minutes round half up: 89 s is 1 min, 90 s is 2 min, 2 h 4 min 30 s is 2 h 05 min.
    assert duration_words(start, start + timedelta(seconds=89)) == "1 min"
    assert duration_words(start, start + timedelta(seconds=90)) == "2 min"
    assert duration_words(start, start + timedelta(hours=2, minutes=4, seconds=30)) == "2 h 05 min"
    assert duration_words(start, start - timedelta(seconds=5)) == "0 s"


def test_customer_minutes_are_rounded_once_at_the_end():
    # 336 customers × 40 s = 13,440 customer-seconds = 224 customer-minutes (not 336 × 0).
    assert customer_minutes(336 * 40) == 224
    assert customer_minutes(29) == 0 and customer_minutes(30) == 1 and customer_minutes(90) == 2
