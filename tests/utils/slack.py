"""Slack's limits and texts, checked on what the bot builds or sends: one checker for messages and
one for views, for every test, on the same rules the local Slack refuses by."""

from __future__ import annotations

import re

from bot.blocks import INVISIBLE, MAX_FALLBACK_TEXT, Message
from devtools.slack_limits import blocks_text, message_refusal, units, view_refusal

# Slack answers msg_blocks_too_long above ~13,200 characters of block text; the checker holds
# messages to 12,000 on its own, whatever the bot's constant says.
BLOCKS_TEXT_LIMIT = 12_000
# What Slack reads as a broadcast: never in anything the bot builds from data.
BROADCASTS = re.compile(r"<!(channel|here|everyone|subteam)")


def text_objects(node, kind: str) -> list[str]:
    """Every text of the given type (mrkdwn or plain_text) anywhere inside blocks."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == kind and isinstance(node.get("text"), str):
            found.append(node["text"])
        for value in node.values():
            found += text_objects(value, kind)
    elif isinstance(node, list):
        for item in node:
            found += text_objects(item, kind)
    return found


def mrkdwn_texts(blocks: list[dict]) -> list[str]:
    return text_objects(blocks, "mrkdwn")


def all_text(blocks: list[dict]) -> str:
    return "\n".join(mrkdwn_texts(blocks) + text_objects(blocks, "plain_text"))


def assert_texts_are_safe(top_text: str, blocks: list[dict]) -> None:
    """No text Slack shows holds an invisible direction or zero-width character, a broadcast,
    or is empty where Slack wants at least one character."""
    for text in [top_text, *mrkdwn_texts(blocks), *text_objects(blocks, "plain_text")]:
        assert not INVISIBLE.search(text), repr(text[:200])
    for text in [top_text, *mrkdwn_texts(blocks)]:
        assert not BROADCASTS.search(text), text[:200]
    for text in text_objects(blocks, "plain_text"):
        assert text.strip(), "an empty plain_text"


def assert_slack_accepts(message: Message | dict) -> None:
    """What Slack takes (the local Slack's rules: slack_sdk's models and the limits it leaves to
    Slack), and what the bot holds itself to beyond them: at least one block, a notification
    text under 3,000, at most 12,000 characters of block text, and no text from data that can
    ping or disguise."""
    if isinstance(message, dict):
        message = Message(message.get("text", ""), message.get("blocks", []))
    refusal = message_refusal({"text": message.text, "blocks": message.blocks})
    assert refusal is None, refusal
    assert 1 <= len(message.blocks)
    # Slack cuts `text` over 40,000 and recommends 4,000; the bot keeps it under 3,000.
    assert units(message.text) <= MAX_FALLBACK_TEXT
    # Slack answers msg_blocks_too_long above ~13,200; the bot stays under 12,000.
    assert blocks_text(message.blocks) <= BLOCKS_TEXT_LIMIT
    assert_texts_are_safe(message.text, message.blocks)


def assert_slack_accepts_view(view: dict) -> None:
    """What Slack takes in a modal or App Home view (views.open, views.update, views.publish, or
    a response_action's view), with no text from data that can ping or disguise."""
    refusal = view_refusal(view)
    assert refusal is None, refusal
    assert 1 <= len(view["blocks"])
    assert_texts_are_safe("", view["blocks"])


def actions_of(message: dict) -> list[tuple[str, dict]]:
    """Every clickable element of a message with its block id."""
    return [
        (block["block_id"], element)
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
