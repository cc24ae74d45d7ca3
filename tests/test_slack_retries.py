"""slack_sdk repeats only calls that do nothing twice: a post Slack stored before answering 500 is
not posted again, by the bolt app's client or the outbox's; reads are still retried."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.request import HttpRequest

from bot.app import outbox_client, slack_client
from bot.settings import load_settings
from bot.slack_retries import may_repeat
from devtools.local_slack import LocalSlack


class FailingReads(LocalSlack):
    """Answers the first conversations.history call with a 500, as a Slack hiccup does."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def _web_api(self, request):
        from aiohttp import web

        if request.match_info["method"] == "conversations.history" and self.failures:
            self.failures -= 1
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        return await super()._web_api(request)


@pytest.fixture
async def slack():
    slack = await FailingReads().start()
    yield slack
    await slack.stop()


def clients(slack: LocalSlack):
    settings = load_settings(slack_api_url=slack.api_url)
    return [slack_client(settings, "xoxb-retries"), outbox_client(settings, "xoxb-retries")]


async def test_a_post_slack_stored_before_a_500_is_not_sent_again(slack):
    for client in clients(slack):
        slack.store_then_fail = 1
        with pytest.raises(SlackApiError) as failed:
            await client.chat_postMessage(channel="D0DM", text="root alert")
        assert failed.value.response.status_code == 500
    assert [m["text"] for m in slack.posted["D0DM"]] == ["root alert", "root alert"]  # 1 each
    assert len(slack.calls_to("chat.postMessage")) == 2


async def test_reads_are_still_retried_after_a_500(slack):
    slack.join("C0READ")
    for client in clients(slack):
        slack.failures = 1
        answer = await client.conversations_history(channel="C0READ")
        assert answer["ok"]


def request_to(method: str) -> HttpRequest:
    return HttpRequest(method="POST", url=f"https://slack.com/api/{method}", headers={})


def test_what_may_be_repeated():
    for method in ("chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal",
                   "views.open", "oauth.v2.access"):  # fmt: skip
        assert not may_repeat(request_to(method), None), method
        assert not may_repeat(request_to(method), aiohttp.ServerDisconnectedError()), method
    for method in ("conversations.history", "conversations.replies", "conversations.join",
                   "users.info", "auth.test", "chat.update"):  # fmt: skip
        assert may_repeat(request_to(method), None), method
    # A connection never made sent nothing, so even a post may be tried again.
    refused = aiohttp.ClientConnectorError(None, OSError(111, "refused"))  # type: ignore[arg-type]
    assert may_repeat(request_to("chat.postMessage"), refused)
    upload = HttpRequest(method="POST", url="https://files.slack.com/upload/v1/abc", headers={})
    assert not may_repeat(upload, None)
