"""Slack listeners for /subscription and for picking a customer from its answers."""

from __future__ import annotations

import time

from slack_bolt.async_app import AsyncApp

from bot.arguments import slash_text
from bot.blocks import Message
from bot.services import Services
from bot.subscriptions import commands
from bot.subscriptions.messages import PICK_CUSTOMER_ACTIONS
from handlers.context import seconds_left
from handlers.errors import answering_failures
from handlers.replies import answer_in_ack_or_later, send


async def subscription_command(ack, command, respond, context) -> None:
    started = time.perf_counter()
    services: Services = context["services"]
    await answer_in_ack_or_later(
        ack, respond, subscription_answers(command, context), within=seconds_left(context)
    )
    services.metrics.answer_latency.labels("/subscription").observe(time.perf_counter() - started)


async def subscription_answers(command: dict, context) -> list[Message]:
    services: Services = context["services"]
    async with services.sessions() as session:
        return await commands.subscription_answer(
            session, slash_text(command.get("text")), partner=context["partner"],
            catalogue=services.catalogue, rule=services.rule, now=services.clock(),
            user_id=command.get("user_id", ""), names=services.names,
        )  # fmt: skip


async def pick_customer(ack, action, respond, context, body=None) -> None:
    await ack()
    services: Services = context["services"]
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    async with services.sessions() as session:
        answers = await commands.picked_customer_answer(
            session, value, partner=context["partner"],
            catalogue=services.catalogue, rule=services.rule, now=services.clock(),
            user_id=((body or {}).get("user") or {}).get("id", ""),
        )  # fmt: skip
    await send(respond, answers, replace_original=True)


def register(app: AsyncApp) -> None:
    app.command("/subscription")(answering_failures(subscription_command))
    app.action(PICK_CUSTOMER_ACTIONS)(answering_failures(pick_customer))
