"""Slack's limits and texts, checked on what the bot builds or sends: one checker for messages and
one for views, for every test."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.blocks import (
    INVISIBLE,
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_CONTEXT_ELEMENT_TEXT,
    MAX_FALLBACK_TEXT,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_TEXT,
    MAX_OPTION_TEXT,
    MAX_OPTIONS,
    MAX_PRIVATE_METADATA,
    MAX_SECTION_TEXT,
    MAX_VIEW_BLOCKS,
    MAX_VIEW_TITLE,
    Message,
    blocks_length,
    slack_length,
)

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


def assert_element_fits(element: dict) -> None:
    """The limits of interactive elements that slack_sdk does not check."""
    if element["type"] == "button":
        assert 1 <= slack_length(element["text"]["text"]) <= MAX_BUTTON_TEXT
        assert len(element.get("value", "")) <= 2000
    if element["type"] in ("static_select", "multi_static_select"):
        assert 1 <= len(element["options"]) <= MAX_OPTIONS
    for option in element.get("options", []):
        assert 1 <= slack_length(option["text"]["text"]) <= MAX_OPTION_TEXT
        assert len(option["value"]) <= 150
    if element["type"] == "plain_text_input":
        assert element.get("max_length", 3000) <= 3000
        assert slack_length(element.get("initial_value", "")) <= element.get("max_length", 3000)
    if "placeholder" in element:
        assert slack_length(element["placeholder"]["text"]) <= 150


def assert_block_fits(block: dict) -> None:
    parsed = Block.parse(block)
    assert parsed is not None, block
    parsed.validate_json()
    # slack_sdk counts code points; Slack counts UTF-16 units, as checked here.
    if block["type"] == "section":
        assert 1 <= slack_length(block["text"]["text"]) <= MAX_SECTION_TEXT
    if block["type"] == "header":
        assert 1 <= slack_length(block["text"]["text"]) <= MAX_HEADER_TEXT
    if block["type"] == "context":
        # slack_sdk does not check context element lengths.
        assert 1 <= len(block["elements"]) <= 10
        assert all(
            slack_length(element["text"]) <= MAX_CONTEXT_ELEMENT_TEXT
            for element in block["elements"]
        )
    if block["type"] == "actions":
        # slack_sdk checks neither option counts, option or button text, nor unique ids.
        action_ids = [element["action_id"] for element in block["elements"]]
        assert len(action_ids) == len(set(action_ids)), action_ids
        for element in block["elements"]:
            assert_element_fits(element)
    if block["type"] == "input":
        assert slack_length(block["label"]["text"]) <= 2000
        assert_element_fits(block["element"])


def assert_slack_accepts(message: Message | dict) -> None:
    """The limits Slack enforces on a message (one the bot built, or a payload it sent); slack_sdk
    checks some, the rest are checked here, and no text from data can ping or disguise."""
    if isinstance(message, dict):
        message = Message(message.get("text", ""), message.get("blocks", []))
    assert 1 <= len(message.blocks) <= MAX_BLOCKS
    # Slack cuts `text` over 40,000 and recommends 4,000; the bot keeps it under 3,000.
    assert slack_length(message.text) <= min(MAX_MESSAGE_TEXT, MAX_FALLBACK_TEXT)
    # Above ~13,000 characters of blocks Slack answers msg_blocks_too_long.
    assert blocks_length(message.blocks) <= BLOCKS_TEXT_LIMIT
    for block in message.blocks:
        assert_block_fits(block)
    assert_texts_are_safe(message.text, message.blocks)


def assert_slack_accepts_view(view: dict) -> None:
    """The limits Slack enforces on a modal or App Home view (views.open, views.update,
    views.publish, or a response_action's view)."""
    View(**view).validate_json()
    assert 1 <= len(view["blocks"]) <= MAX_VIEW_BLOCKS
    if view["type"] == "modal":
        assert 1 <= slack_length(view["title"]["text"]) <= MAX_VIEW_TITLE
        for button in ("submit", "close"):
            if button in view:
                assert 1 <= slack_length(view[button]["text"]) <= MAX_VIEW_TITLE
    assert len(view.get("private_metadata", "")) <= MAX_PRIVATE_METADATA
    assert len(view.get("callback_id", "")) <= 255
    for block in view["blocks"]:
        assert_block_fits(block)
    assert_texts_are_safe("", view["blocks"])


def actions_of(message: dict) -> list[tuple[str, dict]]:
    """Every clickable element of a message with its block id."""
    return [
        (block["block_id"], element)
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
