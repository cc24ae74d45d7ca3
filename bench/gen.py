"""Builds a big data set fast: N partners and M customers, with subscriptions (their seat changes,
ended trials), a year of orders and a year of incidents with the partners' alerts of them,
straight into the tables (PostgreSQL COPY; SQLite executemany).

    python bench/gen.py [--partners 5500] [--customers 1000000] [--database-url URL] [--seed N]

The database is emptied first (PostgreSQL: its name must contain "bench"; SQLite: a new file).
Prints one line of figures and writes them to bench/results/gen-<timestamp>.json."""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from targets import (
    RESULTS,
    BenchError,
    empty_postgres_database,
    generated_database_url,
    run_and_save,
)

from bot.arguments import fold
from bot.catalogue import BUILT_IN, REGIONS
from bot.demo import (
    FIRST_NAMES,
    LAST_NAMES,
    LEGAL_SUFFIXES,
    MAIL_DOMAIN_ENDINGS,
    NAME_STEMS,
    TRADES,
    ZONES,
    ascii_slug,
)
from bot.money import cents
from bot.orders.rules import REMIND_AFTER
from bot.settings import async_database_url
from storage import schema
from storage.db import create_engine, is_sqlite

DEFAULT_SQLITE = RESULTS / "million.db"
PLAN_WEIGHTS = {"BPOS-S": 30, "EXO": 35, "SPO": 15, "OLM": 10, "OCO": 10}
STATUS_WEIGHTS = {"active": 88, "trial": 3, "suspended": 3, "cancelled": 6}
DISCOUNTS = (0, 0, 0, 5, 10, 15)  # percent off list price, negotiated
ORDERS_PER_CUSTOMER = 0.3  # a year of orders
INCIDENTS_PER_YEAR = 150
PLANS_PER_CUSTOMER = {1: 40, 2: 32, 3: 18, 4: 10}  # how many customers hold 1, 2, 3 or 4 plans
SEAT_CHANGED = 0.15  # subscriptions whose seats changed since they started (1 or 2 times)
ENDED_TRIALS = 0.05  # customers with a trial of another plan that ended without converting
TRIAL_DAYS = 30
SERVICES = ("Exchange Online", "SharePoint Online", "Office Communications Online",
            "Office Live Meeting")  # fmt: skip
ORDER_LINK_DAYS = 14
SMALLEST_PARTNER = 5  # customers
CHUNK = 50_000  # rows generated and written at a time


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python bench/gen.py", description=__doc__.splitlines()[0])
    root.add_argument("--partners", type=int, default=5500)
    root.add_argument("--customers", type=int, default=1_000_000)
    root.add_argument(
        "--database-url",
        help="default: a new SQLite file bench/results/million.db; a PostgreSQL database is "
        "emptied first, so its name must contain 'bench'",
    )
    root.add_argument("--seed", type=int, default=2026)
    return root


def partner_sizes(rng: random.Random, partners: int, customers: int) -> list[int]:
    """How many customers each partner has: a long tail (most have tens, the big ones thousands),
    adding up to `customers` exactly, every partner at least SMALLEST_PARTNER."""
    weights = [rng.lognormvariate(0, 1.3) for _ in range(partners)]
    spare = customers - SMALLEST_PARTNER * partners
    if spare < 0:
        raise BenchError(f"{customers} customers are too few for {partners} partners")
    total = sum(weights)
    sizes = [SMALLEST_PARTNER + math.floor(spare * w / total) for w in weights]
    for index in range(customers - sum(sizes)):
        sizes[index % partners] += 1
    return sizes


def next_renewal(start: date, *, annual: bool, today: date) -> date:
    """The first renewal after today of a subscription that started on `start`."""
    day = min(start.day, 28)
    if annual:
        year = today.year if (start.month, day) > (today.month, today.day) else today.year + 1
        return date(max(year, start.year + 1), start.month, day)
    month = today.month + (day <= today.day)
    return date(today.year + (month - 1) // 12, (month - 1) % 12 + 1, day)


def discounted_cents(plan: str, discount: int) -> int:
    """A plan's list price less a discount in percent, in whole cents, rounded as the bot rounds
    money (half up)."""
    price = cents(BUILT_IN.get(plan).list_price * (100 - discount) / 100)
    return int(price * 100)


def team_id(number: int) -> str:
    return f"TB{number:07d}"


class Rows:
    """Generates every table's rows, deterministic for a seed and a `now`."""

    def __init__(self, *, partners: int, customers: int, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.today = now.date()
        self.sizes = partner_sizes(self.rng, partners, customers)
        self.partner_regions: list[str] = []
        self.subscription_id = 0
        self.seat_change_id = 0
        # What each partner sells where: (region, plan) of its active subscriptions, so that an
        # incident alerts the partners the bot's fan-out would have alerted.
        self.coverage: list[set[tuple[str, str]]] = [set() for _ in self.sizes]

    def partners(self) -> list[tuple]:
        rows = []
        for number in range(1, len(self.sizes) + 1):
            region = self.rng.choice(REGIONS)
            zone = self.rng.choice(ZONES[region])
            self.partner_regions.append(region)
            kind = self.rng.choice(("Cloud", "IT", "Systems", "Networks", "Digital"))
            name = f"{self.rng.choice(NAME_STEMS)} {kind} {number}"
            channel = f"CB{number:07d}"
            rows.append(
                (
                    number,
                    team_id(number),
                    name,
                    channel + "A",
                    channel + "M",
                    None,
                    zone,
                    self.now,
                    self.now,
                )  # fmt: skip
            )
        return rows

    def managers(self) -> list[tuple]:
        return [
            (number, f"UB{number:07d}{extra}")
            for number in range(1, len(self.sizes) + 1)
            for extra in range(1 + number % 2)
        ]

    def schedules(self) -> list[tuple]:
        # Monday 09:00 for most; some chose Friday afternoon.
        rows = []
        for number in range(1, len(self.sizes) + 1):
            friday = number % 7 == 0
            rows.append(
                (number, 4 if friday else 0, (16 if friday else 9) * 60, True, "", self.now)
            )
        return rows

    def customers_and_more(self) -> Iterator[dict[str, list[tuple]]]:
        """Yields chunks of rows by table: customers, subscriptions, seat changes, orders."""
        rng, customer_id, order_id = self.rng, 0, 0
        chunk: dict[str, list[tuple]] = {table: [] for table in CUSTOMER_TABLES}
        for partner_id, size in enumerate(self.sizes, start=1):
            home = self.partner_regions[partner_id - 1]
            for _ in range(size):
                customer_id += 1
                region = home if rng.random() < 0.8 else rng.choice(REGIONS)
                stem = (
                    rng.choice(NAME_STEMS) if rng.random() < 0.7 else rng.choice(LAST_NAMES[region])
                )
                name = f"{stem} {rng.choice(TRADES)}"
                if rng.random() < 0.4:
                    name = f"{name} {rng.choice(LEGAL_SUFFIXES[region])}"
                # The number keeps tenant domains unique within the partner.
                domain = (
                    f"{ascii_slug(name)[:40]}{customer_id}{rng.choice(MAIL_DOMAIN_ENDINGS[region])}"
                )
                contact = f"{rng.choice(FIRST_NAMES[region])} {rng.choice(LAST_NAMES[region])}"
                zone = rng.choice(ZONES[region]) if rng.random() < 0.5 else None
                created = self.now - timedelta(days=rng.randint(30, 3 * 365))
                chunk["customer"].append(
                    (customer_id, partner_id, name, fold(name), domain, region, contact,
                     f"it@{domain}", zone, created, created)
                )  # fmt: skip
                plans = self.plans_for(rng)
                # A trial of one more plan that ended unconverted (Partner Center: disabled).
                trial = plans.pop() if len(plans) > 1 and rng.random() < ENDED_TRIALS else None
                for plan in plans:
                    row = self.subscription(partner_id, customer_id, plan, created)
                    chunk["subscription"].append(row)
                    chunk["seat_change"].extend(self.seat_changes(row))
                    if row[9] == "active":
                        self.coverage[partner_id - 1].add((region, plan))
                if trial is not None:
                    chunk["subscription"].append(self.ended_trial(partner_id, customer_id, trial))
                for _ in range(self.order_count(rng)):
                    order_id += 1
                    chunk["customer_order"].append(
                        self.order(order_id, partner_id, customer_id, rng)
                    )
                if len(chunk["customer"]) >= CHUNK:
                    yield chunk
                    chunk = {table: [] for table in CUSTOMER_TABLES}
        if chunk["customer"]:
            yield chunk

    def plans_for(self, rng: random.Random) -> list[str]:
        count = rng.choices(list(PLANS_PER_CUSTOMER), weights=list(PLANS_PER_CUSTOMER.values()))[0]
        codes, weights = zip(*PLAN_WEIGHTS.items(), strict=True)
        chosen: list[str] = []
        while len(chosen) < count:
            code = rng.choices(codes, weights=weights)[0]
            if code not in chosen:
                chosen.append(code)
        return chosen

    def subscription(
        self, partner_id: int, customer_id: int, plan: str, created: datetime
    ) -> tuple:
        rng = self.rng
        self.subscription_id += 1
        start = self.today - timedelta(days=rng.randint(0, 3 * 365))
        annual = rng.random() < 0.65
        renewal = next_renewal(start, annual=annual, today=self.today)
        unit = discounted_cents(plan, rng.choice(DISCOUNTS))
        status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        owner = "partner" if rng.random() < 0.45 else "vendor"
        of_record = partner_id if rng.random() < 0.92 else None
        seats = max(1, int(rng.lognormvariate(2.3, 0.9)))
        return (self.subscription_id, partner_id, customer_id, plan, min(seats, 5000), unit,
                "annual" if annual else "monthly", start, renewal, status, owner, of_record,
                created, created)  # fmt: skip

    def ended_trial(self, partner_id: int, customer_id: int, plan: str) -> tuple:
        """A trial that ended within the year without converting: suspended, its renewal date
        the trial's last day."""
        rng = self.rng
        self.subscription_id += 1
        start = self.today - timedelta(days=rng.randint(TRIAL_DAYS + 1, 365))
        end = start + timedelta(days=TRIAL_DAYS)
        created = datetime.combine(start, datetime.min.time(), UTC)
        return (self.subscription_id, partner_id, customer_id, plan, rng.randint(1, 25),
                discounted_cents(plan, 0), "monthly", start, end, "suspended", "vendor",
                partner_id, created, created)  # fmt: skip

    def seat_changes(self, subscription: tuple) -> list[tuple]:
        """One or two earlier changes of a subscription's seats, the latest ending at its seats
        of today; each takes effect on a day after the start, within the last year."""
        rng = self.rng
        sid, partner_id, seats, unit, start = (subscription[i] for i in (0, 1, 4, 5, 7))
        first = max(start + timedelta(days=1), self.today - timedelta(days=365))
        if rng.random() >= SEAT_CHANGED or first > self.today:
            return []
        span = (self.today - first).days
        days = sorted(
            {first + timedelta(days=rng.randint(0, span)) for _ in range(rng.randint(1, 2))}
        )
        rows, after = [], seats
        for day in reversed(days):
            before = after
            while before == after:
                before = max(1, after + rng.randint(-max(1, after // 3), max(2, after // 3)))
            self.seat_change_id += 1
            recorded = datetime.combine(day, datetime.min.time(), UTC)
            rows.append((self.seat_change_id, partner_id, sid, day, before, after, unit, unit,
                         None, recorded))  # fmt: skip
            after = before
        return rows

    def order_count(self, rng: random.Random) -> int:
        count = 0
        chance = ORDERS_PER_CUSTOMER
        while rng.random() < chance:
            count += 1
            chance *= 0.5
        return count

    def order(self, order_id: int, partner_id: int, customer_id: int, rng: random.Random) -> tuple:
        filed = self.now - timedelta(seconds=rng.randint(0, 365 * 86400))
        expires = filed + timedelta(days=ORDER_LINK_DAYS)
        if expires > self.now:
            state = rng.choices(("pending", "confirmed", "declined", "cancelled"), (50, 40, 5, 5))[
                0
            ]
        else:
            state = rng.choices(
                ("confirmed", "declined", "expired", "cancelled"), (60, 10, 20, 10)
            )[0]
        decided = None
        if state in ("confirmed", "declined", "cancelled"):
            decided = min(filed + timedelta(minutes=rng.randint(5, 9 * 24 * 60)), self.now)
        elif state == "expired":
            decided = expires
        plan = rng.choices(list(PLAN_WEIGHTS), weights=list(PLAN_WEIGHTS.values()))[0]
        unit = int(BUILT_IN.get(plan).list_price * 100)
        token = hashlib.sha256(order_id.to_bytes(8, "big") + b"bench").hexdigest()
        audit = ("Jane Doe", "jane@example.com", "203.0.113.7", "Mozilla/5.0")
        if state != "confirmed":
            audit = ("", "", "", "")
        # The reminder sweep has been running all year: a pending order's filer was reminded.
        reminded = filed + REMIND_AFTER
        if state != "pending" or reminded > self.now:
            reminded = None
        return (order_id, partner_id, customer_id, plan, rng.randint(1, 60), unit, "vendor", None,
                None, "", state, token, f"UB{partner_id:07d}0", filed, expires, reminded,
                decided, "", *audit, "")  # fmt: skip

    def incidents(self) -> list[tuple]:
        rng, rows = self.rng, []
        services = SERVICES
        for number in range(1, INCIDENTS_PER_YEAR + 1):
            start = self.now - timedelta(seconds=rng.randint(86400, 365 * 86400))
            end = start + timedelta(minutes=rng.randint(20, 8 * 60))
            regions = [] if rng.random() < 0.3 else rng.sample(REGIONS, rng.randint(1, 2))
            rows.append(
                (number, f"GEN-{number:05d}", None, rng.choice(services), "",
                 "Users may be unable to connect", "incident", "serviceRestored",
                 "Users may be affected.", json.dumps(regions) if regions else "", start, end,
                 True, "", 0, 1, "", start, end)
            )  # fmt: skip
        return rows

    def alerts(self, incidents: list[tuple]) -> Iterator[list[tuple]]:
        """Each incident's alerts, as the fan-out stores them: one per partner with an active
        subscription to a plan with the service, of a customer in the incident's regions."""
        alert_id = 0
        for incident in incidents:
            number, service, regions, start = incident[0], incident[3], incident[9], incident[10]
            plans = set(BUILT_IN.plans_touched_by(service))
            places = set(json.loads(regions)) if regions else set(REGIONS)
            rows = []
            for partner_id, sold in enumerate(self.coverage, start=1):
                if any(region in places and plan in plans for region, plan in sold):
                    alert_id += 1
                    rows.append((alert_id, number, partner_id, f"CB{partner_id:07d}A",
                                 f"incident:{number}:partner:{partner_id}:root",
                                 start + timedelta(seconds=30)))  # fmt: skip
            yield rows


CUSTOMER_TABLES = ("customer", "subscription", "seat_change", "customer_order")
COLUMNS = {
    "partner": ("id", "team_id", "name", "alert_channel", "manager_channel", "orders_channel",
                "timezone", "created_at", "approved_at"),
    "partner_manager": ("partner_id", "user_id"),
    "summary_schedule": ("partner_id", "weekday", "at_minutes", "enabled", "updated_by",
                         "updated_at"),
    "customer": ("id", "partner_id", "name", "name_key", "domain", "region", "contact_name",
                 "contact_email", "timezone", "created_at", "updated_at"),
    "subscription": ("id", "partner_id", "customer_id", "plan_code", "seats", "unit_price",
                     "billing_cycle", "start_date", "renewal_date", "status", "billing_owner",
                     "partner_of_record_id", "created_at", "updated_at"),
    "customer_order": ("id", "partner_id", "customer_id", "plan_code", "seats", "unit_price",
                       "billing_owner", "subscription_id", "previous_seats", "note", "state",
                       "token_hash", "filed_by", "filed_at", "expires_at", "reminded_at",
                       "decided_at", "decided_by", "confirmer_name", "confirmer_email",
                       "confirmer_ip", "confirmer_user_agent", "decline_reason"),
    "seat_change": ("id", "partner_id", "subscription_id", "effective_on", "seats_before",
                    "seats_after", "unit_price_before", "unit_price_after", "order_id",
                    "recorded_at"),
    "incident_alert": ("id", "incident_id", "partner_id", "channel", "root_key", "created_at"),
    "incident": ("id", "external_id", "partner_id", "service", "feature", "title",
                 "classification", "status", "impact_description", "regions", "start_at",
                 "end_at", "is_resolved", "latest_post", "posts_seen", "version", "body_hash",
                 "created_at", "updated_at"),
}  # fmt: skip
SEQUENCES = ("partner", "customer", "subscription", "seat_change", "customer_order", "incident",
             "incident_alert")  # fmt: skip


class PostgresWriter:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def write(self, table: str, rows: list[tuple]) -> None:
        await self.connection.copy_records_to_table(table, records=rows, columns=COLUMNS[table])

    async def finish(self) -> None:
        for table in SEQUENCES:
            await self.connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        await self.connection.execute("VACUUM ANALYZE")


def sqlite_value(value: object) -> object:
    """What SQLAlchemy stores on SQLite: naive UTC text for times, ISO text for dates."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


class SqliteWriter:
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path)
        self.connection.execute("PRAGMA synchronous=OFF")

    async def write(self, table: str, rows: list[tuple]) -> None:
        columns = COLUMNS[table]
        marks = ", ".join("?" for _ in columns)
        self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            ([sqlite_value(value) for value in row] for row in rows),
        )

    async def finish(self) -> None:
        self.connection.commit()
        self.connection.execute("ANALYZE")
        self.connection.commit()
        self.connection.close()


async def generate(
    database_url: str,
    *,
    partners: int,
    customers: int,
    seed: int = 2026,
    now: datetime | None = None,
) -> dict:
    """Empties the database, migrates it and fills it; returns the figures (counts, seconds)."""
    url = generated_database_url(database_url)  # PostgreSQL: only a database named for benches
    now = now or datetime.now(UTC).replace(microsecond=0)
    started = time.monotonic()
    if is_sqlite(url):
        path = make_url(url).database or ""
        if path in ("", ":memory:"):
            raise BenchError("--database-url: give a SQLite file")
        for leftover in (path, f"{path}-wal", f"{path}-shm"):  # an earlier set, all of it
            Path(leftover).unlink(missing_ok=True)
    else:
        await empty_postgres_database(url)
    engine = create_engine(url)
    try:
        await schema.upgrade(engine)
    finally:
        await engine.dispose()
    migrated = time.monotonic()

    rows = Rows(partners=partners, customers=customers, seed=seed, now=now)
    if is_sqlite(url):
        writer = SqliteWriter(make_url(url).database)
        connection = None
    else:
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(plain)
        writer = PostgresWriter(connection)
    counts = dict.fromkeys(COLUMNS, 0)

    async def write(table: str, batch: list[tuple]) -> None:
        if batch:
            await writer.write(table, batch)
            counts[table] += len(batch)

    generating = 0.0
    try:
        await write("partner", rows.partners())
        await write("partner_manager", rows.managers())
        await write("summary_schedule", rows.schedules())
        chunks = rows.customers_and_more()
        while True:
            mark = time.monotonic()
            chunk = next(chunks, None)
            generating += time.monotonic() - mark
            if chunk is None:
                break
            for table in CUSTOMER_TABLES:
                await write(table, chunk[table])
        incidents = rows.incidents()
        await write("incident", incidents)
        for alerts in rows.alerts(incidents):
            await write("incident_alert", alerts)
        loaded = time.monotonic()
        await writer.finish()
    finally:
        if connection is not None:
            await connection.close()
    finished = time.monotonic()
    return {
        "database": make_url(url).get_backend_name(),
        "partners": counts["partner"],
        "customers": counts["customer"],
        "subscriptions": counts["subscription"],
        "orders": counts["customer_order"],
        "incidents": counts["incident"],
        "seat_changes": counts["seat_change"],
        "alerts": counts["incident_alert"],
        "largest_partner": max(rows.sizes),
        "median_partner": sorted(rows.sizes)[len(rows.sizes) // 2],
        "seed": seed,
        "now": now.isoformat(),
        "seconds": {
            "migrate": round(migrated - started, 1),
            "generate_rows": round(generating, 1),
            "load": round(loaded - migrated - generating, 1),
            "analyze": round(finished - loaded, 1),
            "total": round(finished - started, 1),
        },
    }


async def sample_team_ids(database_url: str, count: int, seed: int) -> list[str]:
    """Team ids to load a generated set with: drawn by customers, so big partners come up as
    often as their staff would ask."""
    engine = create_engine(async_database_url(database_url))
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                text(
                    "SELECT p.team_id, count(c.id) FROM partner p JOIN customer c "
                    "ON c.partner_id = p.id GROUP BY p.team_id ORDER BY p.team_id"
                )
            )
            teams = result.all()
    finally:
        await engine.dispose()
    rng = random.Random(seed)
    chosen = rng.choices([t for t, _ in teams], weights=[n for _, n in teams], k=count * 3)
    return list(dict.fromkeys(chosen))[:count]


def figures_line(figures: dict) -> str:
    seconds = figures["seconds"]
    rows = sum(
        figures[k]
        for k in (
            "partners",
            "customers",
            "subscriptions",
            "orders",
            "incidents",
            "seat_changes",
            "alerts",
        )  # fmt: skip
    )
    return (
        f"gen {figures['database']} partners={figures['partners']} "
        f"customers={figures['customers']} subscriptions={figures['subscriptions']} "
        f"orders={figures['orders']} incidents={figures['incidents']} "
        f"seat_changes={figures['seat_changes']} alerts={figures['alerts']} "
        f"largest partner={figures['largest_partner']} median={figures['median_partner']} "
        f"seconds={seconds['total']} (migrate {seconds['migrate']}, generate "
        f"{seconds['generate_rows']}, load {seconds['load']}, analyze {seconds['analyze']}) "
        f"rows/s={rows / max(seconds['total'], 0.001):,.0f}"
    )


def main() -> int:
    args = parser().parse_args()
    if args.partners < 1 or args.customers < args.partners * SMALLEST_PARTNER:
        sys.stderr.write(
            f"error: give at least one partner and {SMALLEST_PARTNER} customers per partner\n"
        )
        return 2
    try:
        url = generated_database_url(args.database_url or f"sqlite:///{DEFAULT_SQLITE}")
    except BenchError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    RESULTS.mkdir(exist_ok=True)  # where the default SQLite file goes
    return run_and_save(
        "gen",
        lambda: generate(url, partners=args.partners, customers=args.customers, seed=args.seed),
        line=figures_line,
    )


if __name__ == "__main__":
    sys.exit(main())
