"""bench/gen.py builds data the bot can use: the same rows the bot would write, on SQLite and (with
DATABASE_URL) on PostgreSQL through COPY, in a database of its own."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.subscriptions import fold
from storage import customers, partners
from storage.db import create_engine, is_sqlite, session_factory

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
import gen  # noqa: E402

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def gen_url(database_url: str, tmp_path: Path) -> str:
    """A database of the generator's own: it empties the one it is given."""
    if is_sqlite(database_url):
        return f"sqlite+aiosqlite:///{tmp_path / 'gen.db'}"
    name = f"{make_url(database_url).database}_bench_gen"
    return make_url(database_url).set(database=name).render_as_string(hide_password=False)


async def test_a_small_set_is_whole_and_the_bot_finds_its_customers(gen_url):
    figures = await gen.generate(gen_url, partners=6, customers=300, seed=7, now=NOW)
    assert (figures["partners"], figures["customers"]) == (6, 300)

    engine = create_engine(gen_url)
    try:
        async with engine.connect() as connection:

            async def scalar(sql: str) -> int:
                return (await connection.execute(text(sql))).scalar()

            assert await scalar("SELECT count(*) FROM customer") == 300
            assert await scalar("SELECT count(*) FROM subscription") == figures["subscriptions"]
            assert figures["subscriptions"] >= 300 and figures["orders"] > 0
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
            renewals = await connection.execute(text("SELECT renewal_date FROM subscription"))
            assert all(date.fromisoformat(str(day)) > NOW.date() for (day,) in renewals.all())
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
