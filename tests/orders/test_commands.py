"""The /order command's decisions on the test database: what each subcommand, pick and form comes
to, before any Slack transport."""

from __future__ import annotations

from bot.orders.commands import (
    FormOutcome,
    OpenForm,
    form_failure,
    order_answer,
    pick_answer,
    submit_order_form,
)
from bot.orders.messages import OrderAction


async def answer(services, partner, text):
    return await order_answer(
        text, partner=partner, services=services, user_id="U0FILER", channel_id="C0HERE"
    )


async def test_order_alone_is_the_form_for_the_channel(services, partner):
    answered = await answer(services, partner, "   ")
    assert isinstance(answered, OpenForm)
    assert answered.view["callback_id"] == OrderAction.FORM
    assert answered.view["private_metadata"] == "C0HERE"


async def test_a_filed_order_can_be_cancelled_once(services, partner, customer):
    [filed] = await answer(services, partner, "contoso BPOS-S 25")
    number = filed.text.split()[1]  # "Order #<id> filed for …"

    [cancelled] = await answer(services, partner, f"cancel {number}")
    [again] = await answer(services, partner, f"cancel {number}")

    assert (
        cancelled.text
        == f"Order {number} for Contoso Dental is cancelled. Its link no longer works."
    )
    assert again.text == f"Order {number} for Contoso Dental is already cancelled; nothing changed."


async def test_a_resend_answers_with_a_new_link(services, partner, customer):
    [filed] = await answer(services, partner, "contoso BPOS-S 25")
    number = filed.text.split()[1]

    [resent] = await answer(services, partner, f"resend {number}")

    assert resent.text == f"Order {number} filed for Contoso Dental"
    assert resent.blocks[0]["text"]["text"].startswith(f"Order {number} — new link")


async def test_a_pick_whose_value_is_not_a_pick_files_nothing(services, partner):
    [problem] = await pick_answer(
        "12:BPOS-S:many", partner=partner, services=services, user_id="U0"
    )
    assert problem.text == "That choice is out of date; type the order again."


async def test_a_form_with_too_many_seats_says_so_without_backticks(services, partner, customer):
    values = {
        OrderAction.CUSTOMER: str(customer.id),
        OrderAction.PLAN: "BPOS-S",
        OrderAction.SEATS: "10001",
    }
    outcome = await submit_order_form(values, partner=partner, services=services, user_id="U0")
    assert outcome.ack_arguments() == {
        "response_action": "errors",
        "errors": {
            OrderAction.SEATS: "An order can have at most 10,000 seats; 10001 is more. "
            "For larger deals, split the order or talk to your distributor."
        },
    }


def test_a_form_failure_is_shown_under_the_seats():
    assert form_failure("down") == FormOutcome(errors={OrderAction.SEATS: "down"})
    assert form_failure("down").ack_arguments() == {
        "response_action": "errors",
        "errors": {OrderAction.SEATS: "down"},
    }
