"""The local Partner Center's write side, as Microsoft documents it
(tests/fixtures/partner_center/README.md): a SKU's availabilities, carts and their checkout,
a subscription read by id and its quantity changed by PATCH, the Microsoft Customer Agreement's
metadata and a customer's acceptance of it (App+User tokens only, as the documentation says).

It refuses what Partner Center refuses: a quantity outside 1 to MAX_QUANTITY, an unknown
catalogue item, a checkout for a customer new to Partner Center (no subscription yet) who has
not accepted the agreement, an unknown cart or subscription, an agreement without its contact
or template. A write repeated with the same MS-RequestId is answered with the first answer
(Partner Center's idempotency), so a retry never places an order twice."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from aiohttp import web

MCA_TEMPLATE_ID = "117a77b0-9360-443b-8795-c6dedc750cf9"  # Microsoft's documented example
MAX_QUANTITY = 300
SKU = "0001"
AVAILABILITY = "CFQ7TTC0K971"  # as in Microsoft's Business Basic example


class OrderRoutes:
    """Mixed into LocalPartnerCenter: `products` (product id → name) are what can be bought."""

    def add_order_routes(self, app: web.Application) -> None:
        self.products: dict[str, str] = {
            "CFQ7TTC0LH18": "Microsoft 365 Business Basic",
            "CFQ7TTC0LDPB": "Microsoft 365 Business Standard",
            "CFQ7TTC0LCHC": "Microsoft 365 Business Premium",
        }
        self.answers: dict[tuple[str, str], tuple[int, dict]] = {}
        self._lost: list[bool] = []
        customer = "/v1/customers/{customer}"
        app.router.add_get("/v1/products/{product}/skus/{sku}/availabilities", self._available)
        app.router.add_post(customer + "/carts", self._create_cart)
        app.router.add_post(customer + "/carts/{cart}/checkout", self._checkout)
        app.router.add_get(customer + "/subscriptions/{subscription}", self._one_subscription)
        app.router.add_patch(customer + "/subscriptions/{subscription}", self._change_quantity)
        app.router.add_get("/v1/agreements", self._agreement_metadata)
        app.router.add_post(customer + "/agreements", self._accept_agreement)

    def lose_answers(self, times: int, *, after: int = 0) -> None:
        # Carries out `times` writes after the next `after` but answers each with a 504, as
        # when a gateway times out after Partner Center acted: the caller cannot know.
        self._lost += [False] * after + [True] * times

    async def _available(self, request: web.Request) -> web.Response:
        account = self._caller(request)
        if isinstance(account, web.Response):
            return account
        product, sku = request.match_info["product"], request.match_info["sku"]
        if product not in self.products or sku != SKU or not request.query.get("country"):
            return pc_error(404, 400013, f"Product {product} SKU {sku} was not found.")
        item = {
            "id": AVAILABILITY,
            "productId": product,
            "skuId": sku,
            "catalogItemId": f"{product}:{sku}:{AVAILABILITY}",
            "attributes": {"objectType": "Availability"},
        }
        return web.json_response({"totalCount": 1, "items": [item]})

    async def _create_cart(self, request: web.Request) -> web.Response:
        return await self._once(request, self._new_cart)

    async def _checkout(self, request: web.Request) -> web.Response:
        return await self._once(request, self._check_cart_out)

    async def _change_quantity(self, request: web.Request) -> web.Response:
        return await self._once(request, self._patch_quantity)

    async def _accept_agreement(self, request: web.Request) -> web.Response:
        return await self._once(request, self._record_agreement)

    async def _once(self, request: web.Request, write) -> web.Response:
        """Runs a write once per MS-RequestId; a repeat gets the first answer again."""
        account = self._caller(request)
        if isinstance(account, web.Response):
            return account
        request_id = request.headers.get("MS-RequestId", "")
        key = (account.tenant, request_id)
        if request_id and key in self.answers:
            status, body = self.answers[key]
            return web.json_response(body, status=status)
        if request.match_info["customer"] not in account.subscriptions:
            return pc_error(404, 2001, f"Customer {request.match_info['customer']} not found.")
        try:
            sent = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            sent = None
        status, body = write(account, request, sent)
        if request_id:
            self.answers[key] = (status, body)
        if self._lost and self._lost.pop(0):
            return web.Response(status=504, text="Gateway Timeout")
        return web.json_response(body, status=status)

    def _new_cart(self, account, request, sent) -> tuple[int, dict]:
        lines = sent.get("lineItems") if isinstance(sent, dict) else None
        if not isinstance(lines, list) or not lines:
            return error_body(400, 800001, "The cart must have at least one line item.")
        for line in lines:
            product = str(line.get("catalogItemId", "")).split(":")[0]
            if f"{product}:{SKU}:{AVAILABILITY}" != line.get("catalogItemId"):
                return error_body(
                    400, 800002, f"Catalog item {line.get('catalogItemId')} is not valid."
                )
            quantity = line.get("quantity")
            if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
                return error_body(400, 800003, f"Quantity must be between 1 and {MAX_QUANTITY}.")
        cart_id = str(uuid.uuid4())
        cart = {
            "id": cart_id,
            "creationTimestamp": now_text(),
            "lineItems": lines,
            "status": "Active",
            "attributes": {"objectType": "Cart"},
        }
        account.carts[cart_id] = (request.match_info["customer"], cart)
        return 201, cart

    def _check_cart_out(self, account, request, sent) -> tuple[int, dict]:
        customer = request.match_info["customer"]
        found = account.carts.get(request.match_info["cart"])
        if found is None or found[0] != customer:
            return error_body(404, 800004, "The cart was not found.")
        cart = found[1]
        if cart["status"] == "Ordered":
            return error_body(400, 800005, "The cart has already been submitted.")
        if not account.subscriptions[customer] and customer not in account.agreements:
            return error_body(
                400,
                600051,
                "The customer has not accepted the Microsoft Customer Agreement: confirm "
                "the customer's acceptance before placing the order.",
            )
        cart["status"] = "Ordered"
        order_id = str(uuid.uuid4())
        lines = []
        for number, line in enumerate(cart["lineItems"]):
            product = line["catalogItemId"].split(":")[0]
            subscription_id = str(uuid.uuid4())
            account.subscriptions[customer].append(
                new_subscription(subscription_id, product, self.products[product], line, order_id)
            )
            lines.append(
                {
                    "lineItemNumber": number,
                    "offerId": line["catalogItemId"],
                    "subscriptionId": subscription_id,
                    "termDuration": line.get("termDuration", "P1Y"),
                    "transactionType": "New",
                    "friendlyName": self.products[product],
                    "quantity": line["quantity"],
                }
            )
        order = {
            "id": order_id,
            "alternateId": order_id[:12],
            "referenceCustomerId": customer,
            "billingCycle": "monthly",
            "currencyCode": "USD",
            "lineItems": lines,
            "creationDate": now_text(),
            "status": "completed",
            "transactionType": "UserPurchase",
        }
        return 201, {"orders": [order], "attributes": {"objectType": "CartCheckoutResult"}}

    async def _one_subscription(self, request: web.Request) -> web.Response:
        account = self._caller(request)
        if isinstance(account, web.Response):
            return account
        found = self._subscription(account, request)
        if found is None:
            return pc_error(404, 800006, "The subscription was not found.")
        return web.json_response(found)

    def _subscription(self, account, request) -> dict | None:
        wanted = request.match_info["subscription"]
        items = account.subscriptions.get(request.match_info["customer"], [])
        return next((s for s in items if s.get("id") == wanted), None)

    def _patch_quantity(self, account, request, sent) -> tuple[int, dict]:
        found = self._subscription(account, request)
        if found is None:
            return error_body(404, 800006, "The subscription was not found.")
        quantity = sent.get("quantity") if isinstance(sent, dict) else None
        if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            return error_body(400, 800003, f"Quantity must be between 1 and {MAX_QUANTITY}.")
        found["quantity"] = quantity
        return 200, found

    async def _agreement_metadata(self, request: web.Request) -> web.Response:
        account = self._caller(request)
        if isinstance(account, web.Response):
            return account
        item = {
            "templateId": MCA_TEMPLATE_ID,
            "agreementType": "MicrosoftCustomerAgreement",
            "agreementLink": "https://aka.ms/microsoftcustomeragreement",
            "versionRank": 0,
        }
        return web.json_response({"totalCount": 1, "items": [item]})

    def _record_agreement(self, account, request, sent) -> tuple[int, dict]:
        token = self.entra.tokens[request.headers["Authorization"].partition(" ")[2]]
        if not token.user:
            return error_body(403, 600002, "This operation supports App+User authentication only.")
        contact = sent.get("primaryContact") if isinstance(sent, dict) else None
        if (
            not isinstance(contact, dict)
            or not all(contact.get(k) for k in ("firstName", "lastName", "email"))
            or sent.get("templateId") != MCA_TEMPLATE_ID
            or sent.get("type") != "MicrosoftCustomerAgreement"
            or not sent.get("dateAgreed")
        ):
            return error_body(
                400, 600030, "The agreement needs its primary contact, template and date."
            )
        agreement = {"userId": str(uuid.uuid4()), **sent}
        account.agreements[request.match_info["customer"]] = agreement
        return 201, agreement


def new_subscription(subscription_id, product, name, line, order_id) -> dict:
    """A new-commerce subscription as Partner Center lists it after a checkout."""
    today = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z")
    year = datetime.now(UTC)
    renewal = year.replace(year=year.year + 1).strftime("%Y-%m-%dT00:00:00Z")
    return {
        "id": subscription_id,
        "offerId": line["catalogItemId"],
        "offerName": name,
        "friendlyName": name,
        "productType": {"id": "OnlineServicesNCE", "displayName": "OnlineServicesNCE"},
        "quantity": line["quantity"],
        "unitType": "Licenses",
        "creationDate": today,
        "effectiveStartDate": today,
        "commitmentEndDate": renewal,
        "autoRenewEnabled": True,
        "status": "active",
        "billingCycle": line.get("billingCycle", "monthly"),
        "termDuration": line.get("termDuration", "P1Y"),
        "orderId": order_id,
        "attributes": {"objectType": "Subscription"},
    }


def now_text() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def error_body(status: int, code: int, description: str) -> tuple[int, dict]:
    """Partner Center's error body (code, description, errorName…), as its error-codes page."""
    names = {400: "BadRequest", 403: "Forbidden", 404: "NotFound"}
    return status, {
        "code": code,
        "description": description,
        "data": [],
        "source": "PartnerFD",
        "errorName": names.get(status, "BadRequest"),
    }


def pc_error(status: int, code: int, description: str) -> web.Response:
    status, body = error_body(status, code, description)
    return web.json_response(body, status=status)
