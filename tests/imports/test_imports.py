"""CSV imports: whole files or nothing, every problem with its line, re-imports change nothing."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.errors import UnknownPartner
from bot.imports import (
    ImportFailed,
    ImportReport,
    import_customers,
    import_subscriptions,
    parse_customers,
)
from storage import customers as stored_customers
from storage import imports as stored
from storage import seat_changes
from storage.db import Sessions
from storage.models import Partner
from tests.utils.factories import make_partner

TODAY = date(2026, 3, 15)
CUSTOMERS_HEADER = "name,domain,region,contact_name,contact_email,timezone\n"
SUBSCRIPTIONS_HEADER = (
    "customer_domain,plan,seats,unit_price,billing_cycle,start_date,renewal_date,status,"
    "billing_owner\n"
)
THREE_CUSTOMERS = (
    CUSTOMERS_HEADER
    + "Contoso Dental,contosodental.onmicrosoft.com,Europe,Anna Berg,anna@contosodental.de,"
    "Europe/Berlin\n"
    + "Fourth Coffee,fourthcoffee.onmicrosoft.com,North America,Tom Lee,tom@fourthcoffee.com,\n"
    + "Tailspin Toys,tailspintoys.onmicrosoft.com,Asia Pacific,Mei Chen,mei@tailspin.com.au,"
    "Australia/Sydney\n"
)


def csv_file(tmp_path: Path, text: str, name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def partner(sessions: Sessions) -> Partner:
    return await make_partner(sessions, team_id="T0IMPORT1")


async def stored_customers_of(sessions: Sessions, partner: Partner):
    async with sessions() as session:
        return await stored_customers.by_domain(session=session, partner_id=partner.id)


async def stored_subscriptions_of(sessions: Sessions, partner: Partner):
    async with sessions() as session:
        return await stored.subscriptions_by_key(session=session, partner_id=partner.id)


async def failure(coroutine) -> ImportFailed:
    with pytest.raises(ImportFailed) as raised:
        await coroutine
    return raised.value


# Customers


async def test_new_customers_are_stored_in_canonical_spelling(sessions, partner, tmp_path):
    path = csv_file(
        tmp_path,
        CUSTOMERS_HEADER
        + "  Contoso   Dental ,  ContosoDental.OnMicrosoft.com ,europe, Anna  Berg ,"
        "anna@contosodental.de,Europe/Berlin\n"
        + "Fabrikam & Sons,fabrikam.onmicrosoft.com,middle east and africa,,,\n",
    )

    report = await import_customers(sessions, team_id="T0IMPORT1", path=path)

    assert report == ImportReport("customers", added=2, updated=0, unchanged=0)
    assert report.describe() == "2 customers: 2 added, 0 updated, 0 unchanged"
    customers = await stored_customers_of(sessions, partner)
    contoso = customers["contosodental.onmicrosoft.com"]
    assert (contoso.name, contoso.name_key, contoso.region) == (
        "Contoso Dental",
        "contoso dental",
        "Europe",
    )
    assert (contoso.contact_name, contoso.contact_email, contoso.timezone) == (
        "Anna Berg",
        "anna@contosodental.de",
        "Europe/Berlin",
    )
    fabrikam = customers["fabrikam.onmicrosoft.com"]
    assert (fabrikam.region, fabrikam.contact_email, fabrikam.timezone) == (
        "Middle East & Africa",
        "",
        None,
    )


async def test_reimporting_the_same_file_changes_nothing(sessions, partner, tmp_path):
    path = csv_file(tmp_path, THREE_CUSTOMERS)
    await import_customers(sessions, team_id="T0IMPORT1", path=path)
    before = {d: c.updated_at for d, c in (await stored_customers_of(sessions, partner)).items()}

    report = await import_customers(sessions, team_id="T0IMPORT1", path=path)

    assert report.describe() == "3 customers: 0 added, 0 updated, 3 unchanged"
    after = {d: c.updated_at for d, c in (await stored_customers_of(sessions, partner)).items()}
    assert after == before


async def test_changed_rows_are_updated_and_new_rows_added(sessions, partner, tmp_path):
    await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, THREE_CUSTOMERS))
    before = await stored_customers_of(sessions, partner)
    changed = (
        CUSTOMERS_HEADER
        + "Contoso Dental,contosodental.onmicrosoft.com,Europe,Anna Berg,anna@contosodental.de,"
        "Europe/Berlin\n"
        + "Fourth Coffee Roasters,FOURTHCOFFEE.onmicrosoft.com,North America,Tom Lee,"
        "tom@fourthcoffee.com,\n"
        + "Litware,litware.onmicrosoft.com,Latin America,Ana Silva,ana@litware.com.br,\n"
    )

    report = await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, changed))

    # Tailspin Toys is not in the second file: an import never deletes.
    assert report.describe() == "3 customers: 1 added, 1 updated, 1 unchanged"
    after = await stored_customers_of(sessions, partner)
    assert len(after) == 4
    fourth = after["fourthcoffee.onmicrosoft.com"]
    assert (fourth.name, fourth.name_key) == ("Fourth Coffee Roasters", "fourth coffee roasters")
    assert fourth.updated_at > before["fourthcoffee.onmicrosoft.com"].updated_at
    assert fourth.created_at == before["fourthcoffee.onmicrosoft.com"].created_at
    contoso = "contosodental.onmicrosoft.com"
    assert after[contoso].updated_at == before[contoso].updated_at


async def test_time_zones_stay_without_the_column_and_when_blank_and_clear_with_a_dash(
    sessions, partner, tmp_path
):
    await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, THREE_CUSTOMERS))
    without_column = (
        "name,domain,region,contact_name,contact_email\n"
        "Contoso Dental,contosodental.onmicrosoft.com,Europe,Anna Berg,anna@contosodental.de\n"
    )
    report = await import_customers(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, without_column)
    )
    assert report.describe() == "1 customer: 0 added, 0 updated, 1 unchanged"
    customers = await stored_customers_of(sessions, partner)
    assert customers["contosodental.onmicrosoft.com"].timezone == "Europe/Berlin"

    # The issue: a blank optional cell wiped the stored zone. It keeps it.
    blank_zone = CUSTOMERS_HEADER + without_column.splitlines()[1] + ",\n"
    report = await import_customers(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, blank_zone)
    )
    assert report.describe() == "1 customer: 0 added, 0 updated, 1 unchanged"
    assert report.details() == []
    customers = await stored_customers_of(sessions, partner)
    assert customers["contosodental.onmicrosoft.com"].timezone == "Europe/Berlin"

    dash_zone = CUSTOMERS_HEADER + without_column.splitlines()[1] + ",-\n"
    report = await import_customers(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, dash_zone)
    )
    assert report.details() == [
        "line 2: changed customer contosodental.onmicrosoft.com; timezone Europe/Berlin → (blank)"
    ]
    customers = await stored_customers_of(sessions, partner)
    assert customers["contosodental.onmicrosoft.com"].timezone is None


async def test_blank_contacts_keep_the_stored_ones_and_a_dash_clears_them(
    sessions, partner, tmp_path
):
    await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, THREE_CUSTOMERS))
    blanks = (
        CUSTOMERS_HEADER
        + "Contoso Dental,contosodental.onmicrosoft.com,Europe,,,\n"
        + "Fourth Coffee,fourthcoffee.onmicrosoft.com,North America,-,-,\n"
    )
    report = await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, blanks))

    assert report.describe() == "2 customers: 0 added, 1 updated, 1 unchanged"
    assert report.details() == [
        "line 3: changed customer fourthcoffee.onmicrosoft.com; contact_name Tom Lee → (blank); "
        "contact_email tom@fourthcoffee.com → (blank)"
    ]
    customers = await stored_customers_of(sessions, partner)
    contoso = customers["contosodental.onmicrosoft.com"]
    assert (contoso.contact_name, contoso.contact_email, contoso.timezone) == (
        "Anna Berg",
        "anna@contosodental.de",
        "Europe/Berlin",
    )
    fourth = customers["fourthcoffee.onmicrosoft.com"]
    assert (fourth.contact_name, fourth.contact_email) == ("", "")


async def test_the_report_names_each_row_added_and_each_field_changed(sessions, partner, tmp_path):
    await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, THREE_CUSTOMERS))
    second = (
        CUSTOMERS_HEADER
        + "Contoso Dental,contosodental.onmicrosoft.com,europe,Anna Berg,anna@contosodental.de,"
        "Europe/Paris\n"
        + "Litware,litware.onmicrosoft.com,Latin America,Ana Silva,ana@litware.com.br,\n"
        + "Fourth Coffee Roasters,fourthcoffee.onmicrosoft.com,Europe,Tom Lee,tom@fourthcoffee.com,"
        "\n"
    )
    report = await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, second))

    assert report.describe() == "3 customers: 1 added, 2 updated, 0 unchanged"
    assert report.details() == [
        "line 2: changed customer contosodental.onmicrosoft.com; timezone Europe/Berlin → "
        "Europe/Paris",
        "line 3: added customer litware.onmicrosoft.com",
        "line 4: changed customer fourthcoffee.onmicrosoft.com; name Fourth Coffee → "
        "Fourth Coffee Roasters; region North America → Europe",
    ]


async def test_byte_order_mark_any_column_order_and_extra_columns(sessions, partner, tmp_path):
    path = tmp_path / "excel.csv"
    text = (
        "Region,Notes,Contact Email,Domain,Name,contact_name\r\n"
        'Europe,"likes ""Teams"", call Mondays",ines@adatum.de,adatum.onmicrosoft.com,'
        "Adatum GmbH,Inês Costa\r\n"
    )
    path.write_bytes(text.encode("utf-8-sig"))

    report = await import_customers(sessions, team_id="T0IMPORT1", path=path)

    assert report.added == 1
    adatum = (await stored_customers_of(sessions, partner))["adatum.onmicrosoft.com"]
    assert (adatum.name, adatum.contact_name, adatum.contact_email) == (
        "Adatum GmbH",
        "Inês Costa",
        "ines@adatum.de",
    )


async def test_every_bad_customer_row_is_reported_and_nothing_is_imported(
    sessions, partner, tmp_path
):
    long_name = "A" * 201
    text = (
        CUSTOMERS_HEADER
        + "Good Row,good.onmicrosoft.com,Europe,Ann,ann@good.com,\n"  # line 2
        + ",blankname.onmicrosoft.com,Europe,,,\n"  # line 3
        + "Bad Region,badregion.onmicrosoft.com,Antarctica,,,\n"  # line 4
        + "Bad Email,bademail.onmicrosoft.com,Europe,Bo,bo-at-example.com,\n"  # line 5
        + "Again,GOOD.onmicrosoft.com,Europe,,,\n"  # line 6
        + "Bad Zone,badzone.onmicrosoft.com,Europe,,,Mars/Olympus\n"  # line 7
        + f"{long_name},longname.onmicrosoft.com,Europe,,,\n"  # line 8
        + "No Domain,,Europe,,,\n"  # line 9
        + "Not A Domain,contoso,Europe,,,\n"  # line 10
    )

    error = await failure(
        import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, text, "c.csv"))
    )

    regions = "North America, Europe, Asia Pacific, Latin America, Middle East & Africa"
    assert error.problems == [
        "line 3: name is blank",
        f"line 4: unknown region 'Antarctica' (valid: {regions})",
        "line 5: contact_email 'bo-at-example.com' is not an email address",
        "line 6: domain good.onmicrosoft.com is also on line 2",
        "line 7: timezone 'Mars/Olympus' is not an IANA time zone like Europe/Berlin",
        "line 8: name is 201 characters long; at most 200",
        "line 9: domain is blank",
        "line 10: domain 'contoso' is not a domain such as contoso.onmicrosoft.com",
    ]
    assert str(error) == "c.csv: nothing imported, 8 problems; the first: line 3: name is blank"
    assert await stored_customers_of(sessions, partner) == {}


async def test_lines_are_counted_like_spreadsheet_rows():
    text = (
        CUSTOMERS_HEADER
        + '"Contoso\nDental",contoso.onmicrosoft.com,Europe,,,\n'  # line 2, over two text lines
        + "\n"  # line 3, blank: skipped
        + "Fourth Coffee,fourthcoffee.onmicrosoft.com,Mars,,,\n"  # line 4
    )

    parsed = parse_customers(text)

    assert [problem.split(":")[0] for problem in parsed.problems] == ["line 4"]
    assert parsed.rows[0].name == "Contoso Dental"


async def test_a_header_without_required_columns_names_them(sessions, partner, tmp_path):
    text = "name,domain,contact_name\nContoso,contoso.onmicrosoft.com,Anna\n"

    error = await failure(
        import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, text))
    )

    assert error.problems == [
        "line 1: missing column(s) region, contact_email; the header must be "
        "name,domain,region,contact_name,contact_email,timezone (timezone optional)"
    ]


async def test_a_subscriptions_file_given_as_customers_is_pointed_out(sessions, partner, tmp_path):
    error = await failure(
        import_customers(
            sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, SUBSCRIPTIONS_HEADER)
        )
    )

    assert error.problems[-1] == (
        "line 1: this looks like a subscriptions file; import it with `import subscriptions`"
    )


async def test_a_semicolon_separated_file_gets_a_hint():
    parsed = parse_customers("name;domain;region;contact_name;contact_email\n")

    assert parsed.problems[0].endswith("; separate the columns with commas")


async def test_an_empty_file_is_refused(sessions, partner, tmp_path):
    error = await failure(
        import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, "\n  \n"))
    )

    assert error.problems == [
        "the file is empty; its first line must be the header "
        "name,domain,region,contact_name,contact_email,timezone"
    ]


async def test_a_file_that_is_not_utf8_is_refused_with_its_line(sessions, partner, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        (
            CUSTOMERS_HEADER
            + "Cafe,cafe.onmicrosoft.com,Europe,,,\nCafé,x.onmicrosoft.com,Europe,,,\n"
        ).encode("latin-1")
    )

    error = await failure(import_customers(sessions, team_id="T0IMPORT1", path=path))

    assert error.problems == ["line 3: not UTF-8 text (byte 0xe9); save it as CSV UTF-8"]
    assert str(error) == (
        "latin1.csv: nothing imported; line 3: not UTF-8 text (byte 0xe9); save it as CSV UTF-8"
    )


async def test_utf16_text_is_refused(sessions, partner, tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes(THREE_CUSTOMERS.encode("utf-16-le"))

    error = await failure(import_customers(sessions, team_id="T0IMPORT1", path=path))

    assert error.problems == ["line 1: holds NUL characters (UTF-16 text?); save it as CSV UTF-8"]


async def test_a_missing_file_is_refused(sessions, partner, tmp_path):
    error = await failure(
        import_customers(sessions, team_id="T0IMPORT1", path=tmp_path / "missing.csv")
    )

    assert "missing.csv" in error.problems[0]


async def test_an_unknown_workspace_is_refused(sessions, partner, tmp_path):
    with pytest.raises(UnknownPartner):
        await import_customers(
            sessions, team_id="T0NOBODY", path=csv_file(tmp_path, THREE_CUSTOMERS)
        )


async def test_problems_are_capped_at_fifty(sessions, partner, tmp_path):
    text = CUSTOMERS_HEADER + "".join(f"C{n},c{n}.onmicrosoft.com,Mars,,,\n" for n in range(120))

    error = await failure(
        import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, text, "c.csv"))
    )

    assert len(error.problems) == 51
    assert error.problems[49].startswith("line 51: unknown region 'Mars'")
    assert error.problems[50] == "… and 70 more"
    assert str(error).startswith("c.csv: nothing imported, 120 problems; the first: line 2:")


async def test_partners_import_the_same_domain_independently(sessions, partner, tmp_path):
    other = await make_partner(sessions, team_id="T0IMPORT2")
    path = csv_file(tmp_path, THREE_CUSTOMERS)
    await import_customers(sessions, team_id="T0IMPORT1", path=path)

    report = await import_customers(sessions, team_id="T0IMPORT2", path=path)

    assert report.added == 3
    assert len(await stored_customers_of(sessions, partner)) == 3
    assert len(await stored_customers_of(sessions, other)) == 3


async def test_a_failure_while_writing_leaves_nothing_behind(
    sessions, partner, tmp_path, monkeypatch
):
    await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, THREE_CUSTOMERS))
    more = THREE_CUSTOMERS.replace("Tom Lee", "Thomas Lee") + (
        "Litware,litware.onmicrosoft.com,Latin America,,,\n"
    )

    async def broken_update(**_):
        raise RuntimeError("disk full")

    monkeypatch.setattr(stored, "update_customers", broken_update)
    with pytest.raises(RuntimeError):
        await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, more))

    # The insert of Litware ran before the failing update; the transaction took it back.
    assert "litware.onmicrosoft.com" not in await stored_customers_of(sessions, partner)


async def test_ten_thousand_rows_import_in_seconds(sessions, partner, tmp_path):
    customers = CUSTOMERS_HEADER + "".join(
        f"Customer {n},customer{n}.onmicrosoft.com,Europe,Contact {n},c{n}@example.com,\n"
        for n in range(10_000)
    )
    subscriptions = SUBSCRIPTIONS_HEADER + "".join(
        f"customer{n}.onmicrosoft.com,EXO,{n % 90 + 10},,annual,2025-06-01,2026-06-01,active,"
        "vendor\n"
        for n in range(10_000)
    )
    started = time.perf_counter()

    await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, customers))
    await import_subscriptions(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, subscriptions), today=TODAY
    )
    again = await import_subscriptions(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, subscriptions), today=TODAY
    )

    assert again.unchanged == 10_000
    assert time.perf_counter() - started < 10  # row-by-row writes take far longer


# Subscriptions


@pytest.fixture
async def customers(sessions, partner, tmp_path) -> dict[str, int]:
    await import_customers(sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, THREE_CUSTOMERS))
    async with sessions() as session:
        return await stored.customer_ids_by_domain(session=session, partner_id=partner.id)


async def test_subscriptions_are_stored_with_list_price_for_a_blank_price(
    sessions, partner, customers, tmp_path
):
    text = (
        "Customer Domain,Plan,Seats,Unit Price,Billing Cycle,Start Date,Renewal Date,Status,"
        "Billing Owner,partner_of_record\n"
        "ContosoDental.onmicrosoft.com,bpos-s,25,,Annual,2025-06-01,2026-06-01,Active,Partner,\n"
        "fourthcoffee.onmicrosoft.com,EXO,7,4.5,monthly,2026-02-10,2026-04-10,trial,vendor,no\n"
    )

    report = await import_subscriptions(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, text), today=TODAY
    )

    assert report.describe() == "2 subscriptions: 2 added, 0 updated, 0 unchanged"
    stored_rows = await stored_subscriptions_of(sessions, partner)
    contoso = customers["contosodental.onmicrosoft.com"]
    suite = stored_rows[(contoso, "BPOS-S", date(2025, 6, 1))]
    assert (suite.seats, suite.unit_price, suite.billing_cycle, suite.renewal_date) == (
        25,
        Decimal("15.00"),
        "annual",
        date(2026, 6, 1),
    )
    assert (suite.status, suite.billing_owner, suite.partner_of_record_id) == (
        "active",
        "partner",
        partner.id,
    )
    mail = stored_rows[(customers["fourthcoffee.onmicrosoft.com"], "EXO", date(2026, 2, 10))]
    assert (mail.unit_price, mail.status, mail.partner_of_record_id) == (
        Decimal("4.50"),
        "trial",
        None,
    )


async def test_subscription_reimport_updates_only_changed_rows(
    sessions, partner, customers, tmp_path
):
    first = (
        SUBSCRIPTIONS_HEADER
        + "contosodental.onmicrosoft.com,BPOS-S,25,,annual,2025-06-01,2026-06-01,active,partner\n"
        + "contosodental.onmicrosoft.com,EXO,5,,annual,2025-06-01,2026-06-01,active,partner\n"
    )
    await import_subscriptions(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, first), today=TODAY
    )
    before = await stored_subscriptions_of(sessions, partner)
    second = (
        first.replace("BPOS-S,25,", "BPOS-S,30,")
        + "tailspintoys.onmicrosoft.com,SPO,12,5.00,monthly,2026-03-01,2026-04-01,active,vendor\n"
    )

    report = await import_subscriptions(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, second), today=TODAY
    )
    unchanged = await import_subscriptions(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, second), today=TODAY
    )

    assert report.describe() == "3 subscriptions: 1 added, 1 updated, 1 unchanged"
    assert unchanged.describe() == "3 subscriptions: 0 added, 0 updated, 3 unchanged"
    after = await stored_subscriptions_of(sessions, partner)
    suite = (customers["contosodental.onmicrosoft.com"], "BPOS-S", date(2025, 6, 1))
    mail = (customers["contosodental.onmicrosoft.com"], "EXO", date(2025, 6, 1))
    assert after[suite].seats == 30
    assert after[suite].updated_at > before[suite].updated_at
    assert after[mail].updated_at == before[mail].updated_at


async def test_a_blank_price_or_partner_of_record_keeps_what_a_subscription_has(
    sessions, partner, customers, tmp_path
):
    header = SUBSCRIPTIONS_HEADER.rstrip("\n") + ",partner_of_record\n"
    first = header + (
        "contosodental.onmicrosoft.com,EXO,5,3.80,annual,2025-06-01,2026-06-01,active,partner,no\n"
    )
    await import_subscriptions(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, first), today=TODAY
    )
    blank = header + (
        "contosodental.onmicrosoft.com,EXO,6,,annual,2025-06-01,2026-06-01,active,partner,\n"
    )

    report = await import_subscriptions(
        sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, blank), today=TODAY
    )

    # The negotiated 3.80 stays (not the list price 5.00), and so does "not partner of record".
    assert report.details() == [
        "line 2: changed EXO of contosodental.onmicrosoft.com from 2025-06-01; seats 5 → 6"
    ]
    mail = (await stored_subscriptions_of(sessions, partner))[
        (customers["contosodental.onmicrosoft.com"], "EXO", date(2025, 6, 1))
    ]
    assert (mail.seats, mail.unit_price, mail.partner_of_record_id) == (6, Decimal("3.80"), None)
    # The seat change counts from the import day, at the price it kept.
    async with sessions() as session:
        [change] = (
            await seat_changes.of_subscriptions(session=session, subscription_ids=[mail.id])
        )[mail.id]
    assert (change.effective_on, change.seats_before, change.seats_after) == (TODAY, 5, 6)
    assert change.unit_price_before == change.unit_price_after == Decimal("3.80")


async def test_every_bad_subscription_row_is_reported_and_nothing_is_imported(
    sessions, partner, customers, tmp_path
):
    await make_partner(sessions, team_id="T0IMPORT2")
    await import_customers(
        sessions,
        team_id="T0IMPORT2",
        path=csv_file(tmp_path, CUSTOMERS_HEADER + "Other,other.onmicrosoft.com,Europe,,,\n"),
    )
    good = (
        "contosodental.onmicrosoft.com,{plan},{seats},{price},{cycle},{start},{renewal},{status},"
        "{owner}"
    )
    values = {
        "plan": "EXO",
        "seats": "10",
        "price": "",
        "cycle": "annual",
        "start": "2025-06-01",
        "renewal": "2026-06-01",
        "status": "active",
        "owner": "vendor",
    }

    def row(**changes: str) -> str:
        return good.format(**{**values, **changes}) + "\n"

    rows = [
        row(),  # line 2: fine
        row(plan="XYZ"),  # 3
        row(plan="SPO", seats="ten"),  # 4
        row(plan="OCO", seats="-5"),  # 5
        row(plan="OLM", seats="0"),  # 6
        row(plan="OLM", seats="0", status="cancelled", start="2025-01-01"),  # 7: fine
        row(plan="OLM", seats="2000000", start="2025-02-01"),  # 8
        row(plan="OLM", price="abc", start="2025-03-01"),  # 9
        row(plan="OLM", price="-1", start="2025-04-01"),  # 10
        row(plan="OLM", price="1.234", start="2025-05-01"),  # 11
        row(plan="OLM", cycle="yearly", start="2025-12-01"),  # 12
        row(plan="OLM", start="01/07/2025"),  # 13
        row(plan="OLM", start="2025-02-30"),  # 14
        row(plan="OLM", start="2025-08-01", renewal="2025-07-01"),  # 15
        row(plan="OLM", start="2025-09-01", status="paused"),  # 16
        row(plan="OLM", start="2025-10-01", owner="reseller"),  # 17
        row(),  # 18: same as line 2
        "other.onmicrosoft.com,EXO,10,,annual,2025-06-01,2026-06-01,active,vendor\n",  # 19
        row(plan="BPOS-S", start="1925-06-01"),  # 20
        row(plan="BPOS-S", start="2025-11-01", renewal="2225-11-01"),  # 21
    ]
    text = SUBSCRIPTIONS_HEADER + "".join(rows)

    error = await failure(
        import_subscriptions(
            sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, text), today=TODAY
        )
    )

    assert error.problems == [
        "line 3: unknown plan 'XYZ' (valid: BPOS-S, EXO, SPO, OCO, OLM, EXO-P1, M365-BB, "
        "M365-BS, M365-BP, O365-E3, M365-E3, M365-E5)",
        "line 4: seats 'ten' is not a whole number",
        "line 5: seats is -5; it cannot be negative",
        "line 6: seats is 0; only a cancelled subscription may have no seats",
        "line 8: seats is 2,000,000; more than 1,000,000 must be a typo",
        "line 9: unit_price 'abc' is not a number such as 12.50",
        "line 10: unit_price -1 is negative",
        "line 11: unit_price 1.234 has more than 2 decimals",
        "line 12: billing_cycle 'yearly' is not valid (valid: monthly, annual)",
        "line 13: start_date '01/07/2025' is not a date written YYYY-MM-DD",
        "line 14: start_date 2025-02-30 is not a day of the calendar",
        "line 15: renewal_date 2025-07-01 is before start_date 2025-08-01",
        "line 16: status 'paused' is not valid (valid: active, suspended, cancelled, trial)",
        "line 17: billing_owner 'reseller' is not valid (valid: vendor, partner)",
        "line 18: EXO for contosodental.onmicrosoft.com starting 2025-06-01 is also on line 2",
        "line 19: no customer with domain other.onmicrosoft.com; "
        "add it with `import customers` first",
        "line 20: start_date 1925-06-01 is over 20 years ago; check the year",
        "line 21: renewal_date 2225-11-01 is over 10 years from now; check the year",
    ]
    assert await stored_subscriptions_of(sessions, partner) == {}


async def test_partner_of_record_accepts_only_yes_or_no(sessions, partner, customers, tmp_path):
    text = (
        SUBSCRIPTIONS_HEADER.rstrip("\n")
        + ",partner_of_record\n"
        + "contosodental.onmicrosoft.com,EXO,5,,annual,2025-06-01,2026-06-01,active,vendor,maybe\n"
    )

    error = await failure(
        import_subscriptions(
            sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, text), today=TODAY
        )
    )

    assert error.problems == ["line 2: partner_of_record 'maybe' is not yes or no (blank = yes)"]


async def test_subscriptions_need_the_partners_own_customers_first(sessions, partner, tmp_path):
    text = SUBSCRIPTIONS_HEADER + (
        "contosodental.onmicrosoft.com,EXO,5,,annual,2025-06-01,2026-06-01,active,vendor\n"
    )

    error = await failure(
        import_subscriptions(
            sessions, team_id="T0IMPORT1", path=csv_file(tmp_path, text), today=TODAY
        )
    )

    assert error.problems == [
        "line 2: no customer with domain contosodental.onmicrosoft.com; "
        "add it with `import customers` first"
    ]
