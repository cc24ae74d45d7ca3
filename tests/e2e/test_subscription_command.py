"""/subscription through the real server, with requests signed as Slack signs them."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event

from bot.zones import today_in
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.slack import actions_of, assert_slack_accepts, mrkdwn_texts


async def test_one_match_shows_every_subscription_with_money_dates_and_commission(bot, sessions):
    partner = await make_partner(sessions, name="Northwind Cloud", timezone="Europe/Berlin")
    customer = await make_customer(
        sessions, partner, name="Contoso Dental", domain="contosodental.onmicrosoft.com",
        contact_name="Jane Doe", contact_email="jane@contosodental.com",
    )  # fmt: skip
    today = today_in("Europe/Berlin")
    # In its second year: 6% of the annual fee. 25 seats × $15.00 = $375.00 a month, $4,500.00 a
    # year; 6% of $4,500.00 = $270.00.
    await make_subscription(
        sessions, customer, plan_code="BPOS-S", seats=25, unit_price="15.00",
        billing_cycle="annual", start_date=today - timedelta(days=400),
        renewal_date=today + timedelta(days=30), billing_owner="partner",
    )  # fmt: skip
    # In its first year: 12% of the first year's value. 10 seats × $4.50 = $45.00 a month, $540.00
    # a year; 12% of $540.00 = $64.80.
    await make_subscription(
        sessions, customer, plan_code="EXO", seats=10, unit_price="4.50",
        billing_cycle="monthly", start_date=today - timedelta(days=20),
        renewal_date=today + timedelta(days=10), billing_owner="vendor",
    )  # fmt: skip

    answer = await bot.slack.command("/subscription", "contoso", team_id=partner.team_id)

    assert answer.status == 200
    [message] = answer.messages
    assert message["response_type"] == "ephemeral"
    assert_slack_accepts(message)
    text = answer.text
    for expected in (
        "Contoso Dental",
        "contosodental.onmicrosoft.com",
        "Jane Doe",
        "*BPOS-S* — Business Productivity Online Standard Suite",
        "*EXO* — Exchange Online",
        "25 seats × $15.00 per seat = *$375.00 a month* · $4,500.00 a year",
        "10 seats × $4.50 per seat = *$45.00 a month* · $540.00 a year",
        "billed annually by the partner",
        "billed monthly by the vendor",
        f"Started {(today - timedelta(days=400)).isoformat()}",
        f"renews {(today + timedelta(days=30)).isoformat()} (in 30 days)",
        f"renews {(today + timedelta(days=10)).isoformat()} (in 10 days)",
        "_active_",
        "Partner of record: Northwind Cloud",
        "6% of the annual fee $4,500.00 = *$270.00* a year",
        "12% of the first year's value $540.00 = *$64.80*",
        "12% of the first year's value, then 6% of the annual fee",
        # Active totals: 35 seats, $375.00 + $45.00 = $420.00 a month, $5,040.00 a year.
        "35 active seats · *$420.00 a month* · $5,040.00 a year",
    ):
        assert expected in text, expected


async def test_several_matches_offer_buttons_that_answer_with_the_chosen_customer(bot, sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso Dental")
    chosen = await make_customer(sessions, partner, name="Contoso Legal", domain="contlegal.com")
    today = today_in(partner.timezone)
    await make_subscription(
        sessions, chosen, plan_code="SPO", seats=4, unit_price="5.25",
        start_date=today - timedelta(days=3), renewal_date=today + timedelta(days=362),
    )  # fmt: skip

    answer = await bot.slack.command("/subscription", "CONTOSO", team_id=partner.team_id)

    [message] = answer.messages
    assert "2 customers match" in answer.text
    buttons = actions_of(message)
    assert [b["text"]["text"] for _, b in buttons] == [
        f"Contoso Dental · {buttons[0][1]['text']['text'].split(' · ')[1]}",
        "Contoso Legal · contlegal.com",
    ]
    block_id, button = buttons[1]
    picked = await bot.slack.click(button, block_id=block_id, team_id=partner.team_id)

    [reply] = picked.messages
    assert reply["replace_original"] is True
    assert "Contoso Legal" in picked.text
    # 4 seats × $5.25 = $21.00 a month, $252.00 a year.
    assert "4 seats × $5.25 per seat = *$21.00 a month* · $252.00 a year" in picked.text


async def test_many_matches_offer_a_select_menu(bot, sessions):
    partner = await make_partner(sessions)
    for number in range(7):
        await make_customer(sessions, partner, name=f"Fabrikam Branch {number}")

    answer = await bot.slack.command("/subscription", "fabrikam", team_id=partner.team_id)

    [message] = answer.messages
    [(block_id, menu)] = actions_of(message)
    assert menu["type"] == "static_select"
    assert len(menu["options"]) == 7
    option = menu["options"][3]
    picked = await bot.slack.click(
        {"type": "static_select", "action_id": menu["action_id"], "selected_option": option},
        block_id=block_id,
        team_id=partner.team_id,
    )
    assert "Fabrikam Branch 3" in picked.text
    assert "no subscriptions on record" in picked.text


async def test_no_match_suggests_similar_names_and_says_what_to_type(bot, sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")
    await make_customer(sessions, partner, name="Wide World Importers", domain="wwi.com")

    answer = await bot.slack.command("/subscription", "cntoso dentl", team_id=partner.team_id)

    assert "No customer of yours matches “cntoso dentl”" in answer.text
    assert "Did you mean" in answer.text
    suggestions = [b["text"]["text"] for _, b in actions_of(answer.messages[0])]
    assert suggestions == ["Contoso Dental · contosodental.com"]
    assert "Check the spelling, or type less" in answer.text


async def test_empty_text_shows_usage_with_examples(bot, sessions):
    partner = await make_partner(sessions)

    answer = await bot.slack.command("/subscription", "   ", team_id=partner.team_id)

    assert "shows a customer's subscriptions" in answer.text
    assert "/subscription obriensonsplumbing.onmicrosoft.com" in answer.text


async def test_stored_text_is_escaped_so_nobody_is_pinged(bot, sessions):
    partner = await make_partner(sessions, name="<@U999> & Partners")
    customer = await make_customer(
        sessions, partner, name="<!channel> Alert & Co", domain="alert.com",
        contact_name="<!here>", contact_email="x@alert.com",
    )  # fmt: skip
    await make_customer(sessions, partner, name="<!channel> Alert Two", domain="two.com")
    today = today_in(partner.timezone)
    await make_subscription(
        sessions, customer, start_date=today, renewal_date=today + timedelta(days=365)
    )

    several = await bot.slack.command("/subscription", "<!channel>", team_id=partner.team_id)
    one = await bot.slack.command("/subscription", "alert.com", team_id=partner.team_id)
    none = await bot.slack.command("/subscription", "<!everyone>", team_id=partner.team_id)

    [choices], [answer], [no_match] = several.messages, one.messages, none.messages
    assert "“&lt;!channel&gt;”" in "\n".join(mrkdwn_texts(choices["blocks"]))
    answer_text = "\n".join(mrkdwn_texts(answer["blocks"]))
    assert "&lt;!here&gt;" in answer_text
    assert "&lt;@U999&gt; &amp; Partners" in answer_text
    assert "“&lt;!everyone&gt;”" in "\n".join(mrkdwn_texts(no_match["blocks"]))
    # The name itself is shown in a plain_text header, which Slack never parses for mentions.
    assert answer["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "<!channel> Alert & Co", "emoji": True},
    }
    for message in (choices, answer, no_match):
        # The top-level text is what notifications show; Slack parses mentions there too.
        for text in [message["text"], *mrkdwn_texts(message["blocks"])]:
            assert not re.search(r"<[!@#]", text), text


async def test_another_partners_customers_do_not_exist_not_even_in_suggestions(bot, sessions):
    mine = await make_partner(sessions, name="Mine")
    theirs = await make_partner(sessions, name="Theirs")
    await make_customer(sessions, mine, name="Alpine Ski House", domain="alpine.com")
    secret = await make_customer(sessions, theirs, name="Contoso Secret", domain="secret.com")
    await make_customer(sessions, theirs, name="Contoso Hidden", domain="hidden.com")

    by_name = await bot.slack.command("/subscription", "contoso", team_id=mine.team_id)
    by_domain = await bot.slack.command("/subscription", "secret.com", team_id=mine.team_id)
    by_typo = await bot.slack.command("/subscription", "contoso secrt", team_id=mine.team_id)

    for answer in (by_name, by_domain, by_typo):
        assert "No customer of yours matches" in answer.text
        assert "Contoso" not in answer.text.replace("“contoso", "").replace("“contoso secrt", "")
        assert "secret.com" not in answer.text.replace("“secret.com", "")
        assert "Did you mean" not in answer.text
    # A forged click naming the other partner's customer shows nothing of it.
    forged = await bot.slack.click(
        {"type": "button", "action_id": "subscription_pick_customer:0", "value": str(secret.id)},
        block_id="subscription_pick",
        team_id=mine.team_id,
    )
    assert "no longer among yours" in forged.text
    assert "Contoso" not in forged.text


async def test_a_workspace_that_is_not_set_up_is_told_so_and_nothing_else(bot, sessions):
    await make_partner(sessions, team_id="T0KNOWN")

    answer = await bot.slack.command("/subscription", "contoso", team_id="T0STRANGER", wait_for=0)

    assert answer.status == 200
    assert "not set up for partnerbot" in answer.body
    assert "T0STRANGER" in answer.body
    assert bot.local_slack.calls_to("response_url") == []


async def test_hostile_queries_get_clear_answers(bot, sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Robert'); DROP TABLE customer;--", domain="b.com")
    await make_customer(sessions, partner, name="Müller Bäckerei GmbH", domain="mueller.de")
    await make_customer(sessions, partner, name="100% Cotton_Shirts", domain="cotton.com")
    await make_customer(sessions, partner, name="1000 Shirts", domain="shirts.com")

    too_long = await bot.slack.command("/subscription", "x" * 5000, team_id=partner.team_id)
    assert "5,000 characters long" in too_long.text

    injection = await bot.slack.command("/subscription", "'); drop table", team_id=partner.team_id)
    assert "Robert'); DROP TABLE customer;--" in injection.text

    for query in ("MÜLLER", "bäckerei", "müller bäckerei gmbh"):
        answer = await bot.slack.command("/subscription", query, team_id=partner.team_id)
        assert "Müller Bäckerei GmbH" in answer.text, query
        assert "match" not in answer.text.split("\n")[0], query

    # LIKE wildcards are literal: "100%" matches only the cotton shirts, "_" is not "any letter".
    percent = await bot.slack.command("/subscription", "100%", team_id=partner.team_id)
    assert "100% Cotton_Shirts" in percent.text and "1000 Shirts" not in percent.text
    underscore = await bot.slack.command("/subscription", "n_s", team_id=partner.team_id)
    assert "100% Cotton_Shirts" in underscore.text

    emoji = await bot.slack.command("/subscription", "🍕\u200b\x00", team_id=partner.team_id)
    assert "No customer of yours matches" in emoji.text


async def test_a_customer_with_80_subscriptions_gets_a_readable_answer_within_slack_limits(
    bot, sessions
):
    partner = await make_partner(sessions)
    customer = await make_customer(sessions, partner, name="Tailspin Toys", domain="tailspin.com")
    today = today_in(partner.timezone)
    for number in range(80):
        await make_subscription(
            sessions, customer, plan_code=["EXO", "SPO", "OCO", "OLM", "BPOS-S"][number % 5],
            seats=number + 1, start_date=today - timedelta(days=number),
            renewal_date=today + timedelta(days=number + 1),
        )  # fmt: skip

    # Some 30,000 characters: more than one message's blocks may hold (msg_blocks_too_long).
    answer = await bot.slack.command(
        "/subscription", "tailspin", team_id=partner.team_id, wait_for=3
    )

    assert answer.messages
    for message in answer.messages:
        assert_slack_accepts(message)
    # Every subscription is there: seat counts 1 to 80, each once.
    seat_counts = re.findall(r"(\d+) seats? ×", answer.text)
    assert sorted(int(n) for n in seat_counts) == list(range(1, 81))
    assert "*80 subscriptions*" in answer.text


async def test_web_api_calls_go_to_slack_api_url(bot, sessions):
    partner = await make_partner(sessions)

    await bot.slack.command("/partnerbot", "help", team_id=partner.team_id)

    # bolt checks the bot token with auth.test before the first listener runs.
    [auth] = bot.local_slack.calls_to("auth.test")
    assert auth.params["token"] == "xoxb-e2e-token"


async def test_a_name_with_an_ampersand_is_found_as_typed(bot, sessions):
    # Slack sends `O'Brien & Sons` as `O'Brien &amp; Sons`; the search is for what was typed.
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="O'Brien & Sons", domain="obrien.example")
    await make_customer(sessions, partner, name="O'Brien Bakery", domain="bakery.example")

    answer = await bot.slack.command("/subscription", "O'Brien & Sons", team_id=partner.team_id)

    [message] = answer.messages
    assert_slack_accepts(message)
    assert "O'Brien &amp; Sons" in message["text"] and "obrien.example" in answer.text
    assert "match" not in message["text"]


async def test_a_command_uses_two_connections_one_to_record_and_one_to_answer(bot, sessions):
    """The request's record and its workspace's partner share one connection; the look-up has
    the other (before, the partner had a connection of its own). Statements are told apart by
    what they touch, since the outbox worker runs its own beside them."""
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso Dental", domain="contoso.com")
    statements = []

    def executed(connection, _cursor, statement, *_args) -> None:
        statements.append((connection, statement))

    engine = bot.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", executed)
    try:
        answer = await bot.slack.command("/subscription", "contoso.com", team_id=partner.team_id)
    finally:
        event.remove(engine, "before_cursor_execute", executed)

    def connections_touching(pattern: str) -> set:
        return {id(c) for c, statement in statements if re.search(pattern, statement)}

    assert "Contoso Dental" in answer.text
    [recorded] = connections_touching(r"seen_slack_request")
    [partner_found] = connections_touching(r"FROM partner\b")
    [looked_up] = connections_touching(r"FROM (customer|subscription)\b")
    assert recorded == partner_found != looked_up


async def test_answers_at_response_urls_share_the_bots_connections(bot, sessions):
    """Each post to a response_url used to open an HTTP session and a connection of its own
    (in production a TLS handshake to Slack for every answer)."""
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso Dental")
    await make_customer(sessions, partner, name="Contoso Legal")
    answer = await bot.slack.command("/subscription", "contoso", team_id=partner.team_id)
    block_id, button = actions_of(answer.messages[0])[0]

    for _ in range(3):  # one after the other: a free pooled connection is there to take
        picked = await bot.slack.click(button, block_id=block_id, team_id=partner.team_id)
        assert "Contoso Dental" in picked.text

    posts = bot.local_slack.calls_to("response_url")
    assert len(posts) == 3
    assert len({post.peer for post in posts}) == 1
