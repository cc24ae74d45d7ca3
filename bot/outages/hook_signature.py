"""The incident hook's signature: HMAC-SHA256 over a timestamp and the raw body, fresh for five
minutes (Slack's v0 request signing, with the bot's own headers and version `v1`)."""

from __future__ import annotations

import hashlib
import hmac
import re

TIMESTAMP_HEADER = "X-Partnerbot-Timestamp"
SIGNATURE_HEADER = "X-Partnerbot-Signature"
VERSION = "v1"
# Slack's window: a delivery signed more than five minutes before or after our clock is refused.
FRESHNESS_SECONDS = 5 * 60
# Unix seconds in ASCII digits; twelve digits reach far past any real clock and keep int() cheap.
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(rf"{VERSION}=[0-9a-f]{{64}}")
HOW = (
    f"{VERSION}=<hex HMAC-SHA256, with INCIDENT_WEBHOOK_SECRET, "
    f'of "{VERSION}:<timestamp>:<raw body>">'
)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp` (Unix seconds, as text)."""
    signed = f"{VERSION}:{timestamp}:".encode("ascii") + body
    return f"{VERSION}=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: float) -> dict[str, str]:
    """Both headers that sign `body` at the time `now` (what a sender adds to its request)."""
    timestamp = str(int(now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature(secret, timestamp, body)}


def timestamp_refusal(timestamp: str, now: float) -> str | None:
    """Why the timestamp header cannot be taken, or None when it is fresh; checked before the
    body is read, so a stale delivery costs no reading."""
    if not timestamp:
        return (
            f"missing {TIMESTAMP_HEADER} (Unix seconds when the delivery was signed; "
            "X-Signature over the body alone is no longer accepted)"
        )
    if not TIMESTAMP.fullmatch(timestamp):
        return f"{TIMESTAMP_HEADER} must be Unix seconds in digits, such as 1767225600"
    if abs(now - int(timestamp)) > FRESHNESS_SECONDS:
        return (
            f"{TIMESTAMP_HEADER} is more than {FRESHNESS_SECONDS // 60} minutes away from the "
            "bot's clock: sign each delivery when sending it (check the sender's clock)"
        )
    return None


def signature_refusal(
    secret: str, timestamp: str, body: bytes, header: str, now: float
) -> str | None:
    """Why a delivery's signature is refused, in one line, or None when it is fresh and right."""
    stale = timestamp_refusal(timestamp, now)
    if stale is not None:
        return stale
    if not header:
        return f"missing {SIGNATURE_HEADER}: {HOW}"
    if not SIGNATURE.fullmatch(header):
        return f"{SIGNATURE_HEADER} must be {HOW}, in 64 lowercase hex digits"
    if not hmac.compare_digest(signature(secret, timestamp, body), header):
        return f"wrong {SIGNATURE_HEADER}: it must be {HOW}"
    return None
