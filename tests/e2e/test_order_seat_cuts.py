"""A seat cut through the real server (issue 14, item 8): `/order goldcrest dental EXO 5` for a
customer with 23 seats files nothing; it asks "set to 5 (removes 18)" or "add 5 (to 28)", and only
the button picked (a signed click through bolt) or the form's second step files the order."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.orders.cuts import CutAction
from bot.orders.messages import OrderAction
from bot.zones import today_in
from storage.models import Order
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.slack import actions_of, assert_slack_accepts, assert_slack_accepts_view


async def all_orders(sessions) -> list[Order]:
    async with sessions() as session:
        return list((await session.exec(select(Order).order_by(Order.id))).all())


async def goldcrest_with_23_seats(sessions):
    partner = await make_partner(sessions, name="Northwind Cloud")
    customer = await make_customer(
        sessions, partner, name="Goldcrest Dental", domain="goldcrest.example"
    )
    today = today_in("UTC")
    await make_subscription(
        sessions,
        customer,
        plan_code="EXO",
        seats=23,
        start_date=today - timedelta(days=60),
        renewal_date=today + timedelta(days=305),
    )
    return partner, customer


def buttons(message: dict) -> dict[str, tuple[str, dict]]:
    return {element["text"]["text"]: (block, element) for block, element in actions_of(message)}


async def ask(bot, partner):
    answer = await bot.slack.command("/order", "goldcrest dental EXO 5", team_id=partner.team_id)
    for message in answer.messages:
        assert_slack_accepts(message)
    return answer


async def test_a_cut_asks_which_reading_was_meant_and_files_nothing(bot, sessions):
    partner, _ = await goldcrest_with_23_seats(sessions)

    answer = await ask(bot, partner)

    assert answer.messages[0]["text"] == (
        "Goldcrest Dental has 23 seats of EXO: set to 5 or add 5? Nothing filed yet"
    )
    assert (
        "*Goldcrest Dental has 23 seats of EXO.* An order for 5 seats sets it to 5 and "
        "*removes 18 seats*. Did you mean that, or to add 5? Nothing is filed until you pick."
    ) in answer.text
    # 23 − 5 = 18 removed; 23 + 5 = 28.
    assert list(buttons(answer.messages[0])) == [
        "Set to 5 seats (removes 18)",
        "Add 5 (to 28 seats)",
        "Neither",
    ]
    assert await all_orders(sessions) == []


async def test_picking_add_files_the_sum_in_place_of_the_question(bot, sessions):
    partner, customer = await goldcrest_with_23_seats(sessions)
    block, add = buttons((await ask(bot, partner)).messages[0])["Add 5 (to 28 seats)"]

    picked = await bot.slack.click(add, block_id=block, team_id=partner.team_id, user_id="U0ADD")

    (order,) = await all_orders(sessions)
    assert (order.customer_id, order.seats, order.previous_seats, order.filed_by) == (
        customer.id,
        28,
        23,
        "U0ADD",
    )
    assert picked.messages[0]["replace_original"] is True
    assert f"Order #{order.id} filed" in picked.text
    # 28 seats × $5.00 = $140.00 a month.
    assert "from 23 to 28 seats (adds 5)" in picked.text and "$140.00 a month" in picked.text
    for message in picked.messages:
        assert_slack_accepts(message)


async def test_picking_set_files_the_cut(bot, sessions):
    partner, _ = await goldcrest_with_23_seats(sessions)
    block, cut = buttons((await ask(bot, partner)).messages[0])["Set to 5 seats (removes 18)"]

    picked = await bot.slack.click(cut, block_id=block, team_id=partner.team_id)

    (order,) = await all_orders(sessions)
    assert (order.seats, order.previous_seats) == (5, 23)
    assert "from 23 to 5 seats (removes 18)" in picked.text


async def test_neither_files_nothing(bot, sessions):
    partner, _ = await goldcrest_with_23_seats(sessions)
    block, neither = buttons((await ask(bot, partner)).messages[0])["Neither"]

    picked = await bot.slack.click(neither, block_id=block, team_id=partner.team_id)

    assert picked.messages[0]["text"] == (
        "Nothing was filed. Type the order again with the seats the customer should have."
    )
    assert await all_orders(sessions) == []


async def test_a_reading_picked_after_the_seats_changed_files_nothing(bot, sessions):
    partner, customer = await goldcrest_with_23_seats(sessions)
    block, add = buttons((await ask(bot, partner)).messages[0])["Add 5 (to 28 seats)"]
    # Meanwhile the customer went to 30 seats (another order, an import).
    await make_subscription(
        sessions,
        customer,
        plan_code="EXO",
        seats=30,
        start_date=today_in("UTC"),
        renewal_date=today_in("UTC") + timedelta(days=365),
    )

    picked = await bot.slack.click(add, block_id=block, team_id=partner.team_id)

    assert picked.messages[0]["text"] == (
        "Goldcrest Dental has 30 seats of EXO, not 23 as when you chose, so nothing was filed. "
        "Type the order again."
    )
    assert await all_orders(sessions) == []


async def test_the_form_asks_in_a_second_step_and_files_the_reading_picked(bot, sessions):
    partner, customer = await goldcrest_with_23_seats(sessions)
    form = {"type": "modal", "callback_id": OrderAction.FORM, "blocks": []}

    status, asked = await bot.slack.submit(
        form,
        {
            OrderAction.CUSTOMER: {"selected_option": {"value": str(customer.id)}},
            OrderAction.PLAN: {"selected_option": {"value": "EXO"}},
            OrderAction.SEATS: {"value": "5"},
            OrderAction.NOTE: {"value": "Per your call"},
        },
        team_id=partner.team_id,
    )

    assert status == 200 and asked["response_action"] == "update"
    step = asked["view"]
    assert_slack_accepts_view(step)
    assert step["callback_id"] == CutAction.FORM
    (radio,) = [b["element"] for b in step["blocks"] if b.get("block_id") == CutAction.READING]
    labels = {option["text"]["text"]: option for option in radio["options"]}
    assert list(labels) == ["Set to 5 seats (removes 18)", "Add 5 (to 28 seats)"]
    assert await all_orders(sessions) == []

    status, result = await bot.slack.submit(
        step,
        {CutAction.READING: {"selected_option": labels["Add 5 (to 28 seats)"]}},
        team_id=partner.team_id,
        user_id="U0FORM",
    )

    assert status == 200 and result["response_action"] == "update"
    (order,) = await all_orders(sessions)
    assert (order.seats, order.previous_seats, order.note, order.filed_by) == (
        28,
        23,
        "Per your call",
        "U0FORM",
    )
    assert f"Order #{order.id} filed" in json.dumps(result["view"])


async def test_a_forged_reading_for_another_partners_customer_files_nothing(bot, sessions):
    _, theirs = await goldcrest_with_23_seats(sessions)
    mine = await make_partner(sessions, name="Mine")
    forged = {
        "type": "button",
        "action_id": CutAction.SET,
        "value": f"{theirs.id}:EXO:5:23",
        "text": {"type": "plain_text", "text": "Set to 5 seats (removes 18)"},
    }

    picked = await bot.slack.click(forged, block_id=CutAction.BLOCK, team_id=mine.team_id)

    assert picked.messages[0]["text"] == (
        "That customer is no longer among yours; nothing was filed."
    )
    assert await all_orders(sessions) == []
