"""The customer's page in a real headless Chromium (Debian's package, driven by Playwright): open
the link on a phone-sized screen without JavaScript, read the order, confirm, see the receipt,
reload, see "already confirmed"; a customer new to Partner Center accepts Microsoft's agreement."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from playwright.async_api import Browser, async_playwright
from sqlmodel import select

from bot.orders import flows
from bot.partner_center.connect import store_user_consent
from bot.partner_center.placing import place_due_orders
from bot.zones import today_in
from storage.models import Order, Subscription
from tests.e2e.test_order_pages import file as file_for
from tests.e2e.test_order_placement import CONTOSO, connected_partner
from tests.utils.factories import make_customer, make_partner, make_subscription

# The machine's own Chromium: Playwright's browser download cannot work without internet.
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def file_order(bot, sessions):
    partner = await make_partner(sessions, name="Northwind Cloud", timezone="Europe/Berlin")
    customer = await make_customer(
        sessions, partner, name="Contoso Dental", domain="contosodental.com"
    )
    async with sessions() as session:
        filed = await flows.file_order(
            session,
            partner=partner,
            plan=bot.services.catalogue.get("BPOS-S"),
            seats=25,
            filed_by="U0FILER",
            now=bot.services.clock(),
            ttl_days=14,
            customer_id=customer.id,
        )
    return partner, filed


async def test_customer_confirms_on_a_phone_without_javascript(bot, sessions, browser):
    partner, filed = await file_order(bot, sessions)
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True)
    page = await context.new_page()

    response = await page.goto(f"{bot.url}/orders/{filed.token}")
    assert response.status == 200
    body = await page.inner_text("main")
    # Not yet the partner of record: confirming makes it so.
    assert "From Northwind Cloud\n" in body and "your partner of record" not in body
    assert "Order #" in body and "Contoso Dental" in body
    assert "Business Productivity Online Standard Suite" in body and "SharePoint Online" in body
    # 25 seats × $15.00 = $375.00 a month, $4,500.00 a year.
    assert "$375.00" in body and "$4,500.00" in body
    # Readable on a phone: nothing wider than the screen, the stylesheet applied (CSP allows it).
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert await page.eval_on_selector("button.confirm", "b => getComputedStyle(b).width") != ""
    colour = await page.eval_on_selector("button.confirm", "b => getComputedStyle(b).color")
    assert colour == "rgb(255, 255, 255)"

    await page.fill("#name", "Jane Doe")
    await page.fill("#email", "jane@contosodental.com")
    await page.click("button.confirm")
    await page.wait_for_load_state()
    receipt = await page.inner_text("main")
    assert "Thank you — your order is confirmed" in receipt and "Jane Doe" in receipt
    assert "From Northwind Cloud, your partner of record" in receipt
    assert page.url == f"{bot.url}/orders/{filed.token}"

    await page.reload()
    again = await page.inner_text("main")
    assert "This order was already confirmed" in again and "Thank you" not in again
    assert await page.query_selector("button.confirm") is None
    await context.close()

    async with sessions() as session:
        order = await session.get(Order, filed.order.id)
        (subscription,) = (await session.exec(select(Subscription))).all()
    assert order.state == "confirmed" and order.confirmer_email == "jane@contosodental.com"
    assert "Chrome" in order.confirmer_user_agent
    assert (subscription.seats, subscription.partner_of_record_id) == (25, partner.id)


async def test_customer_declines_with_a_reason(bot, sessions, browser):
    _, filed = await file_order(bot, sessions)
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{bot.url}/orders/{filed.token}")

    await page.click("details.decline summary")
    await page.fill("#reason", "We chose another plan")
    await page.click("button.decline")
    await page.wait_for_load_state()

    assert "You declined this order" in await page.inner_text("main")
    await context.close()
    async with sessions() as session:
        order = await session.get(Order, filed.order.id)
    assert (order.state, order.decline_reason) == ("declined", "We chose another plan")


async def widths(page, selector: str) -> list[float]:
    return await page.eval_on_selector_all(
        selector, "found => found.map(e => e.getBoundingClientRect().width)"
    )


async def test_a_large_seat_change_reads_well_on_a_phone(bot, sessions, browser):
    """Issue 14, item 7: what a customer met on a phone."""
    partner = await make_partner(sessions, name="Northwind Cloud", timezone="Europe/Berlin")
    customer = await make_customer(
        sessions, partner, name="Goldcrest Dental", domain="goldcrest.example"
    )
    today = today_in("UTC")
    await make_subscription(
        sessions, customer, plan_code="EXO", seats=7, billing_owner="vendor",
        start_date=today - timedelta(days=30), renewal_date=today + timedelta(days=335),
    )  # fmt: skip
    async with sessions() as session:
        filed = await flows.file_order(
            session, partner=partner, plan=bot.services.catalogue.get("EXO"), seats=1000,
            filed_by="U0FILER", now=bot.services.clock(), ttl_days=14, customer_id=customer.id,
        )  # fmt: skip
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True)
    page = await context.new_page()
    await page.goto(f"{bot.url}/orders/{filed.token}")
    body = await page.inner_text("main")

    # Seats with a thousands separator, as Slack shows them.
    assert await page.inner_text("td[data-label=Seats]") == "1,000"
    assert "Changes your existing subscription from 7 to 1,000 seats." in body
    assert "1000" not in body
    # 1,000 × $5.00 = $5,000.00 a month, × 12 = $60,000.00 a year.
    assert "$5,000.00" in body and "$60,000.00" in body
    # The plan is named once: EXO's one service is what its name says.
    plan_cell = await page.inner_text("table.lines tbody td:first-child")
    assert plan_cell.startswith("Exchange Online EXO\n") and plan_cell.count("Exchange") == 1
    assert await page.query_selector("ul.services") is None
    # The vendor is named (the built-in catalogue's: Microsoft).
    assert "Billed by\nMicrosoft\n" in body
    assert "the vendor" not in body
    # Partner of record only once confirmed.
    assert "your partner of record" not in body
    assert "Northwind Cloud, once you confirm" in body
    # The order's line as wide as the totals below it, and as the table.
    (table,) = await widths(page, "table.lines")
    lines = await widths(page, "table.lines tbody tr")
    totals = await widths(page, "table.lines tfoot tr")
    assert len(lines) == 1 and len(totals) == 2
    assert all(abs(width - table) < 1 for width in lines + totals), (table, lines, totals)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await context.close()


async def test_a_customer_new_to_partner_center_accepts_the_agreement_in_the_browser(
    pc_bot, sessions, browser
):
    partner, customer, account = await connected_partner(pc_bot, sessions, existing=[])
    refresh_token = pc_bot.partner_center.entra.consent_user(account.app, "admin@northwind")
    await store_user_consent(pc_bot.services, partner_id=partner.id, refresh_token=refresh_token)
    order, token = await file_for(pc_bot, sessions, partner, customer, plan="M365-BB", seats=5)
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False, is_mobile=True)
    page = await context.new_page()

    await page.goto(f"{pc_bot.url}/orders/{token}")
    link = await page.get_attribute("p.agreement a", "href")
    assert link == "https://aka.ms/customeragreement"
    await page.fill("#first_name", "Tania")
    await page.fill("#last_name", "Carr")
    await page.fill("#email", "tania@contosodental.com")
    await page.fill("#phone", "+1 425 555 0100")
    await page.check("#accept_agreement")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.click("button.confirm")
    receipt = await page.inner_text("main")
    assert "Thank you — your order is confirmed" in receipt
    assert "places it with Microsoft now" in receipt
    await context.close()

    assert await place_due_orders(pc_bot.services) == 1
    contact = account.agreements[CONTOSO]["primaryContact"]
    assert (contact["firstName"], contact["lastName"], contact["phoneNumber"]) == (
        "Tania",
        "Carr",
        "+1 425 555 0100",
    )
    answer = await pc_bot.slack.command("/subscription", "contoso", team_id=partner.team_id)
    assert "*M365-BB* — Microsoft 365 Business Basic · _active_" in answer.text
    assert "5 seats ×" in answer.text
