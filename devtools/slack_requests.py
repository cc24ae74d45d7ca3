"""Slack's request bodies and signatures, made locally: for the shell (which sends the same
requests Slack would) and for tests and benchmarks."""

from __future__ import annotations

import json
import re
import secrets
import time
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


def signed_headers(signing_secret: str, body: str, *, timestamp: int | None = None) -> dict:
    """Headers that sign a body exactly as Slack does (v0, HMAC-SHA256 over the timestamp)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=stamp, body=body)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


# Slack's own sequences in a command's text (a mention with `should_escape`): sent as they are.
CONTROL_SEQUENCE = re.compile(r"(<[@#!][^<>]*>)")


def typed_as_slack_sends_it(text: str) -> str:
    """A command's text as Slack sends it: `&`, `<` and `>` typed become entities, mentions
    (`<@U…>`) stay Slack's sequences."""
    return "".join(
        part
        if CONTROL_SEQUENCE.fullmatch(part)
        else part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for part in CONTROL_SEQUENCE.split(text)
    )


def slash_command_body(
    *,
    command: str,
    text: str,
    team_id: str,
    user_id: str,
    response_url: str,
    channel_id: str = "C0LOCAL",
    user_name: str = "someone",
) -> str:
    """The form body Slack posts for a slash command."""
    return urlencode(
        {
            "token": "unused-verification-token",
            "team_id": team_id,
            "team_domain": "local",
            "channel_id": channel_id,
            "channel_name": "local",
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": typed_as_slack_sends_it(text),
            "api_app_id": "A0LOCAL",
            "response_url": response_url,
            "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**9)}.local",
        }
    )


def block_action_body(
    *,
    action: dict,
    block_id: str,
    team_id: str,
    user_id: str,
    response_url: str,
    channel_id: str = "C0LOCAL",
) -> str:
    """The form body Slack posts when someone clicks a button or picks an option."""
    payload = {
        "type": "block_actions",
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0LOCAL",
        "container": {"type": "message", "is_ephemeral": True},
        "channel": {"id": channel_id},
        "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**9)}.local",
        "response_url": response_url,
        "actions": [{**action, "block_id": block_id, "action_ts": str(time.time())}],
    }
    return urlencode({"payload": json.dumps(payload)})


def clicked(*, kind: str, action_id: str, value: str, label: str) -> dict:
    """The `action` of a click on a button, or of picking an option from a static select."""
    if kind == "static_select":
        option = {"text": {"type": "plain_text", "text": label}, "value": value}
        return {"type": "static_select", "action_id": action_id, "selected_option": option}
    return {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": label},
    }


def view_submission_body(*, view: dict, values: dict, team_id: str, user_id: str) -> str:
    """The form body Slack posts when someone submits a modal; `values` maps each input block
    to its input's state (`{"value": …}` or `{"selected_option": {…}}`), the input's action id
    being the block's id."""
    state = {block_id: {block_id: value} for block_id, value in values.items()}
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0LOCAL",
        "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**9)}.local",
        "view": {**view, "id": "V0LOCAL", "team_id": team_id, "state": {"values": state}},
    }
    return urlencode({"payload": json.dumps(payload)})


def block_suggestion_body(
    *,
    action_id: str,
    block_id: str,
    value: str,
    team_id: str,
    user_id: str,
    view: dict | None = None,
) -> str:
    """The form body Slack posts when someone types into an external select (options load)."""
    payload = {
        "type": "block_suggestion",
        "team": {"id": team_id, "domain": "local"},
        "user": {"id": user_id, "team_id": team_id},
        "api_app_id": "A0LOCAL",
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "container": {"type": "view", "view_id": "V0LOCAL"},
    }
    if view is not None:
        payload["view"] = {**view, "id": "V0LOCAL"}
    return urlencode({"payload": json.dumps(payload)})


def event_body(*, event: dict, team_id: str) -> str:
    """The JSON body Slack posts for an Events API event."""
    return json.dumps(
        {
            "token": "unused-verification-token",
            "team_id": team_id,
            "api_app_id": "A0LOCAL",
            "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(8).upper()}",
            "event_time": int(time.time()),
            "event": event,
        }
    )
