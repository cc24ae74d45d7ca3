"""Looking for the message an earlier attempt posted, by the row's key in its metadata, before a
post is made again (chat.postMessage has no idempotency key).

It works within what Slack allows an app distributed outside the Marketplace: conversations.history
and conversations.replies once a minute per workspace, at most 15 messages an answer. So each look
is narrowed to the row's own time window (from when the row was written until now, widened by
SKEW for the two clocks) and asks for 15 messages: one call suffices unless more than 15 messages
arrived in that window. A look that cannot be made is "not known" (NotKnown): the row waits and
looks again; it is never posted blind and never given up for that."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox.slack_errors import error_code, retry_after_of, status_of
from bot.workspaces import WorkspaceClients
from storage.models import OutboxMessage

METADATA_EVENT = "partnerbot_outbox"
SKEW = timedelta(minutes=1)  # how far Slack's clock (the ts) may be from this process's
PAGE_MESSAGES = 15  # the most conversations.history/replies gives an app outside the Marketplace
MAX_PAGES = 4  # beyond 60 messages in the window the look is "not known" and tried again later
MAX_PAGE_WAIT = 61.0  # seconds a later page may wait for its Retry-After inside the attempt
# The token no longer works, or the conversation is gone: no post can follow either.
GONE_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "channel_not_found",
    "is_archived",
}


class NotKnown(Exception):
    """The look could not be made; whether the earlier attempt posted is not known."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(f"could not look for an earlier post: {reason}")
        self.retry_after = retry_after


class Gone(Exception):
    """The look was refused for good (the token or the conversation is gone)."""


def window(row: OutboxMessage) -> tuple[str, str]:
    """`oldest` and `latest` for the look: no attempt posted before the row was written, none
    after now. Slack's ts are wall-clock times, so the end is the wall clock's now (the worker's
    own clock only schedules)."""
    now = datetime.now(UTC)
    return (
        f"{(row.created_at - SKEW).timestamp():.6f}",
        f"{(now + SKEW).timestamp():.6f}",
    )


async def earlier_post(
    clients: WorkspaceClients,
    client: AsyncWebClient,
    row: OutboxMessage,
    call: dict,
) -> str:
    """The ts of the message an earlier attempt posted; "" when it is known that none did.
    Raises NotKnown or Gone when that cannot be told."""
    try:
        return await search(client, row, call)
    except SlackApiError as error:
        code = error_code(error)
        if code in GONE_ERRORS:
            raise Gone(f"could not look for an earlier post: {code}") from error
        if code == "not_in_channel":
            # Removed from the channel, or an install without channels:join: the next attempt
            # joins again (when it may) before it looks.
            clients.forget_joined(client.token, call["channel"])
        retry_after = retry_after_of(error) if status_of(error) == 429 else None
        raise NotKnown(code, retry_after) from error
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        raise NotKnown(f"{type(error).__name__}: {error}") from error


async def search(client: AsyncWebClient, row: OutboxMessage, call: dict) -> str:
    channel = call["channel"]
    if channel.startswith(("U", "W")):  # a DM: find the conversation's id
        opened = await client.api_call("conversations.open", json={"users": channel})
        channel = opened["channel"]["id"]
    oldest, latest = window(row)
    method = "conversations.replies" if "thread_ts" in call else "conversations.history"
    params = {
        "channel": channel,
        "oldest": oldest,
        "latest": latest,
        "inclusive": "true",
        "limit": PAGE_MESSAGES,
        "include_all_metadata": "true",
    }
    if "thread_ts" in call:
        params["ts"] = call["thread_ts"]
    for page in range(MAX_PAGES):
        answer = await page_of(client, method, params, first=page == 0)
        for message in answer.get("messages", []):
            if key_of(message) == row.idempotency_key:
                return str(message.get("ts", ""))
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not answer.get("has_more") or not cursor:
            return ""
        params["cursor"] = cursor
    raise NotKnown(f"more than {MAX_PAGES * PAGE_MESSAGES} messages in the window")


async def page_of(client: AsyncWebClient, method: str, params: dict, *, first: bool) -> dict:
    """One page of the look. The first page's 429 ends the attempt (the row waits without holding
    a slot); a later page waits for its Retry-After here, once, or it would start over for ever."""
    try:
        return (await client.api_call(method, http_verb="GET", params=params)).data
    except SlackApiError as error:
        if first or status_of(error) != 429 or retry_after_of(error) > MAX_PAGE_WAIT:
            raise
        await asyncio.sleep(retry_after_of(error))
    return (await client.api_call(method, http_verb="GET", params=params)).data


def key_of(message: dict) -> str | None:
    """The outbox key a message carries in its metadata (None: not one of ours)."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return None
    return (metadata.get("event_payload") or {}).get("key")
