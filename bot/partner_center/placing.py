"""Placing a connected partner's confirmed orders in Partner Center, as that partner: a seat
change of a Partner Center subscription as a PATCH of its quantity, anything else as a cart and
its checkout, after the Microsoft Customer Agreement's acceptance for a customer new there. The
customer's confirmation is kept whatever happens: the order stays confirmed, its placement
pending, and the schedule tries again with a growing wait; the same MS-RequestId per step on
every try means Partner Center never places it twice. The outcome reaches the filer and the
orders channel through the outbox; a sync then brings the subscription as Partner Center has it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import aiohttp

from bot.entra import PARTNER_CENTER_SCOPE, AppCredentials, TokenRefused
from bot.orders.flows import orders_channel
from bot.outbox.rows import post_message
from bot.partner_center import messages
from bot.partner_center.api import PartnerCenterFailed, RetryBudget, ssl_context
from bot.partner_center.offers import PRODUCTS
from bot.partner_center.ordering_api import Acceptance, OrderingApi, OrderRefused
from bot.partner_center.sealing import SealingError, seal, sealer, unseal
from bot.partner_center.sync import problem_words, sync_partner
from bot.services import Services
from storage import customers, outbox, partners
from storage import orders as order_rows
from storage import partner_center as connections
from storage.models import Customer, Order, PartnerCenterConnection, Subscription

logger = logging.getLogger(__name__)

# Minutes before the next try after the 1st, 2nd, … failed one; the last repeats.
RETRY_MINUTES = (1, 5, 15, 60, 180, 360)
# The SKU of the catalogue's plans in Partner Center (new-commerce licence offers have one).
SKU = "0001"
PLAN_PRODUCTS = {plan: product for product, plan in PRODUCTS.items()}


class NoUserConsent(Exception):
    """The agreement API takes App+User tokens only, and no admin has signed in yet."""


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th try an order's placement is tried again."""
    return timedelta(minutes=RETRY_MINUTES[min(max(attempts, 1), len(RETRY_MINUTES)) - 1])


async def place_due_orders(services: Services, *, batch: int = 20) -> int:
    """The schedule: places the confirmed orders whose placement is due, each claimed first so
    that one process tries it; returns how many were placed."""
    now = services.clock()
    async with services.sessions() as session:
        due = await order_rows.placements_due(session=session, now=now, limit=batch)
    placed = 0
    for order_id, attempts in due:
        async with services.sessions() as session:
            claimed = await order_rows.claim_placement(
                session=session,
                order_id=order_id,
                seen_due_at=now,
                next_at=now + retry_delay(attempts + 1),
            )
            await session.commit()
        if claimed:
            placed += await place_order(services, order_id) == "placed"
    return placed


async def place_order(services: Services, order_id: int) -> str:
    """Tries once to place a claimed order; returns its placement afterwards."""
    async with services.sessions() as session:
        order = await session.get(Order, order_id)
        customer = await customers.get(
            session=session, partner_id=order.partner_id, customer_id=order.customer_id
        )
        connection = await connections.get(session=session, partner_id=order.partner_id)
        subscription = (
            await session.get(Subscription, order.subscription_id)
            if order.subscription_id
            else None
        )
    try:
        if connection is None or customer is None or not customer.external_id:
            raise OrderRefused("the partner's Partner Center is no longer connected")
        await send_order(services, order, customer, connection, subscription)
    except OrderRefused as refused:
        return await record_outcome(services, order, "refused", refused.reason)
    except (PartnerCenterFailed, TokenRefused, SealingError, NoUserConsent) as failure:
        logger.warning("placing order %s in Partner Center failed: %s", order.id, failure)
        return await record_outcome(services, order, "pending", failure_words(failure))
    outcome = await record_outcome(services, order, "placed", "")
    # The subscription as Partner Center now lists it; a failed sync tells the managers itself.
    await sync_partner(services, order.partner_id)
    return outcome


async def send_order(
    services: Services,
    order: Order,
    customer: Customer,
    connection: PartnerCenterConnection,
    subscription: Subscription | None,
) -> None:
    """The calls that place the order, each with the order's own request id for its step."""
    settings = services.settings
    keys = sealer(settings.partner_center_key)
    app = AppCredentials(
        settings.partner_center_authority,
        connection.tenant_id,
        connection.client_id,
        unseal(keys, connection.sealed_secret),
    )
    connector = aiohttp.TCPConnector(ssl=ssl_context(settings.partner_center_ca_file) or True)
    async with aiohttp.ClientSession(connector=connector) as http:

        def api(token: str) -> OrderingApi:
            return OrderingApi(
                http,
                base_url=settings.partner_center_api_url,
                token=token,
                budget=RetryBudget(settings.partner_center_retry_budget),
            )

        app_only = api(await services.app_tokens.token(app, PARTNER_CENTER_SCOPE))
        request_id = order.placement_request_id
        if subscription is not None and subscription.external_id:
            await app_only.change_quantity(
                customer.external_id, subscription.external_id, order.seats, request_id=request_id
            )
            return
        product = PLAN_PRODUCTS.get(order.plan_code)
        if product is None:
            raise OrderRefused(f"plan {order.plan_code} has no Microsoft product to order")
        if order.mca_accepted_at is not None:
            if not connection.sealed_user_token:
                raise NoUserConsent
            refresh_token = unseal(keys, connection.sealed_user_token)
            token, newer = await services.app_tokens.user_token(
                app, refresh_token, PARTNER_CENTER_SCOPE
            )
            if newer != refresh_token:
                await keep_refresh_token(services, connection.partner_id, seal(keys, newer))
            user = api(token)
            template = await app_only.agreement_template()
            await user.accept_agreement(
                customer.external_id, acceptance_of(order), template, request_id=request_id
            )
        item = await app_only.catalog_item(product, SKU, settings.partner_center_country)
        await app_only.buy(customer.external_id, item, order.seats, request_id=request_id)


async def keep_refresh_token(services: Services, partner_id: int, sealed: str) -> None:
    """Stores the admin's newer refresh token Entra handed out (each use extends its life)."""
    async with services.sessions() as session:
        connection = await connections.get(session=session, partner_id=partner_id)
        if connection is not None and connection.sealed_user_token:
            connection.sealed_user_token = sealed
            session.add(connection)
            await session.commit()


def acceptance_of(order: Order) -> Acceptance:
    return Acceptance(
        order.mca_first_name,
        order.mca_last_name,
        order.confirmer_email,
        order.mca_phone,
        order.mca_accepted_at,
    )


def failure_words(failure: Exception) -> str:
    """Why a try failed, and what to do, in words for the filer and the partner's admins."""
    if isinstance(failure, NoUserConsent):
        return (
            "the customer accepted the Microsoft Customer Agreement, and Partner Center records "
            "that only for a signed-in admin: an admin of your Partner Center account signs in "
            "once for partnerbot (README, 'Placing orders in Partner Center')"
        )
    return problem_words(failure)


async def record_outcome(services: Services, order: Order, placement: str, problem: str) -> str:
    """Stores a try's outcome; the filer and the orders channel hear of a placement, a refusal
    and the first failure of an order (not of each retry)."""
    now = services.clock()
    async with services.sessions() as session:
        stored = await session.get(Order, order.id)
        first_failure = placement == "pending" and not stored.placement_problem
        stored.placement, stored.placement_problem = placement, problem[:500]
        if placement != "pending":
            stored.placement_due_at = None
        session.add(stored)
        if placement != "pending" or first_failure:
            await tell(session, stored, now=now)
        await session.commit()
    services.wake_outbox()
    return placement


async def tell(session, order: Order, *, now: datetime) -> None:
    """Queues the outcome to the filer and the orders channel, once per outcome."""
    partner = await partners.get_by_id(session=session, partner_id=order.partner_id)
    customer = await customers.get(
        session=session, partner_id=order.partner_id, customer_id=order.customer_id
    )
    message = messages.placement_message(order, customer_name=customer.name)
    key = f"order:{order.id}:placement:{order.placement}"
    await outbox.add(
        session=session,
        rows=[
            post_message(
                key=f"{key}:{where}",
                channel=channel,
                message=message,
                partner_id=partner.id,
                now=now,
            )
            for where, channel in (("channel", orders_channel(partner)), ("filer", order.filed_by))
        ],
    )
