"""POST /hooks/incidents as bodies really arrive: over a raw socket in several pieces with pauses,
chunked without a length, up to and past the size limit; and the signature over a timestamp and
the body, refused when stale, malformed or in the old body-only form, harmless when replayed."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

from bot.outages.hook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from bot.outages.intake import MAX_BODY_BYTES
from storage.models import Incident, OutboxMessage
from tests.utils.e2e import INCIDENT_SECRET, e2e_settings
from tests.utils.incidents import count, incident, posts_to, send, sign, two_partners

# A pause between pieces long enough for the server to see each piece on its own.
PAUSE = 0.05


async def post_in_pieces(
    bot, pieces: list[bytes], headers: dict, *, chunked: bool = False
) -> tuple[int, dict]:
    """Posts the body `pieces` over one raw connection, pausing between them; with `chunked`,
    as HTTP/1.1 chunks without a Content-Length."""
    address = urlsplit(bot.url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    framing = (
        {"Transfer-Encoding": "chunked"}
        if chunked
        else {"Content-Length": str(sum(len(piece) for piece in pieces))}
    )
    head = {"Host": address.netloc, "Content-Type": "application/json", "Connection": "close"}
    lines = [f"{name}: {value}" for name, value in {**head, **framing, **headers}.items()]
    writer.write(("POST /hooks/incidents HTTP/1.1\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        for piece in pieces:
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
            await asyncio.sleep(PAUSE)
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except ConnectionError:
        pass  # the server answered early (a body over the limit) and stopped reading
    answer = await reader.read()
    writer.close()
    head_text, _, body = answer.partition(b"\r\n\r\n")
    status = int(head_text.split(b" ", 2)[1])
    if b"chunked" in head_text.lower():
        body = b"".join(body.split(b"\r\n")[1::2])
    return status, json.loads(body)


def split(raw: bytes, parts: int) -> list[bytes]:
    size = -(-len(raw) // parts)
    return [raw[start : start + size] for start in range(0, len(raw), size)]


def long_incident(external_id: str, size: int) -> bytes:
    """A Graph body of about `size` bytes: many long posts, as a long-running issue gathers."""
    post = "<p>Engineers are still rebalancing mailbox traffic in the affected datacenters.</p>"
    body = incident(id=external_id, posts=[])
    while len(json.dumps(body)) < size:
        body["posts"].append({"description": {"content": post * 200, "contentType": "html"}})
    return json.dumps(body).encode()


def padded(external_id: str, size: int) -> bytes:
    """A valid body of exactly `size` bytes (JSON allows any trailing whitespace)."""
    raw = json.dumps(incident(id=external_id)).encode()
    return raw + b" " * (size - len(raw))


async def test_a_signed_body_arriving_in_pieces_is_read_whole(bot, sessions):
    await two_partners(sessions)
    raw = json.dumps(incident(id="EX501")).encode()
    status, answer = await post_in_pieces(bot, split(raw, 3), sign(raw))
    assert status == 201, answer
    assert answer["outcome"] == "created" and answer["partnersNotified"] == 2

    raw = json.dumps(incident(id="EX502")).encode()
    status, answer = await post_in_pieces(bot, split(raw, 4), sign(raw), chunked=True)
    assert status == 201, answer
    assert await count(sessions, Incident) == 2


async def test_a_200_kb_body_is_taken_and_the_limit_is_exact(bot, sessions):
    await two_partners(sessions)
    raw = long_incident("EX510", 200 * 1024)
    assert 200 * 1024 <= len(raw) < MAX_BODY_BYTES
    status, answer = await post_in_pieces(bot, split(raw, 8), sign(raw))
    assert status == 201, answer

    at_limit = padded("EX511", MAX_BODY_BYTES)
    status, answer = await post_in_pieces(bot, split(at_limit, 5), sign(at_limit), chunked=True)
    assert status == 201, answer
    assert await count(sessions, Incident) == 2


async def test_a_body_over_the_limit_is_refused_with_413_with_or_without_a_length(bot, sessions):
    await two_partners(sessions)
    over = padded("EX520", MAX_BODY_BYTES + 1)
    for chunked in (True, False):
        status, answer = await post_in_pieces(bot, split(over, 5), sign(over), chunked=chunked)
        assert status == 413, (chunked, answer)
        assert "larger than 256 KiB" in answer["error"]
    assert await count(sessions, Incident) == 0
    assert await count(sessions, OutboxMessage) == 0


async def test_stale_malformed_and_body_only_signatures_are_refused_with_a_reason(bot, sessions):
    await two_partners(sessions)
    raw = json.dumps(incident(id="EX530")).encode()
    now = time.time()
    good = sign(raw)
    other_time = sign(raw, at=now - 60)
    cases = {
        "stale": (sign(raw, at=now - 301), "more than 5 minutes away"),
        "from the future": (sign(raw, at=now + 301), "more than 5 minutes away"),
        "no timestamp": ({SIGNATURE_HEADER: good[SIGNATURE_HEADER]}, f"missing {TIMESTAMP_HEADER}"),
        "timestamp not digits": ({**good, TIMESTAMP_HEADER: "1.7e9"}, "Unix seconds in digits"),
        "negative timestamp": ({**good, TIMESTAMP_HEADER: "-1"}, "Unix seconds in digits"),
        "non-ASCII digits": ({**good, TIMESTAMP_HEADER: "١٧٦٧٢٢٥٦٠٠"}, "Unix seconds in digits"),
        "huge timestamp": ({**good, TIMESTAMP_HEADER: "9" * 40}, "Unix seconds in digits"),
        "signed for another time": (
            {**other_time, TIMESTAMP_HEADER: good[TIMESTAMP_HEADER]},
            f"wrong {SIGNATURE_HEADER}",
        ),
        "another secret": (sign(raw, "not-the-secret"), f"wrong {SIGNATURE_HEADER}"),
        "no signature": ({TIMESTAMP_HEADER: good[TIMESTAMP_HEADER]}, f"missing {SIGNATURE_HEADER}"),
        "upper-case hex": (
            {**good, SIGNATURE_HEADER: "v1=" + good[SIGNATURE_HEADER][3:].upper()},
            "64 lowercase hex digits",
        ),
        "old body-only scheme": (
            {
                "X-Signature": "sha256="
                + hmac.new(INCIDENT_SECRET.encode(), raw, hashlib.sha256).hexdigest()
            },
            "X-Signature over the body alone is no longer accepted",
        ),
    }
    for case, (headers, reason) in cases.items():
        status, answer = await send(bot, raw, signature=headers)
        assert status == 401, case
        assert reason in answer["error"] and "\n" not in answer["error"], (case, answer)
    status, answer = await send(bot, raw, signature=sign(raw, at=now - 240))
    assert status == 201, answer  # four minutes old is inside the window


async def test_a_replayed_delivery_inside_the_window_does_nothing_twice(bot, sessions):
    a, b, _ = await two_partners(sessions)
    raw = json.dumps(incident(id="EX540")).encode()
    headers = sign(raw)
    status, answer = await send(bot, raw, signature=headers)
    assert status == 201 and answer["outcome"] == "created"
    slack = bot.local_slack
    await slack.wait_for(
        lambda: (
            len(posts_to(slack, a.alert_channel)) == 2
            and len(posts_to(slack, b.alert_channel)) == 2
        )
    )
    queued = await count(sessions, OutboxMessage)

    for _ in range(3):
        status, answer = await send(bot, raw, signature=headers)
        assert status == 200 and answer["outcome"] == "unchanged", answer
    assert await count(sessions, Incident) == 1
    assert await count(sessions, OutboxMessage) == queued
    assert len(posts_to(slack, a.alert_channel)) == 2 and len(posts_to(slack, b.alert_channel)) == 2


async def test_a_blank_secret_disables_the_hook(bot, sessions, database_url):
    for blank in ("", "   ", "\t\n"):
        settings = e2e_settings(database_url, bot.local_slack, incident_webhook_secret=blank)
        assert settings.incident_webhook_secret is None, repr(blank)
        bot.services.settings = settings
        raw = json.dumps(incident()).encode()
        status, answer = await send(bot, raw, signature=sign(raw, blank))
        assert status == 404 and "INCIDENT_WEBHOOK_SECRET is not set" in answer["error"]
    assert await count(sessions, Incident) == 0
