"""Answers at a response_url: sent once, even when the connection drops after Slack had it."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import Message
from handlers.context import partner_middleware
from handlers.replies import RespondOnce, answer_in_ack_or_later
from tests.utils.e2e import start_server
from tests.utils.factories import make_partner
from tests.utils.listeners import FakeAck, FakeRespond


class DroppingResponseUrl:
    """A response_url that records each post, then drops the connection before answering: the
    sender cannot know the post arrived."""

    def __init__(self) -> None:
        self.posts: list[dict] = []

    async def receive(self, request: web.Request) -> web.Response:
        self.posts.append(await request.json())
        request.transport.close()
        return web.Response(text="ok")


async def test_an_answer_whose_connection_dropped_after_slack_had_it_is_not_sent_again():
    url = DroppingResponseUrl()
    app = web.Application()
    app.router.add_post("/response/1", url.receive)
    runner, base = await start_server(app)
    try:
        with pytest.raises(aiohttp.ClientError):
            await RespondOnce(response_url=base + "/response/1")(
                text="Outage #1 updated", response_type="ephemeral"
            )
    finally:
        await runner.cleanup()

    assert url.posts == [{"text": "Outage #1 updated", "response_type": "ephemeral"}]


async def test_every_listener_answers_through_respond_once(services, sessions):
    partner = await make_partner(sessions)
    context = AsyncBoltContext(
        {
            "team_id": partner.team_id,
            "response_url": "http://127.0.0.1:9/response/2",
            "client": AsyncWebClient(),
        }
    )
    went_on = []

    async def next_listener() -> None:
        went_on.append(True)

    middleware = partner_middleware(services)
    await middleware(None, None, next_listener, context, {"command": "/subscription"})

    assert went_on == [True]
    assert isinstance(context.respond, RespondOnce)
    assert context.respond.response_url == "http://127.0.0.1:9/response/2"


async def test_an_answer_of_several_messages_gives_the_first_in_the_ack_and_posts_the_rest():
    first = Message("Part 1", [{"type": "section", "text": {"type": "mrkdwn", "text": "one"}}])
    second = Message("Part 2", [{"type": "section", "text": {"type": "mrkdwn", "text": "two"}}])
    ack, respond = FakeAck(), FakeRespond()

    async def ready() -> list[Message]:
        return [first, second]

    await answer_in_ack_or_later(ack, respond, ready(), within=2.5)

    assert ack.calls == [{"text": "Part 1", "blocks": first.blocks, "response_type": "ephemeral"}]
    assert respond.calls == [
        {"text": "Part 2", "blocks": second.blocks, "response_type": "ephemeral",
         "replace_original": False},
    ]  # fmt: skip


async def test_a_failure_before_the_deadline_reaches_the_caller_unacked():
    ack, respond = FakeAck(), FakeRespond()

    async def failing() -> list[Message]:
        raise RuntimeError("look-up failed")

    with pytest.raises(RuntimeError):
        await answer_in_ack_or_later(ack, respond, failing(), within=2.5)

    # answering_failures (handlers/errors.py) then answers it in the ack.
    assert ack.calls == [] and respond.calls == []
