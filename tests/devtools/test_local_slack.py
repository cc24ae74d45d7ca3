"""The strict LocalSlack answers as Slack does where the bot could go wrong: messages and views
over Slack's limits, conversations the bot is not in, the limits on apps outside the Marketplace,
and a post stored before a 500."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from devtools.local_slack import LocalSlack

CHANNEL = "C0STRICT"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def slack() -> AsyncIterator[LocalSlack]:
    slack = await LocalSlack().start()
    yield slack
    await slack.stop()


def client_for(slack: LocalSlack) -> AsyncWebClient:
    """A client that never retries, so each call is one request."""
    return AsyncWebClient(token="xoxb-strict", base_url=slack.api_url, retry_handlers=[])


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(label: str, action_id: str = "go") -> dict:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": "v",
    }


def select(options: list[str]) -> dict:
    return {
        "type": "static_select",
        "action_id": "pick",
        "placeholder": {"type": "plain_text", "text": "Pick"},
        "options": [
            {"text": {"type": "plain_text", "text": label}, "value": str(n)}
            for n, label in enumerate(options)
        ],
    }


def actions(*elements: dict) -> dict:
    return {"type": "actions", "elements": list(elements)}


async def refusal(call) -> tuple[int, str]:
    """Slack's HTTP status and error name for a call that must be refused."""
    with pytest.raises(SlackApiError) as refused:
        await call
    return refused.value.response.status_code, refused.value.response["error"]


REFUSED_MESSAGES = {
    "section over 3,000": ([section("x" * 3001)], "invalid_blocks"),
    "51 blocks": ([section("x")] * 51, "invalid_blocks"),
    "header over 150": (
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "invalid_blocks",
    ),
    "button text over 75": ([actions(button("b" * 76))], "invalid_blocks"),
    "option text over 75": ([actions(select(["o" * 76]))], "invalid_blocks"),
    "101 options": ([actions(select([f"o{n}" for n in range(101)]))], "invalid_blocks"),
    "action_id twice in a block": ([actions(button("a"), button("b"))], "invalid_blocks"),
    "unknown block": ([{"type": "no_such_block"}], "invalid_blocks"),
    "blocks not JSON": ("[{not json", "invalid_blocks_format"),
    # Slack counts UTF-16 units: 1,501 emoji are 3,002 of them.
    "section of 1,501 emoji": ([section("😀" * 1501)], "invalid_blocks"),
    "13,500 characters of blocks": ([section("x" * 2700)] * 5, "msg_blocks_too_long"),
}


@pytest.mark.parametrize("name", list(REFUSED_MESSAGES))
async def test_a_message_over_slacks_limits_is_refused_as_slack_refuses_it(slack, name):
    blocks, error = REFUSED_MESSAGES[name]
    client = client_for(slack)
    for method in ("chat_postMessage", "chat_postEphemeral", "chat_update"):
        call = getattr(client, method)(channel="D0DM", user="U1", ts="1.1", text="t", blocks=blocks)
        assert await refusal(call) == (200, error), method
    assert slack.posted == {}
    assert len(slack.refused) == 3


async def test_top_level_text_over_40000_is_msg_too_long_and_a_message_at_the_limits_is_taken(
    slack,
):
    client = client_for(slack)
    call = client.chat_postMessage(channel="D0DM", text="t" * 40_001)
    assert await refusal(call) == (200, "msg_too_long")
    at_limits = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        section("x" * 3000),
        actions(button("b" * 75), select(["o" * 75] * 100)),
        *[section("y")] * 47,
    ]
    answer = await client.chat_postMessage(channel="D0DM", text="t" * 40_000, blocks=at_limits)
    assert answer["ok"] and slack.refused[1:] == []


async def test_a_view_over_slacks_limits_is_invalid_arguments(slack):
    client = client_for(slack)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Form"}}
    too_many = {**modal, "blocks": [section("x")] * 101}
    long_title = {**modal, "title": {"type": "plain_text", "text": "t" * 25}, "blocks": []}
    long_option = {**modal, "blocks": [actions(select(["o" * 76]))]}
    for view in (too_many, long_title, long_option):
        assert await refusal(client.views_open(trigger_id="1.2", view=view)) == (
            200,
            "invalid_arguments",
        )
    assert await refusal(client.views_publish(user_id="U1", view={**too_many, "type": "home"}))
    ok = await client.views_open(trigger_id="1.2", view={**modal, "blocks": [section("x")] * 100})
    assert ok["ok"]


async def test_a_response_url_post_over_the_limits_gets_400_and_is_not_shown(slack):
    async with aiohttp.ClientSession() as http:
        bad = {"text": "t", "blocks": [section("x" * 3001)]}
        async with http.post(slack.response_url("k"), json=bad) as response:
            assert (response.status, await response.text()) == (400, "invalid_blocks")
        async with http.post(slack.response_url("k"), json={"text": "fine"}) as response:
            assert response.status == 200
    assert slack.responses("k") == [{"text": "fine"}]


async def test_history_replies_and_files_need_membership_and_posting_needs_chat_write_public(
    slack,
):
    client = client_for(slack)
    assert await refusal(client.conversations_history(channel=CHANNEL)) == (200, "not_in_channel")
    assert await refusal(client.conversations_replies(channel=CHANNEL, ts="1.1")) == (
        200,
        "not_in_channel",
    )
    with pytest.raises(SlackApiError) as upload:
        await client.files_upload_v2(channel=CHANNEL, content="x", filename="x.txt")
    assert upload.value.response["error"] == "not_in_channel"
    # With chat:write.public a bot posts to a public channel it never joined, as on Slack.
    assert (await client.chat_postMessage(channel=CHANNEL, text="hi"))["ok"]
    slack.scopes.discard("chat:write.public")
    assert await refusal(client.chat_postMessage(channel="C0OTHER", text="hi")) == (
        200,
        "not_in_channel",
    )
    slack.private_channels.add("C0SECRET")
    assert await refusal(client.conversations_join(channel="C0SECRET")) == (
        200,
        "method_not_supported_for_channel_type",
    )

    assert (await client.conversations_join(channel=CHANNEL))["ok"]
    history = await client.conversations_history(channel=CHANNEL)
    assert [m["text"] for m in history["messages"]] == ["hi"]
    assert (await client.files_upload_v2(channel=CHANNEL, content="x", filename="x.txt"))["ok"]


async def test_without_channels_join_the_bot_cannot_join(slack):
    slack.scopes.discard("channels:join")
    assert await refusal(client_for(slack).conversations_join(channel=CHANNEL)) == (
        200,
        "missing_scope",
    )
    assert CHANNEL not in slack.members


async def test_outside_the_marketplace_history_is_one_call_a_minute_of_at_most_15(slack):
    slack.history_limited = True
    slack.clock = clock = FakeClock()
    slack.join(CHANNEL)
    client = client_for(slack)
    for n in range(20):
        await client.chat_postMessage(channel=CHANNEL, text=f"m{n}")

    first = await client.conversations_history(channel=CHANNEL, limit=200)
    assert [m["text"] for m in first["messages"]] == [f"m{n}" for n in range(19, 4, -1)]
    assert first["has_more"]
    with pytest.raises(SlackApiError) as limited:
        await client.conversations_history(channel=CHANNEL)
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "60"
    # Another method has its own minute.
    assert (await client.conversations_replies(channel=CHANNEL, ts="1.1"))["ok"]

    clock.now += 45
    with pytest.raises(SlackApiError) as still:
        await client.conversations_history(channel=CHANNEL)
    assert still.value.response.headers["Retry-After"] == "15"
    clock.now += 15
    cursor = first["response_metadata"]["next_cursor"]
    rest = await client.conversations_history(channel=CHANNEL, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == [f"m{n}" for n in range(4, -1, -1)]
    assert not rest["has_more"]
    assert len(slack.history_refused) == 2


async def test_history_keeps_to_oldest_and_latest(slack):
    slack.join(CHANNEL)
    slack.posted[CHANNEL] = [{"ts": f"{ts}.000001", "text": str(ts)} for ts in (100, 200, 300)]
    answer = await client_for(slack).conversations_history(
        channel=CHANNEL, oldest="150", latest="250"
    )
    assert [m["text"] for m in answer["messages"]] == ["200"]


async def test_store_then_fail_keeps_the_post_and_answers_500(slack):
    slack.store_then_fail = 1
    assert await refusal(client_for(slack).chat_postMessage(channel="D0DM", text="hi")) == (
        500,
        "fatal_error",
    )
    assert [m["text"] for m in slack.posted["D0DM"]] == ["hi"]
    assert (await client_for(slack).chat_postMessage(channel="D0DM", text="again"))["ok"]


async def test_file_uploads_go_through_slacks_three_steps_and_are_refused_as_slack_refuses(slack):
    client = client_for(slack)
    await client.conversations_join(channel=CHANNEL)
    root = await client.chat_postMessage(channel=CHANNEL, text="root")
    done = await client.files_upload_v2(
        channel=CHANNEL, thread_ts=root["ts"], content="a,b\n1,2\n", filename="f.csv", title="F"
    )
    assert done["ok"]
    methods = [c.method for c in slack.calls]
    assert methods[-2:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    (stored,) = slack.files
    assert stored["content"] == "a,b\n1,2\n" and stored["thread_ts"] == root["ts"]
    assert stored["title"] == "F" and stored["channel"] == CHANNEL
    # A file is completed once; after that its upload is gone.
    again = client.files_completeUploadExternal(files=[{"id": stored["id"]}], channel_id=CHANNEL)
    assert await refusal(again) == (200, "file_not_found")
    never = client.files_completeUploadExternal(files=[{"id": "F0NEVER"}], channel_id=CHANNEL)
    assert await refusal(never) == (200, "file_not_found")
    assert await refusal(client.files_completeUploadExternal(files=[])) == (
        200,
        "invalid_arguments",
    )
    # filename and a length of at least one byte are required.
    assert await refusal(client.files_getUploadURLExternal(filename="x.txt", length=0)) == (
        200,
        "missing_argument",
    )
    assert await refusal(client.files_getUploadURLExternal(filename="", length=5)) == (
        200,
        "missing_argument",
    )
    # A reply in a thread is shared to one channel only.
    url = await client.files_getUploadURLExternal(filename="x.txt", length=1)
    both = client.files_completeUploadExternal(
        files=[{"id": url["file_id"]}], channels="C0ONE,C0TWO", thread_ts=root["ts"]
    )
    assert await refusal(both) == (200, "invalid_arguments")
    # The upload URL takes only the ids it gave out.
    async with aiohttp.ClientSession() as http:
        async with http.post(slack.url + "upload/F0NEVER", data=b"x") as response:
            assert response.status == 404


@pytest.mark.parametrize("path", ["response/dropped", "api/chat.postMessage"])
async def test_a_client_that_drops_its_connection_mid_request_is_not_an_error(slack, caplog, path):
    host, port = slack.url.removeprefix("http://").rstrip("/").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    # A bot killed while it sent a post: the headers promise 1,000 bytes, 4 arrive.
    writer.write(
        f"POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        'Content-Length: 1000\r\n\r\n{"te'.encode()
    )
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.transport.abort()
    await asyncio.sleep(0.1)  # the server notices the drop

    # The server goes on serving, and has logged nothing about the dropped client.
    async with aiohttp.ClientSession() as http:
        async with http.post(
            slack.response_url("after"), json={"text": "fine", "blocks": [section("fine")]}
        ) as response:
            assert response.status == 200
    assert slack.calls_to("chat.postMessage") == []
    assert [call.key for call in slack.calls_to("response_url")] == ["after"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
