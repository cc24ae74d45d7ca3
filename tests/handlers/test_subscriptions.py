"""The /subscription listeners called as bolt calls them: answered privately, in the ack when the
answer is ready in time, else at the response_url."""

from __future__ import annotations

import asyncio
import dataclasses
from contextlib import asynccontextmanager
from datetime import date

from handlers.context import DEADLINE
from handlers.subscriptions import pick_customer, subscription_command
from storage import partners
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.listeners import FakeAck, FakeRespond, listener_context
from tests.utils.slack import assert_slack_accepts, mrkdwn_texts


async def contoso(sessions):
    partner = await make_partner(sessions)
    customer = await make_customer(sessions, partner, name="Contoso Dental", domain="contoso.com")
    await make_subscription(sessions, customer, plan_code="EXO", seats=3, unit_price="5.00",
        start_date=date(2026, 1, 5), renewal_date=date(2027, 1, 5),
    )  # fmt: skip
    return partner


def answers(ack: FakeAck, respond: FakeRespond) -> list[dict]:
    """Every message the asker got: the one in the acknowledgement, then the posted ones."""
    return [call for call in ack.calls if call.get("text")] + respond.calls


async def test_an_answer_ready_in_time_comes_in_the_ack_itself(services, sessions):
    partner = await contoso(sessions)
    ack, respond = FakeAck(), FakeRespond()

    await subscription_command(
        ack, {"text": "contoso"}, respond, listener_context(services, partner)
    )

    [answer] = ack.calls
    assert answer["response_type"] == "ephemeral"
    assert "Contoso Dental" in answer["text"]
    assert "3 seats" in str(answer["blocks"])
    assert_slack_accepts(answer)
    assert respond.calls == []


def held_back(sessions, gate: asyncio.Event):
    """Sessions that open only once the gate is set: a database slower than the ack's budget."""

    @asynccontextmanager
    async def opened():
        await gate.wait()
        async with sessions() as session:
            yield session

    return opened


async def test_an_answer_not_ready_in_time_is_acked_then_sent_to_the_response_url(
    services, sessions
):
    partner = await contoso(sessions)
    gate = asyncio.Event()
    slow = dataclasses.replace(services, sessions=held_back(services.sessions, gate))
    context = listener_context(slow, partner)
    context[DEADLINE] = asyncio.get_running_loop().time() + 0.05
    ack, respond = FakeAck(), FakeRespond()

    listener = asyncio.create_task(subscription_command(ack, {"text": "contoso"}, respond, context))
    while not ack.calls:  # until the listener stops waiting for the answer and acks
        await asyncio.sleep(0.01)
    assert ack.calls == [{}] and respond.calls == []
    gate.set()
    await listener

    [answer] = respond.calls
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "Contoso Dental" in answer["text"]
    assert_slack_accepts(answer)
    assert ack.calls == [{}]


async def test_the_answer_latency_is_counted_either_way(services, sessions):
    partner = await contoso(sessions)
    gate = asyncio.Event()
    gate.set()
    slow = dataclasses.replace(services, sessions=held_back(services.sessions, gate))
    late = listener_context(slow, partner)
    late[DEADLINE] = asyncio.get_running_loop().time()  # no time left: acked, then posted

    for context in (listener_context(services, partner), late):
        await subscription_command(FakeAck(), {"text": "contoso"}, FakeRespond(), context)

    assert answers_counted(services) == 2


def answers_counted(services) -> float:
    return services.metrics.registry.get_sample_value(
        "partnerbot_answer_duration_seconds_count", {"command": "/subscription"}
    )


async def test_the_command_without_text_says_how_to_use_it(services, sessions):
    partner = await make_partner(sessions)
    ack, respond = FakeAck(), FakeRespond()

    await subscription_command(ack, {}, respond, listener_context(services, partner))

    assert [answer["text"] for answer in answers(ack, respond)] == ["How to use /subscription"]


async def test_picking_a_customer_replaces_the_choices_with_its_subscriptions(services, sessions):
    partner = await make_partner(sessions)
    customer = await make_customer(sessions, partner, name="Fabrikam Dental")
    respond = FakeRespond()

    await pick_customer(
        FakeAck(),
        {"selected_option": {"value": str(customer.id)}},
        respond,
        listener_context(services, partner),
    )

    [answer] = respond.calls
    assert answer["replace_original"] is True and "Fabrikam Dental" in answer["text"]


async def test_picking_another_partners_customer_says_it_is_not_among_yours(services, sessions):
    mine, theirs = await make_partner(sessions), await make_partner(sessions, name="Other IT")
    customer = await make_customer(sessions, theirs, name="Secret Customer")
    respond = FakeRespond()

    for value in (str(customer.id), "not-a-number", "²"):
        await pick_customer(FakeAck(), {"value": value}, respond, listener_context(services, mine))

    assert respond.texts == ["That customer is no longer available"] * 3
    assert "Secret Customer" not in str(respond.calls)


# Who sees the money: a partner may keep commission, or commission and prices, for its managers.


async def money_partner(sessions, setting: str):
    partner = await make_partner(sessions, managers="U0BOSS")
    async with sessions() as session:
        partner = await partners.set_money_setting(
            session=session, partner_id=partner.id, setting=setting
        )
        await session.commit()
    customer = await make_customer(sessions, partner, name="Contoso Dental", domain="contoso.com")
    await make_subscription(sessions, customer, plan_code="EXO", seats=3, unit_price="5.00",
        start_date=date(2026, 1, 5), renewal_date=date(2027, 1, 5),
    )  # fmt: skip
    return partner, customer


async def asked_by(services, partner, user_id: str) -> str:
    ack, respond = FakeAck(), FakeRespond()
    await subscription_command(
        ack, {"text": "contoso", "user_id": user_id}, respond,
        listener_context(services, partner),
    )  # fmt: skip
    [answer] = answers(ack, respond)
    return "\n".join(mrkdwn_texts(answer["blocks"]))


async def test_by_default_everyone_sees_commission_and_prices(services, sessions):
    partner, _ = await money_partner(sessions, "none")

    text = await asked_by(services, partner, "U0STAFF")

    assert "3 seats × $5.00 per seat = *$15.00 a month*" in text
    assert "Your commission: earned to date" in text and "Commission: 12%" in text


async def test_commission_for_managers_only_keeps_it_from_others_but_shows_prices(
    services, sessions
):
    partner, _ = await money_partner(sessions, "commission")

    staff = await asked_by(services, partner, "U0STAFF")
    manager = await asked_by(services, partner, "U0BOSS")

    assert "commission" not in staff.casefold() and "earned" not in staff
    assert "3 seats × $5.00 per seat = *$15.00 a month*" in staff
    assert "3 seats · billed annually by the partner" not in staff
    assert "Your commission: earned to date" in manager and "Commission: 12%" in manager


async def test_commission_and_prices_for_managers_only_leave_others_no_money_at_all(
    services, sessions
):
    partner, customer = await money_partner(sessions, "all")

    staff = await asked_by(services, partner, "U0STAFF")
    picked = FakeRespond()
    await pick_customer(
        FakeAck(), {"value": str(customer.id)}, picked, listener_context(services, partner),
        {"user": {"id": "U0BOSS"}},
    )  # fmt: skip

    assert "$" not in staff and "commission" not in staff.casefold()
    assert "3 seats · billed annually by the partner" in staff
    assert "1 subscription* (1 active) · 3 active seats" in staff
    manager = "\n".join(mrkdwn_texts(picked.calls[0]["blocks"]))
    assert "*$15.00 a month*" in manager and "Your commission: earned to date" in manager
