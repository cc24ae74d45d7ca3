"""Subscription rules: money, commission and renewal arithmetic, and how a customer is looked up."""

from __future__ import annotations

import calendar
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rapidfuzz import fuzz, process
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import customers
from storage import subscriptions as subscription_rows
from storage.models import Customer, Subscription

CENT = Decimal("0.01")
MONTHS_IN_YEAR = 12

ACTIVE, SUSPENDED, CANCELLED, TRIAL = "active", "suspended", "cancelled", "trial"
STATUSES = (ACTIVE, SUSPENDED, CANCELLED, TRIAL)
BILLING_CYCLES = ("monthly", "annual")
BILLING_OWNERS = ("vendor", "partner")
REGIONS = ("North America", "Europe", "Asia Pacific", "Latin America", "Middle East & Africa")

MAX_QUERY_LENGTH = 200


def cents(amount: Decimal) -> Decimal:
    """Rounds money to cents, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    """Formats money as `$1,800.00` (and `-$5.00`)."""
    rounded = cents(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.2f}"


def format_percent(rate: Decimal) -> str:
    """Formats a rate such as 0.12 as `12%` (and 0.125 as `12.5%`)."""
    percent = (rate * 100).normalize()
    return f"{percent:f}%"


def monthly_value(seats: int, unit_price: Decimal) -> Decimal:
    """Returns what the seats cost a month."""
    return cents(seats * unit_price)


def annual_value(seats: int, unit_price: Decimal) -> Decimal:
    """Returns what the seats cost a year."""
    return cents(seats * unit_price * MONTHS_IN_YEAR)


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


@dataclass(frozen=True)
class CommissionRule:
    """The partner of record earns first_year_rate of the first year, then later_rate."""

    first_year_rate: Decimal = Decimal("0.12")
    later_rate: Decimal = Decimal("0.06")

    def describe(self) -> str:
        """Says the rule in one sentence."""
        return (
            f"The partner of record earns {format_percent(self.first_year_rate)} of the first "
            f"year's value, then {format_percent(self.later_rate)} of the annual fee after the "
            "first year."
        )


@dataclass(frozen=True)
class Commission:
    """What a subscription earns its partner of record, on a given day."""

    in_first_year: bool
    rate: Decimal  # the rate that applies today
    base: Decimal  # the first year's value, or the annual fee after it
    amount: Decimal  # rate × base: this year's commission
    first_year_ends: date
    earned_to_date: Decimal  # accrued month by month since the start
    expected_next_12_months: Decimal  # zero unless the subscription is active


def earned_by(day: date, *, monthly: Decimal, start_date: date, rule: CommissionRule) -> Decimal:
    """Adds up the commission of the whole months of service from the start to a day: months 1-12
    earn the first-year rate of the month's value, later months the later rate."""
    months = whole_months_between(start_date, day)
    first_year_months = min(months, MONTHS_IN_YEAR)
    later_months = months - first_year_months
    return monthly * (rule.first_year_rate * first_year_months + rule.later_rate * later_months)


def commission_for(
    *,
    seats: int,
    unit_price: Decimal,
    start_date: date,
    status: str,
    on: date,
    rule: CommissionRule = CommissionRule(),
    renewal_date: date | None = None,
) -> Commission:
    """Works out the commission of one subscription: each month of service earns the rate of its
    year (first-year rate for months 1-12, the later rate after), on the month's value. A cancelled
    subscription served until its renewal date (the end of its term) and earned nothing after."""
    monthly = monthly_value(seats, unit_price)
    first_year_ends = add_years(start_date, 1)
    in_first_year = on < first_year_ends
    rate = rule.first_year_rate if in_first_year else rule.later_rate
    base = annual_value(seats, unit_price)

    served_until = on
    if status == CANCELLED and renewal_date is not None:
        served_until = min(on, renewal_date)
    earned = earned_by(served_until, monthly=monthly, start_date=start_date, rule=rule)
    expected = Decimal(0)
    if status == ACTIVE:
        # What the months of service completed over the next twelve months will earn.
        later = earned_by(add_months(on, MONTHS_IN_YEAR), monthly=monthly, start_date=start_date,
                          rule=rule)  # fmt: skip
        expected = later - earned
    if status == TRIAL:
        earned = Decimal(0)

    return Commission(
        in_first_year=in_first_year,
        rate=rate,
        base=base,
        amount=cents(rate * base),
        first_year_ends=first_year_ends,
        earned_to_date=cents(earned),
        expected_next_12_months=cents(expected),
    )


def clean_query(text: str) -> str:
    """Turns what a person typed into text a database can compare: tabs and line breaks become
    spaces, other control characters (NUL…) and invisible format characters (zero-width space…)
    go, spaces collapse."""
    kept = "".join(
        c if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co") else ""
        for c in text
    )
    return " ".join(kept.split())


def fold(text: str) -> str:
    """Folds text for matching: case-insensitive, spaces collapsed."""
    return " ".join(text.casefold().split())


def like_pattern(text: str) -> str:
    """Returns a LIKE pattern that finds text anywhere, with LIKE's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Flows: what /subscription answers, from the caller's partner and the text typed.

MAX_CHOICES = 100
MAX_SUGGESTIONS = 5
SUGGESTION_CUTOFF = 70


@dataclass(frozen=True)
class Usage:
    """Nothing was typed."""


@dataclass(frozen=True)
class TooLong:
    length: int


@dataclass(frozen=True)
class Found:
    customer: Customer
    subscriptions: list[Subscription]


@dataclass(frozen=True)
class Choices:
    query: str
    customers: list[Customer]
    total: int


@dataclass(frozen=True)
class NoMatch:
    query: str
    suggestions: list[Customer]


Lookup = Usage | TooLong | Found | Choices | NoMatch


def suggest(query: str, candidates: list[tuple[int, str, str]], *, limit: int) -> list[int]:
    """Picks the customers whose name or domain looks most like the query (fuzzy), best first.
    Candidates are (id, folded name, domain), as stored: folding thousands of names again on
    every look-up would cost more than the matching."""
    folded = fold(query)
    names = [name_key for _, name_key, _ in candidates]
    domains = [domain for _, _, domain in candidates]
    scores: dict[int, float] = {}
    for choices in (names, domains):
        for _, score, index in process.extract(
            folded, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=SUGGESTION_CUTOFF
        ):
            scores[index] = max(score, scores.get(index, 0))
    best = sorted(scores, key=lambda index: (-scores[index], names[index]))[:limit]
    return [candidates[index][0] for index in best]


async def look_up(session: AsyncSession, *, partner_id: int, text: str) -> Lookup:
    """Finds what `/subscription <text>` is about, among one partner's customers only."""
    query = clean_query(text)
    if not query:
        return Usage()
    if len(query) > MAX_QUERY_LENGTH:
        return TooLong(len(query))
    folded = fold(query)
    matches = await customers.find(
        session=session,
        partner_id=partner_id,
        folded=folded,
        pattern=like_pattern(folded),
        limit=MAX_CHOICES,
    )
    if matches.total == 1:
        return await found(session, matches.customers[0])
    if matches.total > 1:
        return Choices(query, matches.customers, matches.total)
    candidates = await customers.ids_names_and_domains(session=session, partner_id=partner_id)
    picked = suggest(query, candidates, limit=MAX_SUGGESTIONS)
    by_id = await customers.get_many(session=session, partner_id=partner_id, customer_ids=picked)
    return NoMatch(query, [by_id[i] for i in picked if i in by_id])


async def look_up_customer(
    session: AsyncSession, *, partner_id: int, customer_id: int
) -> Found | None:
    """Answers for a customer picked from a list; None when it is not this partner's."""
    customer = await customers.get(session=session, partner_id=partner_id, customer_id=customer_id)
    return await found(session, customer) if customer else None


async def found(session: AsyncSession, customer: Customer) -> Found:
    rows = await subscription_rows.of_customer(session=session, customer_id=customer.id)
    return Found(customer, rows)
