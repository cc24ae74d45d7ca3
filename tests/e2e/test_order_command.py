"""/order through the real server: filing, choices, bad input, list, cancel, resend and the form,
with requests signed as Slack signs them."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

from sqlmodel import select

from bot.orders.messages import OrderAction
from bot.scheduler import JOBS, run_job
from bot.zones import today_in
from storage.models import Order
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.slack import actions_of, assert_slack_accepts

LINK = re.compile(r"(http://localhost:3000/orders/([A-Za-z0-9_-]+))")


async def all_orders(sessions) -> list[Order]:
    async with sessions() as session:
        return list((await session.exec(select(Order).order_by(Order.id))).all())


def link_in(text: str) -> tuple[str, str]:
    match = LINK.search(text)
    assert match, text
    return match.group(1), match.group(2)


async def test_order_files_a_pending_order_with_its_link_and_text_for_the_customer(bot, sessions):
    partner = await make_partner(sessions, name="Northwind Cloud")
    await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")

    answer = await bot.slack.command(
        "/order", "contoso dental BPOS-S 25", team_id=partner.team_id, user_id="U0FILER"
    )

    text = answer.text
    (order,) = await all_orders(sessions)
    assert f"Order #{order.id} filed" in text
    assert "Contoso Dental" in text and "contosodental.com" in text
    assert "BPOS-S" in text and "Business Productivity Online Standard Suite" in text
    # 25 seats × $15.00 list price = $375.00 a month, $4,500.00 a year.
    assert "$15.00 per seat" in text and "$375.00 a month" in text and "$4,500.00 a year" in text
    assert "Billed by:* Microsoft" in text and "Partner of record:* Northwind Cloud" in text
    assert "Link valid until" in text and "Subject: Please confirm your order" in text
    link, token = link_in(text)
    assert len(token) >= 43  # 256 bits of url-safe base64
    assert (order.state, order.seats, order.plan_code, order.filed_by) == (
        "pending",
        25,
        "BPOS-S",
        "U0FILER",
    )
    assert order.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(order.model_dump())
    assert order.expires_at - order.filed_at == timedelta(days=14)
    for message in answer.messages:
        assert_slack_accepts(message)


async def test_order_for_a_plan_the_customer_has_says_it_changes_the_seats(bot, sessions):
    partner = await make_partner(sessions)
    customer = await make_customer(sessions, partner, name="Fabrikam", domain="fabrikam.com")
    today = today_in("UTC")
    await make_subscription(
        sessions,
        customer,
        plan_code="EXO",
        seats=10,
        unit_price="4.50",
        start_date=today - timedelta(days=30),
        renewal_date=today + timedelta(days=335),
    )

    answer = await bot.slack.command("/order", "fabrikam.com exo 40", team_id=partner.team_id)

    assert "changes the existing EXO subscription from 10 to 40 seats (adds 30)" in answer.text
    # The subscription's own price: 40 × $4.50 = $180.00 a month.
    assert "$4.50 per seat" in answer.text and "$180.00 a month" in answer.text
    (order,) = await all_orders(sessions)
    assert order.previous_seats == 10 and order.subscription_id is not None


async def test_another_partners_customer_cannot_be_ordered_for(bot, sessions):
    mine = await make_partner(sessions, name="Mine")
    theirs = await make_partner(sessions, name="Theirs")
    await make_customer(sessions, theirs, name="Secret Corp", domain="secretcorp.com")

    answer = await bot.slack.command("/order", "secretcorp.com EXO 5", team_id=mine.team_id)

    assert "No customer of yours matches" in answer.text
    assert "Secret Corp" not in answer.text
    assert await all_orders(sessions) == []


async def test_ambiguous_customer_offers_choices_and_a_click_files_for_that_one(bot, sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Alpine Dental", domain="alpinedental.com")
    wanted = await make_customer(sessions, partner, name="Alpine Legal", domain="alpinelegal.com")

    answer = await bot.slack.command("/order", "alpine SPO 3", team_id=partner.team_id)

    assert "2 customers match" in answer.text
    assert await all_orders(sessions) == []
    (block_id, button), *_ = [
        (b, e) for b, e in actions_of(answer.messages[0]) if str(wanted.id) in e["value"]
    ]
    picked = await bot.slack.click(button, block_id=block_id, team_id=partner.team_id)
    assert "Order #" in picked.text and "Alpine Legal" in picked.text
    assert picked.messages[0]["replace_original"] is True
    (order,) = await all_orders(sessions)
    assert (order.customer_id, order.plan_code, order.seats) == (wanted.id, "SPO", 3)


async def test_bad_arguments_get_a_specific_answer_and_file_nothing(bot, sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso", domain="contoso.com")
    cases = {
        "contoso.com NOPE 5": "`NOPE` is not a plan code. Valid codes: `BPOS-S`, `EXO`",
        "contoso.com EXO 0": "Seats must be at least 1",
        "contoso.com EXO -4": "Seats must be at least 1",
        "contoso.com EXO 2.5": "Seats must be a whole number",
        "contoso.com EXO lots": "Seats must be a whole number",
        "contoso.com EXO 10001": "at most 10,000 seats",
        "contoso.com": "Missing the plan code and the seats",
        "contoso.com EXO": "Missing the seats: how many seats of EXO should contoso.com have",
        "list extra": "`/order list` takes nothing after it",
        "contoso": "Missing the plan code and the seats: `/order contoso` names only the",
        "cancel": "Which order?",
        "resend x1": "is not an order id",
        "contoso.com <!channel> 3": "`&lt;!channel&gt;` is not a plan code",
    }
    for text, expected in cases.items():
        answer = await bot.slack.command("/order", text, team_id=partner.team_id)
        assert expected in answer.text, (text, answer.text)
        assert "<!channel>" not in answer.text
    assert await all_orders(sessions) == []


async def test_list_cancel_and_resend(bot, sessions):
    partner = await make_partner(sessions)
    other = await make_partner(sessions, name="Other")
    await make_customer(sessions, partner, name="Contoso", domain="contoso.com")
    await make_customer(sessions, partner, name="Fabrikam", domain="fabrikam.com")
    first = await bot.slack.command("/order", "contoso.com EXO 5", team_id=partner.team_id)
    await bot.slack.command("/order", "fabrikam.com OCO 7", team_id=partner.team_id)
    contoso, fabrikam = await all_orders(sessions)
    first_link, _ = link_in(first.text)

    listed = await bot.slack.command("/order", "list", team_id=partner.team_id)
    assert f"#{contoso.id}* Contoso — EXO × 5" in listed.text
    assert f"#{fabrikam.id}* Fabrikam — OCO × 7" in listed.text
    assert "waiting for the customer" in listed.text
    assert (
        "No pending orders"
        in (await bot.slack.command("/order", "list", team_id=other.team_id)).text
    )

    # Another partner cannot touch these orders, and cannot tell they exist.
    for action in ("cancel", "resend"):
        refused = await bot.slack.command("/order", f"{action} {contoso.id}", team_id=other.team_id)
        assert f"There is no order #{contoso.id} of yours" in refused.text

    resent = await bot.slack.command("/order", f"resend {contoso.id}", team_id=partner.team_id)
    new_link, _ = link_in(resent.text)
    assert new_link != first_link and "The previous link no longer works" in resent.text
    async with bot.http.get(first_link.replace("http://localhost:3000", bot.url)) as old:
        assert old.status == 404
    async with bot.http.get(new_link.replace("http://localhost:3000", bot.url)) as new:
        assert new.status == 200

    cancelled = await bot.slack.command("/order", f"cancel #{contoso.id}", team_id=partner.team_id)
    assert f"Order #{contoso.id} for Contoso is cancelled" in cancelled.text
    async with bot.http.get(new_link.replace("http://localhost:3000", bot.url)) as gone:
        assert gone.status == 404
    again = await bot.slack.command("/order", f"cancel {contoso.id}", team_id=partner.team_id)
    assert (
        again.messages[0]["text"]
        == f"Order #{contoso.id} for Contoso is already cancelled; nothing changed."
    )
    states = {order.id: order.state for order in await all_orders(sessions)}
    assert states == {contoso.id: "cancelled", fabrikam.id: "pending"}


async def test_order_without_arguments_opens_the_form_whose_search_and_submit_work(bot, sessions):
    partner = await make_partner(sessions, name="Northwind Cloud")
    other = await make_partner(sessions, name="Other")
    wanted = await make_customer(sessions, partner, name="Tailspin Toys", domain="tailspin.com")
    await make_customer(sessions, other, name="Tailspin Rival", domain="tailspinrival.com")

    answer = await bot.slack.command("/order", "", team_id=partner.team_id, wait_for=0)
    assert answer.status == 200
    await bot.local_slack.wait_for(lambda: bot.local_slack.calls_to("views.open"))
    (opened,) = bot.local_slack.calls_to("views.open")
    view = opened.params["view"]
    view = view if isinstance(view, dict) else json.loads(view)
    assert view["callback_id"] == OrderAction.FORM
    block_ids = [block["block_id"] for block in view["blocks"]]
    assert block_ids == [
        OrderAction.CUSTOMER,
        OrderAction.PLAN,
        OrderAction.SEATS,
        OrderAction.NOTE,
    ]

    status, options = await bot.slack.options(
        action_id=OrderAction.CUSTOMER, value="tailsp", team_id=partner.team_id
    )
    assert status == 200
    assert [o["value"] for o in options["options"]] == [str(wanted.id)]  # not the rival's

    bad_status, bad = await bot.slack.submit(
        view,
        {
            OrderAction.CUSTOMER: {"selected_option": {"value": str(wanted.id)}},
            OrderAction.PLAN: {"selected_option": {"value": "EXO"}},
            OrderAction.SEATS: {"value": "zero"},
            OrderAction.NOTE: {"value": None},
        },
        team_id=partner.team_id,
    )
    assert bad_status == 200 and bad["response_action"] == "errors"
    assert "whole number" in bad["errors"][OrderAction.SEATS]
    assert await all_orders(sessions) == []

    status, result = await bot.slack.submit(
        view,
        {
            OrderAction.CUSTOMER: {"selected_option": {"value": str(wanted.id)}},
            OrderAction.PLAN: {"selected_option": {"value": "EXO"}},
            OrderAction.SEATS: {"value": "12"},
            OrderAction.NOTE: {"value": "As discussed on the phone"},
        },
        team_id=partner.team_id,
        user_id="U0FORM",
    )
    assert status == 200 and result["response_action"] == "update"
    shown = str(result["view"])
    (order,) = await all_orders(sessions)
    assert f"Order #{order.id} filed" in shown and "/orders/" in shown
    # 12 seats × $5.00 = $60.00 a month.
    assert "$60.00 a month" in shown and "As discussed on the phone" in shown
    assert (order.customer_id, order.seats, order.filed_by, order.note) == (
        wanted.id,
        12,
        "U0FORM",
        "As discussed on the phone",
    )


async def test_the_form_refuses_another_partners_customer_id(bot, sessions):
    partner = await make_partner(sessions)
    other = await make_partner(sessions, name="Other")
    theirs = await make_customer(sessions, other, name="Theirs", domain="theirs.com")
    view = {"type": "modal", "callback_id": OrderAction.FORM, "blocks": []}

    status, answer = await bot.slack.submit(
        view,
        {
            OrderAction.CUSTOMER: {"selected_option": {"value": str(theirs.id)}},
            OrderAction.PLAN: {"selected_option": {"value": "EXO"}},
            OrderAction.SEATS: {"value": "3"},
        },
        team_id=partner.team_id,
    )

    assert status == 200 and answer["response_action"] == "errors"
    assert "no longer among yours" in answer["errors"][OrderAction.CUSTOMER]
    assert await all_orders(sessions) == []


async def test_the_filer_is_reminded_after_3_days_and_told_when_the_order_expires(bot, sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso", domain="contoso.com")
    filed = await bot.slack.command(
        "/order", "contoso.com EXO 5", team_id=partner.team_id, user_id="U0FILER"
    )
    link, _ = link_in(filed.text)
    (order,) = await all_orders(sessions)
    jobs = {job.id: job for job in JOBS}
    slack = bot.local_slack

    def dms() -> list[str]:
        return [
            c.params["text"]
            for c in slack.calls_to("chat.postMessage")
            if c.params["channel"] == "U0FILER"
        ]

    bot.services.clock = lambda: order.filed_at + timedelta(days=2, hours=23)
    assert await run_job(jobs["remind-filers"], bot.services) == 0
    bot.services.clock = lambda: order.filed_at + timedelta(days=3, minutes=1)
    assert await run_job(jobs["remind-filers"], bot.services) == 1
    assert await run_job(jobs["remind-filers"], bot.services) == 0  # once only
    await slack.wait_for(lambda: len(dms()) == 1)
    assert dms() == [f"⏰ Order #{order.id} for Contoso is still waiting"]

    bot.services.clock = lambda: order.expires_at + timedelta(minutes=1)
    assert await run_job(jobs["expire-orders"], bot.services) == 1
    assert await run_job(jobs["expire-orders"], bot.services) == 0
    await slack.wait_for(lambda: len(dms()) == 2)
    assert dms()[1] == f"⌛ Order #{order.id} for Contoso expired"
    async with bot.http.get(link.replace("http://localhost:3000", bot.url)) as page:
        assert "This order has expired" in await page.text()
    listed = await bot.slack.command("/order", "list", team_id=partner.team_id)
    assert f"#{order.id}* Contoso — EXO × 5 · _expired_" in listed.text
    resend = await bot.slack.command("/order", f"resend {order.id}", team_id=partner.team_id)
    assert resend.messages[0]["text"] == (
        f"Order #{order.id} for Contoso has expired, so its link cannot be sent again; nothing "
        "changed. File a new one with `/order`."
    )
