"""Summary rules and figures: week windows in several zones and across DST, the schedule and
when it is due, comparisons, and the SQL commission figures in and after the first year."""

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
    week_of,
    week_starting,
    when_words,
)
from storage import summaries as figures
from tests.utils.factories import make_customer, make_partner, make_subscription

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


async def test_commission_accrues_by_the_day_at_the_rate_of_its_year(sessions):
    partner = await make_partner(sessions)
    young = await make_customer(sessions, partner, name="Young")
    old = await make_customer(sessions, partner, name="Old")
    # 10 seats × $5.00 = $600.00 a year each.
    await make_subscription(
        sessions,
        young,
        seats=10,
        unit_price="5.00",
        start_date=date(2026, 8, 10),
        renewal_date=date(2027, 8, 10),
    )
    await make_subscription(
        sessions,
        old,
        seats=10,
        unit_price="5.00",
        start_date=date(2024, 1, 1),
        renewal_date=date(2027, 1, 1),
    )
    async with sessions() as session:
        result = await figures.commission_figures(
            session=session,
            partner_id=partner.id,
            week_start=date(2026, 11, 9),
            week_end=date(2026, 11, 16),
            rates=(Decimal("0.12"), Decimal("0.06")),
        )
    # This week, 7 days each: young in its first year 600 × 7/365 × 12% = $1.3808; old after it
    # 600 × 7/365 × 6% = $0.6904; together $2.07.
    assert result.earned_this_week == Decimal("2.07")
    # Next 365 days from 16 Nov: young is 98 days old, so 267 first-year days at 12% and 98 at
    # 6%: 600 × (267 × 0.12 + 98 × 0.06)/365 = $62.33; old all at 6%: $36.00. Together $98.33.
    assert result.expected_next_12_months == Decimal("98.33")
