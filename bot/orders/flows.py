"""Order flows: filing an order, and the customer's answer on the order's page. Each runs in one
transaction that also writes the Slack notifications it causes to the outbox (staff changes are in
staff.py, the scheduler's sweeps in sweeps.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import MAX_QUERY_LENGTH
from bot.blocks import escape
from bot.catalogue import Catalogue, Plan
from bot.customers import Choices, Found, NoMatch, TooLong, look_up
from bot.orders import messages as order_messages
from bot.orders.cuts import CutToConfirm
from bot.orders.rules import (
    Answer,
    OrderState,
    answer_order,
    csrf_valid,
    effective_state,
    expiry,
    new_token,
    token_hash,
    well_formed,
)
from bot.outbox.rows import post_message
from bot.subscriptions.rules import ACTIVE, CANCELLED
from bot.zones import add_years, today_in
from storage import customers, outbox, seat_changes
from storage import orders as order_rows
from storage import partner_center as partner_center_rows
from storage import partners as partner_rows
from storage.models import Customer, Order, Partner, Subscription


@dataclass(frozen=True)
class Filed:
    order: Order
    token: str  # shown once, in the answer to the filer; only its hash is stored
    customer: Customer
    subscription: Subscription | None  # the subscription whose seats the order changes


@dataclass(frozen=True)
class Refused:
    problem: str  # what is wrong, for the filer


Filing = Filed | Refused | Choices | NoMatch | CutToConfirm


def order_line(
    *,
    customer: Customer,
    plan: Plan,
    seats: int,
    existing: Subscription | None,
    seen_seats: int | None = None,
) -> tuple[str, Refused | CutToConfirm | None]:
    """Decides the billing owner of a new order; refuses an order that changes nothing or was
    chosen for a seat count the customer no longer has; asks before a cut (`seen_seats`: the
    seats the customer had when the filer picked a reading of the cut)."""
    current = existing.seats if existing else None
    if seen_seats is not None and seen_seats != current:
        now_has = f"has {current:,}" if current is not None else "no longer has any"
        return "vendor", Refused(
            f"{escape(customer.name)} {now_has} seats of {plan.code}, not {seen_seats:,} as "
            "when you chose, so nothing was filed. Type the order again."
        )
    if existing is None:
        return "vendor", None
    if existing.seats == seats:
        return existing.billing_owner, Refused(
            f"{escape(customer.name)} already has {seats:,} seats of {plan.code}; an order must "
            "change the seat count. Type the number of seats the customer should have in total."
        )
    if seats < existing.seats and seen_seats is None:
        return existing.billing_owner, CutToConfirm(customer, plan, existing.seats, seats)
    return existing.billing_owner, None


async def ordering_customer(
    session: AsyncSession, *, partner: Partner, customer_query: str, customer_id: int | None
) -> Customer | Refused | Choices | NoMatch:
    """The customer an order is for, by id when picked, else by what was typed; or why there is
    not exactly one."""
    if customer_id is not None:
        customer = await customers.get(
            session=session, partner_id=partner.id, customer_id=customer_id
        )
        if customer is None:
            return Refused("That customer is no longer among yours; nothing was filed.")
        return customer
    lookup = await look_up(session, partner_id=partner.id, text=customer_query)
    if isinstance(lookup, Choices | NoMatch):
        return lookup
    if isinstance(lookup, TooLong):
        return Refused(
            f"That customer name is {lookup.length:,} characters long; names and domains "
            f"are at most {MAX_QUERY_LENGTH}. Nothing was filed."
        )
    if not isinstance(lookup, Found):
        return Refused("Which customer? Type part of its name or its domain.")
    return lookup.customer


async def file_order(
    session: AsyncSession,
    *,
    partner: Partner,
    plan: Plan,
    seats: int,
    filed_by: str,
    now: datetime,
    ttl_days: int,
    customer_query: str = "",
    customer_id: int | None = None,
    note: str = "",
    seen_seats: int | None = None,
) -> Filing:
    """Files a pending order for one of the partner's own customers, found by what was typed or
    by id (from a list or the form); several matches or none file nothing, nor does a cut until
    the filer has picked it (then `seen_seats` are the seats the customer had)."""
    customer = await ordering_customer(
        session, partner=partner, customer_query=customer_query, customer_id=customer_id
    )
    if not isinstance(customer, Customer):
        return customer
    existing = await order_rows.subscription_for_plan(
        session=session, customer_id=customer.id, plan_code=plan.code
    )
    billing_owner, refused = order_line(
        customer=customer, plan=plan, seats=seats, existing=existing, seen_seats=seen_seats
    )
    if refused:
        return refused
    token, stored_hash = new_token()
    order = await order_rows.add(
        session=session,
        order=Order(
            partner_id=partner.id,
            customer_id=customer.id,
            plan_code=plan.code,
            seats=seats,
            unit_price=existing.unit_price if existing else plan.list_price,
            billing_owner=billing_owner,
            subscription_id=existing.id if existing else None,
            previous_seats=existing.seats if existing else None,
            note=note.strip()[:500],
            token_hash=stored_hash,
            filed_by=filed_by,
            filed_at=now,
            expires_at=expiry(now, ttl_days),
        ),
    )
    await session.commit()
    return Filed(order, token, customer, existing)


# The customer's page.


@dataclass(frozen=True)
class LinkOrder:
    """An order as its link opens it."""

    order: Order
    customer: Customer
    partner: Partner
    state: OrderState  # as the reader should see it (expired once past its expiry)
    # A connected partner's customer known to Partner Center: confirming places the order there.
    places_in_partner_center: bool = False
    # ... and new to it: the customer accepts the Microsoft Customer Agreement on the page.
    asks_agreement: bool = False


async def open_link(session: AsyncSession, *, token: str, now: datetime) -> LinkOrder | None:
    """Finds the order a link is for, reading only. None for a token that is malformed, unknown,
    replaced by a new link, or of a cancelled order: they all look the same from outside."""
    if not well_formed(token):
        return None
    order = await order_rows.get_by_token_hash(session=session, token_hash=token_hash(token))
    if order is None or order.state == OrderState.CANCELLED:
        return None
    customer = await customers.get(
        session=session, partner_id=order.partner_id, customer_id=order.customer_id
    )
    partner = await partner_rows.get_by_id(session=session, partner_id=order.partner_id)
    if customer is None or partner is None:
        return None
    places = customer.external_id is not None and await partner_center_rows.is_connected(
        session=session, partner_id=partner.id
    )
    asks = places and not await partner_center_rows.has_synced_subscription(
        session=session, customer_id=customer.id
    )
    state = effective_state(order.state, order.expires_at, now)
    return LinkOrder(order, customer, partner, state, places, asks)


@dataclass(frozen=True)
class Confirmer:
    """Who answered, as typed on the page, and where the answer came from."""

    name: str = ""
    email: str = ""
    ip: str = ""
    user_agent: str = ""
    reason: str = ""
    # The Microsoft Customer Agreement's contact, when the page asked for its acceptance.
    first_name: str = ""
    last_name: str = ""
    phone: str = ""

    def audit(self) -> dict[str, str]:
        """The order's audit columns, each cut to its column's length."""
        return {
            "confirmer_name": self.name[:200],
            "confirmer_email": self.email[:254],
            "confirmer_ip": self.ip[:64],
            "confirmer_user_agent": self.user_agent[:500],
            "decline_reason": self.reason[:1000],
            "mca_first_name": self.first_name[:100],
            "mca_last_name": self.last_name[:100],
            "mca_phone": self.phone[:40],
        }


@dataclass(frozen=True)
class Answered:
    link: LinkOrder  # the order after the answer
    changed: bool  # False when the answer found the order already decided (a retry, two tabs)


class Forbidden(Exception):
    """The form did not carry this order's CSRF token."""


async def answer_link(
    session: AsyncSession,
    *,
    token: str,
    answer: Answer,
    csrf: str,
    confirmer: Confirmer,
    secret_key: str,
    now: datetime,
    catalogue: Catalogue,
    vendor: str,
) -> Answered | None:
    """Applies the customer's answer once. Confirming, in one transaction: the order is
    confirmed with its audit trail, the subscription created or its seats changed, the partner
    made partner of record, and the notifications queued. None when the link is not valid."""
    link = await open_link(session, token=token, now=now)
    if link is None:
        return None
    order = link.order
    if not csrf_valid(secret_key, csrf, order_id=order.id, stored_hash=order.token_hash):
        raise Forbidden
    transition = answer_order(order.state, order.expires_at, now, answer)
    # End the read so that the write below starts its own transaction (SQLite takes the write
    # lock at the UPDATE; PostgreSQL re-checks the WHERE after waiting for a concurrent answer).
    await session.commit()
    if not transition.changes:
        return Answered(link, changed=False)
    won = await order_rows.decide(
        session=session, order_id=order.id, state=transition.state, now=now, **confirmer.audit()
    )
    if not won:
        await session.commit()
        await session.refresh(order)
        state = effective_state(order.state, order.expires_at, now)
        return Answered(replace(link, order=order, state=state), changed=False)
    if transition.state is OrderState.CONFIRMED:
        if link.places_in_partner_center:
            # It takes effect in Partner Center; the sync after it brings the subscription.
            order.placement, order.placement_request_id = "pending", str(uuid.uuid4())
            order.placement_due_at = now
            order.mca_accepted_at = now if link.asks_agreement else None
        else:
            order.subscription_id = await apply_order(
                session, order=order, partner=link.partner, now=now
            )
        session.add(order)
        await session.flush()
    await session.refresh(order)
    await queue_answer_notifications(
        session,
        order=order,
        customer=link.customer,
        partner=link.partner,
        catalogue=catalogue,
        vendor=vendor,
        now=now,
    )
    await session.commit()
    after = replace(link, order=order, state=OrderState(order.state))
    return Answered(after, changed=True)


async def apply_order(
    session: AsyncSession, *, order: Order, partner: Partner, now: datetime
) -> int:
    """Creates the ordered subscription or changes its seats, with the partner as partner of
    record; returns the subscription's id."""
    subscription = None
    if order.subscription_id is not None:
        subscription = await session.get(Subscription, order.subscription_id)
        if subscription is not None and subscription.status == CANCELLED:
            subscription = None
    if subscription is None:
        start = today_in(partner.timezone, now)
        # A subscription cancelled earlier today has the same identity: it comes back to life.
        subscription = await order_rows.subscription_by_key(
            session=session,
            customer_id=order.customer_id,
            plan_code=order.plan_code,
            start_date=start,
        ) or Subscription(
            partner_id=order.partner_id,
            customer_id=order.customer_id,
            plan_code=order.plan_code,
            start_date=start,
            billing_cycle="annual",
            renewal_date=add_years(start, 1),
            seats=order.seats,
            unit_price=order.unit_price,
            status=ACTIVE,
            billing_owner=order.billing_owner,
            created_at=now,
        )
        subscription.status = ACTIVE
    seats_before, price_before = subscription.seats, subscription.unit_price
    subscription.seats = order.seats
    subscription.partner_of_record_id = partner.id
    subscription.updated_at = now
    session.add(subscription)
    await session.flush()
    # The months before today keep the seats they had.
    await seat_changes.record(
        session=session,
        subscription=subscription,
        effective_on=today_in(partner.timezone, now),
        seats_before=seats_before,
        unit_price_before=price_before,
        now=now,
        order_id=order.id,
    )
    return subscription.id


def orders_channel(partner: Partner) -> str:
    """Where order news goes: the partner's orders channel, else its team (alert) channel."""
    return partner.orders_channel or partner.alert_channel


async def queue_answer_notifications(
    session: AsyncSession,
    *,
    order: Order,
    customer: Customer,
    partner: Partner,
    catalogue: Catalogue,
    vendor: str,
    now: datetime,
) -> None:
    """Queues the channel message and the filer's DM about a customer's answer."""
    message = order_messages.answered(
        order, customer=customer, partner=partner, catalogue=catalogue, vendor=vendor
    )
    key = f"order:{order.id}:{order.state}"
    await outbox.add(
        session=session,
        rows=[
            post_message(
                key=f"{key}:channel",
                channel=orders_channel(partner),
                message=message,
                partner_id=partner.id,
                now=now,
            ),
            post_message(
                key=f"{key}:filer",
                channel=order.filed_by,
                message=message,
                partner_id=partner.id,
                now=now,
            ),
        ],
    )
