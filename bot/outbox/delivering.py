"""Delivering one outbox row to Slack: the Web API arguments, the post (or the upload), the look
for an earlier post before a retry, and what Slack's answer means for the row.

Every post carries its row's key as message metadata, so a second attempt (after a crash, or an
answer that never came or was a 500) first looks for it in the channel (lookup.py) and records
the message found instead of posting again. The bot joins a public channel before it posts there:
with `chat:write.public` it could post without joining, but could not read the history to look."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox import lookup
from bot.outbox.lookup import METADATA_EVENT
from bot.outbox.slack_errors import error_code, retry_after_of, status_of
from bot.workspaces import WorkspaceClients, WorkspaceUnavailable
from storage.models import OutboxMessage

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
    "invalid_blocks_format",
    "msg_too_long",
    "no_text",
    "cannot_dm_bot",
    "user_disabled",
    "invalid_arguments",
}
# conversations.join answers after which the post is made anyway: a private channel (the bot
# posts there only if invited), an install older than the channels:join scope (it posts with
# chat:write.public as before), or a channel that is gone (the post says so, for good).
JOIN_NOT_NEEDED = {"method_not_supported_for_channel_type", "missing_scope"}
JOIN_LEFT_TO_THE_POST = {"channel_not_found", "is_archived"}

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
    # The look for an earlier attempt's post could not be made (not in the channel, rate
    # limited, Slack down): whether it was posted is not known, so nothing is posted; the row
    # waits (`retry_after`, else its usual delay) and looks again, never given up for this.
    unknown: bool = False


def failure(error: SlackApiError) -> Delivery:
    """What a Slack error answer means for the row: wait out a 429, give up on what another
    attempt cannot fix, try the rest again later."""
    code = error_code(error)
    if status_of(error) == 429:
        return Delivery(error="ratelimited", retry_after=retry_after_of(error))
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
        if row.method in ("chat.postMessage", "files.upload_v2"):
            await join(clients, client, row.channel)
        if row.method == "files.upload_v2":
            return await upload(client, row, parent)
        call = arguments(row, parent)
        if row.method == "chat.postMessage" and row.attempts > 1:
            # An earlier attempt may have been posted (a crash, a 500, an answer that never
            # came): look first, and post only when it is known that it was not.
            try:
                ts = await lookup.earlier_post(clients, client, row, call)
            except lookup.NotKnown as error:
                return Delivery(error=str(error), unknown=True, retry_after=error.retry_after)
            except lookup.Gone as error:
                return Delivery(error=str(error), permanent=True)
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


async def join(clients: WorkspaceClients, client: AsyncWebClient, channel: str) -> None:
    """Joins a public channel before the first post there (once per process and token), so that
    a later look for the post can read the channel's history; raises what the post should not
    go ahead after (a 429, Slack down)."""
    if not channel.startswith(("C", "G")) or clients.has_joined(client.token, channel):
        return
    try:
        await client.api_call("conversations.join", json={"channel": channel})
    except SlackApiError as error:
        code = error_code(error)
        if code in JOIN_LEFT_TO_THE_POST:
            return
        if code not in JOIN_NOT_NEEDED:
            raise
    clients.remember_joined(client.token, channel)
