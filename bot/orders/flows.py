"""Order flows: filing, the customer's answer, staff changes and the scheduler's sweeps. Each runs
in one transaction that also writes the Slack notifications it causes to the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import MAX_QUERY_LENGTH, clean_query, fold, like_pattern
from bot.blocks import escape
from bot.catalogue import Catalogue, Plan
from bot.orders import messages as order_messages
from bot.orders.rules import (
    Answer,
    OrderState,
    answer_order,
    csrf_valid,
    effective_state,
    expiry,
    new_token,
    reminders_due_if_expiring_by,
    staff_can_change,
    token_hash,
    well_formed,
)
from bot.outbox.rows import post_message
from bot.subscriptions.flows import Choices, Found, NoMatch, TooLong, look_up
from bot.subscriptions.rules import ACTIVE, CANCELLED
from bot.zones import add_years, today_in
from storage import customers, outbox
from storage import orders as order_rows
from storage import partners as partner_rows
from storage.models import Customer, Order, Partner, Subscription

RECENT_DAYS = 30
MAX_LISTED = 25


@dataclass(frozen=True)
class Filed:
    order: Order
    token: str  # shown once, in the answer to the filer; only its hash is stored
    customer: Customer
    subscription: Subscription | None  # the subscription whose seats the order changes


@dataclass(frozen=True)
class Refused:
    problem: str  # what is wrong, for the filer


Filing = Filed | Refused | Choices | NoMatch


def order_line(
    *, customer: Customer, plan: Plan, seats: int, existing: Subscription | None
) -> tuple[str, Refused | None]:
    """Decides the billing owner of a new order, or refuses an order that changes nothing."""
    if existing is None:
        return "vendor", None
    if existing.seats == seats:
        return existing.billing_owner, Refused(
            f"{escape(customer.name)} already has {seats:,} seats of {plan.code}; an order must "
            "change the seat count. Type the number of seats the customer should have in total."
        )
    return existing.billing_owner, None


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
) -> Filing:
    """Files a pending order for one of the partner's own customers, found by what was typed or
    by id (from a list or the form); several matches or none file nothing."""
    if customer_id is not None:
        customer = await customers.get(
            session=session, partner_id=partner.id, customer_id=customer_id
        )
        if customer is None:
            return Refused("That customer is no longer among yours; nothing was filed.")
    else:
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
        customer = lookup.customer
    existing = await order_rows.subscription_for_plan(
        session=session, customer_id=customer.id, plan_code=plan.code
    )
    billing_owner, refused = order_line(
        customer=customer, plan=plan, seats=seats, existing=existing
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
    return LinkOrder(order, customer, partner, effective_state(order.state, order.expires_at, now))


@dataclass(frozen=True)
class Confirmer:
    """Who answered, as typed on the page, and where the answer came from."""

    name: str = ""
    email: str = ""
    ip: str = ""
    user_agent: str = ""
    reason: str = ""


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
    audit = {
        "confirmer_name": confirmer.name[:200],
        "confirmer_email": confirmer.email[:254],
        "confirmer_ip": confirmer.ip[:64],
        "confirmer_user_agent": confirmer.user_agent[:500],
        "decline_reason": confirmer.reason[:1000],
    }
    won = await order_rows.decide(
        session=session, order_id=order.id, state=transition.state, now=now, **audit
    )
    if not won:
        await session.commit()
        await session.refresh(order)
        state = effective_state(order.state, order.expires_at, now)
        return Answered(LinkOrder(order, link.customer, link.partner, state), changed=False)
    if transition.state is OrderState.CONFIRMED:
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
        now=now,
    )
    await session.commit()
    return Answered(LinkOrder(order, link.customer, link.partner, OrderState(order.state)), True)


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
    subscription.seats = order.seats
    subscription.partner_of_record_id = partner.id
    subscription.updated_at = now
    session.add(subscription)
    await session.flush()
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
    now: datetime,
) -> None:
    """Queues the channel message and the filer's DM about a customer's answer."""
    message = order_messages.answered(
        order, customer=customer, partner=partner, catalogue=catalogue
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


# Staff: list, cancel, resend.


async def recent_orders(
    session: AsyncSession, *, partner: Partner, now: datetime
) -> list[tuple[Order, Customer]]:
    """The partner's pending orders and those of the last 30 days, newest first."""
    since = now - timedelta(days=RECENT_DAYS)
    return await order_rows.recent(
        session=session, partner_id=partner.id, since=since, limit=MAX_LISTED
    )


@dataclass(frozen=True)
class StaffChange:
    """What cancel or resend came to."""

    order: Order | None  # None: no such order of this partner
    customer: Customer | None = None
    changed: bool = False
    state: OrderState | None = None
    token: str = ""  # the new link's token, after a resend


async def changeable(
    session: AsyncSession, *, partner: Partner, order_id: int, now: datetime
) -> tuple[Order, Customer | None] | StaffChange:
    """Finds a partner's order that staff may still change, or says why they may not (ending
    the read, so the change that follows starts its own transaction)."""
    order = await order_rows.get(session=session, partner_id=partner.id, order_id=order_id)
    if order is None:
        return StaffChange(None)
    customer = await customers.get(
        session=session, partner_id=partner.id, customer_id=order.customer_id
    )
    state = effective_state(order.state, order.expires_at, now)
    await session.commit()
    if not staff_can_change(order.state, order.expires_at, now):
        return StaffChange(order, customer, changed=False, state=state)
    return order, customer


async def cancel_order(
    session: AsyncSession, *, partner: Partner, order_id: int, by: str, now: datetime
) -> StaffChange:
    """Cancels a pending order of the partner; its link stops working at once."""
    found = await changeable(session, partner=partner, order_id=order_id, now=now)
    if isinstance(found, StaffChange):
        return found
    order, customer = found
    won = await order_rows.decide(
        session=session, order_id=order.id, state=OrderState.CANCELLED, now=now, decided_by=by
    )
    await session.commit()
    if not won:
        await session.refresh(order)
        return StaffChange(order, customer, False, OrderState(order.state))
    await session.refresh(order)
    return StaffChange(order, customer, True, OrderState.CANCELLED)


async def resend_order(
    session: AsyncSession, *, partner: Partner, order_id: int, now: datetime, ttl_days: int
) -> StaffChange:
    """Issues a fresh link for a pending order, with a fresh expiry; the old link stops working."""
    found = await changeable(session, partner=partner, order_id=order_id, now=now)
    if isinstance(found, StaffChange):
        return found
    order, customer = found
    token, stored_hash = new_token()
    won = await order_rows.replace_token(
        session=session,
        order_id=order.id,
        token_hash=stored_hash,
        expires_at=expiry(now, ttl_days),
        now=now,
    )
    await session.commit()
    await session.refresh(order)
    if not won:
        return StaffChange(order, customer, False, OrderState(order.state))
    return StaffChange(order, customer, True, OrderState.PENDING, token=token)


# The scheduler's sweeps.


async def expire_orders(session: AsyncSession, *, now: datetime, catalogue: Catalogue) -> int:
    """Expires pending orders past their expiry and tells each filer, once."""
    expired = await order_rows.expire_due(session=session, now=now)
    await queue_filer_notices(
        session, order_ids=expired, now=now, catalogue=catalogue, kind="expired"
    )
    await session.commit()
    return len(expired)


async def remind_filers(
    session: AsyncSession, *, now: datetime, catalogue: Catalogue, ttl_days: int = 14
) -> int:
    """Reminds the filer of each order whose link has waited 3 days (counted from a resend, if
    any), once."""
    due = await order_rows.mark_reminders_due(
        session=session, now=now, expiring_by=reminders_due_if_expiring_by(now, ttl_days)
    )
    await queue_filer_notices(session, order_ids=due, now=now, catalogue=catalogue, kind="reminder")
    await session.commit()
    return len(due)


async def queue_filer_notices(
    session: AsyncSession, *, order_ids: list[int], now: datetime, catalogue: Catalogue, kind: str
) -> None:
    rows = []
    for order, customer in await order_rows.with_customers(session=session, order_ids=order_ids):
        partner = await partner_rows.get_by_id(session=session, partner_id=order.partner_id)
        if partner is None:
            continue
        build = order_messages.expired if kind == "expired" else order_messages.reminder
        message = build(order, customer=customer, partner=partner, catalogue=catalogue)
        # A reminder is keyed by the order's current expiry: a resent order may get one again.
        suffix = order.expires_at.isoformat() if kind == "reminder" else ""
        rows.append(
            post_message(
                key=f"order:{order.id}:{kind}:{suffix}",
                channel=order.filed_by,
                message=message,
                partner_id=partner.id,
                now=now,
            )
        )
    await outbox.add(session=session, rows=rows)


async def customers_matching(
    session: AsyncSession, *, partner: Partner, text: str, limit: int
) -> list[Customer]:
    """The partner's customers whose name or domain contains what was typed in the form."""
    folded = fold(clean_query(text))
    if not folded or len(folded) > MAX_QUERY_LENGTH:
        return []
    matches = await customers.find(
        session=session,
        partner_id=partner.id,
        folded=folded,
        pattern=like_pattern(folded),
        limit=limit,
    )
    return matches.customers
