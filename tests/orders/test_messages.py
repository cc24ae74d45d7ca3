"""Order messages without Slack or a database: the email text for the customer, the answer to
the filer and the order form."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from slack_sdk.models.views import View

from bot.catalogue import BUILT_IN
from bot.orders.messages import OrderAction, email_text, filed, order_form
from tests.utils.factories import EVERY_PLAN_CODE
from tests.utils.orders import a_customer, a_partner, an_order, description
from tests.utils.slack import assert_slack_accepts, mrkdwn_texts

LINK = "https://partnerbot.example.com/orders/" + "T" * 43


# The email text for the customer


def test_the_email_text_has_the_link_the_partner_and_the_price():
    text = email_text(description(), LINK)
    assert LINK in text.splitlines()
    assert text.splitlines()[-1] == "Northwind Cloud"
    assert "Hello Contoso Dental," in text
    assert "Business Productivity Online Standard Suite" in text
    assert "a new Business Productivity Online Standard Suite subscription of 25 seats" in text
    # 25 seats × $15.00 = $375.00 a month, $4,500.00 a year.
    assert "$15.00 per seat per month" in text
    assert "$375.00 a month" in text
    assert "$4,500.00 a year" in text
    assert "Sun 6 Dec 2026, 13:00 Europe/Berlin" in text


def test_the_email_text_is_plain_text_not_slack_markup():
    described = description(customer=a_customer(name="Smith & Jones <Dental>"))
    text = email_text(replace(described, note="bring coffee"), LINK)
    assert "Hello Smith & Jones <Dental>," in text
    assert "&amp;" not in text and "&lt;" not in text
    assert "*" not in text and "`" not in text


def test_the_email_greets_the_contact_in_the_customers_words_and_time_zone():
    customer = a_customer(name="Goldcrest Dental", domain="goldcrest.example")
    customer.contact_name, customer.timezone = "Dana Whitfield", "America/New_York"
    order = an_order(plan_code="EXO", seats=10, previous_seats=7, unit_price=Decimal("5.00"))

    text = email_text(description(order, customer=customer), LINK)

    # The link expires 6 Dec 2026 12:00 UTC: 07:00 in New York (EST, UTC-5), where the customer
    # reads it; the partner (Berlin) would read 13:00. 10 seats × $5.00 = $50.00, × 12 = $600.00.
    assert text.splitlines()[2] == "Hello Dana Whitfield,"
    assert text.splitlines()[4] == (
        "As agreed, we have prepared your order: your Exchange Online subscription from 7 to 10 "
        "seats, at $5.00 per seat per month ($50.00 a month, $600.00 a year)."
    )
    assert "The link works until Sun 6 Dec 2026, 07:00 America/New_York." in text
    assert "EXO" not in text and "adds" not in text and "Europe/Berlin" not in text


def test_the_email_greets_the_company_when_no_contact_is_known():
    text = email_text(description(), LINK)
    assert text.splitlines()[2] == "Hello Contoso Dental,"
    # No zone of its own: the customer reads the partner's (Berlin, CET): 12:00 UTC is 13:00.
    assert "The link works until Sun 6 Dec 2026, 13:00 Europe/Berlin." in text


# The answer to the filer


def test_the_filed_answer_carries_the_link_and_the_figures():
    answer = filed(description(), LINK)
    assert len(answer) == 1
    texts = mrkdwn_texts(answer[0].blocks)
    assert any(LINK in text and "Confirmation link" in text for text in texts)
    joined = "\n".join(texts)
    assert "$375.00 a month" in joined and "$4,500.00 a year" in joined
    assert "`/order cancel 42`" in joined and "`/order resend 42`" in joined
    assert "previous link no longer works" not in joined
    assert_slack_accepts(answer[0])


def test_a_resent_link_says_the_previous_one_no_longer_works():
    answer = filed(description(), LINK, resent=True)
    assert "previous link no longer works" in "\n".join(mrkdwn_texts(answer[0].blocks))
    assert answer[0].blocks[0]["text"]["text"].startswith("Order #42 — new link")


def test_the_filed_answer_escapes_every_stored_text():
    described = replace(
        description(
            customer=a_customer(name="<!channel>", domain="x.com"),
            partner=a_partner(name="<!here> & Sons"),
        ),
        note="call <@U0BOSS>",
    )
    answer = filed(described, LINK)[0]
    texts = mrkdwn_texts(answer.blocks) + [answer.text]
    for text in texts:
        assert "<!channel>" not in text
        assert "<!here>" not in text
        assert "<@U0BOSS>" not in text
    joined = "\n".join(texts)
    assert "&lt;!channel&gt;" in joined
    assert "&lt;!here&gt; &amp; Sons" in joined
    assert "call &lt;@U0BOSS&gt;" in joined
    assert_slack_accepts(answer)


# The order form


def test_the_order_form_asks_for_customer_plan_seats_and_a_note():
    form = order_form(BUILT_IN, private_metadata="C0CHANNEL")
    assert form["type"] == "modal"
    assert form["callback_id"] == OrderAction.FORM
    assert form["private_metadata"] == "C0CHANNEL"
    inputs = [block for block in form["blocks"] if block["type"] == "input"]
    assert [block["element"]["action_id"] for block in inputs] == [
        OrderAction.CUSTOMER, OrderAction.PLAN, OrderAction.SEATS, OrderAction.NOTE,
    ]  # fmt: skip
    assert [block["block_id"] for block in inputs] == [
        "order_customer", "order_plan", "order_seats", "order_note",
    ]  # fmt: skip
    note = inputs[3]
    assert note["optional"] is True
    View(**form).validate_json()


def test_the_order_form_offers_every_plan_of_the_catalogue():
    form = order_form(BUILT_IN)
    plan = next(block for block in form["blocks"] if block["block_id"] == OrderAction.PLAN)
    options = plan["element"]["options"]
    assert [option["value"] for option in options] == list(EVERY_PLAN_CODE)
    assert options[1]["text"]["text"] == "EXO — Exchange Online"
    assert all(len(option["text"]["text"]) <= 75 for option in options)
