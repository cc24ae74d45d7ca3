"""bench/gen.py builds data the bot can use: the same rows the bot would write, on SQLite and (with
DATABASE_URL) on PostgreSQL through COPY, in a database of its own."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from bot.arguments import fold
from bot.catalogue import BUILT_IN
from bot.money import cents
from bot.orders.rules import REMIND_AFTER
from storage import customers, partners
from storage.db import create_engine, is_sqlite, session_factory

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
import gen  # noqa: E402

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def as_utc(value: object) -> datetime:
    """A time as the database gives it back: aware on PostgreSQL, naive UTC text on SQLite."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@asynccontextmanager
async def generators_database(database_url: str, folder: Path) -> AsyncIterator[str]:
    """A database of the generator's own (it empties the one it is given), gone afterwards: a
    SQLite file in `folder`, or on PostgreSQL `<test database>_bench_gen` beside the test's."""
    if is_sqlite(database_url):
        path = folder / "gen.db"
        yield f"sqlite+aiosqlite:///{path}"
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            file.unlink(missing_ok=True)
        return
    test_database = make_url(database_url)
    name = f"{test_database.database}_bench_gen"
    yield test_database.set(database=name).render_as_string(hide_password=False)
    connection = await asyncpg.connect(plain_postgres(test_database))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await connection.close()


def plain_postgres(url: URL) -> str:
    """The URL of the server's maintenance database, as asyncpg takes it."""
    return url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )


@pytest.fixture
async def gen_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    async with generators_database(database_url, tmp_path) as url:
        yield url


async def test_the_generators_database_is_gone_after_the_test(database_url, tmp_path):
    async with generators_database(database_url, tmp_path) as url:
        await gen.generate(url, partners=1, customers=5, seed=1, now=NOW)
    if is_sqlite(url):
        assert list(tmp_path.iterdir()) == []
        return
    connection = await asyncpg.connect(plain_postgres(make_url(database_url)))
    try:
        left = await connection.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname = $1", make_url(url).database
        )
    finally:
        await connection.close()
    assert left == 0


async def test_a_small_set_is_whole_and_the_bot_finds_its_customers(gen_url):
    figures = await gen.generate(gen_url, partners=6, customers=600, seed=7, now=NOW)
    assert (figures["partners"], figures["customers"]) == (6, 600)

    engine = create_engine(gen_url)
    try:
        async with engine.connect() as connection:

            async def scalar(sql: str) -> int:
                return (await connection.execute(text(sql))).scalar()

            assert await scalar("SELECT count(*) FROM customer") == 600
            assert await scalar("SELECT count(*) FROM subscription") == figures["subscriptions"]
            assert figures["subscriptions"] >= 600 and figures["orders"] > 0
            # Every partner has customers; domains are unique within a partner.
            assert await scalar("SELECT count(DISTINCT partner_id) FROM customer") == 6
            assert (
                await scalar(
                    "SELECT count(*) FROM (SELECT partner_id, domain FROM customer "
                    "GROUP BY partner_id, domain HAVING count(*) > 1) AS twice"
                )
                == 0
            )
            # A subscription belongs to its customer's partner; renewals come after today.
            assert (
                await scalar(
                    "SELECT count(*) FROM subscription s JOIN customer c ON c.id = s.customer_id "
                    "WHERE s.partner_id <> c.partner_id"
                )
                == 0
            )
            renewals = await connection.execute(
                text("SELECT renewal_date, status FROM subscription")
            )
            # Renewals come after today, but for trials that ended (suspended, 30 days long).
            for day, status in renewals.all():
                assert date.fromisoformat(str(day)) > NOW.date() or status == "suspended"
            ended = await connection.execute(
                text(
                    "SELECT renewal_date - start_date FROM subscription WHERE status = 'suspended'"
                )
                if not is_sqlite(gen_url)
                else text(
                    "SELECT julianday(renewal_date) - julianday(start_date) FROM subscription "
                    "WHERE status = 'suspended'"
                )
            )
            assert gen.TRIAL_DAYS in {int(days) for (days,) in ended.all()}
            # 1 to 4 plans a customer; a seat change chains to its subscription's seats of today.
            most = await scalar(
                "SELECT max(n) FROM (SELECT count(*) AS n FROM subscription "
                "WHERE renewal_date > :today GROUP BY customer_id) AS plans".replace(
                    ":today", f"'{NOW.date().isoformat()}'"
                )
            )
            assert 1 <= most <= 4
            assert figures["seat_changes"] > 0
            assert (
                await scalar(
                    "SELECT count(*) FROM seat_change c JOIN subscription s "
                    "ON s.id = c.subscription_id WHERE c.partner_id <> s.partner_id "
                    "OR c.effective_on <= s.start_date OR c.seats_before = c.seats_after"
                )
                == 0
            )
            latest = await connection.execute(
                text(
                    "SELECT s.seats, c.seats_after FROM seat_change c JOIN subscription s "
                    "ON s.id = c.subscription_id WHERE c.effective_on = (SELECT max(effective_on) "
                    "FROM seat_change o WHERE o.subscription_id = c.subscription_id)"
                )
            )
            assert all(seats == after for seats, after in latest.all())
            # Alerts: one per incident and partner, each partner selling the service there.
            assert figures["alerts"] == await scalar("SELECT count(*) FROM incident_alert")
            assert figures["alerts"] > 0
            assert (
                await scalar(
                    "SELECT count(*) FROM incident_alert a WHERE NOT EXISTS (SELECT 1 FROM "
                    "subscription s WHERE s.partner_id = a.partner_id AND s.status = 'active')"
                )
                == 0
            )
            # Prices are the list price less a discount, rounded to cents as the bot rounds.
            prices = await connection.execute(
                text("SELECT DISTINCT plan_code, unit_price FROM subscription")
            )
            for plan, unit_cents in prices.all():
                list_price = BUILT_IN.get(plan).list_price
                allowed = {cents(list_price * (100 - d) / 100) for d in gen.DISCOUNTS}
                assert Decimal(unit_cents) / 100 in allowed, (plan, unit_cents)
            # A year of reminder sweeps: no pending order older than 3 days is still waiting for
            # its reminder (the first sweep would otherwise send them all at once).
            orders = await connection.execute(
                text("SELECT filed_at, reminded_at FROM customer_order WHERE state = 'pending'")
            )
            pending = [(as_utc(filed), reminded) for filed, reminded in orders.all()]
            assert pending
            assert all(
                (reminded is not None) == (filed <= NOW - REMIND_AFTER)
                for filed, reminded in pending
            )
            names = (await connection.execute(text("SELECT name, name_key FROM customer"))).all()
            assert all(key == fold(name) for name, key in names)
        sessions = session_factory(engine)
        async with sessions() as session:
            partner = await partners.get_by_team_id(session=session, team_id=gen.team_id(3))
            assert partner is not None
            rows = await customers.ids_names_and_domains(session=session, partner_id=partner.id)
            _, name_key, domain = rows[0]
            found = await customers.find(
                session=session, partner_id=partner.id, folded=domain, pattern="", limit=5
            )
            assert found.exact and [c.name_key for c in found.customers] == [name_key]
    finally:
        await engine.dispose()


def test_renewals_come_after_today():
    today = date(2026, 11, 23)
    assert gen.next_renewal(date(2024, 3, 10), annual=True, today=today) == date(2027, 3, 10)
    assert gen.next_renewal(date(2025, 12, 1), annual=True, today=today) == date(2026, 12, 1)
    assert gen.next_renewal(date(2026, 11, 23), annual=True, today=today) == date(2027, 11, 23)
    assert gen.next_renewal(date(2025, 1, 31), annual=False, today=today) == date(2026, 11, 28)
    assert gen.next_renewal(date(2025, 1, 5), annual=False, today=today) == date(2026, 12, 5)
    assert gen.next_renewal(date(2025, 1, 23), annual=False, today=date(2026, 12, 23)) == date(
        2027, 1, 23
    )


async def test_it_refuses_to_empty_a_postgres_database_not_named_for_benches():
    # A database nobody uses: should the check ever break, nothing of value is emptied.
    with pytest.raises(gen.BenchError, match="bench"):
        await gen.generate(
            "postgresql://postgres@127.0.0.1:5432/partnerbot_not_for_generating",
            partners=1,
            customers=5,
            now=NOW,
        )


async def test_a_new_sqlite_set_leaves_nothing_of_the_old_one(tmp_path):
    path = tmp_path / "set.db"
    (tmp_path / "set.db-wal").write_bytes(b"stale log of an earlier set")
    await gen.generate(f"sqlite:///{path}", partners=1, customers=5, seed=1, now=NOW)
    assert (
        not (tmp_path / "set.db-wal").exists()
        or b"stale" not in (tmp_path / "set.db-wal").read_bytes()
    )
