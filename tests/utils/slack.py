"""Slack's limits and texts, checked on what the bot builds or sends: one checker for every test."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks import (
    MAX_BLOCKS,
    MAX_HEADER_TEXT,
    MAX_OPTION_TEXT,
    MAX_OPTIONS,
    MAX_SECTION_TEXT,
    Message,
)


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


def assert_slack_accepts(message: Message | dict) -> None:
    """The limits Slack enforces on a message (one the bot built, or a payload it sent); slack_sdk
    checks some, the rest are checked here."""
    if isinstance(message, dict):
        message = Message(message.get("text", ""), message.get("blocks", []))
    assert 1 <= len(message.blocks) <= MAX_BLOCKS
    assert len(message.text) <= 3000
    for block in message.blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= MAX_HEADER_TEXT
        if block["type"] == "context":
            # slack_sdk does not check context element lengths.
            assert all(len(element["text"]) <= 3000 for element in block["elements"])
        if block["type"] == "actions":
            # slack_sdk checks neither option counts, option or button text, nor unique ids.
            action_ids = [element["action_id"] for element in block["elements"]]
            assert len(action_ids) == len(set(action_ids)), action_ids
            for element in block["elements"]:
                if element["type"] == "button":
                    assert len(element["text"]["text"]) <= 75
                if element["type"] == "static_select":
                    assert 1 <= len(element["options"]) <= MAX_OPTIONS
                    for option in element["options"]:
                        assert len(option["text"]["text"]) <= MAX_OPTION_TEXT
                        assert len(option["value"]) <= 150


def actions_of(message: dict) -> list[tuple[str, dict]]:
    """Every clickable element of a message with its block id."""
    return [
        (block["block_id"], element)
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
