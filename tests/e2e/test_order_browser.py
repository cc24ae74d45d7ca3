"""The customer's page in a real headless Chromium (Debian's package, driven by Playwright): open
the link on a phone-sized screen without JavaScript, read the order, confirm, see the receipt,
reload, see "already confirmed"."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright
from sqlmodel import select

from bot.orders import flows
from storage.models import Order, Subscription
from tests.utils.factories import make_customer, make_partner

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
    assert "From Northwind Cloud, your partner of record" in body
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
