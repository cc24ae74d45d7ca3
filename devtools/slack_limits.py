"""What Slack refuses in a message or a view, as LocalSlack checks it and the tests' checker
(tests/utils/slack.py) relies on: slack_sdk's models, plus the limits slack_sdk does not check
(block counts, text, option, button and input lengths, duplicate ids, a message's total block
text). Lengths are counted as Slack counts them, in UTF-16 units (an emoji outside the basic
plane is two). Each check returns Slack's error name and the reasons, or None when Slack takes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000  # top-level `text`; Slack answers msg_too_long beyond it
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_CONTEXT_TEXT = 3000
MAX_ID = 255  # block_id, action_id, callback_id
MAX_CONTEXT_ELEMENTS = 10
MAX_LABEL_TEXT = 2000
MAX_PLACEHOLDER_TEXT = 150
MAX_INPUT_LENGTH = 3000
MAX_VIEW_TITLE = 24  # a modal's title, submit and close texts
MAX_PRIVATE_METADATA = 3000
# Above about this many characters of text in a message's blocks Slack answers
# msg_blocks_too_long (not in its documentation; seen by bolt-js users, slackapi/bolt-js#2509).
MAX_BLOCKS_TEXT = 13_200
SELECTS = ("static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow")


@dataclass
class Refusal:
    """Slack's error name and what was wrong (Slack lists the reasons in its answer)."""

    error: str
    reasons: list[str] = field(default_factory=list)


def units(text: str) -> int:
    """A text's length as Slack counts it: UTF-16 code units."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def blocks_text(node) -> int:
    """How much text blocks hold: every text object's text, in UTF-16 units."""
    if isinstance(node, list):
        return sum(blocks_text(item) for item in node)
    if not isinstance(node, dict):
        return 0
    own = node.get("text") if node.get("type") in ("mrkdwn", "plain_text") else None
    return (units(own) if isinstance(own, str) else 0) + sum(
        blocks_text(value) for value in node.values() if isinstance(value, dict | list)
    )


def decoded(value):
    """Form-encoded calls carry blocks and views as JSON strings; JSON calls as JSON."""
    return json.loads(value) if isinstance(value, str) else value


def message_refusal(params: dict) -> Refusal | None:
    """What chat.postMessage, chat.update, chat.postEphemeral or a response_url say about a
    message, or None when they take it."""
    text = params.get("text") or ""
    if not isinstance(text, str):
        return Refusal("invalid_arguments", ["text must be a string"])
    if units(text) > MAX_MESSAGE_TEXT:
        return Refusal(
            "msg_too_long", [f"text is {units(text)} characters, over {MAX_MESSAGE_TEXT}"]
        )
    if "blocks" not in params or params["blocks"] in (None, ""):
        return None if text else Refusal("no_text")
    try:
        blocks = decoded(params["blocks"])
    except ValueError:
        return Refusal("invalid_blocks_format", ["blocks is not JSON"])
    if not isinstance(blocks, list):
        return Refusal("invalid_blocks_format", ["blocks must be an array"])
    if not blocks and not text:
        return Refusal("no_text")
    reasons = blocks_reasons(blocks, MAX_MESSAGE_BLOCKS)
    if reasons:
        return Refusal("invalid_blocks", reasons)
    if blocks_text(blocks) > MAX_BLOCKS_TEXT:
        return Refusal("msg_blocks_too_long", [f"blocks hold over {MAX_BLOCKS_TEXT} characters"])
    return None


def view_refusal(value) -> Refusal | None:
    """What views.open, views.update, views.push and views.publish say about a view (Slack
    answers invalid_arguments, with the reasons), or None when they take it."""
    try:
        view = decoded(value)
    except ValueError:
        return Refusal("invalid_arguments", ["view is not JSON"])
    if not isinstance(view, dict):
        return Refusal("invalid_arguments", ["view must be an object"])
    reasons = []
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, AttributeError) as error:
        reasons.append(f"view: {error}")
    reasons += view_limit_reasons(view)
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        reasons.append("view: blocks must be an array")
    else:
        reasons += blocks_reasons(blocks, MAX_VIEW_BLOCKS)
    return Refusal("invalid_arguments", reasons) if reasons else None


def view_limit_reasons(view: dict) -> list[str]:
    """A view's own limits that slack_sdk leaves to Slack."""
    reasons = []
    if view.get("type") == "modal":
        for key in ("title", "submit", "close"):
            if key in view and not 1 <= units(text_of(view[key]) or "") <= MAX_VIEW_TITLE:
                reasons.append(f"view {key} must be 1 to {MAX_VIEW_TITLE} characters")
    if units(view.get("private_metadata") or "") > MAX_PRIVATE_METADATA:
        reasons.append(f"private_metadata is over {MAX_PRIVATE_METADATA} characters")
    if len(view.get("callback_id") or "") > MAX_ID:
        reasons.append(f"callback_id is over {MAX_ID} characters")
    return reasons


def blocks_reasons(blocks: list, most: int) -> list[str]:
    """Every reason Slack would refuse these blocks."""
    reasons = []
    if len(blocks) > most:
        reasons.append(f"no more than {most} items allowed [json-pointer:/blocks]")
    block_ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        reasons.append("duplicate block_id [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{index}]"
        reasons += [f"{reason} {where}" for reason in block_reasons(block)]
    return reasons


def block_reasons(block) -> list[str]:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return ["a block must be an object with a type"]
    try:
        parsed = Block.parse(block)
        if parsed is None or type(parsed) is Block:
            return [f"unknown block type {block['type']!r}"]
        parsed.validate_json()
    except (SlackObjectFormationError, TypeError, AttributeError, KeyError) as error:
        return [str(error) or type(error).__name__]
    return limit_reasons(block)


def limit_reasons(block: dict) -> list[str]:
    """The limits slack_sdk leaves to Slack."""
    reasons = []
    kind = block["type"]
    if kind == "section":
        text = text_of(block.get("text"))
        if text is not None and not 1 <= units(text) <= MAX_SECTION_TEXT:
            reasons.append(f"section text must be 1 to {MAX_SECTION_TEXT} characters")
        for item in block.get("fields") or []:
            if units(text_of(item) or "") > MAX_SECTION_FIELD_TEXT:
                reasons.append(f"a section field is over {MAX_SECTION_FIELD_TEXT} characters")
    if kind == "header" and not 1 <= units(text_of(block.get("text")) or "") <= MAX_HEADER_TEXT:
        reasons.append(f"header text must be 1 to {MAX_HEADER_TEXT} characters")
    if kind == "context":
        if not 1 <= len(block.get("elements") or []) <= MAX_CONTEXT_ELEMENTS:
            reasons.append(f"a context holds 1 to {MAX_CONTEXT_ELEMENTS} elements")
        for element in block.get("elements") or []:
            if units(text_of(element) or "") > MAX_CONTEXT_TEXT:
                reasons.append(f"a context text is over {MAX_CONTEXT_TEXT} characters")
    if kind == "input" and units(text_of(block.get("label")) or "") > MAX_LABEL_TEXT:
        reasons.append(f"an input label is over {MAX_LABEL_TEXT} characters")
    if len(block.get("block_id") or "") > MAX_ID:
        reasons.append(f"block_id is over {MAX_ID} characters")
    elements = list(block.get("elements") or []) if kind == "actions" else []
    elements += [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
    action_ids = [
        e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")
    ]
    if len(action_ids) != len(set(action_ids)):
        reasons.append("action_id must be unique in a block")
    for element in elements:
        reasons += element_reasons(element)
    return reasons


def element_reasons(element) -> list[str]:
    if not isinstance(element, dict):
        return ["an element must be an object"]
    reasons = []
    kind = element.get("type")
    if len(element.get("action_id") or "") > MAX_ID:
        reasons.append(f"action_id is over {MAX_ID} characters")
    if kind == "button":
        if not 1 <= units(text_of(element.get("text")) or "") <= MAX_BUTTON_TEXT:
            reasons.append(f"button text must be 1 to {MAX_BUTTON_TEXT} characters")
        if len(element.get("value") or "") > MAX_BUTTON_VALUE:
            reasons.append(f"button value is over {MAX_BUTTON_VALUE} characters")
    if kind in SELECTS:
        options = list(element.get("options") or [])
        for group in element.get("option_groups") or []:
            options += group.get("options") or []
        if not element.get("option_groups") and not 1 <= len(options) <= MAX_OPTIONS:
            reasons.append(f"{kind} must have 1 to {MAX_OPTIONS} options")
        reasons += [reason for option in options for reason in option_reasons(option)]
    initial = element.get("initial_option")
    if isinstance(initial, dict):
        reasons += option_reasons(initial)
    if kind == "plain_text_input":
        longest = element.get("max_length", MAX_INPUT_LENGTH)
        if longest > MAX_INPUT_LENGTH:
            reasons.append(f"max_length is over {MAX_INPUT_LENGTH}")
        if units(element.get("initial_value") or "") > longest:
            reasons.append("initial_value is longer than max_length")
    if units(text_of(element.get("placeholder")) or "") > MAX_PLACEHOLDER_TEXT:
        reasons.append(f"a placeholder is over {MAX_PLACEHOLDER_TEXT} characters")
    return reasons


def option_reasons(option) -> list[str]:
    if not isinstance(option, dict):
        return ["an option must be an object"]
    reasons = []
    if not 1 <= units(text_of(option.get("text")) or "") <= MAX_OPTION_TEXT:
        reasons.append(f"option text must be 1 to {MAX_OPTION_TEXT} characters")
    if not 1 <= len(option.get("value") or "") <= MAX_OPTION_VALUE:
        reasons.append(f"option value must be 1 to {MAX_OPTION_VALUE} characters")
    return reasons


def text_of(node) -> str | None:
    """The text of a text object (or a context element); None when there is none."""
    if isinstance(node, dict) and isinstance(node.get("text"), str):
        return node["text"]
    return None
