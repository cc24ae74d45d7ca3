"""What a valid customers or subscriptions row is, and what writing a file changes in the stored
rows. Plain functions: no database."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from bot.arguments import fold
from bot.catalogue import BUILT_IN, REGIONS, Catalogue, Plan
from bot.imports.table import Parsed, RowCheck, read_table, shown
from bot.money import CENT
from bot.subscriptions.rules import BILLING_CYCLES, BILLING_OWNERS, CANCELLED, STATUSES
from bot.zones import add_years, is_time_zone

CUSTOMER_COLUMNS = ("name", "domain", "region", "contact_name", "contact_email")
CUSTOMER_OPTIONAL_COLUMNS = ("timezone",)
SUBSCRIPTION_COLUMNS = (
    "customer_domain",
    "plan",
    "seats",
    "unit_price",
    "billing_cycle",
    "start_date",
    "renewal_date",
    "status",
    "billing_owner",
)
SUBSCRIPTION_OPTIONAL_COLUMNS = ("partner_of_record",)

MAX_EMAIL_LENGTH = 254
MAX_SEATS = 1_000_000
MAX_UNIT_PRICE = Decimal("10000.00")
START_YEARS_BACK = 20
START_YEARS_AHEAD = 1
RENEWAL_YEARS_AHEAD = 10
YES, NO = ("yes", "y", "true"), ("no", "n", "false")
CLEAR = "-"  # in an optional customer cell: clear the stored value

EMAIL = re.compile(r"[^@\s<>,;:\"]+@[^@\s<>,;:\"]+\.[^@\s<>,;:\"]+")
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
WHOLE_NUMBER = re.compile(r"[+-]?\d+")
REGION_BY_KEY = {fold(region): region for region in REGIONS}


# Subscription cells that, left blank, keep the stored value (a new row gets the default: the
# catalogue's list price, the importing partner as partner of record); by stored column.
KEPT_WHEN_BLANK = {"unit_price": "unit_price", "partner_of_record": "partner_of_record_id"}


@dataclass(frozen=True)
class CustomerRow:
    line: int
    name: str  # whitespace collapsed
    name_key: str  # bot.subscriptions.fold(name)
    domain: str  # lower-case
    region: str  # spelled as in REGIONS
    contact_name: str
    contact_email: str
    timezone: str | None
    # Optional columns left blank: a re-import keeps what is stored in them.
    keep: frozenset[str] = field(default=frozenset(), compare=False)


@dataclass(frozen=True)
class SubscriptionRow:
    line: int
    customer_domain: str
    plan_code: str
    seats: int
    unit_price: Decimal  # per seat per month
    billing_cycle: str
    start_date: date
    renewal_date: date
    status: str
    billing_owner: str
    partner_of_record: bool  # the importing partner becomes the partner of record
    # Optional columns left blank: a re-import keeps what is stored in them.
    keep: frozenset[str] = field(default=frozenset(), compare=False)


def parse_customers(text: str) -> Parsed[CustomerRow]:
    """Checks a customers file and returns its rows, or every problem found."""
    table = read_table(text, required=CUSTOMER_COLUMNS, optional=CUSTOMER_OPTIONAL_COLUMNS)
    if table.problems:
        return Parsed([], table.problems + other_kind_hint(table.columns, "subscriptions"))
    rows, problems = [], []
    first_line_of: dict[str, int] = {}
    for csv_row in table.rows:
        check = RowCheck(csv_row, problems)
        name = check.text("name")
        domain = check.domain("domain")
        region = check_region(check)
        keep = frozenset(
            column
            for column in ("contact_name", "contact_email", "timezone")
            if check.cell(column) == ""
        )
        contact_name = cleared(check.text("contact_name", required=False))
        contact_email = cleared(check.cell("contact_email"))
        if contact_email and (
            len(contact_email) > MAX_EMAIL_LENGTH or not EMAIL.fullmatch(contact_email)
        ):
            check.problem(f"contact_email {shown(contact_email)} is not an email address")
        timezone = cleared(check.cell("timezone")) or None
        if timezone and not is_time_zone(timezone):
            check.problem(f"timezone {shown(timezone)} is not an IANA time zone like Europe/Berlin")
        if domain in first_line_of:
            check.problem(f"domain {domain} is also on line {first_line_of[domain]}")
        elif domain:
            first_line_of[domain] = check.line
        if check.ok:
            customer = CustomerRow(
                check.line, name, fold(name), domain, region, contact_name, contact_email,
                timezone, keep,
            )  # fmt: skip
            rows.append(customer)
    return Parsed(rows, problems, table.columns)


def cleared(value: str) -> str:
    """Reads an optional cell: `-` clears the stored value (a blank cell keeps it)."""
    return "" if value == CLEAR else value


def check_region(check: RowCheck) -> str:
    """Returns a row's region spelled as in REGIONS (`europe` is Europe)."""
    value = check.cell("region")
    region = REGION_BY_KEY.get(fold(value).replace(" and ", " & "))
    if region is None:
        problem = "region is blank" if not value else f"unknown region {shown(value)}"
        check.problem(f"{problem} (valid: {', '.join(REGIONS)})")
        return ""
    return region


def other_kind_hint(columns: tuple[str, ...], other: str) -> list[str]:
    """Points out a file of the other kind, the likeliest cause of a wrong header."""
    other_columns = SUBSCRIPTION_COLUMNS if other == "subscriptions" else CUSTOMER_COLUMNS
    if set(other_columns) <= set(columns):
        return [f"line 1: this looks like a {other} file; import it with `import {other}`"]
    return []


def parse_subscriptions(
    text: str,
    *,
    customer_domains: Collection[str],
    catalogue: Catalogue = BUILT_IN,
    today: date,
) -> Parsed[SubscriptionRow]:
    """Checks a subscriptions file against the partner's customer domains and the catalogue, and
    returns its rows, or every problem found."""
    table = read_table(text, required=SUBSCRIPTION_COLUMNS, optional=SUBSCRIPTION_OPTIONAL_COLUMNS)
    if table.problems:
        return Parsed([], table.problems + other_kind_hint(table.columns, "customers"))
    rows, problems = [], []
    first_line_of: dict[tuple[str, str, date], int] = {}
    for csv_row in table.rows:
        check = RowCheck(csv_row, problems)
        domain = check.domain("customer_domain")
        if domain and domain not in customer_domains:
            check.problem(f"no customer with domain {domain}; add it with `import customers` first")
        plan = check_plan(check, catalogue)
        seats = check_seats(check)
        unit_price = check_unit_price(check, plan.list_price if plan else None)
        billing_cycle = check.choice("billing_cycle", BILLING_CYCLES)
        start_date, renewal_date = check_dates(check, today)
        status = check.choice("status", STATUSES)
        billing_owner = check.choice("billing_owner", BILLING_OWNERS)
        partner_of_record = check.cell("partner_of_record").casefold()
        if partner_of_record and partner_of_record not in YES + NO:
            check.problem(
                f"partner_of_record {shown(partner_of_record)} is not yes or no (blank = yes)"
            )
        if seats == 0 and status and status != CANCELLED:
            check.problem("seats is 0; only a cancelled subscription may have no seats")
        if plan and start_date and domain:
            key = (domain, plan.code, start_date)
            if key in first_line_of:
                check.problem(
                    f"{plan.code} for {domain} starting {start_date} is also on line "
                    f"{first_line_of[key]}"
                )
            else:
                first_line_of[key] = check.line
        if check.ok:
            assert plan and seats is not None and unit_price is not None
            assert start_date and renewal_date
            subscription = SubscriptionRow(
                check.line,
                domain,
                plan.code,
                seats,
                unit_price,
                billing_cycle,
                start_date,
                renewal_date,
                status,
                billing_owner,
                partner_of_record=partner_of_record not in NO,
                keep=frozenset(
                    stored_column
                    for column, stored_column in KEPT_WHEN_BLANK.items()
                    if check.cell(column) == ""
                ),
            )
            rows.append(subscription)
    return Parsed(rows, problems, table.columns)


def check_plan(check: RowCheck, catalogue: Catalogue) -> Plan | None:
    code = check.cell("plan")
    plan = catalogue.get(code) if code else None
    if plan is None:
        problem = "plan is blank" if not code else f"unknown plan {shown(code)}"
        check.problem(f"{problem} (valid: {', '.join(catalogue.codes())})")
    return plan


def check_seats(check: RowCheck) -> int | None:
    """Returns a row's seat count: a whole number, not negative, not absurd."""
    value = check.cell("seats")
    if not WHOLE_NUMBER.fullmatch(value):
        check.problem(
            "seats is blank" if not value else f"seats {shown(value)} is not a whole number"
        )
        return None
    seats = int(value)
    if seats < 0:
        check.problem(f"seats is {seats}; it cannot be negative")
        return None
    if seats > MAX_SEATS:
        check.problem(f"seats is {seats:,}; more than {MAX_SEATS:,} must be a typo")
        return None
    return seats


def check_unit_price(check: RowCheck, list_price: Decimal | None) -> Decimal | None:
    """Returns a row's price per seat per month; blank means the plan's list price."""
    value = check.cell("unit_price")
    if not value:
        return list_price
    if not NUMBER.fullmatch(value):
        check.problem(f"unit_price {shown(value)} is not a number such as 12.50")
        return None
    price = Decimal(value)
    if price < 0:
        check.problem(f"unit_price {value} is negative")
    elif price != price.quantize(CENT):
        check.problem(f"unit_price {value} has more than 2 decimals")
    elif price > MAX_UNIT_PRICE:
        check.problem(f"unit_price {value} is more than {MAX_UNIT_PRICE:,} a seat a month")
    else:
        return price.quantize(CENT)
    return None


def check_dates(check: RowCheck, today: date) -> tuple[date | None, date | None]:
    """Returns a row's start and renewal dates: in order, and near enough to today to be no typo."""
    start_date, renewal_date = check.day("start_date"), check.day("renewal_date")
    if start_date and start_date < add_years(today, -START_YEARS_BACK):
        check.problem(
            f"start_date {start_date} is over {START_YEARS_BACK} years ago; check the year"
        )
    elif start_date and start_date > add_years(today, START_YEARS_AHEAD):
        check.problem(f"start_date {start_date} is over a year from now; check the year")
    if start_date and renewal_date and renewal_date < start_date:
        check.problem(f"renewal_date {renewal_date} is before start_date {start_date}")
    elif renewal_date and renewal_date > add_years(today, RENEWAL_YEARS_AHEAD):
        check.problem(
            f"renewal_date {renewal_date} is over {RENEWAL_YEARS_AHEAD} years from now; "
            "check the year"
        )
    return start_date, renewal_date
