"""Summary rules: week windows in several zones and across DST, the schedule and when it is due,
and comparisons in words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.summaries.rules import (
    Schedule,
    ScheduleOff,
    change_words,
    conversion,
    due_week,
    median_hours,
    next_run,
    parse_schedule,
    schedule_from,
    week_of,
    week_starting,
    when_words,
)
from storage.models import SummarySchedule

MONDAY_9 = Schedule(0, 9 * 60)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_week_runs_monday_to_sunday_in_the_readers_zone():
    # Sunday 22 Nov 2026, 23:30 UTC: still Sunday in London, already Monday in Tokyo.
    moment = utc(2026, 11, 22, 23, 30)
    assert week_of(moment, "Europe/London").monday == date(2026, 11, 16)
    assert week_of(moment, "Asia/Tokyo").monday == date(2026, 11, 23)
    assert week_of(moment, "America/Los_Angeles").monday == date(2026, 11, 16)
    berlin = week_starting(date(2026, 11, 16), "Europe/Berlin")
    assert (berlin.start, berlin.end) == (utc(2026, 11, 15, 23), utc(2026, 11, 22, 23))


def test_dst_weeks_are_an_hour_longer_or_shorter():
    autumn = week_starting(date(2026, 10, 19), "Europe/Berlin")  # clocks go back on the 25th
    spring = week_starting(date(2026, 3, 23), "Europe/Berlin")  # forward on the 29th
    us_autumn = week_starting(date(2026, 10, 26), "America/New_York")  # back on 1 Nov
    assert autumn.end - autumn.start == timedelta(hours=169)
    assert spring.end - spring.start == timedelta(hours=167)
    assert us_autumn.end - us_autumn.start == timedelta(hours=169)
    assert autumn.previous().monday == date(2026, 10, 12)


def test_the_schedule_fires_at_local_time_across_a_dst_change():
    # 09:00 in Berlin is 07:00 UTC in summer time (UTC+2) and 08:00 UTC in winter (UTC+1).
    before = next_run(MONDAY_9, "Europe/Berlin", utc(2026, 10, 20))
    after = next_run(MONDAY_9, "Europe/Berlin", utc(2026, 10, 27))
    assert before == utc(2026, 10, 26, 8) and after == utc(2026, 11, 2, 8)
    summer = next_run(MONDAY_9, "Europe/Berlin", utc(2026, 10, 13))
    assert summer == utc(2026, 10, 19, 7)
    assert when_words(after, "Europe/Berlin") == "Mon 2 Nov, 09:00 Europe/Berlin"


def test_the_summary_is_due_for_24_hours_after_its_time_and_covers_the_week_before():
    fired = utc(2026, 11, 16, 8)  # Monday 09:00 in Berlin
    assert due_week(MONDAY_9, "Europe/Berlin", fired - timedelta(minutes=1)) is None or (
        due_week(MONDAY_9, "Europe/Berlin", fired - timedelta(minutes=1)).monday
        == date(2026, 11, 2)
    )
    assert due_week(MONDAY_9, "Europe/Berlin", fired).monday == date(2026, 11, 9)
    assert due_week(MONDAY_9, "Europe/Berlin", fired + timedelta(hours=24)).monday == (
        date(2026, 11, 9)
    )
    assert due_week(MONDAY_9, "Europe/Berlin", fired + timedelta(hours=24, seconds=1)) is None
    assert due_week(Schedule(0, 540, enabled=False), "Europe/Berlin", fired) is None
    friday = Schedule(4, 17 * 60 + 30)
    assert due_week(friday, "Europe/Berlin", utc(2026, 11, 20, 16, 31)).monday == (
        date(2026, 11, 9)
    )  # the last complete week, not the one still running


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("monday 09:00", Schedule(0, 540)),
        ("Fri 17:30", Schedule(4, 1050)),
        ("sunday 0:05", Schedule(6, 5)),
        ("wed 7.45", Schedule(2, 465)),
        ("off", ScheduleOff()),
    ],
)
def test_schedules_that_are_understood(text, expected):
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("mo 09:00", "is not a weekday"),
        ("t 09:00", "is not a weekday"),
        ("monday 24:00", "is not a time of day"),
        ("monday 9", "is not a time of day"),
        ("monday", "Type `/summary schedule"),
        ("", "Type `/summary schedule"),
    ],
)
def test_schedules_that_are_refused_say_why(text, problem):
    answer = parse_schedule(text)
    assert isinstance(answer, str) and problem in answer


def test_comparisons_in_words():
    assert change_words(Decimal("110.00"), Decimal("100.00"), money=True) == "▲ $10.00 (+10.0%)"
    assert change_words(3, 4) == "▼ 1 (−25.0%)"
    assert change_words(5, 5) == "= same as last week"
    assert change_words(2, 0) == "▲ 2 (none last week)"
    assert conversion(2, 3) == Decimal("66.7") and conversion(0, 0) is None
    assert median_hours([timedelta(hours=24), timedelta(hours=54)]) == Decimal("39.0")
    assert median_hours([]) is None


def test_a_partner_without_a_stored_schedule_gets_mondays_at_nine():
    assert schedule_from(None) == Schedule(0, 540, enabled=True)
    assert schedule_from(None).words() == "Mondays at 09:00"
    stored = SummarySchedule(partner_id=1, weekday=4, at_minutes=1050, enabled=False)
    assert schedule_from(stored) == Schedule(4, 1050, enabled=False)
