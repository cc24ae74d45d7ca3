"""The shape check before bolt: every body Slack sends this app passes as bolt would read it,
and a few shapes it never sends are refused with their reason."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest

from devtools.slack_requests import (
    block_action_body,
    block_suggestion_body,
    clicked,
    event_body,
    slash_command_body,
    view_submission_body,
)
from handlers.slack_payloads import FORM, JSON, Malformed, depth, read_slack_body


def payload_of(body: str) -> dict:
    return json.loads(dict(parse_qsl(body))["payload"])


def test_every_kind_of_body_slack_sends_passes_unchanged():
    command = slash_command_body(
        command="/order", text="payload & more", team_id="T1", user_id="U1", response_url="u"
    )
    assert read_slack_body(command, FORM) == dict(parse_qsl(command, keep_blank_values=True))
    action = clicked(kind="static_select", action_id="pick", value="1", label="One")
    click = block_action_body(
        action=action, block_id="b", team_id="T1", user_id="U1", response_url="u"
    )
    view = {"type": "modal", "callback_id": "order_form", "private_metadata": "C1"}
    values = {"seats": {"value": "25"}, "plan": {"selected_option": {"value": "EXO"}}}
    submit = view_submission_body(view=view, values=values, team_id="T1", user_id="U1")
    options = block_suggestion_body(
        action_id="c", block_id="c", value="con", team_id="T1", user_id="U1", view=view
    )
    for body in (click, submit, options):
        assert read_slack_body(body, FORM) == payload_of(body)
    event = event_body(event={"type": "app_home_opened", "user": "U1", "tab": "home"}, team_id="T1")
    assert read_slack_body(event, JSON) == json.loads(event)


@pytest.mark.parametrize(
    ("text", "content_type", "reason"),
    [
        ("command=/order", "text/plain", "content type is not one Slack sends"),
        ('{"type": "event_callback"}', FORM, "form body does not parse"),
        ("payload=%5B%5D", FORM, "payload is not a JSON object"),
        (
            '{"type": "url_verification", "challenge": 1}',
            JSON,
            "url_verification without a challenge",
        ),
    ],
)
def test_shapes_slack_never_sends_are_refused_with_their_reason(text, content_type, reason):
    with pytest.raises(Malformed, match=reason):
        read_slack_body(text, content_type)


def test_depth_is_measured_without_recursion():
    nested: object = "leaf"
    for _ in range(50_000):
        nested = [nested]
    assert depth(nested) == 50_000
    assert depth({"a": [1, {"b": {}}], "c": "d"}) == 4
    assert depth("text") == 0
