"""Slack listeners for /subscription and for picking a customer from its answers."""

from __future__ import annotations

import re
import time

from slack_bolt.async_app import AsyncApp

from bot.arguments import whole_number
from bot.blocks import Message
from bot.services import Services
from bot.subscriptions import flows as subscriptions
from bot.subscriptions.messages import SubscriptionAction, lookup_messages
from bot.zones import today_in
from handlers.errors import answering_failures
from handlers.replies import send
from storage.models import Partner

PICK_CUSTOMER = re.compile(
    rf"^({SubscriptionAction.PICK_CUSTOMER}(:\d+)?|{SubscriptionAction.PICK_CUSTOMER_SELECT})$"
)
GONE = Message(
    "That customer is no longer available",
    [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "That customer is no longer among yours. "
                "Search again with `/subscription &lt;customer&gt;`.",
            },
        }
    ],
)


def answer(lookup, partner: Partner, services: Services) -> list[Message]:
    return lookup_messages(
        lookup,
        partner=partner,
        catalogue=services.catalogue,
        rule=services.rule,
        today=today_in(partner.timezone, services.clock()),
    )


async def subscription_command(ack, command, respond, context) -> None:
    await ack()
    started = time.perf_counter()
    services: Services = context["services"]
    partner: Partner = context["partner"]
    async with services.sessions() as session:
        lookup = await subscriptions.look_up(
            session, partner_id=partner.id, text=command.get("text") or ""
        )
    await send(respond, answer(lookup, partner, services), replace_original=False)
    services.metrics.answer_latency.labels("/subscription").observe(time.perf_counter() - started)


def picked_customer_id(action: dict) -> int | None:
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    return int(value) if whole_number(value) else None


async def pick_customer(ack, action, respond, context) -> None:
    await ack()
    services: Services = context["services"]
    partner: Partner = context["partner"]
    customer_id = picked_customer_id(action)
    found = None
    if customer_id is not None:
        async with services.sessions() as session:
            found = await subscriptions.look_up_customer(
                session, partner_id=partner.id, customer_id=customer_id
            )
    answers = answer(found, partner, services) if found else [GONE]
    await send(respond, answers, replace_original=True)


def register(app: AsyncApp) -> None:
    app.command("/subscription")(answering_failures(subscription_command))
    app.action(PICK_CUSTOMER)(answering_failures(pick_customer))
