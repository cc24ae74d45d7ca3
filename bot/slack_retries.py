"""Which Web API calls slack_sdk may repeat by itself: only those that do the same thing twice.

slack_sdk's server-error and connection-error retry handlers send the same request again. For
chat.postMessage that posts twice when Slack stored the message and then answered 500 (Slack's
`fatal_error`: "some aspect of the operation succeeded") or the connection dropped before the
answer came. So a call that creates something is never repeated here: the outbox repeats it, after
looking for its earlier post. A 429 leaves no trace, so waiting it out and retrying stays safe."""

from __future__ import annotations

from aiohttp import ClientConnectorError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Reads, and calls whose second run leaves Slack as the first did (joining a channel the bot is
# in, opening the DM that is open, setting a message or a Home tab to the same content).
IDEMPOTENT_METHODS = frozenset(
    {
        "auth.test",
        "apps.connections.open",
        "bots.info",
        "conversations.history",
        "conversations.info",
        "conversations.join",
        "conversations.open",
        "conversations.replies",
        "team.info",
        "users.info",
        "chat.update",
        "views.publish",
        "views.update",
    }
)


def method_of(url: str) -> str:
    """The Web API method a request URL calls (…/api/chat.postMessage → chat.postMessage)."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def may_repeat(request: HttpRequest, error: Exception | None) -> bool:
    """True when sending the request again cannot do its work twice: an idempotent method, or a
    connection that was never made (nothing reached Slack)."""
    return method_of(request.url) in IDEMPOTENT_METHODS or isinstance(error, ClientConnectorError)


class IdempotentOnly(AsyncRetryHandler):
    """Wraps a slack_sdk retry handler so that it retries only what may be repeated."""

    def __init__(self, inner: AsyncRetryHandler) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not may_repeat(request, error):
            return False
        return await self.inner._can_retry_async(
            state=state, request=request, response=response, error=error
        )

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        await self.inner.prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )


def safe_retries(*, connection: int = 2, server: int = 2) -> list[AsyncRetryHandler]:
    """Retries of dropped connections and 500/503 answers, for idempotent calls only."""
    return [
        IdempotentOnly(AsyncConnectionErrorRetryHandler(max_retry_count=connection)),
        IdempotentOnly(AsyncServerErrorRetryHandler(max_retry_count=server)),
    ]
