"""Slack's request signing checked without raising, whatever the headers hold."""

from __future__ import annotations

from multidict import CIMultiDict

from devtools.slack_requests import signed_headers
from handlers.slack_signature import signature_problem

SECRET = "unit-signing-secret"
NOW = 1_790_000_000
BODY = "command=%2Forder&text=list&team_id=T1"


def headers(**changes) -> CIMultiDict:
    signed = signed_headers(SECRET, BODY, timestamp=NOW)
    return CIMultiDict({**signed, **changes})


def problem(found: CIMultiDict, body: bytes = BODY.encode(), secret: str = SECRET) -> str | None:
    return signature_problem(found, body, signing_secret=secret, now=NOW)


def test_a_request_signed_as_slack_signs_holds_for_five_minutes_either_side():
    assert problem(headers()) is None
    for moment in (NOW - 300, NOW + 300):
        assert (
            signature_problem(headers(), BODY.encode(), signing_secret=SECRET, now=moment) is None
        )
    assert "five minutes" in signature_problem(
        headers(), BODY.encode(), signing_secret=SECRET, now=NOW + 301
    )


def test_timestamps_int_would_take_are_refused_before_any_arithmetic():
    # int() reads all of these; Slack sends ASCII digits only.
    for stamp in (
        "１７９００００００００",
        " 1790000000",
        "1_790_000_000",
        "+1790000000",
        "9" * 5000,
    ):
        found = problem(headers(**{"X-Slack-Request-Timestamp": stamp}))
        assert found == "malformed X-Slack-Request-Timestamp", stamp


def test_signatures_compare_digest_would_choke_on_are_refused():
    signature = headers()["X-Slack-Signature"]
    for bad in ("v0=" + "é" * 64, signature.upper(), signature[:-1], "v1" + signature[2:], ""):
        assert problem(headers(**{"X-Slack-Signature": bad})) == "malformed X-Slack-Signature"


def test_missing_or_repeated_headers_and_a_body_not_utf8_are_refused():
    repeated = headers()
    repeated.add("X-Slack-Signature", "v0=" + "0" * 64)
    assert problem(repeated) == "missing or repeated X-Slack-Signature"
    bare = headers()
    del bare["X-Slack-Request-Timestamp"]
    assert problem(bare) == "missing or repeated X-Slack-Request-Timestamp"
    assert problem(headers(), b"\xff" + BODY.encode()) == "body is not UTF-8"


def test_another_secret_or_another_body_is_a_wrong_signature():
    assert problem(headers(), secret="another") == "wrong X-Slack-Signature"
    assert (
        problem(headers(), BODY.replace("list", "cancel 1").encode()) == "wrong X-Slack-Signature"
    )
    assert problem(headers(), secret="  ") == "no signing secret is configured"
