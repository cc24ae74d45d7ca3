"""Calendar arithmetic: years, months and days between dates."""

from __future__ import annotations

from datetime import date

import pytest

from bot.zones import add_months, add_years, days_until, whole_months_between


def test_add_years_keeps_the_calendar_day():
    assert add_years(date(2024, 1, 15), 1) == date(2025, 1, 15)
    assert add_years(date(2024, 1, 15), 3) == date(2027, 1, 15)


def test_add_years_turns_29_february_into_28_february_in_a_common_year():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    # Four years on is a leap year again.
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 15), 1, date(2024, 2, 15)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year: February has 29 days
        (date(2023, 1, 31), 1, date(2023, 2, 28)),  # common year
        (date(2024, 1, 31), 3, date(2024, 4, 30)),  # April has 30 days
        (date(2024, 12, 15), 1, date(2025, 1, 15)),  # the year wraps
        (date(2024, 11, 30), 3, date(2025, 2, 28)),  # wraps into a short February
        (date(2024, 1, 15), 24, date(2026, 1, 15)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),  # backwards into a short month
        (date(2024, 1, 15), -1, date(2023, 12, 15)),  # backwards across the year
        (date(2024, 5, 20), 0, date(2024, 5, 20)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_last_day_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2024, 1, 15), date(2024, 2, 14), 0),  # one day short of a month
        (date(2024, 1, 15), date(2024, 2, 15), 1),  # same day next month
        (date(2024, 1, 31), date(2024, 2, 28), 0),  # 29 February is the month's end in 2024
        (date(2024, 1, 31), date(2024, 2, 29), 1),  # the last day of a shorter month counts
        (date(2023, 1, 31), date(2023, 2, 28), 1),  # 28 February ends the month in 2023
        (date(2024, 1, 31), date(2024, 3, 30), 1),  # March has a 31st: not two months yet
        (date(2024, 1, 31), date(2024, 3, 31), 2),
        (date(2024, 2, 29), date(2024, 3, 28), 0),
        (date(2024, 2, 29), date(2025, 2, 28), 12),  # the first anniversary of a leap day
        (date(2023, 12, 20), date(2024, 1, 19), 0),  # across the new year, a day short
        (date(2023, 12, 20), date(2025, 12, 20), 24),
        (date(2024, 5, 1), date(2024, 5, 1), 0),  # same day
        (date(2024, 5, 1), date(2024, 3, 1), 0),  # end before start
    ],
)
def test_whole_months_between_counts_completed_months_only(start, end, expected):
    assert whole_months_between(start, end) == expected


def test_days_until_counts_forwards_and_backwards():
    assert days_until(date(2024, 6, 20), date(2024, 6, 20)) == 0
    assert days_until(date(2024, 6, 21), date(2024, 6, 20)) == 1
    # 28 Feb → 29 Feb → 1 Mar in the leap year 2024; one day less in 2023.
    assert days_until(date(2024, 3, 1), date(2024, 2, 28)) == 2
    assert days_until(date(2023, 3, 1), date(2023, 2, 28)) == 1
    assert days_until(date(2024, 6, 17), date(2024, 6, 20)) == -3
    # A whole leap year: 366 days.
    assert days_until(date(2025, 1, 1), date(2024, 1, 1)) == 366
