"""Block Kit as the local shell shows it: what a person would read in Slack, choices numbered."""

from __future__ import annotations

from bot.blocks import context, divider, header, section
from bot.picking import CustomerChoice
from bot.subscriptions.messages import choices_blocks
from devtools.text import Choice, readable, render, unescape


def button(label: str, action_id: str, value: str) -> dict:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }


def select(action_id: str, options: list[tuple[str, str]]) -> dict:
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": {"type": "plain_text", "text": "Pick one"},
        "options": [
            {"text": {"type": "plain_text", "text": label}, "value": value}
            for label, value in options
        ],
    }


def test_a_header_is_underlined_to_its_length():
    text, choices = render([header("Contoso Ltd")])
    # "Contoso Ltd" is 11 characters
    assert text == "Contoso Ltd\n==========="
    assert choices == []


def test_blocks_become_paragraphs_in_order():
    text, _ = render([section("*First*"), divider(), context("small print")])
    assert text == "*First*\n\n" + "-" * 40 + "\n\nsmall print"


def test_a_section_shows_its_text_then_its_fields():
    block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "Totals"},
        "fields": [{"type": "mrkdwn", "text": "Seats: 10"}, {"type": "plain_text", "text": "<b>"}],
    }
    assert render([block])[0] == "Totals\nSeats: 10\n<b>"


def test_a_context_joins_its_elements_with_spaces():
    block = {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "a &amp; b"}, {"type": "plain_text", "text": "c"}],
    }
    assert render([block])[0] == "a & b c"


def test_mrkdwn_entities_are_shown_as_the_characters_they_stand_for():
    text, _ = render([section("&lt;!channel&gt; &amp; Co")])
    assert text == "<!channel> & Co"


def test_an_escaped_entity_that_was_typed_literally_reads_as_typed():
    # A stored name "&lt;" is escaped to "&amp;lt;" and must read "&lt;" again, not "<".
    assert unescape("&amp;lt;") == "&lt;"


def test_links_show_their_labels_and_mentions_their_targets():
    assert readable("see <https://example.com/orders/1|the order> now") == "see the order now"
    assert readable("<https://example.com>") == "https://example.com"
    assert readable("hi <@U123>") == "hi @U123"
    assert render([section("<https://evil.example|click> &amp; go")])[0] == "click & go"


def test_plain_text_is_shown_as_is():
    text, _ = render([header("<!channel> &amp; Co")])
    assert text.splitlines()[0] == "<!channel> &amp; Co"


def test_buttons_are_numbered_in_order_from_one():
    block = {
        "type": "actions",
        "block_id": "pick",
        "elements": [button("Contoso", "pick:0", "11"), button("Fabrikam", "pick:1", "12")],
    }
    text, choices = render([block])
    assert text == "  [1] Contoso\n  [2] Fabrikam"
    assert choices == [
        Choice("Contoso", "pick:0", "pick", "11", "button"),
        Choice("Fabrikam", "pick:1", "pick", "12", "button"),
    ]


def test_select_options_are_numbered_after_earlier_buttons():
    blocks = [
        {"type": "actions", "block_id": "first", "elements": [button("Yes", "yes", "y")]},
        section("or pick:"),
        {
            "type": "actions",
            "block_id": "second",
            "elements": [select("choose", [("Alpha", "1"), ("Beta", "2"), ("Gamma", "3")])],
        },
    ]
    text, choices = render(blocks)
    assert text == "  [1] Yes\n\nor pick:\n\n  [2] Alpha\n  [3] Beta\n  [4] Gamma"
    assert [choice.label for choice in choices] == ["Yes", "Alpha", "Beta", "Gamma"]
    assert choices[3] == Choice("Gamma", "choose", "second", "3", "static_select")


def test_the_fallback_text_is_shown_when_there_are_no_blocks():
    assert render([], "Contoso &amp; Co: 1 subscription") == ("Contoso & Co: 1 subscription", [])
    assert render(None, "") == ("", [])


def test_the_fallback_text_is_not_repeated_under_blocks():
    text, _ = render([section("body")], "fallback")
    assert text == "body"


def test_unknown_blocks_are_skipped():
    text, _ = render([{"type": "image", "image_url": "https://x", "alt_text": "x"}, section("a")])
    assert text == "a"


def test_a_subscription_answer_with_many_matches_reads_as_a_numbered_list():
    picks = [CustomerChoice(20 + n, f"Contoso {n}", f"c{n}.onmicrosoft.com") for n in range(6)]
    text, choices = render(choices_blocks("contoso & co", picks, total=6))
    assert text.startswith("*6 customers match “contoso & co”* — pick one:\n\n  [1] Contoso 0 · ")
    assert "  [6] Contoso 5 · c5.onmicrosoft.com" in text
    assert [choice.value for choice in choices] == ["20", "21", "22", "23", "24", "25"]
