"""Fixtures of the outbox tests: LocalSlack servers started for a test and stopped after it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from devtools.local_slack import LocalSlack


@pytest.fixture
async def start_slack() -> AsyncIterator[Callable[[LocalSlack], Awaitable[LocalSlack]]]:
    """Starts LocalSlack servers (plain or subclassed) and stops every one after the test."""
    started: list[LocalSlack] = []

    async def start(slack: LocalSlack) -> LocalSlack:
        await slack.start()
        started.append(slack)
        return slack

    yield start
    for slack in started:
        await slack.stop()


@pytest.fixture
async def local_slack(start_slack) -> LocalSlack:
    return await start_slack(LocalSlack())
