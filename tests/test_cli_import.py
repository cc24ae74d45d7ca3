"""`python -m bot import …` says on standard output what it did with each row."""

from __future__ import annotations

from storage import customers as stored_customers
from tests.utils.factories import make_partner
from tests.utils.serve import run_bot

HEADER = "name,domain,region,contact_name,contact_email,timezone\n"


async def test_a_reimport_prints_each_change_and_keeps_a_blank_time_zone(
    database_url, sessions, tmp_path
):
    partner = await make_partner(sessions, team_id="T0CLIIMP")
    first = tmp_path / "customers.csv"
    first.write_text(
        HEADER
        + "Contoso Dental,contosodental.com,Europe,Anna Berg,anna@contosodental.de,Europe/Berlin\n"
        + "Fourth Coffee,fourthcoffee.com,North America,Tom Lee,tom@fourthcoffee.com,\n"
    )
    code, out, err = await run_bot(
        "import", "customers", str(first), "--team-id", "T0CLIIMP",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines() == [
        "customers.csv: imported 2 customers: 2 added, 0 updated, 0 unchanged",
        "  line 2: added customer contosodental.com",
        "  line 3: added customer fourthcoffee.com",
    ]

    again = tmp_path / "again.csv"
    again.write_text(
        HEADER
        + "Contoso Dental,contosodental.com,Europe,Anna Berg,anna@contosodental.de,\n"
        + "Fourth Coffee,fourthcoffee.com,North America,Tom Lee,tom@fourthcoffee.com,"
        "America/Chicago\n"
    )
    code, out, err = await run_bot(
        "import", "customers", str(again), "--team-id", "T0CLIIMP",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip

    assert code == 0, err
    assert out.splitlines() == [
        "again.csv: imported 2 customers: 0 added, 1 updated, 1 unchanged",
        "  line 3: changed customer fourthcoffee.com; timezone (blank) → America/Chicago",
    ]
    async with sessions() as session:
        stored = await stored_customers.by_domain(session=session, partner_id=partner.id)
    assert stored["contosodental.com"].timezone == "Europe/Berlin"
