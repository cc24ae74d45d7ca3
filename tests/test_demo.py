"""The demo data set: the market's shape, deterministic, valid by the import's own rules."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.catalogue import BUILT_IN
from bot.demo import DEMO_TEAM_IDS, DemoReport, demo_books, load_demo_data
from bot.errors import UserError
from bot.imports import parse_customers, parse_subscriptions
from bot.zones import add_years
from storage import customers as stored_customers
from storage import partners as stored_partners
from storage.models import Subscription
from tests.utils.factories import EVERY_PLAN_CODE, make_partner

TODAY = date(2026, 3, 15)


@pytest.fixture(scope="module")
def books():
    return demo_books(catalogue=BUILT_IN, today=TODAY, seed=2026)


def all_subscriptions(books):
    return [subscription for book in books for subscription in book.subscriptions]


def test_ten_partners_share_1040_customers_in_a_long_tail(books):
    counts = [len(book.customers) for book in books]

    assert len(counts) == 10
    assert sum(counts) == 1040
    assert (max(counts), min(counts)) == (390, 65)
    assert counts[0] == 390  # the first partner, which the local shell opens, is the biggest
    assert DEMO_TEAM_IDS == [book.partner.team_id for book in books]
    assert DEMO_TEAM_IDS[0] == "T0DEMO001"


def test_the_same_seed_makes_the_same_data_and_another_seed_other_data(books):
    assert demo_books(catalogue=BUILT_IN, today=TODAY, seed=2026) == books
    assert demo_books(catalogue=BUILT_IN, today=TODAY, seed=7) != books


def test_customers_have_unique_names_per_partner_and_unique_domains(books):
    for book in books:
        keys = [customer.name_key for customer in book.customers]
        assert len(set(keys)) == len(keys)
    domains = [customer.domain for book in books for customer in book.customers]
    assert len(set(domains)) == 1040
    assert all(domain.endswith(".onmicrosoft.com") for domain in domains)


def test_the_first_partner_has_names_that_need_escaping_in_slack(books):
    names = [customer.name for customer in books[0].customers]

    assert any("&" in name for name in names)
    assert any("<" in name and ">" in name for name in names)


def test_every_plan_both_billing_owners_and_several_regions_appear(books):
    subscriptions = all_subscriptions(books)

    assert {s.plan_code for s in subscriptions} == set(EVERY_PLAN_CODE)
    assert {s.billing_owner for s in subscriptions} == {"vendor", "partner"}
    regions = {customer.region for book in books for customer in book.customers}
    assert len(regions) >= 3
    statuses = Counter(s.status for s in subscriptions)
    assert set(statuses) == {"active", "trial", "suspended", "cancelled"}
    assert statuses["active"] > len(subscriptions) / 2


def test_business_basic_is_the_commonest_plan_and_a_few_customers_are_big(books):
    plans = Counter(s.plan_code for s in all_subscriptions(books))
    seats = [s.seats for s in all_subscriptions(books)]

    assert plans.most_common(1)[0][0] == "M365-BB"
    todays = ("EXO-P1", "M365-BB", "M365-BS", "M365-BP", "O365-E3", "M365-E3", "M365-E5")
    assert sum(plans[code] for code in todays) > sum(plans.values()) / 2
    assert plans["EXO"] > plans["SPO"] and plans["BPOS-S"] > plans["SPO"]
    assert min(seats) >= 3 and max(seats) <= 500
    assert sum(1 for count in seats if count >= 200) >= 5
    assert sorted(seats)[len(seats) // 2] < 50  # most customers are small businesses


def test_one_to_four_subscriptions_per_customer(books):
    for book in books:
        per_customer = Counter(s.customer_domain for s in book.subscriptions)
        assert set(per_customer) == {customer.domain for customer in book.customers}
        assert set(per_customer.values()) <= {1, 2, 3, 4}


def test_renewals_spread_over_the_next_twelve_months(books):
    live = [s for s in all_subscriptions(books) if s.status != "cancelled"]
    year_ahead = add_years(TODAY, 1)

    assert all(TODAY < s.renewal_date <= year_ahead for s in live)
    month_ahead = date(2026, 4, 15)
    assert all(s.renewal_date <= month_ahead for s in live if s.billing_cycle == "monthly")
    months = {(s.renewal_date.year, s.renewal_date.month) for s in live}
    assert len(months) >= 12


def test_some_subscriptions_are_in_their_first_year_and_some_after(books):
    subscriptions = all_subscriptions(books)
    first_year = [s for s in subscriptions if add_years(s.start_date, 1) > TODAY]

    assert 0 < len(first_year) < len(subscriptions)
    assert min(s.start_date for s in subscriptions) >= add_years(TODAY, -3)


def test_prices_are_list_price_or_a_negotiated_discount(books):
    list_prices = {code: plan.list_price for code, plan in BUILT_IN.plans.items()}
    subscriptions = all_subscriptions(books)
    discounted = [s for s in subscriptions if s.unit_price != list_prices[s.plan_code]]

    assert all(s.unit_price < list_prices[s.plan_code] for s in discounted)
    assert 0 < len(discounted) < len(subscriptions) / 4


def test_most_subscriptions_have_the_partner_as_partner_of_record(books):
    of_record = [s.partner_of_record for s in all_subscriptions(books)]

    assert of_record.count(False) > 0
    assert of_record.count(True) > 0.8 * len(of_record)


def as_csv(rows, columns) -> str:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[column] is None else row[column] for column in columns])
    return text.getvalue()


def test_the_data_passes_the_imports_own_checks(books):
    for book in books:
        customers = as_csv(
            [vars(customer) for customer in book.customers],
            ["name", "domain", "region", "contact_name", "contact_email", "timezone"],
        )
        subscriptions = as_csv(
            [
                {
                    **vars(s),
                    "plan": s.plan_code,
                    "partner_of_record": "yes" if s.partner_of_record else "no",
                }
                for s in book.subscriptions
            ],
            [
                "customer_domain",
                "plan",
                "seats",
                "unit_price",
                "billing_cycle",
                "start_date",
                "renewal_date",
                "status",
                "billing_owner",
                "partner_of_record",
            ],
        )

        parsed_customers = parse_customers(customers)
        parsed_subscriptions = parse_subscriptions(
            subscriptions,
            customer_domains={customer.domain for customer in book.customers},
            today=TODAY,
        )

        assert parsed_customers.problems == []
        assert parsed_customers.rows == book.customers
        assert parsed_subscriptions.problems == []
        assert parsed_subscriptions.rows == book.subscriptions


async def test_loads_the_data_set_into_an_empty_database(sessions):
    report = await load_demo_data(sessions, today=TODAY)

    assert report.partners == 10 and report.customers == 1040
    assert (
        report.describe() == f"10 partners, 1,040 customers, {report.subscriptions:,} subscriptions"
    )
    async with sessions() as session:
        partners = {p.team_id: p for p in await stored_partners.list_all(session=session)}
        assert set(partners) == set(DEMO_TEAM_IDS)
        biggest = partners["T0DEMO001"]
        assert await stored_customers.count(session=session, partner_id=biggest.id) == 390
        assert await stored_customers.count(session=session) == 1040
        assert biggest.alert_channel == "C0DEMO001A"
        managers = await stored_partners.manager_ids(session=session, partner_id=biggest.id)
        assert 1 <= len(managers) <= 2
        total = (await session.exec(select(func.count()).select_from(Subscription))).one()
        assert total == report.subscriptions
        without_record = (
            await session.exec(
                select(func.count())
                .select_from(Subscription)
                .where(Subscription.partner_of_record_id.is_(None))
            )
        ).one()
        assert 0 < without_record < total / 4


async def test_refuses_a_database_that_already_has_partners(sessions):
    await make_partner(sessions)

    with pytest.raises(UserError, match="already holds 1 partner; demo-data only fills"):
        await load_demo_data(sessions, today=TODAY)


def test_the_report_says_what_was_loaded():
    assert (
        DemoReport(partners=10, customers=1040, subscriptions=2612).describe()
        == "10 partners, 1,040 customers, 2,612 subscriptions"
    )
