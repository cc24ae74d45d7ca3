"""The customer's order page routes in process (an aiohttp test client on just these routes): the
status, page and cookie a browser gets, on the test database."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.exc import OperationalError

import handlers.order_pages
from bot.orders import flows
from handlers.pages import SERVICES
from storage.models import Order
from tests.utils.factories import make_customer, make_partner

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
TEST_SECURITY_HEADER = "Content-Security-Policy"


async def page_client(services) -> TestClient:
    web_app = web.Application()
    web_app[SERVICES] = services
    handlers.order_pages.register(web_app)
    client = TestClient(TestServer(web_app))
    await client.start_server()
    return client


@pytest.fixture
async def client(services) -> AsyncIterator[TestClient]:
    client = await page_client(services)
    yield client
    await client.close()


@pytest.fixture
async def filed(sessions, services) -> tuple[Order, str]:
    """An order waiting for the customer, and its link's token."""
    partner = await make_partner(sessions, name="Northwind Cloud", timezone="Europe/Berlin")
    customer = await make_customer(sessions, partner, name="Contoso Dental", domain="contoso.com")
    async with sessions() as session:
        filing = await flows.file_order(
            session,
            partner=partner,
            plan=services.catalogue.get("BPOS-S"),
            seats=25,
            filed_by="U0FILER",
            now=services.clock(),
            ttl_days=14,
            customer_id=customer.id,
        )
    return filing.order, filing.token


async def csrf_of(client: TestClient, token: str) -> str:
    async with client.get(f"/orders/{token}") as response:
        return CSRF.search(await response.text()).group(1)


async def test_a_link_shows_the_order_with_its_form(client, filed):
    order, token = filed
    async with client.get(f"/orders/{token}") as response:
        html = await response.text()
        assert response.status == 200
        assert TEST_SECURITY_HEADER in response.headers
    assert "Contoso Dental" in html and f"#{order.id}" in html
    assert CSRF.search(html)


async def test_an_unknown_link_is_not_found(client, filed):
    async with client.get("/orders/" + "A" * 43) as response:
        assert response.status == 404
        assert TEST_SECURITY_HEADER in response.headers


async def test_a_confirmation_without_name_or_email_shows_the_page_again_with_both_problems(
    client, filed
):
    _, token = filed
    csrf = await csrf_of(client, token)
    form = {"csrf": csrf, "name": "  ", "email": "jane@"}
    async with client.post(f"/orders/{token}/confirm", data=form) as response:
        html = await response.text()
        assert response.status == 400
    assert "Type your name." in html
    assert "Type your email address, such as name@example.com." in html


async def test_an_incomplete_confirmation_with_a_wrong_csrf_token_is_forbidden(client, filed):
    _, token = filed
    async with client.post(f"/orders/{token}/confirm", data={"csrf": "0"}) as response:
        assert response.status == 403


async def test_a_decline_with_a_wrong_csrf_token_is_forbidden(client, filed, sessions):
    order, token = filed
    async with client.post(f"/orders/{token}/decline", data={"csrf": "0"}) as response:
        assert response.status == 403
    async with sessions() as session:
        assert (await session.get(Order, order.id)).state == "pending"


async def test_a_confirmation_goes_back_to_the_order_with_a_receipt_shown_once(
    client, filed, services
):
    order, token = filed
    woken = []
    services.wake_outbox = lambda: woken.append(True)
    form = {"csrf": await csrf_of(client, token), "name": "Jane Doe", "email": "jane@x.com"}

    async with client.post(
        f"/orders/{token}/confirm", data=form, allow_redirects=False
    ) as response:
        assert response.status == 303
        assert response.headers["Location"] == f"/orders/{token}"
        receipt = response.cookies["order_receipt"]
    assert receipt.value == str(order.id)
    assert receipt["httponly"] and receipt["samesite"] == "Strict"
    assert woken == [True]

    async with client.get(f"/orders/{token}") as page:
        assert "Thank you — your order is confirmed" in await page.text()
        assert page.cookies["order_receipt"].value == ""  # removed
    async with client.get(f"/orders/{token}") as again:
        assert "Thank you" not in await again.text()


async def test_a_second_confirmation_goes_back_without_a_receipt(client, filed, services):
    _, token = filed
    form = {"csrf": await csrf_of(client, token), "name": "Jane Doe", "email": "jane@x.com"}
    async with client.post(f"/orders/{token}/confirm", data=form, allow_redirects=False):
        pass
    client.session.cookie_jar.clear()
    woken = []
    services.wake_outbox = lambda: woken.append(True)

    async with client.post(
        f"/orders/{token}/confirm", data=form, allow_redirects=False
    ) as response:
        assert response.status == 303
        assert "order_receipt" not in response.cookies
    assert woken == []


async def test_an_order_page_while_the_database_is_down_says_so_with_a_reference(services, filed):
    @asynccontextmanager
    async def sessions():
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is down"))
        yield

    _, token = filed
    client = await page_client(dataclasses.replace(services, sessions=sessions))
    try:
        async with client.get(f"/orders/{token}") as response:
            html = await response.text()
            assert response.status == 503
            assert TEST_SECURITY_HEADER in response.headers
    finally:
        await client.close()
    assert re.search(r"Reference [0-9a-f]{8}", html)
