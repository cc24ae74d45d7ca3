"""Delivering one outbox row to Slack: the Web API arguments, the post (or the upload), the look
for an earlier post before a retry, and what Slack's answer means for the row.

Every post carries its row's key as message metadata, so a second attempt after a crash first
looks for it in the channel (conversations.history) and records the message found instead of
posting again."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.workspaces import WorkspaceClients, WorkspaceUnavailable
from storage.models import OutboxMessage

LOOKBACK = timedelta(minutes=5)  # how far before a row was written its message could be
METADATA_EVENT = "partnerbot_outbox"
MAX_RETRY_AFTER = 300.0  # seconds; a longer Retry-After is taken as this
# Errors that another attempt cannot fix: the message is marked failed at once.
PERMANENT_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "no_permission",
    "missing_scope",
    "user_not_found",
    "invalid_blocks",
    "msg_too_long",
    "cannot_dm_bot",
    "user_disabled",
    "invalid_arguments",
}

logger = logging.getLogger(__name__)


@dataclass
class Delivery:
    """What one attempt came to."""

    ts: str = ""
    error: str = ""
    permanent: bool = False
    # Slack said 429: the call left no trace, so it is tried again after this many seconds
    # without counting as an attempt (and without looking for an earlier post first).
    retry_after: float | None = None


def failure(error: SlackApiError) -> Delivery:
    """What a Slack error answer means for the row: wait out a 429, give up on what another
    attempt cannot fix, try the rest again later."""
    code = str(error.response.get("error", "error"))
    if error.response.status_code == 429:
        retry_after = error.response.headers.get("Retry-After") or error.response.headers.get(
            "retry-after"
        )
        try:
            seconds = max(float(retry_after), 1.0)
        except (TypeError, ValueError):
            seconds = 1.0
        return Delivery(error="ratelimited", retry_after=min(seconds, MAX_RETRY_AFTER))
    return Delivery(error=code, permanent=code in PERMANENT_ERRORS)


def arguments(row: OutboxMessage, parent: OutboxMessage | None) -> dict:
    """The Web API arguments: the stored payload without our own notes (keys starting with
    `_`), the thread or message it belongs to, and the row's key as message metadata."""
    payload = {k: v for k, v in json.loads(row.payload).items() if not k.startswith("_")}
    found = {"channel": row.channel, **payload}
    if parent is not None and row.method == "chat.update":
        found.update(channel=parent.channel, ts=parent.ts)
    elif parent is not None:
        found["thread_ts"] = parent.ts
    if row.method == "chat.postMessage":
        found["metadata"] = {
            "event_type": METADATA_EVENT,
            "event_payload": {"key": row.idempotency_key},
        }
    return found


async def outcome(
    clients: WorkspaceClients, row: OutboxMessage, parent: OutboxMessage | None
) -> Delivery:
    """Delivers one row (or finds it cannot be) and says how it went."""
    if parent is not None and not parent.ts:
        return Delivery(
            error=f"the message it belongs to ({parent.idempotency_key}) was never posted",
            permanent=True,
        )
    try:
        return await attempt(clients, row, parent)
    except Exception as error:  # noqa: BLE001 - whatever it was, the row is tried again
        logger.exception("outbox message %s could not be attempted", row.id)
        return Delivery(error=f"{type(error).__name__}: {error}")


async def attempt(
    clients: WorkspaceClients, row: OutboxMessage, parent: OutboxMessage | None = None
) -> Delivery:
    """One call to Slack with the token of the row's workspace."""
    try:
        client = await clients.for_partner(row.partner_id)
    except WorkspaceUnavailable as error:
        # No retry brings a token back; reinstalling does, and the message is stale by then.
        return Delivery(error=f"workspace unavailable: {error}", permanent=True)
    try:
        if row.method == "files.upload_v2":
            return await upload(client, row, parent)
        call = arguments(row, parent)
        if row.method == "chat.postMessage" and row.attempts > 1:
            # An earlier attempt may have been posted just before a crash: look first.
            ts = await already_posted(client, row, call)
            if ts:
                return Delivery(ts=ts)
        response = await client.api_call(row.method, json=call)
    except SlackApiError as error:
        return failure(error)
    except Exception as error:  # noqa: BLE001 - network trouble of any kind: try again later
        return Delivery(error=f"{type(error).__name__}: {error}")
    return Delivery(ts=str(response.get("ts", "")))


async def upload(
    client: AsyncWebClient, row: OutboxMessage, parent: OutboxMessage | None
) -> Delivery:
    """Uploads a file (a chart), in the thread of the message it belongs to. Files carry no
    metadata, so a crash between Slack storing it and the mark could upload it twice."""
    payload = json.loads(row.payload)
    call = {
        "channel": row.channel,
        "file": base64.b64decode(payload["content_b64"]),
        "filename": payload["filename"],
        "title": payload["title"],
    }
    if parent is not None:
        call["thread_ts"] = parent.ts
    response = await client.files_upload_v2(**call)
    files = response.get("files") or [{}]
    return Delivery(ts=str(files[0].get("id", "uploaded")))


async def already_posted(client: AsyncWebClient, row: OutboxMessage, call: dict) -> str:
    """Finds the message an earlier attempt posted, by the key in its metadata; "" if none.

    chat.postMessage has no idempotency key, so this is what makes a retry after a crash safe:
    the message is looked up in the channel (or thread) before it is posted again."""
    channel = call["channel"]
    if channel.startswith(("U", "W")):  # a DM: find the conversation's id
        opened = await client.api_call("conversations.open", json={"users": channel})
        channel = opened["channel"]["id"]
    oldest = str((row.created_at - LOOKBACK).timestamp())
    method = "conversations.replies" if "thread_ts" in call else "conversations.history"
    params = {"channel": channel, "oldest": oldest, "limit": 200, "include_all_metadata": True}
    if "thread_ts" in call:
        params["ts"] = call["thread_ts"]
    found = await client.api_call(method, http_verb="GET", params=params)
    for message in found.get("messages", []):
        metadata = message.get("metadata") or {}
        if (
            metadata.get("event_type") == METADATA_EVENT
            and metadata.get("event_payload", {}).get("key") == row.idempotency_key
        ):
            return str(message.get("ts", ""))
    return ""
