"""The /order listeners called directly: what they acknowledge, open and answer, on the test
database."""

from __future__ import annotations

import dataclasses
from contextlib import asynccontextmanager

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.orders.messages import OrderAction
from handlers.orders import customer_search, order_command, order_form_submitted, pick_customer
from storage.models import Order
from tests.utils.factories import make_customer, make_partner
from tests.utils.listeners import FakeAck, FakeClient, FakeRespond, listener_context


@pytest.fixture
async def partner(sessions):
    return await make_partner(sessions, name="Northwind Cloud", timezone="Europe/Berlin")


@pytest.fixture
async def customer(sessions, partner):
    return await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")


def database_down(services):
    """The services with a database that refuses every session."""

    @asynccontextmanager
    async def sessions():
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is down"))
        yield

    return dataclasses.replace(services, sessions=sessions)


async def run_order(services, partner, text, client=None):
    ack, respond = FakeAck(), FakeRespond()
    command = {"text": text, "user_id": "U0FILER", "channel_id": "C0HERE", "trigger_id": "1.2.3"}
    await order_command(
        ack, command, respond, listener_context(services, partner), client or FakeClient()
    )
    assert ack.calls == [{}]
    return respond


async def stored_orders(sessions) -> list[Order]:
    async with sessions() as session:
        return list((await session.exec(select(Order).order_by(Order.id))).all())


def form_view(*, customer="", plan="BPOS-S", seats="25", note="") -> dict:
    values = {
        OrderAction.CUSTOMER: {"c": {"selected_option": {"value": customer}}},
        OrderAction.PLAN: {"p": {"selected_option": {"value": plan}}},
        OrderAction.SEATS: {"s": {"value": seats}},
        OrderAction.NOTE: {"n": {"value": note}},
    }
    return {"callback_id": OrderAction.FORM, "state": {"values": values}}


async def test_order_alone_opens_the_form_and_answers_nothing(services, partner):
    client = FakeClient()
    respond = await run_order(services, partner, "", client)
    opened = client.calls_to("views_open")
    assert len(opened) == 1 and opened[0]["trigger_id"] == "1.2.3"
    assert opened[0]["view"]["callback_id"] == OrderAction.FORM
    assert opened[0]["view"]["private_metadata"] == "C0HERE"
    assert respond.calls == []


async def test_order_help_answers_privately_with_the_usage(services, partner):
    respond = await run_order(services, partner, "help")
    assert respond.texts == ["How to use /order"]
    assert respond.calls[0]["response_type"] == "ephemeral"
    assert respond.calls[0]["replace_original"] is False


async def test_a_typed_order_is_filed_and_answered_with_its_link(
    services, partner, customer, sessions
):
    respond = await run_order(services, partner, "contosodental.com BPOS-S 25")
    [order] = await stored_orders(sessions)
    assert respond.texts == [f"Order #{order.id} filed for Contoso Dental"]
    assert order.filed_by == "U0FILER" and order.seats == 25 and order.state == "pending"
    assert f"{services.settings.base_url}/orders/" in str(respond.calls[0]["blocks"])


async def test_a_bad_argument_says_what_is_wrong_and_files_nothing(services, partner, sessions):
    respond = await run_order(services, partner, "resend")
    assert len(respond.texts) == 1 and respond.texts[0].startswith("Which order?")
    assert await stored_orders(sessions) == []


async def test_order_cancel_cancels_the_order_and_says_so(services, partner, customer, sessions):
    await run_order(services, partner, "contosodental.com BPOS-S 25")
    [order] = await stored_orders(sessions)

    respond = await run_order(services, partner, f"cancel {order.id}")

    assert respond.texts == [
        f"Order #{order.id} for Contoso Dental is cancelled. Its link no longer works."
    ]
    [cancelled] = await stored_orders(sessions)
    assert cancelled.state == "cancelled" and cancelled.decided_by == "U0FILER"


async def test_order_cancel_of_an_unknown_order_says_there_is_none(services, partner):
    respond = await run_order(services, partner, "cancel 999")
    assert respond.texts == ["There is no order #999 of yours. `/order list` shows your orders."]


async def test_order_resend_of_a_cancelled_order_changes_nothing(
    services, partner, customer, sessions
):
    await run_order(services, partner, "contosodental.com BPOS-S 25")
    [order] = await stored_orders(sessions)
    await run_order(services, partner, f"cancel {order.id}")

    respond = await run_order(services, partner, f"resend {order.id}")

    assert respond.texts == [
        f"Order #{order.id} for Contoso Dental is cancelled, so it cannot be sent again; "
        "nothing changed."
    ]


async def test_order_list_shows_the_partners_orders(services, partner, customer):
    await run_order(services, partner, "contosodental.com BPOS-S 25")
    respond = await run_order(services, partner, "list")
    assert respond.texts == ["1 orders"]
    assert "Contoso Dental" in str(respond.calls[0]["blocks"])


async def test_picking_a_customer_files_the_order_in_place_of_the_list(
    services, partner, customer, sessions
):
    ack, respond = FakeAck(), FakeRespond()
    action = {"action_id": f"{OrderAction.PICK_CUSTOMER}:0", "value": f"{customer.id}:EXO:10"}
    context = listener_context(services, partner)

    await pick_customer(ack, action, respond, context, {"user": {"id": "U0PICKER"}})

    assert ack.calls == [{}]
    [order] = await stored_orders(sessions)
    assert (order.plan_code, order.seats, order.filed_by) == ("EXO", 10, "U0PICKER")
    assert respond.texts == [f"Order #{order.id} filed for Contoso Dental"]
    assert respond.calls[0]["replace_original"] is True


async def test_an_out_of_date_pick_files_nothing(services, partner, customer, sessions):
    ack, respond = FakeAck(), FakeRespond()
    action = {"selected_option": {"value": f"{customer.id}:NOPE:10"}}

    await pick_customer(ack, action, respond, listener_context(services, partner), {})

    assert respond.texts == ["That choice is out of date; type the order again."]
    assert await stored_orders(sessions) == []


async def test_an_incomplete_form_is_acked_with_an_error_under_each_field(services, partner):
    ack = FakeAck()
    view = form_view(customer="", plan="NOPE", seats="0")

    await order_form_submitted(
        ack, view, {"user": {"id": "U0"}}, listener_context(services, partner)
    )

    assert ack.calls == [
        {
            "response_action": "errors",
            "errors": {
                OrderAction.PLAN: "Pick a plan from the list.",
                OrderAction.SEATS: "Seats must be at least 1; 0 is not.",
                OrderAction.CUSTOMER: "Pick a customer from the search.",
            },
        }
    ]


async def test_a_complete_form_files_the_order_and_shows_it_in_the_form(
    services, partner, customer, sessions
):
    ack = FakeAck()
    view = form_view(customer=str(customer.id), seats="12", note="Welcome")

    await order_form_submitted(
        ack, view, {"user": {"id": "U0"}}, listener_context(services, partner)
    )

    [order] = await stored_orders(sessions)
    assert (order.seats, order.note) == (12, "Welcome")
    assert len(ack.calls) == 1 and ack.calls[0]["response_action"] == "update"
    assert ack.calls[0]["view"]["type"] == "modal"
    assert f"Order #{order.id}" in str(ack.calls[0]["view"]["blocks"])


async def test_a_form_for_another_partners_customer_is_refused_under_the_customer(
    services, partner, sessions
):
    other = await make_partner(sessions, name="Litware Partners", team_id="T0OTHER")
    theirs = await make_customer(sessions, other, name="Fabrikam", domain="fabrikam.com")
    ack = FakeAck()

    view = form_view(customer=str(theirs.id))
    await order_form_submitted(
        ack, view, {"user": {"id": "U0"}}, listener_context(services, partner)
    )

    assert ack.calls == [
        {
            "response_action": "errors",
            "errors": {
                OrderAction.CUSTOMER: "That customer is no longer among yours; nothing was filed."
            },
        }
    ]


async def test_a_form_sent_while_the_database_is_down_says_so_with_a_reference(
    services, partner, customer
):
    ack = FakeAck()
    down = database_down(services)

    view = form_view(customer=str(customer.id))
    await order_form_submitted(ack, view, {"user": {"id": "U0"}}, listener_context(down, partner))

    [call] = ack.calls
    assert call["response_action"] == "errors"
    text = call["errors"][OrderAction.SEATS]
    assert text.startswith("partnerbot cannot reach its database right now")
    assert "(ref " in text


async def test_the_customer_search_offers_the_partners_matching_customers(
    services, partner, customer
):
    ack = FakeAck()
    await customer_search(ack, {"value": "conto"}, listener_context(services, partner))
    [call] = ack.calls
    assert [option["value"] for option in call["options"]] == [str(customer.id)]
    assert "Contoso Dental" in call["options"][0]["text"]["text"]
