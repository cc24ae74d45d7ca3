"""The ordering calls against the local Partner Center: its answers have the documented shape,
it refuses what Partner Center refuses, and a repeated MS-RequestId gets the first answer."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.entra import PARTNER_CENTER_SCOPE, AppCredentials
from bot.partner_center.api import PartnerCenterFailed, RetryBudget, ssl_context
from bot.partner_center.ordering_api import Acceptance, OrderingApi, OrderRefused
from tests.utils.partner_center import CLIENT_ID, FIXTURES, SECRET, TENANT, fixture, subscription

CUSTOMER = "d8202a51-69f9-4228-b900-d0e081af17d7"
BASIC = "CFQ7TTC0LH18:0001:CFQ7TTC0K971"


def new_id() -> str:
    return str(uuid.uuid4())


def documented_checkout() -> dict:
    """Microsoft's checkout example, its elisions (`{...}`, `...`) removed."""
    text = (FIXTURES / "checkout_result.jsonc").read_text(encoding="utf-8")
    text = re.sub(r',?\s*"links": \{\.\.\.\}', "", text)
    text = re.sub(r",\s*\.\.\.", "", text)
    return json.loads(text)


@pytest.fixture
async def ordering(pc_services, local_pc):
    """An account with one customer (with a subscription) and a factory of signed-in clients."""
    account = local_pc.account(TENANT, CLIENT_ID, SECRET)
    account.add_customer(CUSTOMER, "Contoso Dental", "contosodental.onmicrosoft.com")
    account.subscriptions[CUSTOMER].append(subscription("s-basic", quantity=25))
    app = AppCredentials(local_pc.url, TENANT, CLIENT_ID, SECRET)
    token = await pc_services.app_tokens.token(app, PARTNER_CENTER_SCOPE)
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    connector = aiohttp.TCPConnector(ssl=ssl_context(local_pc.ca_file))
    async with aiohttp.ClientSession(connector=connector) as http:

        def client(budget: float = 10, bearer: str = token) -> OrderingApi:
            return OrderingApi(
                http,
                base_url=local_pc.url,
                token=bearer,
                budget=RetryBudget(budget),
                sleep=record,
            )

        yield client, account, waits, app


async def test_the_local_answers_have_the_documented_fields(ordering):
    client, account, _, _ = ordering
    api = client()
    order = await api.buy(CUSTOMER, BASIC, 3, request_id=new_id())

    (documented,) = documented_checkout()["orders"]
    assert set(documented) <= set(order)
    assert set(documented["lineItems"][0]) <= set(order["lineItems"][0])
    (cart_id, (_, cart)) = next(iter(account.carts.items()))
    assert set(fixture("cart.json")) - {"lastModifiedTimestamp", "lastModifiedUser", "links"} <= (
        set(cart)
    )
    assert order["lineItems"][0]["subscriptionId"] == account.subscriptions[CUSTOMER][1]["id"]


async def test_the_same_request_id_gets_the_first_answer(ordering):
    client, account, _, _ = ordering
    request_id = str(uuid.uuid4())
    first = await client().buy(CUSTOMER, BASIC, 3, request_id=request_id)
    again = await client().buy(CUSTOMER, BASIC, 3, request_id=request_id)

    assert again == first
    assert len(account.carts) == 1 and len(account.subscriptions[CUSTOMER]) == 2
    await client().buy(CUSTOMER, BASIC, 3, request_id=new_id())
    assert len(account.subscriptions[CUSTOMER]) == 3  # another order is another purchase


@pytest.mark.parametrize(
    ("quantity", "reason"),
    [(0, "Quantity must be between 1 and 300."), (301, "Quantity must be between 1 and 300.")],
)
async def test_a_quantity_partner_center_does_not_take_is_refused(ordering, quantity, reason):
    client, account, _, _ = ordering
    with pytest.raises(OrderRefused) as refused:
        await client().buy(CUSTOMER, BASIC, quantity, request_id=new_id())
    assert refused.value.reason == reason
    with pytest.raises(OrderRefused, match=reason):
        await client().change_quantity(CUSTOMER, "s-basic", quantity, request_id=new_id())
    assert account.subscriptions[CUSTOMER][0]["quantity"] == 25


async def test_an_unknown_offer_is_refused(ordering):
    client, _, _, _ = ordering
    with pytest.raises(OrderRefused, match="Product CFQ7TTC0XXXX SKU 0001 was not found."):
        await client().catalog_item("CFQ7TTC0XXXX", "0001", "US")
    with pytest.raises(OrderRefused, match="Catalog item CFQ7TTC0XXXX:0001:A is not valid."):
        await client().buy(CUSTOMER, "CFQ7TTC0XXXX:0001:A", 1, request_id=new_id())


async def test_a_new_customer_needs_the_agreement_before_checkout(ordering):
    client, account, _, _ = ordering
    account.add_customer("new-customer", "Tailspin", "tailspin.onmicrosoft.com")
    with pytest.raises(OrderRefused, match="has not accepted the Microsoft Customer Agreement"):
        await client().buy("new-customer", BASIC, 1, request_id=new_id())
    assert account.subscriptions["new-customer"] == []


async def test_the_agreement_takes_app_and_user_tokens_only(ordering, local_pc, pc_services):
    client, account, _, app = ordering
    acceptance = Acceptance("Tania", "Carr", "tania@example.com", "", datetime.now(UTC))
    template = await client().agreement_template()
    with pytest.raises(PartnerCenterFailed) as app_only:
        await client().accept_agreement(CUSTOMER, acceptance, template, request_id=new_id())
    assert app_only.value.reason == "consent" and "HTTP 403" in app_only.value.detail

    refresh = local_pc.entra.consent_user(account.app, "admin@northwind.example")
    user, newer = await pc_services.app_tokens.user_token(app, refresh, PARTNER_CENTER_SCOPE)
    assert newer != refresh  # Entra's newer refresh token, to keep
    recorded = await client(bearer=user).accept_agreement(
        CUSTOMER, acceptance, template, request_id=new_id()
    )
    assert set(fixture("agreement.json")) - {"primaryContact"} <= set(recorded)
    # No phone typed: none sent (Partner Center's phoneNumber is optional).
    assert recorded["primaryContact"] == {
        "firstName": "Tania",
        "lastName": "Carr",
        "email": "tania@example.com",
    }


async def test_throttling_is_waited_out_and_failures_are_told_apart(ordering, local_pc):
    client, account, waits, _ = ordering
    local_pc.throttle(2, retry_after=3)
    await client().change_quantity(CUSTOMER, "s-basic", 26, request_id=new_id())
    assert waits == [3, 3] and account.subscriptions[CUSTOMER][0]["quantity"] == 26

    local_pc.throttle(2, retry_after=4)
    with pytest.raises(PartnerCenterFailed) as throttled:
        await client(budget=5).change_quantity(CUSTOMER, "s-basic", 27, request_id=new_id())
    assert throttled.value.reason == "throttled"

    local_pc.fail(1, 500)
    with pytest.raises(PartnerCenterFailed) as failed:
        await client().catalog_item("CFQ7TTC0LH18", "0001", "US")
    assert failed.value.reason == "unavailable" and "HTTP 500" in failed.value.detail

    with pytest.raises(PartnerCenterFailed) as unsigned:
        await client(bearer="not-a-token").catalog_item("CFQ7TTC0LH18", "0001", "US")
    assert unsigned.value.reason == "consent" and "HTTP 401" in unsigned.value.detail
