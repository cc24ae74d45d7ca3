"""Summary rules: the week (Monday to Sunday in the partner's time zone), what a summary holds,
the schedule and its next run, comparisons with the previous week, and what a figure looks like
in words."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from apscheduler.triggers.cron import CronTrigger

from bot.blocks import escape
from bot.money import format_money
from bot.zones import zone

if TYPE_CHECKING:
    from storage.models import Partner, SummarySchedule
    from storage.summary_figures import OrderFigures, Renewal
    from storage.summary_money import CommissionFigures

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SHORT_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CATCH_UP = timedelta(hours=24)  # a bot down at the time posts when it starts, within this


@dataclass(frozen=True)
class Week:
    monday: date
    start: datetime  # Monday 00:00 in the zone, as UTC
    end: datetime  # the next Monday 00:00 in the zone, as UTC (exclusive)
    time_zone: str

    def previous(self) -> Week:
        return week_starting(self.monday - timedelta(days=7), self.time_zone)

    def words(self) -> str:
        sunday = self.monday + timedelta(days=6)
        return f"{self.monday.day} {self.monday:%b} – {sunday.day} {sunday:%b %Y}"


def week_starting(monday: date, time_zone: str) -> Week:
    """The week from a Monday, with its bounds in the zone (a DST week is 167 or 169 hours)."""
    tz = zone(time_zone)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    return Week(monday, start.astimezone(zone("UTC")), end.astimezone(zone("UTC")), time_zone)


def week_of(moment: datetime, time_zone: str) -> Week:
    """The week a moment falls in, as a reader in the zone counts weeks."""
    local = moment.astimezone(zone(time_zone)).date()
    return week_starting(local - timedelta(days=local.weekday()), time_zone)


@dataclass(frozen=True)
class WeekFigures:
    orders: OrderFigures
    conversion: Decimal | None
    median_hours: Decimal | None
    mrr: Decimal
    commission: CommissionFigures
    incidents: int
    customer_minutes: int
    credits_owed: Decimal


@dataclass(frozen=True)
class Summary:
    partner: Partner
    week: Week
    current: WeekFigures
    previous: WeekFigures
    mrr_before: Decimal  # at the start of the week
    renewals: list[Renewal]
    renewals_total: int
    at_risk: list[tuple[str, str]]  # (customer, why)

    @property
    def quiet(self) -> bool:
        """Nothing happened: no orders, no seat changes, no outages."""
        o = self.current.orders
        return not (
            o.filed
            or o.confirmed
            or o.declined
            or o.expired
            or o.cancelled
            or o.seats_added
            or o.seats_removed
            or self.current.incidents
        )


@dataclass(frozen=True)
class Schedule:
    weekday: int  # Monday is 0
    at_minutes: int
    enabled: bool = True

    def words(self) -> str:
        hours, minutes = divmod(self.at_minutes, 60)
        return f"{WEEKDAYS[self.weekday].capitalize()}s at {hours:02d}:{minutes:02d}"


DEFAULT_SCHEDULE = Schedule(0, 9 * 60)


def schedule_from(row: SummarySchedule | None) -> Schedule:
    """A partner's stored schedule; none stored is the default, Mondays at 09:00."""
    if row is None:
        return DEFAULT_SCHEDULE
    return Schedule(row.weekday, row.at_minutes, row.enabled)


@dataclass(frozen=True)
class ScheduleOff:
    pass


def parse_schedule(text: str) -> Schedule | ScheduleOff | str:
    """Reads `<weekday> <HH:MM>` or `off`; returns the problem as text otherwise."""
    words = text.lower().split()
    if words == ["off"]:
        return ScheduleOff()
    if len(words) != 2:
        return (
            "Type `/summary schedule &lt;weekday&gt; &lt;HH:MM&gt;`, e.g. "
            "`/summary schedule monday 09:00`, or `/summary schedule off`."
        )
    day, clock = words
    matches = [i for i, name in enumerate(WEEKDAYS) if len(day) >= 3 and name.startswith(day)]
    if len(matches) != 1:
        return f"`{escape(day[:20])}` is not a weekday; use monday … sunday (or mon … sun)."
    found = re.fullmatch(r"(\d{1,2})[:.h](\d{2})", clock)
    if not found or int(found[1]) > 23 or int(found[2]) > 59:
        return (
            f"`{escape(clock[:20])}` is not a time of day; use HH:MM on a 24-hour clock, "
            "e.g. 09:00."
        )
    return Schedule(matches[0], int(found[1]) * 60 + int(found[2]))


def trigger(schedule: Schedule, time_zone: str) -> CronTrigger:
    """The schedule as a cron trigger in the partner's zone (APScheduler handles DST)."""
    hours, minutes = divmod(schedule.at_minutes, 60)
    return CronTrigger(day_of_week=schedule.weekday, hour=hours, minute=minutes,
                       timezone=zone(time_zone))  # fmt: skip


def next_run(schedule: Schedule, time_zone: str, now: datetime) -> datetime:
    """When the schedule fires next after now."""
    return trigger(schedule, time_zone).get_next_fire_time(None, now)


def last_run(schedule: Schedule, time_zone: str, now: datetime) -> datetime:
    """When the schedule last fired at or before now."""
    cron = trigger(schedule, time_zone)
    moment = cron.get_next_fire_time(None, now - timedelta(days=8))
    previous = moment
    while moment is not None and moment <= now:
        previous = moment
        moment = cron.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return previous


def due_week(schedule: Schedule, time_zone: str, now: datetime) -> Week | None:
    """The week whose summary is due now: the one that ended before the last run time, if that
    run time passed less than 24 hours ago (a bot that was down catches up, once)."""
    if not schedule.enabled:
        return None
    fired = last_run(schedule, time_zone, now)
    if fired is None or fired > now or now - fired > CATCH_UP:
        return None
    return week_of(fired, time_zone).previous()


def when_words(moment: datetime, time_zone: str) -> str:
    """`Mon 1 Dec, 09:00 Europe/Berlin`."""
    local = moment.astimezone(zone(time_zone))
    return f"{SHORT_WEEKDAYS[local.weekday()]} {local.day} {local:%b, %H:%M} {time_zone}"


def change_words(now: Decimal | int, before: Decimal | int, *, money: bool = False) -> str:
    """Compares a figure with last week's: `▲ $120.00 (+12.5%)`, `▼ 3 (−20%)`, `= same`."""
    difference = now - before
    if difference == 0:
        return "= same as last week"
    arrow = "▲" if difference > 0 else "▼"
    amount = format_money(abs(difference)) if money else f"{abs(difference):,}"
    if before:
        percent = (Decimal(difference) / Decimal(abs(before)) * 100).quantize(Decimal("0.1"))
        return f"{arrow} {amount} ({'+' if difference > 0 else '−'}{abs(percent)}%)"
    return f"{arrow} {amount} (none last week)"


def median_hours(durations: list[timedelta]) -> Decimal | None:
    """The median of durations, in hours with one decimal; None for none."""
    if not durations:
        return None
    seconds = statistics.median(d.total_seconds() for d in durations)
    return (Decimal(seconds) / 3600).quantize(Decimal("0.1"))


def conversion(confirmed: int, decided: int) -> Decimal | None:
    """Confirmed orders as a share of the orders decided (confirmed, declined or expired)."""
    return None if not decided else (Decimal(confirmed) / decided * 100).quantize(Decimal("0.1"))
