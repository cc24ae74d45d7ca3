"""Times and dates: IANA zones, 'today' and 'when' as a reader in a zone sees them, and calendar
arithmetic (years, months, days)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """Returns the ZoneInfo for an IANA name (cached: zone lookups read files)."""
    return ZoneInfo(name)


def is_time_zone(name: str) -> bool:
    """Tells whether a name is a known IANA time zone."""
    if not name or "/" not in name and name != "UTC":
        return False
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def utc_now() -> datetime:
    """Returns the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def today_in(name: str, now: datetime | None = None) -> date:
    """Returns the calendar date in a time zone at `now` (default: the current time)."""
    return (now or utc_now()).astimezone(zone(name)).date()


def when_in(moment: datetime, time_zone: str) -> str:
    """Writes a moment as a reader in a zone reads it: `Sun 6 Dec 2026, 14:03 Europe/Berlin`."""
    local = moment.astimezone(zone(time_zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {time_zone}"


def add_years(day: date, years: int) -> date:
    """Returns the same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """Returns the same day `months` later, or the month's last day when it is shorter."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def whole_months_between(start: date, end: date) -> int:
    """Counts the whole months from start to end (0 when end is not after start)."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + (end.month - start.month)
    # A month is complete on the same day of the month, or the month's last day when shorter.
    anniversary_day = min(start.day, calendar.monthrange(end.year, end.month)[1])
    if end.day < anniversary_day:
        months -= 1
    return max(months, 0)


def days_until(day: date, today: date) -> int:
    """Counts the days from today to a date (negative when it has passed)."""
    return (day - today).days


def ago_words(moment: datetime, now: datetime) -> str:
    """How long ago a moment was, as people say it: "just now", "12 min ago", "3 hours ago",
    "3 days ago" (whole units, rounded down)."""
    seconds = max((now - moment).total_seconds(), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    days = int(seconds // 86400)
    return f"{days:,} day{'s' if days != 1 else ''} ago"
