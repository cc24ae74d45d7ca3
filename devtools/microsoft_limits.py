"""What makes a local Microsoft service as slow and as busy as the real one, for benchmarks and
for the tests of how the bot copes: a latency that every request waits before it is answered
(Entra, Graph and Partner Center alike), and a request limit per caller, a bucket of calls that
refills at a steady rate, past which a call is answered 429 with the whole seconds until the next
one is allowed (Partner Center counts the calls of each partner tenant)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class CallLimit:
    """At most `per_minute` calls a minute per key, and `burst` at once after a quiet spell."""

    per_minute: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # calls left, at
    refused: int = 0  # calls answered "wait"

    def wait(self, key: str) -> float:
        """Takes one call for `key`: 0 when it may go ahead, else the seconds until it may."""
        now = self.clock()
        left, at = self._buckets.get(key, (self.burst, now))
        left = min(self.burst, left + (now - at) * self.per_minute / 60)
        if left >= 1:
            self._buckets[key] = (left - 1, now)
            return 0.0
        self._buckets[key] = (left, now)
        self.refused += 1
        return (1 - left) * 60 / self.per_minute


def retry_after(seconds: float) -> str:
    """A Retry-After header's whole seconds: never 0 for a call that has to wait."""
    return str(max(1, math.ceil(seconds)))


def latency_middleware(owner) -> Callable:
    """An aiohttp middleware that waits `owner.latency` seconds before every answer (read at
    each request, so a test or a bench may change it while the server runs)."""

    @web.middleware
    async def delay(request: web.Request, handler):
        if owner.latency > 0:
            await asyncio.sleep(owner.latency)
        return await handler(request)

    return delay
