"""What Partner Center's customers and subscriptions mean here: Microsoft's offers mapped to the
catalogue's plans, its statuses, billing cycles and dates in the bot's terms. An offer that maps
to no plan is kept under its own product id and shown by its name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from bot.arguments import fold
from bot.catalogue import Catalogue

# Microsoft's product ids (the part of a new-commerce offerId before the first ":") of the
# catalogue's plans; CFQ7TTC0LH18 is Business Basic in Microsoft's own examples, the others are
# the product ids of Partner Center's price list. A plan is also found by its offer name.
PRODUCTS = {
    "CFQ7TTC0LH16": "EXO-P1",  # Exchange Online (Plan 1)
    "CFQ7TTC0LH18": "M365-BB",  # Microsoft 365 Business Basic
    "CFQ7TTC0LDPB": "M365-BS",  # Microsoft 365 Business Standard
    "CFQ7TTC0LCHC": "M365-BP",  # Microsoft 365 Business Premium
    "CFQ7TTC0LF8Q": "O365-E3",  # Office 365 E3
    "CFQ7TTC0LFLX": "M365-E3",  # Microsoft 365 E3
    "CFQ7TTC0LFLZ": "M365-E5",  # Microsoft 365 E5
}
# Partner Center's names of the same offers where they differ from the catalogue's.
OFFER_NAMES = {
    fold("Exchange Online (Plan 1)"): "EXO-P1",
    fold("Office 365 E3"): "O365-E3",
    fold("Microsoft 365 E3"): "M365-E3",
    fold("Microsoft 365 E5"): "M365-E5",
}
# Partner Center's subscription statuses: active, pending, suspended, deleted, expired, disabled.
STATUSES = {
    "active": "active",
    "pending": "active",  # being provisioned: the customer has paid for it
    "suspended": "suspended",
    "disabled": "suspended",
    "deleted": "cancelled",
    "expired": "cancelled",
}
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$")


class BadRecord(Exception):
    """A customer or subscription Partner Center sent lacks what the bot needs; says what."""


@dataclass(frozen=True)
class RemoteCustomer:
    id: str  # Partner Center's customer id (the customer's tenant id)
    name: str
    domain: str


@dataclass(frozen=True)
class RemoteSubscription:
    id: str
    plan_code: str  # a catalogue code, or the offer's product id when no plan matches
    offer_name: str
    seats: int
    billing_cycle: str  # monthly | annual
    term: str  # ISO 8601: P1M, P1Y, P3Y; "" when not given
    start_date: date
    renewal_date: date
    commitment_end_date: date | None
    auto_renew: bool | None
    status: str  # active | suspended | cancelled | trial
    reseller_id: str  # partnerId: the indirect reseller of record's MPN id, "" when none


def read_customer(item: dict) -> RemoteCustomer:
    """A customer of Partner Center's customer list."""
    profile = item.get("companyProfile") or {}
    customer_id = text_of(item.get("id"))
    if not customer_id:
        raise BadRecord("a customer without an id")
    name = text_of(profile.get("companyName")) or text_of(profile.get("domain")) or customer_id
    domain = text_of(profile.get("domain")).lower() or customer_id
    return RemoteCustomer(customer_id, name[:200], domain[:253])


def plan_for(offer_id: str, offer_name: str, catalogue: Catalogue) -> str | None:
    """The catalogue plan of an offer: by product id, then by name; None when none matches."""
    product = offer_id.split(":")[0].upper()
    code = PRODUCTS.get(product) or OFFER_NAMES.get(fold(offer_name))
    if code is None:
        names = {fold(plan.name): plan.code for plan in catalogue.plans.values()}
        code = names.get(fold(offer_name))
    return code if code is not None and catalogue.get(code) is not None else None


def unknown_code(offer_id: str, subscription_id: str) -> str:
    """The code an offer no plan matches is kept under: its product id (or legacy offer id)."""
    product = offer_id.split(":")[0].replace("-", "")[:16]
    return product.upper() if CODE.match(product) else ("?" + subscription_id)[:16]


def read_subscription(item: dict, catalogue: Catalogue) -> RemoteSubscription:
    """A subscription of a customer's subscription list."""
    subscription_id = text_of(item.get("id"))
    if not subscription_id:
        raise BadRecord("a subscription without an id")
    offer_id, offer_name = offer_id_of(item), text_of(item.get("offerName"))
    if not offer_name:
        offer_name = text_of(item.get("friendlyName")) or offer_id or "unnamed offer"
    code = plan_for(offer_id, offer_name, catalogue) or unknown_code(offer_id, subscription_id)
    start = date_of(item.get("effectiveStartDate")) or date_of(item.get("creationDate"))
    if start is None:
        raise BadRecord(f"subscription {subscription_id} has no start date")
    commitment_end = date_of(item.get("commitmentEndDate"))
    status = STATUSES.get(text_of(item.get("status")).lower(), "suspended")
    if status == "active" and item.get("isTrial") is True:
        status = "trial"
    auto_renew = item.get("autoRenewEnabled")
    return RemoteSubscription(
        id=subscription_id,
        plan_code=code,
        offer_name=offer_name[:200],
        seats=seats_of(item.get("quantity"), subscription_id),
        billing_cycle="annual"
        if text_of(item.get("billingCycle")).lower() in ("annual", "triennial")
        else "monthly",  # fmt: skip
        term=text_of(item.get("termDuration"))[:8],
        start_date=start,
        renewal_date=commitment_end or start,
        commitment_end_date=commitment_end,
        auto_renew=auto_renew if isinstance(auto_renew, bool) else None,
        status=status,
        reseller_id=text_of(item.get("partnerId"))[:20],
    )


def offer_id_of(item: dict) -> str:
    """The offer's id; a legacy subscription may name its offer only in `links.offer`."""
    offer_id = text_of(item.get("offerId"))
    if not offer_id:
        offer = (
            ((item.get("links") or {}).get("offer") or {})
            if isinstance(item.get("links"), dict)
            else {}
        )
        offer_id = text_of(offer.get("uri") if isinstance(offer, dict) else "").rsplit("/", 1)[-1]
    return offer_id


def seats_of(quantity: object, subscription_id: str) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int | float) or quantity < 0:
        raise BadRecord(f"subscription {subscription_id} has no quantity")
    return int(quantity)


def text_of(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def date_of(value: object) -> date | None:
    """The date of Partner Center's date-time (as published, spaces after colons included:
    "2015-11-24T08: 00: 00Z"); None when absent or unreadable."""
    text = text_of(value).replace(" ", "")
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")[:32]).date()
    except ValueError:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
