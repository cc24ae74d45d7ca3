"""Whether a request is Slack's: its signature headers and the HMAC of its body, checked before
anything reads the body (Slack's request signing, v0)."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from slack_sdk.signature import Clock, SignatureVerifier

TIMESTAMP = re.compile(r"[0-9]{1,12}")  # Unix seconds, ASCII digits only (int() takes more)
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")  # the only version Slack signs with
FRESH_FOR = 5 * 60  # seconds either side of now, as Slack asks


class FixedClock(Clock):
    """The one moment a request is judged at (so the freshness check and the HMAC agree)."""

    def __init__(self, now: float) -> None:
        self.moment = now

    def now(self) -> float:
        return self.moment


def single(headers: Mapping, name: str) -> str | None:
    """A header sent once; None when missing or sent more than once."""
    values = headers.getall(name, []) if hasattr(headers, "getall") else [headers.get(name)]
    values = [value for value in values if value is not None]
    return values[0] if len(values) == 1 else None


def signature_problem(
    headers: Mapping, body: bytes, *, signing_secret: str, now: float | None = None
) -> str | None:
    """Why a request is not Slack's, in a few words of ours (never the request's own text), or
    None when its signature holds. Malformed headers are refused before any arithmetic on them,
    so nothing here raises, whatever was sent."""
    if not signing_secret.strip():
        return "no signing secret is configured"
    timestamp = single(headers, "X-Slack-Request-Timestamp")
    signature = single(headers, "X-Slack-Signature")
    if timestamp is None:
        return "missing or repeated X-Slack-Request-Timestamp"
    if not TIMESTAMP.fullmatch(timestamp):
        return "malformed X-Slack-Request-Timestamp"
    moment = time.time() if now is None else now
    if abs(moment - int(timestamp)) > FRESH_FOR:
        return "X-Slack-Request-Timestamp more than five minutes away"
    if signature is None:
        return "missing or repeated X-Slack-Signature"
    if not SIGNATURE.fullmatch(signature):
        return "malformed X-Slack-Signature"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    verifier = SignatureVerifier(signing_secret, clock=FixedClock(moment))
    if not verifier.is_valid(text, timestamp, signature):
        return "wrong X-Slack-Signature"
    return None
