"""The local shell: type the same slash commands as in Slack and read the answers as text.

Each line becomes the signed request Slack would send, dispatched to the same bolt app and
handlers as `serve`; answers come back through a local Slack-compatible server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
import sys
import uuid
from collections.abc import Callable

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import build_bolt_app, create_web_app
from bot.arguments import whole_number
from bot.services import Services
from devtools.local_slack import LocalSlack
from devtools.slack_requests import block_action_body, clicked, signed_headers, slash_command_body
from devtools.text import Choice, render
from storage.models import Partner

SHELL_TOKEN = "xoxb-local-shell"
QUIT = ("quit", "exit", r"\q")


def usage(partner: Partner) -> str:
    return (
        f"partnerbot local shell for {partner.name} (workspace {partner.team_id}).\n"
        "Type slash commands as you would in Slack, e.g. `/subscription contoso`, "
        "`/order contoso EXO 10` or `/partnerbot help`.\nA number picks one of the choices [1], "
        "[2], … shown under an answer; `quit` leaves. Messages the bot posts to channels and "
        "DMs are shown as they go out."
    )


class Shell:
    def __init__(self, services: Services, partner: Partner, *, user_id: str) -> None:
        self.services = services
        self.partner = partner
        self.user_id = user_id
        self.local = LocalSlack(team_id=partner.team_id)
        self.signing_secret = secrets.token_hex(16)
        self.bolt_app: AsyncApp | None = None
        self.choices: list[Choice] = []
        self.pages: web.AppRunner | None = None
        self.pages_note = ""
        self.posts_shown = 0

    async def __aenter__(self) -> Shell:
        await self.local.start()
        # Scheduled jobs belong to `serve`; the shell only delivers what its own commands cause.
        settings = self.services.settings.model_copy(
            update={"slack_api_url": self.local.api_url, "run_scheduler": False}
        )
        services = dataclasses.replace(self.services, settings=settings)
        # The shell waits for each answer before showing the prompt again, so listeners run to
        # completion before dispatch returns; the listeners themselves are the same as serve's.
        self.bolt_app = build_bolt_app(
            services,
            token=SHELL_TOKEN,
            signing_secret=self.signing_secret,
            process_before_response=True,
        )
        await self.serve_pages(services)
        return self

    async def serve_pages(self, services: Services) -> None:
        """Serves the customer pages (and delivers the bot's messages) as `serve` would, so a
        link from /order opens in a browser on this machine."""
        web_app = create_web_app(services, self.bolt_app)
        self.pages = web.AppRunner(web_app, access_log=None)
        await self.pages.setup()
        port = services.settings.port
        try:
            await web.TCPSite(self.pages, "localhost", port).start()
        except OSError as error:
            self.pages_note = (
                f"(Order links will not open: port {port} is busy ({error.strerror}); "
                "set PORT to a free one.)"
            )
            return
        self.pages_note = f"Order links open at {services.settings.base_url}/orders/…"

    async def __aexit__(self, *_exc) -> None:
        if self.pages is not None:
            await self.pages.cleanup()
        await self.local.stop()

    def new_posts(self) -> str:
        """The messages the bot posted to channels and DMs since last asked, as text."""
        posts = self.local.calls_to("chat.postMessage")
        fresh, self.posts_shown = posts[self.posts_shown :], len(posts)
        shown = []
        for call in fresh:
            blocks = call.params.get("blocks") or []
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            text, _ = render(blocks, call.params.get("text", ""))
            where = call.params.get("channel", "")
            shown.append(f"[posted to {where}]\n{text}")
        return "\n\n".join(shown)

    async def run_line(self, line: str) -> str:
        """Runs one line typed at the prompt and returns what the reader sees."""
        line = line.strip()
        if not line:
            return ""
        if whole_number(line, digits=6):
            return await self.pick(int(line))
        if line.lower() == "/order":
            return (
                "In Slack, `/order` alone opens a form; the shell cannot show forms. Type "
                "`/order <customer> <plan code> <seats>`, e.g. `/order contoso EXO 10`."
            )
        if not line.startswith("/"):
            return (
                "Type a slash command such as `/subscription contoso`, "
                "the number of a choice, or `quit`."
            )
        command, _, text = line.partition(" ")
        key = uuid.uuid4().hex
        body = slash_command_body(
            command=command.lower(),
            text=text.strip(),
            team_id=self.partner.team_id,
            user_id=self.user_id,
            response_url=self.local.response_url(key),
        )
        return await self.dispatch(body, key, keep_choices=False)

    async def pick(self, number: int) -> str:
        if not 1 <= number <= len(self.choices):
            return "There is no such choice; the numbers in [brackets] under the last answer are."
        choice = self.choices[number - 1]
        key = uuid.uuid4().hex
        body = block_action_body(
            action=clicked(
                kind=choice.kind, action_id=choice.action_id, value=choice.value, label=choice.label
            ),
            block_id=choice.block_id,
            team_id=self.partner.team_id,
            user_id=self.user_id,
            response_url=self.local.response_url(key),
        )
        return await self.dispatch(body, key, keep_choices=True)

    async def dispatch(self, body: str, key: str, *, keep_choices: bool) -> str:
        assert self.bolt_app is not None, "use the shell as an async context manager"
        request = AsyncBoltRequest(body=body, headers=signed_headers(self.signing_secret, body))
        response = await self.bolt_app.async_dispatch(request)
        texts: list[str] = []
        choices: list[Choice] = []
        immediate = response.body if isinstance(response.body, str) else ""
        if response.status != 200:
            texts.append(f"(the bot answered HTTP {response.status}: {immediate})")
        elif immediate.startswith("{"):
            answer = json.loads(immediate)
            text, choices = render(answer.get("blocks", []), answer.get("text", ""))
            texts.append(text)
        for message in self.local.responses(key):
            text, offered = render(message.get("blocks", []), message.get("text", ""))
            texts.append(text)
            choices += offered
        if choices or not keep_choices:
            self.choices = choices
        if not texts:
            return "(no answer)"
        return "\n\n".join(texts)


async def read_lines(prompt: str, write: Callable[[str], None]):
    """Yields lines from standard input; shows a prompt only to a person at a terminal."""
    interactive = sys.stdin.isatty()
    while True:
        try:
            line = await asyncio.to_thread(input, prompt if interactive else "")
        except EOFError:
            if interactive:
                write("\n")
            return
        yield line


async def run_shell(services: Services, partner: Partner, *, user_id: str) -> None:
    """Runs the interactive shell on standard input and output until `quit` or end of input."""

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    write(usage(partner) + "\n")
    async with Shell(services, partner, user_id=user_id) as shell:
        write(shell.pages_note + "\n\n")
        async for line in read_lines(f"{partner.name}> ", write):
            posted = shell.new_posts()  # e.g. a customer confirmed in the browser meanwhile
            if posted:
                write(posted + "\n\n")
            if line.strip().lower() in QUIT:
                break
            output = await shell.run_line(line)
            if output:
                write(output)
                write("\n\n")
