"""Time zones: validation of IANA names and 'today' as a reader in a zone sees it."""

from __future__ import annotations

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
