"""A signed Slack body read as Slack sends it, and refused unless it has a shape Slack sends: what
bolt and the listeners read afterwards is there, and of the type they expect."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from bot.replays import LONGEST_EVENT_ID

FORM = "application/x-www-form-urlencoded"  # slash commands and interactions
JSON = "application/json"  # Events API
# Slack's deepest bodies (rich text inside a view's state, or inside a message's blocks) nest
# about fifteen levels; far deeper is an attack on whatever walks the tree.
DEEPEST = 40
LONGEST_METADATA = 3000  # a view's private_metadata, as Slack limits it
MOST_FORM_FIELDS = 50  # a slash command has a dozen
INTERACTIONS = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
    }
)
ENVELOPES = frozenset({"event_callback", "url_verification", "app_rate_limited"})
# Fields bolt or the listeners read as objects, and as text, wherever they appear at the top.
OBJECTS = ("team", "user", "enterprise", "channel", "container", "message", "view", "state")
TEXTS = (
    "type",
    "token",
    "team_id",
    "user_id",
    "enterprise_id",
    "api_app_id",
    "trigger_id",
    "response_url",
    "command",
    "text",
    "channel_id",
    "callback_id",
    "action_id",
    "block_id",
    "value",
)
ELEMENT_TEXTS = (
    "type",
    "value",
    "selected_conversation",
    "selected_channel",
    "selected_user",
    "selected_date",
    "selected_time",
)


class Malformed(ValueError):
    """A body Slack would not send; the message says why in a few words of ours."""


def need(condition: bool, reason: str) -> None:
    if not condition:
        raise Malformed(reason)


def depth(value: object) -> int:
    """How deeply a parsed JSON value nests, walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def json_object(text: str, what: str) -> dict:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Malformed(f"{what} is not JSON") from None
    need(isinstance(value, dict), f"{what} is not a JSON object")
    need(depth(value) <= DEEPEST, f"{what} nests deeper than {DEEPEST} levels")
    return value


def optional(mapping: dict, key: str, kind: type | tuple[type, ...], where: str) -> None:
    value = mapping.get(key)
    need(value is None or isinstance(value, kind), f"{where}{key} has the wrong type")


def check_common(body: dict) -> None:
    for key in OBJECTS:
        optional(body, key, dict, "")
        optional(body.get(key) or {}, "id", str, f"{key}.")
    for key in TEXTS:
        optional(body, key, str, "")
    optional(body, "actions", list, "")
    optional(body, "authorizations", list, "")
    for authorization in body.get("authorizations") or []:
        need(isinstance(authorization, dict), "authorizations holds a non-object")


def check_state(state: dict) -> None:
    optional(state, "values", dict, "state.")
    for inputs in (state.get("values") or {}).values():
        need(isinstance(inputs, dict), "state.values holds a non-object block")
        for element in inputs.values():
            need(isinstance(element, dict), "state.values holds a non-object input")
            for key in ELEMENT_TEXTS:
                optional(element, key, str, "state input ")
            optional(element, "selected_option", dict, "state input ")
            optional(element.get("selected_option") or {}, "value", str, "selected_option.")


def check_view(view: object) -> None:
    need(isinstance(view, dict), "view is not an object")
    for key in ("id", "type", "callback_id", "private_metadata", "hash"):
        optional(view, key, str, "view.")
    metadata = view.get("private_metadata") or ""
    need(len(metadata) <= LONGEST_METADATA, "view.private_metadata is over 3,000 characters")
    optional(view, "state", dict, "view.")
    check_state(view.get("state") or {})


def check_interaction(body: dict) -> None:
    check_common(body)
    kind = body.get("type")
    need(kind in INTERACTIONS, "payload type is not one Slack sends")
    if kind == "block_actions":
        actions = body.get("actions")
        need(bool(actions), "block_actions without actions")
        for action in actions:
            need(isinstance(action, dict), "actions holds a non-object")
            need(isinstance(action.get("action_id"), str), "an action has no action_id")
            for key in ("type", "block_id", "value", "action_ts"):
                optional(action, key, str, "action.")
            optional(action, "selected_option", dict, "action.")
            optional(action.get("selected_option") or {}, "value", str, "selected_option.")
        check_state(body.get("state") or {})
    if kind in ("view_submission", "view_closed"):
        need(body.get("view") is not None, f"{kind} without a view")
    if kind == "block_suggestion":
        need(isinstance(body.get("action_id"), str), "block_suggestion without action_id")
        need(isinstance(body.get("value"), str), "block_suggestion without value")
    if body.get("view") is not None:
        check_view(body["view"])


def check_envelope(body: dict) -> None:
    check_common(body)
    kind = body.get("type")
    need(kind in ENVELOPES, "event type is not one Slack sends")
    if kind == "event_callback":
        event = body.get("event")
        need(isinstance(event, dict), "event is not an object")
        need(isinstance(event.get("type"), str), "event has no type")
        event_id = body.get("event_id")
        need(isinstance(event_id, str) and 0 < len(event_id) <= LONGEST_EVENT_ID, "bad event_id")
        for key in ("user", "channel", "tab"):
            optional(event, key, str, "event.")
    if kind == "url_verification":
        need(isinstance(body.get("challenge"), str), "url_verification without a challenge")


def form_fields(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MOST_FORM_FIELDS
        )
    except ValueError:
        raise Malformed("form body does not parse") from None
    return dict(pairs)


def read_slack_body(text: str, content_type: str) -> dict:
    """The body as Slack meant it: a slash command's form fields, an interaction's payload, or
    an Events API envelope; raises Malformed for anything else."""
    if content_type == JSON:
        body = json_object(text, "body")
        check_envelope(body)
        return body
    need(content_type == FORM, "content type is not one Slack sends")
    fields = form_fields(text)
    if "payload" in fields:
        body = json_object(fields["payload"], "payload")
        check_interaction(body)
        return body
    need(fields.get("command", "").startswith("/"), "form body is neither command nor payload")
    return fields
