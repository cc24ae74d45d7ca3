"""The incident hook's signature over a timestamp and the body: the value a sender computes (the
README's openssl example gives the same), and the five-minute window on both sides of the clock."""

from __future__ import annotations

import pytest

from bot.outages.hook_signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_refusal,
    signed_headers,
    timestamp_refusal,
)

SECRET = "example-secret"
BODY = b'{"id": "EX1"}'
SIGNED_AT = 1767225600
# printf 'v1:1767225600:{"id": "EX1"}' | openssl dgst -sha256 -hmac example-secret
OPENSSL = "v1=f1655c74d9b447735cd3adffe856eecc7670cab4319233d102920ec4663b0570"


def test_the_signature_is_what_openssl_computes_over_version_timestamp_and_body():
    headers = signed_headers(SECRET, BODY, SIGNED_AT + 0.9)
    assert headers == {TIMESTAMP_HEADER: str(SIGNED_AT), SIGNATURE_HEADER: OPENSSL}
    assert signature_refusal(SECRET, str(SIGNED_AT), BODY, OPENSSL, SIGNED_AT) is None


@pytest.mark.parametrize("offset", [-300, -1, 0, 1, 300])
def test_a_delivery_signed_within_five_minutes_either_way_is_taken(offset):
    assert signature_refusal(SECRET, str(SIGNED_AT), BODY, OPENSSL, SIGNED_AT + offset) is None


@pytest.mark.parametrize("offset", [-301, 301, 86_400 * 365])
def test_a_delivery_signed_further_away_is_refused_however_well_signed(offset):
    reason = signature_refusal(SECRET, str(SIGNED_AT), BODY, OPENSSL, SIGNED_AT + offset)
    assert reason is not None and "more than 5 minutes away" in reason
    assert timestamp_refusal(str(SIGNED_AT), SIGNED_AT + offset) == reason


@pytest.mark.parametrize(
    ("body", "timestamp", "secret"),
    [
        (BODY + b" ", str(SIGNED_AT), SECRET),
        (BODY, str(SIGNED_AT + 1), SECRET),
        (BODY, str(SIGNED_AT), "other-secret"),
    ],
)
def test_any_change_to_body_timestamp_or_secret_breaks_the_signature(body, timestamp, secret):
    reason = signature_refusal(secret, timestamp, body, OPENSSL, SIGNED_AT)
    assert reason is not None and reason.startswith(f"wrong {SIGNATURE_HEADER}")
