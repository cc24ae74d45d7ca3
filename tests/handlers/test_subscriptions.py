"""The /subscription listeners called as bolt calls them: acked first, then answered privately."""

from __future__ import annotations

from datetime import date

from handlers.subscriptions import pick_customer, subscription_command
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.listeners import FakeAck, FakeRespond, listener_context


async def test_the_command_acks_then_answers_privately_with_the_customer(services, sessions):
    partner = await make_partner(sessions)
    customer = await make_customer(sessions, partner, name="Contoso Dental", domain="contoso.com")
    await make_subscription(sessions, customer, plan_code="EXO", seats=3, unit_price="5.00",
        start_date=date(2026, 1, 5), renewal_date=date(2027, 1, 5),
    )  # fmt: skip
    ack, respond = FakeAck(), FakeRespond()

    await subscription_command(
        ack, {"text": "contoso"}, respond, listener_context(services, partner)
    )

    assert ack.calls == [{}]
    [answer] = respond.calls
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "Contoso Dental" in answer["text"]
    assert "3 seats" in str(answer["blocks"])


async def test_the_command_without_text_says_how_to_use_it(services, sessions):
    partner = await make_partner(sessions)
    respond = FakeRespond()

    await subscription_command(FakeAck(), {}, respond, listener_context(services, partner))

    assert respond.texts == ["How to use /subscription"]


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
