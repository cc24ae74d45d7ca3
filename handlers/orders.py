"""Slack listeners for /order: the command, picking a customer, the order form and its search."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.arguments import slash_text
from bot.orders.commands import (
    OpenForm,
    customer_search_options,
    cut_answer,
    form_failure,
    order_answer,
    pick_answer,
    submit_cut_form,
    submit_order_form,
)
from bot.orders.cuts import CLICKS as CUT_CLICKS
from bot.orders.cuts import CutAction
from bot.orders.messages import PICK_CUSTOMER_ACTIONS, OrderAction
from handlers.errors import answering_failures
from handlers.replies import (
    DATABASE_ERRORS,
    database_down_text,
    failure_reference,
    form_values,
    send,
)


async def order_command(ack, command, respond, context, client) -> None:
    await ack()
    answer = await order_answer(
        slash_text(command.get("text")),
        partner=context["partner"],
        services=context["services"],
        user_id=command.get("user_id", ""),
        channel_id=command.get("channel_id", ""),
    )
    if isinstance(answer, OpenForm):
        await client.views_open(trigger_id=command["trigger_id"], view=answer.view)
        return
    await send(respond, answer, replace_original=False)


async def pick_customer(ack, action, respond, context, body) -> None:
    await ack()
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    answers = await pick_answer(
        value,
        partner=context["partner"],
        services=context["services"],
        user_id=body.get("user", {}).get("id", ""),
    )
    await send(respond, answers, replace_original=True)


async def pick_cut_reading(ack, action, respond, context, body) -> None:
    await ack()
    answers = await cut_answer(
        action.get("action_id", ""),
        action.get("value") or "",
        partner=context["partner"],
        services=context["services"],
        user_id=body.get("user", {}).get("id", ""),
    )
    await send(respond, answers, replace_original=True)


async def cut_form_submitted(ack, view, body, context) -> None:
    services = context["services"]
    try:
        outcome = await submit_cut_form(
            form_values(view),
            view.get("private_metadata") or "",
            partner=context["partner"],
            services=services,
            user_id=body.get("user", {}).get("id", ""),
        )
    except DATABASE_ERRORS:
        reference = failure_reference("filing a seat cut from the form", services=services)
        outcome = form_failure(database_down_text(reference), under=CutAction.READING)
    await ack(**outcome.ack_arguments())


async def order_form_submitted(ack, view, body, context) -> None:
    services = context["services"]
    try:
        outcome = await submit_order_form(
            form_values(view),
            partner=context["partner"],
            services=services,
            user_id=body.get("user", {}).get("id", ""),
        )
    except DATABASE_ERRORS:
        reference = failure_reference("filing an order from the form", services=services)
        outcome = form_failure(database_down_text(reference))
    await ack(**outcome.ack_arguments())


async def customer_search(ack, payload, context) -> None:
    options = await customer_search_options(
        payload.get("value") or "", partner=context["partner"], services=context["services"]
    )
    await ack(options=options)


def register(app: AsyncApp) -> None:
    app.command("/order")(answering_failures(order_command))
    app.action(PICK_CUSTOMER_ACTIONS)(answering_failures(pick_customer))
    app.view(OrderAction.FORM)(order_form_submitted)
    app.action(CUT_CLICKS)(answering_failures(pick_cut_reading))
    app.view(CutAction.FORM)(cut_form_submitted)
    app.options(OrderAction.CUSTOMER)(answering_failures(customer_search))
