"""A local Slack-compatible Web API and response_url server on loopback.

The shell points the bot at it instead of slack.com; the tests and benchmarks do too, and use its
knobs (latency, 429 with Retry-After, a post stored and then answered 500) to play a slow, busy or
failing Slack. It records every call.

It is strict by default, answering as Slack does where the bot could go wrong: every message and
view is checked against slack_sdk's models and Slack's documented limits (slack_limits.py) and
refused with Slack's error; the bot reads and shares files only in conversations it is a member
of (posting to a public channel it has not joined needs `chat:write.public`, as on Slack); and,
when `history_limited` is set, conversations.history/replies are limited as Slack limits apps
distributed outside the Marketplace: one call a minute per method and workspace, 15 messages."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from devtools.local_conversations import (
    GRANTED_SCOPES,
    MARKETPLACE_OUTSIDE_MESSAGES,
    MARKETPLACE_OUTSIDE_SECONDS,
    Conversations,
)
from devtools.local_files import Files
from devtools.local_installs import BOT_USER_ID, Installs
from devtools.slack_limits import Refusal, message_refusal, view_refusal

MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
VIEW_METHODS = ("views.open", "views.update", "views.push", "views.publish")


@web.middleware
async def quiet_about_dropped_clients(request: web.Request, handler) -> web.StreamResponse:
    """A client gone before its request was read (a bot killed by a bench, a test's timeout) is
    not an error of this server: nobody is left to answer, so no traceback either."""
    try:
        return await handler(request)
    except ConnectionResetError:
        return web.Response(status=400, text="connection lost")


@dataclass
class Call:
    """One request the bot made: a Web API method, or a post to a response_url."""

    method: str  # e.g. "chat.postMessage", or "response_url"
    params: dict
    key: str = ""  # the response_url's key
    at: float = field(default_factory=time.monotonic)
    peer: tuple | None = None  # the client's address and port: which connection it came on


class LocalSlack(Conversations, Installs, Files):
    def __init__(
        self,
        *,
        team_id: str = "T0LOCAL",
        latency: float = 0.0,
        rate_limited_share: float = 0.0,
        seed: int = 0,
        strict: bool = True,
    ) -> None:
        self.team_id = team_id
        self.latency = latency
        # Messages and views checked as Slack checks them, membership enforced (see above).
        self.strict = strict
        self.refused: list[tuple[Call, Refusal]] = []  # messages and views it refused, and why
        self.history_refused: list[Call] = []  # history/replies calls answered 429
        self.members: set[str] = set()  # channels the bot is in (it is in every DM)
        self.private_channels: set[str] = set()  # the rest are public
        self.scopes: set[str] = set(GRANTED_SCOPES)
        # conversations.history/replies as Slack limits apps outside the Marketplace.
        self.history_limited = False
        self.history_seconds = MARKETPLACE_OUTSIDE_SECONDS
        self.history_messages = MARKETPLACE_OUTSIDE_MESSAGES
        self.clock = time.monotonic  # the rate limit's clock; tests move their own
        self._last_history: dict[tuple[str, str], float] = {}
        # chat.postMessage stores the post, then answers 500 (fatal_error) this many times.
        self.store_then_fail = 0
        self.rate_limited_calls = 0  # answer this many of the next calls with 429
        # … and this share of all Web API calls, drawn at random (seeded: the same run twice)
        self.rate_limited_share = rate_limited_share
        self._random = random.Random(seed)
        self.retry_after = 1
        self.rate_limited_answers = 0  # how many 429s it gave
        self.calls: list[Call] = []
        # What was posted, per conversation, as Slack keeps it (for conversations.history).
        self.posted: dict[str, list[dict]] = {}
        self.uploads: dict[str, bytes] = {}  # file id -> content, for files_upload_v2
        self.upload_lengths: dict[str, int] = {}  # file id -> the length announced for it
        self.admins: set[str] = set()  # user ids that users.info calls workspace admins
        self.time_zones: dict[str, str] = {}  # user id -> the tz users.info gives
        # The OAuth install flow: who installs next on the authorize page, the codes it handed
        # out, and the bot token each install got (a token then speaks for its team).
        self.next_install: tuple[str, str, str] | None = None  # (team id, user id, team name)
        self.deny_next_install = False
        self.codes: dict[str, tuple[str, str, str]] = {}
        self.bot_tokens: dict[str, str] = {}  # token -> team id
        self.revoked_tokens: set[str] = set()
        self.redirect_uri = ""  # the app's redirect URL, for authorize URLs that name none
        self._installs = itertools.count(1)
        self.files: list[dict] = []  # completed uploads: id, title, channel, thread_ts, content
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future] = {}
        self._socket_connected = asyncio.Event()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> LocalSlack:
        """Starts listening; `url` is then the server's base URL (ending in "/")."""
        app = web.Application(middlewares=[quiet_about_dropped_clients])
        app.router.add_post("/api/{method}", self._web_api)
        app.router.add_get("/api/{method}", self._web_api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_get("/socket", self._socket_mode)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/oauth/v2/authorize", self._authorize)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{bound[0]}:{bound[1]}/"
        return self

    async def stop(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The value for SLACK_API_URL."""
        return self.url + "api/"

    def response_url(self, key: str) -> str:
        """A response_url whose posts are recorded under `key`."""
        return f"{self.url}response/{key}"

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def responses(self, key: str) -> list[dict]:
        """What the bot posted to one response_url, in order."""
        return [
            call.params for call in self.calls if call.method == "response_url" and call.key == key
        ]

    async def wait_for(self, predicate, timeout: float = 10.0) -> None:
        """Waits until predicate() is true about the recorded calls; a timeout names what was
        refused meanwhile, since a refused message is the likely reason."""
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
        except TimeoutError as error:
            if self.refused:
                raise AssertionError(f"LocalSlack refused: {self.refusals()}") from error
            raise

    def refusals(self) -> list[str]:
        """What was refused, one line each: the method, Slack's error and the reasons."""
        return [f"{c.method}: {r.error} {r.reasons}" for c, r in self.refused]

    async def wait_for_responses(
        self, key: str, count: int = 1, timeout: float = 10.0
    ) -> list[dict]:
        """Waits for `count` posts to a response_url and returns them."""
        await self.wait_for(lambda: len(self.responses(key)) >= count, timeout)
        return self.responses(key)

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _params(self, request: web.Request) -> dict:
        text = await request.text()
        if request.content_type == "application/json":
            return json.loads(text or "{}")
        return dict(parse_qsl(text))

    async def _web_api(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        method = request.match_info["method"]
        limited = self.rate_limited_calls > 0
        if limited:
            self.rate_limited_calls -= 1
        elif self.rate_limited_share:
            limited = self._random.random() < self.rate_limited_share
        if limited:
            self.rate_limited_answers += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        params = await self._params(request)
        params.update(request.query)  # some methods send their arguments in the query string
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Basic "):  # oauth.v2.access: the app's id and secret
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            params.setdefault("client_id", client_id)
            params.setdefault("client_secret", secret)
        else:
            params.setdefault("token", authorization.removeprefix("Bearer "))
        if params.get("token") in self.revoked_tokens:
            answer = {"ok": False, "error": "token_revoked"}
        elif (wait := self.history_wait(method, params)) is not None:
            self.history_refused.append(Call(method, params))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        else:
            answer = self.answer(method, params)  # first: what it stores is there when waiters look
        call = Call(method, params)
        if self.strict and not answer.get("ok") and "errors" in answer:
            self.refused.append((call, Refusal(answer["error"], answer["errors"])))
        await self._record(call)
        if method == "chat.postMessage" and answer.get("ok") and self.store_then_fail > 0:
            # Slack's fatal_error: "some aspect of the operation succeeded" - here, the post.
            self.store_then_fail -= 1
            return web.json_response({"ok": False, "error": "fatal_error"}, status=500)
        return web.json_response(answer)

    def answer(self, method: str, params: dict) -> dict:
        """What Slack would answer; enough of it for the bot to go on."""
        refusal = self.strict and self.refusal(method, params)
        if refusal:
            messages = [f"[ERROR] {reason}" for reason in refusal.reasons]
            return {
                "ok": False,
                "error": refusal.error,
                "errors": refusal.reasons,
                "response_metadata": {"messages": messages},
            }
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        if method == "oauth.v2.access":
            return self.access(params)
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://local.slack.invalid/",
                "team": "Local workspace",
                "team_id": self.bot_tokens.get(str(params.get("token")), self.team_id),
                "user": "partnerbot",
                "user_id": BOT_USER_ID,
                "bot_id": "BLOCAL",
            }
        if method == "chat.postMessage":
            return self.post_message(params, ts)
        if method == "conversations.join":
            return self.join_channel(params)
        if method == "files.getUploadURLExternal":
            return self.upload_url(params)
        if method == "files.completeUploadExternal":
            return self.complete_upload(params)
        if method == "users.info":
            user = str(params.get("user", ""))
            about = {"id": user, "is_admin": user in self.admins, "is_owner": False}
            if user in self.time_zones:
                about["tz"] = self.time_zones[user]
            return {"ok": True, "user": about}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": self.conversation_of(str(params.get("users")))}}
        if method in ("conversations.history", "conversations.replies"):
            return self.history(method, params)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in ("chat.update", "chat.delete"):
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http://", "ws://") + "socket"}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **params}}
        return {"ok": True}

    def refusal(self, method: str, params: dict) -> Refusal | None:
        """Slack's refusal of a message or view the bot built, or None when Slack takes it."""
        if method in MESSAGE_METHODS:
            return message_refusal(params)
        if method in VIEW_METHODS:
            return view_refusal(params.get("view"))
        return None

    def post_message(self, params: dict, ts: str) -> dict:
        channel = self.conversation_of(str(params.get("channel", "")))
        refused = self.refused_for_membership(channel, posting=True)
        if refused:
            return refused
        metadata = params.get("metadata")
        message = {
            "ts": ts,
            "text": params.get("text", ""),
            "thread_ts": params.get("thread_ts"),
            "metadata": json.loads(metadata) if isinstance(metadata, str) else metadata,
        }
        self.posted.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": params}

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        """Slack's authorize page, as if the person installing clicked "Allow" (or "Cancel" when
        deny_next_install is set): back to the app's redirect URL with a code and the state."""
        params = dict(request.query)
        await self._record(Call("oauth.authorize", params))
        redirect = params.get("redirect_uri") or self.redirect_uri
        state = params.get("state", "")
        if self.deny_next_install or self.next_install is None:
            self.deny_next_install = False
            raise web.HTTPFound(
                f"{redirect}?{urlencode({'error': 'access_denied', 'state': state})}"
            )
        code = uuid.uuid4().hex
        self.codes[code] = self.next_install
        raise web.HTTPFound(f"{redirect}?{urlencode({'code': code, 'state': state})}")

    @staticmethod
    def conversation_of(channel: str) -> str:
        """A user id names the DM with that user, as chat.postMessage treats it."""
        return f"D{channel[1:]}" if channel.startswith(("U", "W")) else channel

    async def _response_url(self, request: web.Request) -> web.Response:
        """A post to a response_url; Slack refuses a bad message with HTTP 400 and its error
        name as the body, as for incoming webhooks."""
        if self.latency:
            await asyncio.sleep(self.latency)
        params = await self._params(request)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        call = Call("response_url", params, key=request.match_info["key"], peer=peer)
        refusal = self.strict and not params.get("delete_original") and message_refusal(params)
        if refusal:
            self.refused.append((call, refusal))
            async with self._changed:
                self._changed.notify_all()
            return web.Response(status=400, text=refusal.error)
        await self._record(call)
        return web.Response(text="ok")

    async def _socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=None)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1})
        self._socket_connected.set()
        async for frame in socket:
            message = json.loads(frame.data)
            future = self._acks.pop(message.get("envelope_id", ""), None)
            if future is not None and not future.done():
                future.set_result(message)
        return socket

    async def send_over_socket(self, kind: str, payload: dict, timeout: float = 10.0) -> dict:
        """Sends an envelope over Socket Mode (e.g. "slash_commands") and returns the bot's ack."""
        await asyncio.wait_for(self._socket_connected.wait(), timeout)
        envelope_id = uuid.uuid4().hex
        self._acks[envelope_id] = asyncio.get_running_loop().create_future()
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": True,
            }
        )
        return await asyncio.wait_for(self._acks[envelope_id], timeout)
