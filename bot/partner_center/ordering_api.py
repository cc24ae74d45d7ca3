"""Partner Center's REST API as an order is placed with it (tests/fixtures/partner_center holds
Microsoft's documented examples): a new subscription through a cart and its checkout, a seat
change as a PATCH of the subscription's quantity, and a new customer's acceptance of the
Microsoft Customer Agreement. Each write carries the order's own MS-RequestId for that step, so
a retry after a lost answer is answered with the first result and never places anything twice.
A 429 is waited out within the budget; a refusal (4xx) carries Partner Center's reason."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from bot.partner_center.api import (
    MAX_BODY_BYTES,
    PartnerCenterClient,
    PartnerCenterFailed,
)

MCA = "MicrosoftCustomerAgreement"


class OrderRefused(Exception):
    """Partner Center refused the order itself (a 4xx other than 401/403/429, or a checkout
    with order errors): retrying the same request cannot change its answer."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Acceptance:
    """The Microsoft Customer Agreement as the customer accepted it (what the API records)."""

    first_name: str
    last_name: str
    email: str
    phone: str
    accepted_at: datetime


def step_id(request_id: str, step: str) -> str:
    """The MS-RequestId of one step of one order: the same on every retry of that step."""
    return str(uuid.uuid5(uuid.UUID(request_id), step))


class OrderingApi(PartnerCenterClient):
    async def catalog_item(self, product_id: str, sku_id: str, country: str) -> str:
        """The catalogue item id (product:sku:availability) to buy a product's SKU by."""
        body = await self._send(
            "GET",
            f"/v1/products/{product_id}/skus/{sku_id}/availabilities?country={country}",
            request_id=str(uuid.uuid4()),
        )
        for item in body.get("items") or []:
            if isinstance(item, dict) and isinstance(item.get("catalogItemId"), str):
                return item["catalogItemId"]
        raise OrderRefused(f"Partner Center sells no {product_id}:{sku_id} in {country}.")

    async def buy(
        self, customer_id: str, catalog_item_id: str, quantity: int, *, request_id: str
    ) -> dict:
        """Creates a cart with one line and checks it out; the checkout's first order."""
        cart = await self._send(
            "POST",
            f"/v1/customers/{customer_id}/carts",
            request_id=step_id(request_id, "cart"),
            body={
                "lineItems": [
                    {
                        "id": 0,
                        "catalogItemId": catalog_item_id,
                        "quantity": quantity,
                        "billingCycle": "monthly",
                        "termDuration": "P1Y",
                    }
                ],
                "attributes": {"objectType": "Cart"},
            },
        )
        cart_id = cart.get("id")
        if not isinstance(cart_id, str) or not cart_id:
            raise PartnerCenterFailed("answer", "a cart without an id")
        result = await self._send(
            "POST",
            f"/v1/customers/{customer_id}/carts/{cart_id}/checkout",
            request_id=step_id(request_id, "checkout"),
        )
        errors = [e for e in result.get("orderErrors") or [] if isinstance(e, dict)]
        if errors:
            raise OrderRefused(
                "; ".join(str(e.get("errorDescription") or e.get("errorCode")) for e in errors)
            )
        orders = [o for o in result.get("orders") or [] if isinstance(o, dict)]
        if not orders:
            raise PartnerCenterFailed("answer", "a checkout without an order")
        return orders[0]

    async def change_quantity(
        self, customer_id: str, subscription_id: str, quantity: int, *, request_id: str
    ) -> dict:
        """Sets a subscription's quantity: its resource as read, with the new quantity."""
        uri = f"/v1/customers/{customer_id}/subscriptions/{subscription_id}"
        subscription = await self._send("GET", uri, request_id=str(uuid.uuid4()))
        return await self._send(
            "PATCH",
            uri,
            request_id=step_id(request_id, "quantity"),
            body={**subscription, "quantity": quantity},
        )

    async def agreement_template(self) -> str:
        """The template id of the Microsoft Customer Agreement, from its metadata."""
        body = await self._send(
            "GET", f"/v1/agreements?agreementType={MCA}", request_id=str(uuid.uuid4())
        )
        for item in body.get("items") or []:
            if isinstance(item, dict) and isinstance(item.get("templateId"), str):
                return item["templateId"]
        raise PartnerCenterFailed("answer", "no Microsoft Customer Agreement template")

    async def accept_agreement(
        self, customer_id: str, acceptance: Acceptance, template_id: str, *, request_id: str
    ) -> dict:
        """Records the customer's acceptance (needs an App+User token)."""
        contact = {
            "firstName": acceptance.first_name,
            "lastName": acceptance.last_name,
            "email": acceptance.email,
        }
        if acceptance.phone:
            contact["phoneNumber"] = acceptance.phone
        return await self._send(
            "POST",
            f"/v1/customers/{customer_id}/agreements",
            request_id=step_id(request_id, "agreement"),
            body={
                "primaryContact": contact,
                "templateId": template_id,
                "dateAgreed": acceptance.accepted_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "type": MCA,
            },
        )

    async def _send(self, method: str, uri: str, *, request_id: str, body=None) -> dict:
        url = self._base + uri
        headers = self._headers(request_id)
        while True:
            answered = await self._exchange(method, url, headers, body)
            if answered is None:
                continue  # throttled, waited out: the same request id again
            status, raw = answered
            return answer_of(status, raw, url)


def answer_of(status: int, raw: bytes, url: str) -> dict:
    """A 200 or 201's JSON object; a refusal with Partner Center's description; or the failure."""
    if status in (401, 403):
        raise PartnerCenterFailed("consent", f"HTTP {status} from {url}")
    if status >= 500:
        raise PartnerCenterFailed("unavailable", f"HTTP {status} from {url}")
    try:
        body = json.loads(raw[:MAX_BODY_BYTES].decode("utf-8-sig")) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if status >= 400:
        description = body.get("description") if isinstance(body, dict) else None
        raise OrderRefused(str(description or f"HTTP {status}"))
    if status not in (200, 201) or not isinstance(body, dict):
        raise PartnerCenterFailed("answer", f"HTTP {status} without a JSON object from {url}")
    return body
