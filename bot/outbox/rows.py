"""Outbox rows: what a flow writes, in its own transaction, for the worker to post later."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from bot.blocks import Message
from storage import outbox


def post_message(
    *, key: str, channel: str, message: Message, partner_id: int | None, now: datetime, **arguments
) -> dict:
    """An outbox row for chat.postMessage; `key` names the message so it is queued once."""
    payload = {"text": message.text, "blocks": message.blocks, **arguments}
    return {
        "idempotency_key": key,
        "partner_id": partner_id,
        "parent_key": None,
        "method": "chat.postMessage",
        "channel": channel,
        "payload": json.dumps(payload, separators=(",", ":")),
        "state": outbox.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_until": None,
        "sent_at": None,
        "ts": "",
        "last_error": "",
        "created_at": now,
    }


def upload_file(
    *,
    key: str,
    channel: str,
    content: bytes,
    filename: str,
    title: str,
    partner_id: int | None,
    now: datetime,
) -> dict:
    """An outbox row that uploads a file (files_upload_v2); give it a `parent_key` to put it in
    that message's thread."""
    row = post_message(
        key=key, channel=channel, message=Message(title, []), partner_id=partner_id, now=now
    )
    payload = {"content_b64": base64.b64encode(content).decode(), "filename": filename}
    payload["title"] = title
    return {**row, "method": "files.upload_v2", "payload": json.dumps(payload)}
