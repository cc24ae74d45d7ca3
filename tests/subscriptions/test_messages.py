"""What /subscription says: one customer's subscriptions, money, commission and renewal words,
choices, suggestions and usage, within Slack's limits and never pinging anyone."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.blocks import (
    MAX_BLOCKS,
    MAX_OPTIONS,
    Message,
    messages,
)
from bot.catalogue import BUILT_IN
from bot.customers import Choices, Found, NoMatch
from bot.picking import CustomerChoice
from bot.subscriptions.messages import (
    CustomerView,
    choices_blocks,
    customer_blocks,
    customer_fallback,
    lookup_messages,
    no_match_blocks,
    too_long_blocks,
    usage_blocks,
)
from bot.subscriptions.rules import ACTIVE, CANCELLED, SUSPENDED, TRIAL, CommissionRule
from bot.subscriptions.texts import SubscriptionView, renewal_words, subscription_text, totals_text
from storage.models import Customer, Partner, Subscription
from tests.utils.slack import assert_slack_accepts, mrkdwn_texts, text_objects

TODAY = date(2024, 6, 20)
RULE = CommissionRule()
DANGEROUS = "<!channel> & Co"


# /subscription: one customer


def customer(name: str = "Contoso Ltd", **changes) -> CustomerView:
    values = {
        "name": name,
        "domain": "contoso.onmicrosoft.com",
        "region": "Europe",
        "contact_name": "Jane Doe",
        "contact_email": "jane@contoso.com",
    }
    return CustomerView(**(values | changes))


def subscription(**changes) -> SubscriptionView:
    values = {
        "plan_code": "BPOS-S",
        "seats": 10,
        "unit_price": Decimal("15.00"),
        "billing_cycle": "annual",
        "start_date": date(2024, 1, 15),
        "renewal_date": date(2025, 1, 15),
        "status": ACTIVE,
        "billing_owner": "partner",
        "partner_of_record": "Northwind Cloud",
        "of_record_is_caller": True,
    }
    return SubscriptionView(**(values | changes))


def text_of(view: SubscriptionView, today: date = TODAY, rule: CommissionRule = RULE) -> str:
    return subscription_text(view, catalogue=BUILT_IN, rule=rule, today=today)


def answer(view: CustomerView, views: list[SubscriptionView]) -> list[Message]:
    blocks = customer_blocks(
        view,
        views,
        partner_name="Northwind Cloud",
        time_zone="Europe/Berlin",
        catalogue=BUILT_IN,
        rule=RULE,
        today=TODAY,
    )
    return messages(customer_fallback(view, len(views)), blocks)


def many(count: int) -> list[SubscriptionView]:
    """Subscriptions that differ in plan, seats and start date, so each can be found again."""
    codes = BUILT_IN.codes()
    return [
        subscription(
            plan_code=codes[index % len(codes)],
            seats=index + 1,
            unit_price=BUILT_IN.get(codes[index % len(codes)]).list_price,
            start_date=date(2020, 1, 1) + timedelta(days=index),
            renewal_date=date(2025, 1, 1) + timedelta(days=index),
        )
        for index in range(count)
    ]


def test_subscription_text_shows_plan_seats_price_values_dates_and_owner():
    text = text_of(subscription())
    assert "*BPOS-S* — Business Productivity Online Standard Suite · _active_" in text
    # 10 × $15.00 = $150.00 a month; × 12 = $1,800.00 a year
    assert "10 seats × $15.00 per seat = *$150.00 a month* · $1,800.00 a year" in text
    assert "billed annually by the partner" in text
    assert "Started 2024-01-15" in text
    assert "Partner of record: Northwind Cloud" in text


def test_subscription_text_says_one_seat_and_monthly_billing():
    text = text_of(
        subscription(
            plan_code="EXO",
            seats=1,
            unit_price=Decimal("5.00"),
            billing_cycle="monthly",
            billing_owner="vendor",
        )
    )
    # 1 × $5.00 = $5.00 a month, $60.00 a year
    assert "1 seat × $5.00 per seat = *$5.00 a month* · $60.00 a year" in text
    assert "billed monthly by the vendor" in text


def test_subscription_text_formats_large_amounts_with_thousands_separators():
    text = text_of(subscription(seats=1200))
    # 1,200 × $15.00 = $18,000.00 a month; × 12 = $216,000.00 a year
    assert "1,200 seats × $15.00 per seat = *$18,000.00 a month* · $216,000.00 a year" in text


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (0, "(today)"),
        (1, "(tomorrow)"),
        (2, "(in 2 days)"),
        (209, "(in 209 days)"),
        (1000, "(in 1,000 days)"),
        (-1, "(1 day overdue)"),
        (-3, "(3 days overdue)"),
    ],
)
def test_renewal_words_say_how_far_away_the_renewal_is(days, words):
    renewal = TODAY + timedelta(days=days)
    assert renewal_words(renewal, TODAY, ACTIVE) == f"renews {renewal.isoformat()} {words}"


def test_renewal_words_of_a_cancelled_subscription_say_it_was_due():
    assert renewal_words(date(2024, 6, 17), TODAY, CANCELLED) == (
        "was due to renew 2024-06-17 (cancelled)"
    )


def test_subscription_text_tells_the_days_to_renewal():
    # 20 Jun → 15 Jan 2025: 10 (rest of June) + 31 + 31 + 30 + 31 + 30 + 31 + 15 = 209 days
    assert "renews 2025-01-15 (in 209 days)" in text_of(subscription())


def test_commission_words_in_the_first_year():
    text = text_of(subscription())
    # 12% × $1,800.00 = $216.00; 5 whole months × 12% × $150.00 = $90.00; next 12 months:
    # 7 × $18.00 + 5 × $9.00 = $171.00
    assert (
        "Commission: 12% of the first year's value $1,800.00 = *$216.00* "
        "(first year ends 2025-01-15) · earned to date $90.00 · next 12 months $171.00"
    ) in text


def test_commission_words_after_the_first_year():
    text = text_of(subscription(start_date=date(2022, 3, 10), renewal_date=date(2025, 3, 10)))
    # 6% × $1,800.00 = $108.00 a year; 27 months: 12 × $18 + 15 × $9 = $351.00;
    # next 12 months 12 × $9.00 = $108.00
    assert (
        "Commission: 6% of the annual fee $1,800.00 = *$108.00* a year "
        "(first year ended 2023-03-10) · earned to date $351.00 · next 12 months $108.00"
    ) in text


def test_commission_words_when_another_partner_is_of_record():
    text = text_of(subscription(partner_of_record="another partner", of_record_is_caller=False))
    assert "Commission: none — your company is not the partner of record" in text
    assert "Partner of record: another partner" in text
    assert "$216.00" not in text


def test_commission_words_when_no_partner_is_of_record():
    text = text_of(subscription(partner_of_record=None, of_record_is_caller=False))
    assert "Partner of record: none" in text
    assert "Commission: none — your company is not the partner of record" in text


def test_commission_words_during_a_trial():
    text = text_of(subscription(status=TRIAL))
    # 12% of the first year's value $1,800.00, once paid; nothing earned meanwhile
    assert (
        "Commission: none during the trial; once paid, 12% of the first year's value $1,800.00"
    ) in text
    assert "earned to date" not in text


def test_commission_words_while_suspended():
    # 5 whole months × $18.00 = $90.00 earned before
    assert "Commission: paused while suspended · earned to date $90.00" in text_of(
        subscription(status=SUSPENDED)
    )


def test_commission_words_when_cancelled():
    text = text_of(subscription(status=CANCELLED))
    assert "Commission: no more (cancelled) · earned to date $90.00" in text
    assert "was due to renew 2025-01-15 (cancelled)" in text


def test_commission_words_follow_a_custom_rule():
    rule = CommissionRule(first_year_rate=Decimal("0.10"), later_rate=Decimal("0.05"))
    text = text_of(subscription(), rule=rule)
    # 10% × $1,800.00 = $180.00; 5 × $15.00 = $75.00; 7 × $15.00 + 5 × $7.50 = $142.50
    assert "10% of the first year's value $1,800.00 = *$180.00*" in text
    assert "earned to date $75.00 · next 12 months $142.50" in text


def test_totals_add_up_active_subscriptions_and_commission_of_record():
    views = [
        subscription(),  # active, 10 × $15.00 = $150.00; earned $90.00, expected $171.00
        # suspended, 5 × $5.00 = $25.00 a month; earned 5 × 12% × $25.00 = $15.00
        subscription(plan_code="EXO", seats=5, unit_price=Decimal("5.00"), status=SUSPENDED),
        # active but another partner's: counts in seats and value, not in commission
        subscription(
            plan_code="OCO",
            seats=2,
            unit_price=Decimal("5.00"),
            partner_of_record="another partner",
            of_record_is_caller=False,
        ),
    ]
    text = totals_text(views, rule=RULE, today=TODAY)
    # active: 10 + 2 = 12 seats; $150.00 + $10.00 = $160.00 a month; × 12 = $1,920.00 a year
    assert text.startswith(
        "*3 subscriptions* (2 active) · 12 active seats · *$160.00 a month* · $1,920.00 a year\n"
    )
    # earned $90.00 + $15.00 = $105.00; expected $171.00 + $0.00
    assert text.endswith(
        "Your commission: earned to date $105.00 · expected in the next 12 months $171.00"
    )


def test_customer_without_subscriptions_says_so():
    (message,) = answer(customer(), [])
    assert_slack_accepts(message)
    assert "This customer has no subscriptions on record." in mrkdwn_texts(message.blocks)


@pytest.mark.parametrize("count", [1, 10, 11, 80, 400])
def test_customer_answer_fits_slack_limits_and_shows_every_subscription(count):
    views = many(count)
    answers = answer(customer(), views)
    for message in answers:
        assert_slack_accepts(message)
    texts = [text for message in answers for text in mrkdwn_texts(message.blocks)]
    joined = "\n".join(texts)
    for view in views:
        # Each subscription is the only one started on its day.
        started = f"Started {view.start_date.isoformat()} · renews {view.renewal_date.isoformat()}"
        assert joined.count(started) == 1
    plan_lines = re.findall(r"^\*([A-Z0-9]+(?:-[A-Z0-9]+)?)\* — ", joined, flags=re.MULTILINE)
    assert len(plan_lines) == count


def test_customer_answer_gives_up_to_ten_subscriptions_a_section_each():
    (message,) = answer(customer(), many(10))
    # header, context, totals, divider, 10 subscriptions, rule context: 15 blocks
    assert len(message.blocks) == 15
    assert [block["type"] for block in message.blocks].count("section") == 11


def test_customer_answer_packs_more_than_ten_subscriptions_together():
    (message,) = answer(customer(), many(11))
    subscription_sections = [block for block in message.blocks if block["type"] == "section"][
        1:
    ]  # the first section holds the totals
    assert len(subscription_sections) < 11


def test_customer_answer_with_many_subscriptions_is_split_into_several_messages():
    answers = answer(customer(), many(400))
    assert len(answers) >= 2
    assert all(len(message.blocks) <= MAX_BLOCKS for message in answers)
    assert answers[0].blocks[0]["type"] == "header"


def test_customer_answer_never_lets_a_stored_name_ping_anyone():
    view = customer(
        DANGEROUS,
        domain="<@U123>.onmicrosoft.com",
        region="<https://evil|click>",
        contact_name="<!here>",
    )
    views = [subscription(partner_of_record="<!everyone> & partners")] + many(12)
    for message in answer(view, views):
        for text in mrkdwn_texts(message.blocks):
            assert "<" not in text and ">" not in text, text
        assert_slack_accepts(message)
    joined = "\n".join(mrkdwn_texts(answer(view, views)[0].blocks))
    assert "&lt;@U123&gt;.onmicrosoft.com" in joined
    assert "&lt;https://evil|click&gt;" in joined
    assert "&lt;!here&gt;" in joined
    assert "&lt;!everyone&gt; &amp; partners" in joined


def test_customer_answer_header_shows_the_name_as_plain_text():
    (message,) = answer(customer(DANGEROUS), [subscription()])
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": DANGEROUS, "emoji": True},
    }


def test_customer_answer_shows_the_contact_with_its_address_escaped():
    (message,) = answer(customer(), [subscription()])
    context_text = message.blocks[1]["elements"][0]["text"]
    assert context_text == (
        "contoso.onmicrosoft.com · Europe · contact: Jane Doe &lt;jane@contoso.com&gt; · "
        "customer of Northwind Cloud"
    )


def test_customer_answer_ends_with_the_rule_and_the_day_it_was_computed():
    (message,) = answer(customer(), [subscription()])
    assert message.blocks[-1]["elements"][0]["text"] == (
        "The partner of record earns 12% of the first year's value, then 6% of the annual fee "
        "after the first year. Dates are as of today, 2024-06-20, in Europe/Berlin."
    )


def test_customer_answer_header_of_a_very_long_name_is_cut_to_150_characters():
    (message,) = answer(customer("N" * 200), [subscription()])
    assert len(message.blocks[0]["text"]["text"]) == 150
    assert_slack_accepts(message)


# /subscription through lookup_messages, from the stored rows


PARTNER = Partner(
    id=1,
    team_id="T0001",
    name="Northwind Cloud",
    alert_channel="C0001",
    manager_channel="C0002",
    timezone="Europe/Berlin",
)


def stored_customer(name: str) -> Customer:
    return Customer(
        id=7,
        partner_id=1,
        name=name,
        name_key=name.casefold(),
        domain="contoso.onmicrosoft.com",
        region="Europe",
    )


def stored_subscription(partner_of_record_id: int | None) -> Subscription:
    return Subscription(
        id=3,
        partner_id=1,
        customer_id=7,
        plan_code="EXO",
        seats=4,
        unit_price=Decimal("5.00"),
        billing_cycle="monthly",
        start_date=date(2024, 1, 15),
        renewal_date=date(2024, 7, 15),
        status=ACTIVE,
        billing_owner="partner",
        partner_of_record_id=partner_of_record_id,
    )


def found_messages(name: str, partner_of_record_id: int | None) -> list[Message]:
    lookup = Found(stored_customer(name), [stored_subscription(partner_of_record_id)])
    return lookup_messages(lookup, partner=PARTNER, catalogue=BUILT_IN, rule=RULE, today=TODAY)


def test_lookup_answer_never_names_another_partner_of_record():
    (message,) = found_messages("Contoso Ltd", partner_of_record_id=99)
    text = "\n".join(mrkdwn_texts(message.blocks))
    assert "Partner of record: another partner" in text
    assert "Commission: none — your company is not the partner of record" in text


def test_lookup_answer_names_the_caller_when_it_is_partner_of_record():
    (message,) = found_messages("Contoso Ltd", partner_of_record_id=1)
    text = "\n".join(mrkdwn_texts(message.blocks))
    assert "Partner of record: Northwind Cloud" in text
    # 4 × $5.00 = $20.00 a month; 12% × $240.00 = $28.80; 5 months × 12% × $20.00 = $12.00
    assert "= *$28.80*" in text
    assert "earned to date $12.00" in text
    assert message.text == "Contoso Ltd: 1 subscription"


def test_lookup_answer_notification_text_escapes_the_customer_name():
    # Slack reads a message's top-level text as mrkdwn too (the local shell renders it so).
    (message,) = found_messages(DANGEROUS, partner_of_record_id=1)
    assert "<" not in message.text and ">" not in message.text, message.text
    assert message.text.startswith("&lt;!channel&gt; &amp; Co")


def test_lookup_notification_texts_escape_what_was_typed():
    found = [stored_customer("Contoso Ltd"), stored_customer("Contoso Pharma")]
    (several,) = lookup_messages(
        Choices("<!here>", found, 2), partner=PARTNER, catalogue=BUILT_IN, rule=RULE, today=TODAY
    )
    assert several.text == "2 customers match “&lt;!here&gt;”"
    (none,) = lookup_messages(
        NoMatch("a & b", []), partner=PARTNER, catalogue=BUILT_IN, rule=RULE, today=TODAY
    )
    assert none.text == "No customer matches “a &amp; b”"


# /subscription: several matches, none, nothing typed


def choices(count: int, name: str = "Contoso") -> list[CustomerChoice]:
    return [
        CustomerChoice(
            customer_id=1000 + index,
            name=f"{name} {index}",
            domain=f"contoso{index}.onmicrosoft.com",
        )
        for index in range(count)
    ]


def actions_of(blocks: list[dict]) -> dict:
    (actions,) = [block for block in blocks if block["type"] == "actions"]
    return actions


@pytest.mark.parametrize("count", [2, 5])
def test_a_few_matches_are_buttons_with_unique_action_ids(count):
    blocks = choices_blocks("contoso", choices(count), total=count)
    assert_slack_accepts(Message("matches", blocks))
    elements = actions_of(blocks)["elements"]
    assert [element["type"] for element in elements] == ["button"] * count
    assert len({element["action_id"] for element in elements}) == count
    assert [element["value"] for element in elements] == [str(1000 + i) for i in range(count)]
    assert elements[0]["text"]["text"] == "Contoso 0 · contoso0.onmicrosoft.com"


def test_a_few_matches_say_how_many_matched_with_the_query_escaped():
    blocks = choices_blocks("<!here> co", choices(2), total=2)
    assert blocks[0]["text"]["text"] == "*2 customers match “&lt;!here&gt; co”* — pick one:"
    assert all("Showing the first" not in text for text in mrkdwn_texts(blocks))


def test_more_than_five_matches_are_a_select_menu():
    blocks = choices_blocks("contoso", choices(6), total=6)
    assert_slack_accepts(Message("matches", blocks))
    (element,) = actions_of(blocks)["elements"]
    assert element["type"] == "static_select"
    assert [option["value"] for option in element["options"]] == [str(1000 + i) for i in range(6)]


def test_a_hundred_shown_of_more_matches_say_how_many_are_shown():
    blocks = choices_blocks("contoso", choices(100), total=250)
    assert_slack_accepts(Message("matches", blocks))
    (element,) = actions_of(blocks)["elements"]
    assert len(element["options"]) == 100
    assert blocks[0]["text"]["text"].startswith("*250 customers match")
    assert blocks[-1]["elements"][0]["text"].startswith("Showing the first 100 of 250.")


def test_more_than_a_hundred_matches_are_capped_at_a_hundred_options_with_a_note():
    blocks = choices_blocks("contoso", choices(150), total=150)
    (element,) = actions_of(blocks)["elements"]
    assert len(element["options"]) == MAX_OPTIONS
    # Only 100 of the 150 can be picked, so the reader must be told.
    assert blocks[-1]["type"] == "context"
    assert blocks[-1]["elements"][0]["text"].startswith("Showing the first 100 of 150.")


def test_long_customer_names_are_cut_to_fit_options_and_buttons():
    long_name = "Contoso International Holdings and Subsidiaries of the Northern Hemisphere"
    for count in (3, 20):
        blocks = choices_blocks("contoso", choices(count, name=long_name), total=count)
        assert_slack_accepts(Message("matches", blocks))
        labels = text_objects(actions_of(blocks), "plain_text")
        labels = [label for label in labels if label != "Pick a customer"]
        assert len(labels) == count
        assert all(len(label) <= 75 and label.endswith("…") for label in labels)


def test_no_match_without_suggestions_says_what_to_type():
    blocks = no_match_blocks("zzz", [])
    assert_slack_accepts(Message("no match", blocks))
    assert blocks[0]["text"]["text"] == "No customer of yours matches “zzz”."
    assert not [block for block in blocks if block["type"] == "actions"]
    assert blocks[-1]["elements"][0]["text"] == (
        "Check the spelling, or type less: one word of the name, or the tenant domain."
    )


def test_no_match_with_suggestions_offers_them_as_buttons():
    blocks = no_match_blocks("<cntoso>", choices(3))
    assert_slack_accepts(Message("no match", blocks))
    assert blocks[0]["text"]["text"] == "No customer of yours matches “&lt;cntoso&gt;”."
    assert "*Did you mean…*" in mrkdwn_texts(blocks)
    elements = actions_of(blocks)["elements"]
    assert [element["value"] for element in elements] == ["1000", "1001", "1002"]
    assert len({element["action_id"] for element in elements}) == 3


def test_usage_shows_the_command_and_examples():
    blocks = usage_blocks()
    assert_slack_accepts(Message("usage", blocks))
    text = "\n".join(mrkdwn_texts(blocks))
    assert "`/subscription &lt;customer&gt;`" in text
    assert "• `/subscription dental`" in text
    assert "• `/subscription obriensonsplumbing.onmicrosoft.com`" in text
    assert "• `/subscription sons plumbing`" in text
    assert "<" not in text and ">" not in text


def test_too_long_search_says_how_long_it_was_and_the_maximum():
    blocks = too_long_blocks(1234)
    assert_slack_accepts(Message("too long", blocks))
    text = blocks[0]["text"]["text"]
    assert "1,234 characters long" in text
    assert "at most 200 characters" in text
