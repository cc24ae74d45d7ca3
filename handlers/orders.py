"""Slack listeners for /order: the command, picking a customer, the order form and its search."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp

from bot.arguments import whole_number
from bot.blocks import Message
from bot.catalogue import Plan
from bot.orders import flows
from bot.orders import messages as order_messages
from bot.orders.messages import OrderAction
from bot.orders.rules import (
    BadArguments,
    OpenModal,
    OrderRequest,
    OrderSubcommand,
    describe,
    link_for,
    parse_order_command,
    parse_seats,
)
from bot.picking import choice, customer_options
from bot.services import Services
from bot.subscriptions.flows import Choices, NoMatch
from handlers.errors import answering_failures
from handlers.replies import (
    DATABASE_ERRORS,
    database_down_text,
    failure_reference,
    form_values,
    send,
)
from storage.models import Partner

logger = logging.getLogger(__name__)

PICK_CUSTOMER = re.compile(
    rf"^({OrderAction.PICK_CUSTOMER}(:\d+)?"
    rf"|{OrderAction.PICK_CUSTOMER_SELECT})$"
)
PICKED = re.compile(r"^(\d+):([A-Za-z0-9_-]{1,16}):(\d+)$")
MAX_FORM_OPTIONS = 100


def filing_answer(
    filing, *, partner: Partner, services: Services, plan: Plan, seats: int, query: str = ""
) -> list[Message]:
    """Turns what filing came to into the answer for the filer."""
    if isinstance(filing, flows.Filed):
        described = describe(
            filing.order,
            customer=filing.customer,
            partner=partner,
            catalogue=services.catalogue,
            time_zone=partner.timezone,
        )
        return order_messages.filed(described, link_for(services.settings.base_url, filing.token))
    if isinstance(filing, Choices):
        return order_messages.choices(
            query,
            [choice(c) for c in filing.customers],
            filing.total,
            plan_code=plan.code,
            seats=seats,
        )
    if isinstance(filing, NoMatch):
        return order_messages.no_match(
            query, [choice(c) for c in filing.suggestions], plan_code=plan.code, seats=seats
        )
    return order_messages.problem(filing.problem)


async def order_command(ack, command, respond, context, client) -> None:
    services: Services = context["services"]
    partner: Partner = context["partner"]
    parsed = parse_order_command(command.get("text") or "", services.catalogue)
    await ack()
    if isinstance(parsed, OpenModal):
        form = order_messages.order_form(
            services.catalogue, private_metadata=command.get("channel_id", "")
        )
        await client.views_open(trigger_id=command["trigger_id"], view=form)
        return
    if isinstance(parsed, BadArguments):
        answers = order_messages.problem(parsed.problem)
    elif isinstance(parsed, OrderSubcommand):
        answers = await staff_command(
            parsed, partner=partner, services=services, user_id=command.get("user_id", "")
        )
    else:
        answers = await file_from_text(
            parsed, partner=partner, services=services, user_id=command.get("user_id", "")
        )
    await send(respond, answers, replace_original=False)


async def file_from_text(
    request: OrderRequest, *, partner: Partner, services: Services, user_id: str
) -> list[Message]:
    plan = services.catalogue.get(request.plan_code)
    assert plan is not None, "the parser only lets catalogue plans through"
    async with services.sessions() as session:
        filing = await flows.file_order(
            session,
            partner=partner,
            plan=plan,
            seats=request.seats,
            filed_by=user_id,
            now=services.clock(),
            ttl_days=services.settings.order_link_ttl_days,
            customer_query=request.customer_query,
        )
    return filing_answer(
        filing,
        partner=partner,
        services=services,
        plan=plan,
        seats=request.seats,
        query=request.customer_query,
    )


async def staff_command(
    parsed: OrderSubcommand, *, partner: Partner, services: Services, user_id: str
) -> list[Message]:
    now = services.clock()
    if parsed.name == "help":
        return order_messages.usage()
    async with services.sessions() as session:
        if parsed.name == "list":
            rows = await flows.recent_orders(session, partner=partner, now=now)
            return order_messages.order_list(rows, time_zone=partner.timezone, now=now)
        assert parsed.order_id is not None
        if parsed.name == "cancel":
            change = await flows.cancel_order(
                session, partner=partner, order_id=parsed.order_id, by=user_id, now=now
            )
        else:
            change = await flows.resend_order(
                session,
                partner=partner,
                order_id=parsed.order_id,
                now=now,
                ttl_days=services.settings.order_link_ttl_days,
            )
    if change.order is None:
        return order_messages.not_found(parsed.order_id)
    if not change.changed:
        action = "cancelled" if parsed.name == "cancel" else "sent again"
        return order_messages.cannot_change(parsed.order_id, change.customer, change.state, action)
    if parsed.name == "cancel":
        return order_messages.cancelled(parsed.order_id, change.customer)
    described = describe(
        change.order,
        customer=change.customer,
        partner=partner,
        catalogue=services.catalogue,
        time_zone=partner.timezone,
    )
    link = link_for(services.settings.base_url, change.token)
    return order_messages.filed(described, link, resent=True)


async def file_for_customer(
    services: Services,
    *,
    partner: Partner,
    plan: Plan,
    seats: int,
    user_id: str,
    customer_id: int,
    note: str = "",
) -> flows.Filing:
    """Files an order for a customer picked by id (from a list or the form)."""
    async with services.sessions() as session:
        return await flows.file_order(
            session,
            partner=partner,
            plan=plan,
            seats=seats,
            filed_by=user_id,
            now=services.clock(),
            ttl_days=services.settings.order_link_ttl_days,
            customer_id=customer_id,
            note=note,
        )


async def pick_customer(ack, action, respond, context, body) -> None:
    await ack()
    services: Services = context["services"]
    partner: Partner = context["partner"]
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    picked = PICKED.match(value)
    plan = services.catalogue.get(picked.group(2)) if picked else None
    seats = parse_seats(picked.group(3)) if picked else "no seats"
    if picked is None or plan is None or isinstance(seats, str):
        answers = order_messages.problem("That choice is out of date; type the order again.")
    else:
        filing = await file_for_customer(
            services,
            partner=partner,
            plan=plan,
            seats=seats,
            user_id=body.get("user", {}).get("id", ""),
            customer_id=int(picked.group(1)),
        )
        answers = filing_answer(filing, partner=partner, services=services, plan=plan, seats=seats)
    await send(respond, answers, replace_original=True)


async def order_form_submitted(ack, view, body, context) -> None:
    services: Services = context["services"]
    partner: Partner = context["partner"]
    values = form_values(view)
    errors = {}
    plan = services.catalogue.get(values.get(OrderAction.PLAN, ""))
    seats = parse_seats(values.get(OrderAction.SEATS, ""))
    customer_id = values.get(OrderAction.CUSTOMER, "")
    if plan is None:
        errors[OrderAction.PLAN] = "Pick a plan from the list."
    if isinstance(seats, str):
        errors[OrderAction.SEATS] = seats.replace("`", "")
    if not whole_number(customer_id):
        errors[OrderAction.CUSTOMER] = "Pick a customer from the search."
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    try:
        filing = await file_for_customer(
            services,
            partner=partner,
            plan=plan,
            seats=seats,
            user_id=body.get("user", {}).get("id", ""),
            customer_id=int(customer_id),
            note=values.get(OrderAction.NOTE, ""),
        )
    except DATABASE_ERRORS:
        reference = failure_reference("filing an order from the form", services=services)
        await ack(
            response_action="errors", errors={OrderAction.SEATS: database_down_text(reference)}
        )
        return
    if isinstance(filing, flows.Refused):
        await ack(response_action="errors", errors={OrderAction.CUSTOMER: filing.problem})
        return
    answers = filing_answer(filing, partner=partner, services=services, plan=plan, seats=seats)
    await ack(response_action="update", view=order_messages.form_result(answers))


async def customer_search(ack, payload, context) -> None:
    services: Services = context["services"]
    partner: Partner = context["partner"]
    async with services.sessions() as session:
        found = await flows.customers_matching(
            session, partner=partner, text=payload.get("value") or "", limit=MAX_FORM_OPTIONS
        )
    await ack(options=customer_options([choice(c) for c in found]))


def register(app: AsyncApp) -> None:
    app.command("/order")(answering_failures(order_command))
    app.action(PICK_CUSTOMER)(answering_failures(pick_customer))
    app.view(OrderAction.FORM)(order_form_submitted)
    app.options(OrderAction.CUSTOMER)(customer_search)
