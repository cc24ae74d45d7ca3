"""What /partnerbot help and the commands' usage texts say."""

import re
from datetime import date

from bot.blocks import (
    Message,
)
from bot.partners.help import help_blocks
from bot.subscriptions.rules import CommissionRule
from tests.utils.slack import assert_slack_accepts, mrkdwn_texts

TODAY = date(2024, 6, 20)
RULE = CommissionRule()
DANGEROUS = "<!channel> & Co"


# /partnerbot help

CONTRACT_COMMANDS = (
    "/subscription",
    "/order",
    "/order list",
    "/order cancel",
    "/order resend",
    "/outage declare",
    "/outage update",
    "/outage resolve",
    "/outage list",
    "/outage apology",
    "/summary",
    "/summary schedule",
    "/partnerbot help",
)


def help_text() -> str:
    return "\n".join(mrkdwn_texts(help_blocks()))


def test_help_fits_slack_limits():
    assert_slack_accepts(Message("help", help_blocks()))


def test_help_mentions_every_slash_command_of_the_contract():
    text = help_text()
    missing = [command for command in CONTRACT_COMMANDS if f"{command}" not in text]
    assert missing == []
    assert "/summary schedule off" in text


def test_help_gives_an_example_of_every_slash_command():
    example_lines = re.findall(r"^Examples?: (.+)$", help_text(), flags=re.MULTILINE)
    examples = [e for line in example_lines for e in re.findall(r"`([^`]+)`", line)]
    without_example = [
        command
        for command in CONTRACT_COMMANDS
        if not any(example == command or example.startswith(command + " ") for example in examples)
    ]
    assert without_example == []


def test_help_has_no_raw_angle_brackets_that_slack_would_read_as_links():
    for text in mrkdwn_texts(help_blocks()):
        assert "<" not in text and ">" not in text, text
    assert "/subscription &lt;customer name, domain or part of it&gt;" in help_text()


def test_help_lists_every_command_of_the_contract_with_examples():
    text = "\n".join(block["text"]["text"] for block in help_blocks() if block["type"] == "section")
    for command in (
        "/subscription",
        "/order",
        "/outage declare",
        "/outage apology",
        "/summary",
        "/summary schedule",
        "/partnerbot managers",
        "/partnerbot help",
    ):
        assert f"*`{command}" in text, command
    assert "coming soon" not in text


def test_usage_texts_have_no_raw_angle_brackets_that_slack_would_read_as_links():
    from bot.orders.messages import usage as order_usage
    from bot.orders.rules import USAGE as ORDER_USAGE
    from bot.outages.commands import USAGE as OUTAGE_USAGE
    from bot.outages.messages import usage as outage_usage
    from bot.summaries.rules import parse_schedule

    texts = [ORDER_USAGE, OUTAGE_USAGE, parse_schedule("nonsense")]
    texts += [t for m in order_usage() + outage_usage("x") for t in mrkdwn_texts(m.blocks)]
    for text in texts:
        assert "<" not in text and ">" not in text, text
