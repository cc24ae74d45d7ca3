"""Requests that are not Slack's, or are Slack's but malformed, against the real server: each is
refused in a bounded answer and one bounded log line, none is a 500 or a traceback, and none
makes the bot call out. (Replays: test_hostile_replays.py; the order page's forms:
test_hostile_order_forms.py.)

The cases are counted: unsigned_cases, signed_malformed_cases and the tests below them are the
"requests tried"; every one of them must hold."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from urllib.parse import urlencode

from devtools.slack_requests import (
    slash_command_body,
    view_submission_body,
)
from handlers.slack_events import LARGEST_SLACK_BODY
from tests.utils.e2e import SIGNING_SECRET
from tests.utils.factories import make_customer, make_partner

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
HOSTILE_KEY = "hostile"  # the response_url key every hostile body names


def sign(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict:
    """Headers that sign raw bytes as Slack does (devtools signs text; these bodies may not be)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
        "Content-Type": FORM,
    }


def command(response_url: str, text: str = "contoso", team_id: str = "T0HOSTILE") -> bytes:
    return slash_command_body(
        command="/subscription",
        text=text,
        team_id=team_id,
        user_id="U0ATTACKER",
        response_url=response_url,
    ).encode()


def payload(value: object) -> bytes:
    return urlencode({"payload": json.dumps(value)}).encode()


async def post(bot, body: bytes, headers: dict, path: str = "/slack/events"):
    async with bot.http.post(bot.url + path, data=body, headers=headers) as response:
        return response.status, await response.text(), dict(response.headers)


# --- 1. Requests that are not Slack's: (name, body, headers), all naming a response_url.


def unsigned_cases(response_url: str) -> list[tuple[str, bytes, dict]]:
    body = command(response_url)
    good = sign(body)
    signature = good["X-Slack-Signature"]
    now = int(time.time())
    return [
        ("no signature headers", body, {"Content-Type": FORM}),
        ("non-numeric timestamp", body, {**good, "X-Slack-Request-Timestamp": "soon"}),
        ("timestamp with a space inside", body, {**good, "X-Slack-Request-Timestamp": "17 00"}),
        ("timestamp with underscores", body, {**good, "X-Slack-Request-Timestamp": "1_7"}),
        ("negative timestamp", body, {**good, "X-Slack-Request-Timestamp": f"-{now}"}),
        ("huge timestamp", body, {**good, "X-Slack-Request-Timestamp": "9" * 5000}),
        ("stale timestamp", body, sign(body, timestamp=now - 301)),
        ("future timestamp", body, sign(body, timestamp=now + 301)),
        ("missing signature", body, {k: v for k, v in good.items() if k != "X-Slack-Signature"}),
        ("empty signature", body, {**good, "X-Slack-Signature": ""}),
        ("signature of another version", body, {**good, "X-Slack-Signature": "v1=" + "0" * 64}),
        ("short signature", body, {**good, "X-Slack-Signature": "v0=abc"}),
        ("upper-case signature", body, {**good, "X-Slack-Signature": signature.upper()}),
        ("signature by another secret", body, sign(body, secret="not-the-secret")),
        ("body changed after signing", command(response_url, "fabrikam"), good),
        ("non-UTF-8 body", body + b"\xff\xfe", sign(body + b"\xff\xfe")),
        ("wrong content type, unsigned", body, {"Content-Type": "text/plain"}),
    ]  # fmt: skip


async def assert_nothing_called_out(bot, partner) -> None:
    """No post to the hostile response_url, nor any Web API call: a signed command answered
    after the hostile ones (listeners run in the background) shows the bot had its chance.
    (bolt checks its own token with auth.test when the first signed request comes.) The signed
    command's answer, ready in time, comes in its acknowledgement: no post at all."""
    answer = await bot.slack.command("/subscription", "nobody", team_id=partner.team_id)
    assert answer.status == 200 and "No customer matches" in answer.text
    assert bot.local_slack.responses(HOSTILE_KEY) == []
    assert {call.method for call in bot.local_slack.calls} <= {"auth.test"}


def assert_logged_briefly(caplog, *secrets: str) -> None:
    """Every log line is one bounded line without a traceback, and none repeats the request."""
    for record in caplog.records:
        line = record.getMessage()
        assert record.exc_info is None and "Traceback" not in line, line
        assert len(line) < 400 and "\n" not in line, line[:200]
        for secret in secrets:
            assert secret not in line, line[:200]


async def test_requests_that_are_not_slacks_get_401_and_no_call_out(bot, sessions, caplog):
    caplog.set_level(logging.INFO)
    partner = await make_partner(sessions)
    cases = unsigned_cases(bot.local_slack.response_url(HOSTILE_KEY))
    answers = {name: await post(bot, body, headers) for name, body, headers in cases}

    assert {name: status for name, (status, _, _) in answers.items()} == {
        name: 401 for name, _, _ in cases
    }
    assert all(len(text) < 100 and "Traceback" not in text for _, text, _ in answers.values())
    await assert_nothing_called_out(bot, partner)
    assert_logged_briefly(caplog, "U0ATTACKER", bot.local_slack.response_url(HOSTILE_KEY))
    refused = [r for r in caplog.records if r.getMessage().startswith("refused a request")]
    assert len(refused) == len(cases)


async def test_many_forged_requests_at_once_make_no_call(bot, sessions):
    """The defect as found: a non-numeric timestamp made bolt's check raise, and the error
    handler posted to the response_url of the unverified body, once per request."""
    partner = await make_partner(sessions)
    body = command(bot.local_slack.response_url(HOSTILE_KEY))
    headers = {**sign(body), "X-Slack-Request-Timestamp": "not-a-number"}

    statuses = await asyncio.gather(*(post(bot, body, headers) for _ in range(100)))

    assert [status for status, _, _ in statuses] == [401] * 100
    await assert_nothing_called_out(bot, partner)


async def test_a_signed_body_of_the_wrong_content_type_is_refused(bot, sessions):
    partner = await make_partner(sessions)
    body = command(bot.local_slack.response_url(HOSTILE_KEY), team_id=partner.team_id)

    for content_type in ("text/plain", "multipart/form-data; boundary=x", "application/xml"):
        status, _, _ = await post(bot, body, {**sign(body), "Content-Type": content_type})
        assert status == 400, content_type
    await assert_nothing_called_out(bot, partner)


async def test_slacks_unsigned_ssl_check_is_answered_and_nothing_else_rides_on_it(bot, sessions):
    partner = await make_partner(sessions)
    status, _, _ = await post(bot, b"ssl_check=1&token=abc", {"Content-Type": FORM})
    assert status == 200
    riding = b"ssl_check=1&" + command(bot.local_slack.response_url(HOSTILE_KEY))
    status, _, _ = await post(bot, riding, {"Content-Type": FORM})
    assert status == 401
    await assert_nothing_called_out(bot, partner)


# --- 2. Bounded bodies and logs.


async def test_bodies_far_above_slacks_are_refused_with_413_and_logged_in_one_line(
    bot, sessions, caplog
):
    caplog.set_level(logging.INFO)
    partner = await make_partner(sessions)
    marker = "A" * 64
    big = command(bot.local_slack.response_url(HOSTILE_KEY), text=marker * 16_000)  # ~1 MB

    for _ in range(5):  # unsigned, as the attack was
        status, text, _ = await post(bot, big, {"Content-Type": FORM})
        assert status == 413 and len(text) < 100
    status, _, _ = await post(bot, big, sign(big))  # signed makes no difference
    assert status == 413

    async def chunks():  # no Content-Length: the body is cut off while it streams
        for _ in range(20):
            yield marker.encode() * 1000

    status, _, _ = await post(bot, chunks(), {"Content-Type": FORM})
    assert status == 413
    await assert_nothing_called_out(bot, partner)
    assert_logged_briefly(caplog, marker)
    assert sum(len(record.getMessage()) for record in caplog.records) < 5_000


async def test_a_large_view_submission_within_slacks_limits_is_still_accepted(bot, sessions):
    """A view of 100 blocks of 2,500 characters (Slack's ceiling is 250 kB a view), submitted
    with its state, is under the limit and reaches its listener."""
    partner = await make_partner(sessions)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Renewal due, 25 seats. " * 108}}
        for _ in range(100)
    ]
    view = {"type": "modal", "callback_id": "order_form", "blocks": blocks}
    body = view_submission_body(view=view, values={}, team_id=partner.team_id, user_id="U0STAFF")
    assert 250_000 < len(body) < LARGEST_SLACK_BODY

    status, _, _ = await post(bot, body.encode(), sign(body.encode()))

    assert status == 200


async def test_no_answer_names_the_server_software_or_its_version(bot):
    paths = [("POST", "/slack/events"), ("GET", "/healthz"), ("GET", "/nowhere")]
    for method, path in (*paths, ("GET", "/orders/" + "A" * 43), ("GET", "/static/order.css")):
        async with bot.http.request(method, bot.url + path) as response:
            server = response.headers.get("Server", "")
            assert server == "partnerbot", (path, server)


# --- 3. Signed, but not a shape Slack sends.


def deep(levels: int) -> dict:
    value: object = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def signed_malformed_cases(team_id: str, response_url: str) -> list[tuple[str, bytes, str]]:
    user = {"id": "U0STAFF", "team_id": team_id}
    team = {"id": team_id}
    click = {"type": "block_actions", "team": team, "user": user, "response_url": response_url}
    view = {"id": "V1", "type": "modal", "callback_id": "order_form", "state": {"values": {}}}
    submit = {"type": "view_submission", "team": team, "user": user, "view": view}
    button = {"type": "button", "action_id": "order_pick_customer", "value": "1"}
    envelope = {"type": "event_callback", "team_id": team_id, "event_id": "Ev1"}

    def clicks(*actions, **changes) -> bytes:
        return payload({**click, "actions": list(actions), **changes})

    def submitted(**changes) -> bytes:
        return payload({**submit, "view": {**view, **changes}})

    def values(state_values) -> bytes:
        return submitted(state={"values": state_values})

    def events(**changes) -> bytes:
        return json.dumps({**envelope, **changes}).encode()

    home = {"type": "app_home_opened"}
    huge_number = '{"a": ' + "9" * 10_000 + "}"  # Python refuses to read over 4,300 digits
    suggestion = {"type": "block_suggestion", "team": team, "user": user, "action_id": "x"}
    return [
        ("payload is a list", payload([click]), FORM),
        ("payload is a string", payload("block_actions"), FORM),
        ("payload is null", payload(None), FORM),
        ("payload is not JSON", urlencode({"payload": "{nope"}).encode(), FORM),
        ("payload of an unknown type", payload({**click, "type": "exfiltrate"}), FORM),
        ("empty actions", clicks(), FORM),
        ("actions is an object", payload({**click, "actions": {"0": button}}), FORM),
        ("an action is a string", clicks("order_pick_customer"), FORM),
        ("an action without action_id", clicks({"value": "1"}), FORM),
        ("an action's value is a list", clicks({**button, "value": [1]}), FORM),
        ("selected_option is a string", clicks({**button, "selected_option": "1"}), FORM),
        ("user is a string", clicks(button, user="U0STAFF"), FORM),
        ("team is a list", clicks(button, team=[team_id]), FORM),
        ("response_url is a number", clicks(button, response_url=7), FORM),
        ("view is null", payload({**submit, "view": None}), FORM),
        ("view is a list", payload({**submit, "view": [view]}), FORM),
        ("state.values is a list", values([]), FORM),
        ("state block is a list", values({"b": []}), FORM),
        ("state input is a string", values({"b": {"a": "x"}}), FORM),
        ("state value is a number", values({"b": {"a": {"value": 5}}}), FORM),
        ("private_metadata over 3,000", submitted(private_metadata="m" * 3001), FORM),
        ("private_metadata is an object", submitted(private_metadata={}), FORM),
        ("options load without value", payload(suggestion), FORM),
        ("nested 60 deep", clicks(button, extra=deep(60)), FORM),
        ("a number of 10,000 digits", urlencode({"payload": huge_number}).encode(), FORM),
        ("form that is JSON", json.dumps({**click, "actions": [button]}).encode(), FORM),
        ("form neither command nor payload", b"team_id=T1&user_id=U1", FORM),
        ("empty body", b"", FORM),
        ("200 form fields", "&".join(f"f{n}=1" for n in range(200)).encode(), FORM),
        ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, JSON),
        ("event is a list", events(event=[home]), JSON),
        ("event is missing", events(), JSON),
        ("event without type", events(event={"user": "U1"}), JSON),
        ("event's user is an object", events(event={**home, "user": {}}), JSON),
        ("event without event_id", events(event=home, event_id=None), JSON),
        ("envelope is a list", json.dumps([envelope]).encode(), JSON),
        ("envelope of an unknown type", events(type="callback"), JSON),
        ("url_verification without challenge", events(type="url_verification"), JSON),
    ]  # fmt: skip


async def test_signed_but_malformed_bodies_get_400_logged_in_one_line(bot, sessions, caplog):
    caplog.set_level(logging.INFO)
    partner = await make_partner(sessions)
    cases = signed_malformed_cases(partner.team_id, bot.local_slack.response_url(HOSTILE_KEY))

    statuses = {}
    for name, body, content_type in cases:
        status, text, _ = await post(bot, body, {**sign(body), "Content-Type": content_type})
        statuses[name] = status
        assert len(text) < 100 and "Traceback" not in text, name

    assert statuses == {name: 400 for name, _, _ in cases}
    await assert_nothing_called_out(bot, partner)
    assert_logged_briefly(caplog)
    refused = [r for r in caplog.records if r.getMessage().startswith("refused a request")]
    assert len(refused) == len(cases)


async def test_slacks_own_shapes_still_pass(bot, sessions):
    """A command whose text says "payload" (bolt took such a body for an empty interaction),
    URL verification, and a click, each answered as before."""
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Payload Logistics", domain="payload.example")

    answer = await bot.slack.command("/subscription", "payload", team_id=partner.team_id)
    assert "Payload Logistics" in answer.text

    challenge = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    status, text, _ = await post(
        bot, challenge.encode(), {**sign(challenge.encode()), "Content-Type": JSON}
    )
    assert status == 200 and "c-123" in text
