"""LocalSlack's conversations: which the bot is a member of (conversations.join), what it may
do where it is not, and their history as Slack pages and limits it."""

from __future__ import annotations

import math
from collections.abc import Callable

from bot.oauth import BOT_SCOPES

# The scopes an install grants unless a test takes some away.
# An install grants what the bot asks for (manifest.yml, bot.oauth.BOT_SCOPES).
GRANTED_SCOPES = frozenset(BOT_SCOPES)
HISTORY_METHODS = ("conversations.history", "conversations.replies")
# Slack's limits for apps distributed outside the Marketplace (conversations.history/replies).
MARKETPLACE_OUTSIDE_SECONDS = 60.0
MARKETPLACE_OUTSIDE_MESSAGES = 15


class Conversations:
    """The part of LocalSlack that knows channels; its state lives on LocalSlack."""

    strict: bool
    members: set[str]
    private_channels: set[str]
    scopes: set[str]
    history_limited: bool
    history_seconds: float
    history_messages: int
    posted: dict[str, list[dict]]
    bot_tokens: dict[str, str]
    team_id: str
    clock: Callable[[], float]
    _last_history: dict[tuple[str, str], float]

    def join(self, *channels: str) -> None:
        """Makes the bot a member of channels, as an invitation (or conversations.join) does."""
        self.members.update(channels)

    def is_member(self, channel: str) -> bool:
        return channel.startswith("D") or channel in self.members

    def history_wait(self, method: str, params: dict) -> int | None:
        """Seconds to wait when conversations.history/replies is over its limit (None: not)."""
        if not self.history_limited or method not in HISTORY_METHODS:
            return None
        key = (self.bot_tokens.get(str(params.get("token")), self.team_id), method)
        now = self.clock()
        last = self._last_history.get(key)
        if last is not None and now - last < self.history_seconds:
            return max(1, math.ceil(self.history_seconds - (now - last)))
        self._last_history[key] = now
        return None

    def join_channel(self, params: dict) -> dict:
        """conversations.join: public channels only, with the channels:join scope."""
        channel = str(params.get("channel", ""))
        if "channels:join" not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": "channels:join"}
        if channel.startswith("D") or channel in self.private_channels:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        already = channel in self.members
        self.members.add(channel)
        answer = {"ok": True, "channel": {"id": channel, "is_member": True}}
        return {**answer, "warning": "already_in_channel"} if already else answer

    def refused_for_membership(self, channel: str, *, posting: bool) -> dict | None:
        """Slack's answer when the bot is not in a conversation: it may post to a public channel
        with chat:write.public, and read or share files only where it is a member."""
        if not self.strict or self.is_member(channel):
            return None
        if channel in self.private_channels:
            return {"ok": False, "error": "channel_not_found"}
        if posting and "chat:write.public" in self.scopes:
            return None
        return {"ok": False, "error": "not_in_channel"}

    def history(self, method: str, params: dict) -> dict:
        """Newest first between `oldest` and `latest`, `limit` at a time (at most 15 when
        limited as outside the Marketplace), with a cursor for the rest."""
        channel = self.conversation_of(str(params.get("channel", "")))
        refused = self.refused_for_membership(channel, posting=False)
        if refused:
            return refused
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        found = [m for m in self.posted.get(channel, []) if oldest <= float(m["ts"]) <= latest]
        if method == "conversations.replies":
            found = [m for m in found if m.get("thread_ts") == params.get("ts")]
        most = self.history_messages if self.history_limited else 1000
        limit = min(int(params.get("limit") or 100), most)
        start = int(params.get("cursor") or 0)
        page = list(reversed(found))[start : start + limit]
        more = start + limit < len(found)
        answer = {"ok": True, "messages": page, "has_more": more}
        if more:
            answer["response_metadata"] = {"next_cursor": str(start + limit)}
        return answer
