"""A partner's sync from the local Partner Center: everything or nothing, only what changed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import select

from bot.partner_center.sync import sync_partner
from storage.models import Customer, OutboxMessage, PartnerCenterConnection, Subscription
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.partner_center import connected, fixture, subscription

C1 = "11111111-aaaa-4bbb-8ccc-000000000001"
C2 = "11111111-aaaa-4bbb-8ccc-000000000002"


async def rows(sessions, model):
    async with sessions() as session:
        return list((await session.exec(select(model))).all())


async def test_first_sync_brings_customers_and_subscriptions(pc_services, local_pc, sessions):
    partner = await make_partner(sessions)
    account = await connected(pc_services, local_pc, partner.id)
    account.add_customer(C1, "Contoso Dental", "contosodental.onmicrosoft.com")
    account.subscriptions[C1] += [
        subscription("s-1", quantity=12),
        fixture("subscription_marketplace_deleted.json"),
    ]

    outcome = await sync_partner(pc_services, partner.id)

    assert outcome.problem is None
    (customer,) = await rows(sessions, Customer)
    assert (customer.name, customer.domain, customer.external_id) == (
        "Contoso Dental", "contosodental.onmicrosoft.com", C1,
    )  # fmt: skip
    by_id = {s.external_id: s for s in await rows(sessions, Subscription)}
    basic = by_id["s-1"]
    assert (basic.plan_code, basic.seats, basic.status, basic.billing_cycle) == (
        "M365-BB", 12, "active", "annual",
    )  # fmt: skip
    assert basic.unit_price == Decimal("6.00")  # the catalogue's list price
    assert (basic.start_date, basic.renewal_date, basic.term) == (
        date(2026, 1, 15), date(2027, 1, 14), "P1Y",
    )  # fmt: skip
    assert basic.partner_of_record_id == partner.id and basic.source == "partner_center"
    marketplace = by_id["6e7aa601-629e-461b-8933-0898c3cc3c7c"]
    assert (marketplace.plan_code, marketplace.offer_name, marketplace.status) == (
        "DZH318Z0BXWC", "offer Name", "cancelled",
    )  # fmt: skip
    assert marketplace.unit_price == Decimal("0.00")
    (connection,) = await rows(sessions, PartnerCenterConnection)
    assert connection.last_synced_at is not None and connection.problem == ""


async def test_customers_come_page_by_page(pc_services, local_pc, sessions):
    partner = await make_partner(sessions)
    account = await connected(pc_services, local_pc, partner.id)
    for n in range(1, 251):  # three pages of 100
        account.add_customer(f"c-{n:03d}", f"Customer {n:03d}", f"c{n:03d}.onmicrosoft.com")

    await sync_partner(pc_services, partner.id)

    assert len(await rows(sessions, Customer)) == 250
    pages = [path for _, path in local_pc.requests if path.startswith("/v1/customers?")]
    assert pages == [
        "/v1/customers?size=100",
        "/v1/customers?size=100&seekOperation=Next",
        "/v1/customers?size=100&seekOperation=Next",
    ]


async def test_second_sync_changes_only_what_changed(pc_services, local_pc, sessions):
    partner = await make_partner(sessions)
    account = await connected(pc_services, local_pc, partner.id)
    account.add_customer(C1, "Contoso Dental", "contosodental.onmicrosoft.com")
    account.add_customer(C2, "Fabrikam", "fabrikam.onmicrosoft.com")
    account.subscriptions[C1] += [subscription("s-1"), subscription("s-2", quantity=5)]
    account.subscriptions[C2] += [subscription("s-3", offer_id="CFQ7TTC0LDPB:0001:X")]
    await sync_partner(pc_services, partner.id)
    before = {s.external_id: s.updated_at for s in await rows(sessions, Subscription)}

    account.subscriptions[C1][1]["quantity"] = 8  # s-2 grows
    account.subscriptions[C2][0]["status"] = "suspended"  # s-3 suspended
    account.subscriptions[C1].pop(0)  # s-1 no longer listed
    outcome = await sync_partner(pc_services, partner.id)

    report = outcome.report
    assert (report.added, report.changed, report.cancelled, report.unchanged) == (0, 2, 1, 0)
    after = {s.external_id: s for s in await rows(sessions, Subscription)}
    assert after["s-1"].status == "cancelled"
    assert after["s-2"].seats == 8
    assert after["s-3"].status == "suspended" and after["s-3"].plan_code == "M365-BS"

    third = await sync_partner(pc_services, partner.id)
    # s-2 and s-3 are still listed and unchanged; s-1 stays cancelled without being touched.
    assert (third.report.changed, third.report.cancelled, third.report.unchanged) == (0, 0, 2)
    assert {s.external_id: s.updated_at for s in await rows(sessions, Subscription)} == {
        key: row.updated_at for key, row in after.items()
    }
    assert before.keys() == after.keys()


async def test_an_imported_customer_and_subscription_are_adopted(pc_services, local_pc, sessions):
    partner = await make_partner(sessions)
    customer = await make_customer(
        sessions, partner, name="Contoso", domain="contoso.onmicrosoft.com"
    )
    await make_subscription(
        sessions, customer, plan_code="M365-BB", seats=3, unit_price="5.50",
        start_date=date(2026, 1, 15), renewal_date=date(2027, 1, 14),
    )  # fmt: skip
    account = await connected(pc_services, local_pc, partner.id)
    account.add_customer(C1, "Contoso Ltd", "contoso.onmicrosoft.com")
    account.subscriptions[C1].append(subscription("s-1", quantity=4))

    await sync_partner(pc_services, partner.id)

    (only,) = await rows(sessions, Subscription)
    assert (only.external_id, only.seats, only.unit_price) == ("s-1", 4, Decimal("5.50"))
    (row,) = await rows(sessions, Customer)
    assert (row.id, row.external_id, row.region) == (customer.id, C1, "Europe")


async def test_reseller_of_record_decides_commission(pc_services, local_pc, sessions):
    partner = await make_partner(sessions)
    account = await connected(pc_services, local_pc, partner.id)
    account.add_customer(C1, "Contoso", "contoso.onmicrosoft.com")
    account.subscriptions[C1] += [
        subscription("mine", partner_id="4812345"),
        subscription("theirs", partner_id="9999999", offer_id="CFQ7TTC0LFLZ:0001:X"),
    ]

    await sync_partner(pc_services, partner.id)

    by_id = {s.external_id: s for s in await rows(sessions, Subscription)}
    assert by_id["mine"].partner_of_record_id == partner.id
    assert by_id["theirs"].partner_of_record_id is None
    assert by_id["theirs"].reseller_id == "9999999"


async def test_a_failed_sync_changes_nothing_and_tells_managers_once(
    pc_services, local_pc, sessions
):
    partner = await make_partner(sessions)
    account = await connected(pc_services, local_pc, partner.id)
    account.add_customer(C1, "Contoso", "contoso.onmicrosoft.com")
    account.add_customer(C2, "Fabrikam", "fabrikam.onmicrosoft.com")
    account.subscriptions[C1].append(subscription("s-1", quantity=4))
    await sync_partner(pc_services, partner.id)
    account.subscriptions[C1][0]["quantity"] = 40
    account.subscriptions[C2].append(subscription("s-2"))

    local_pc.fail(1, status=503, after=2)  # the customers and one customer's subscriptions read
    first = await sync_partner(pc_services, partner.id)
    local_pc.fail(1, status=500)
    second = await sync_partner(pc_services, partner.id)

    assert first.report is None and "did not answer (HTTP 503" in first.problem
    assert second.report is None
    (only,) = await rows(sessions, Subscription)
    assert only.seats == 4
    alerts = [m for m in await rows(sessions, OutboxMessage) if ":problem:" in m.idempotency_key]
    assert len(alerts) == 1 and alerts[0].channel == partner.manager_channel
    assert "nothing was changed" in alerts[0].payload

    recovered = await sync_partner(pc_services, partner.id)

    assert recovered.problem is None
    assert {s.external_id: s.seats for s in await rows(sessions, Subscription)} == {
        "s-1": 40, "s-2": 10,
    }  # fmt: skip
    keys = [m.idempotency_key for m in await rows(sessions, OutboxMessage)]
    assert sum(":recovered:" in key for key in keys) == 1
    (connection,) = await rows(sessions, PartnerCenterConnection)
    assert connection.problem == "" and connection.problem_since is None
