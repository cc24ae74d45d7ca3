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

from bot import shell_forms
from bot.app import build_bolt_app, create_web_app
from bot.arguments import whole_number
from bot.partners.help import COMMANDS
from bot.services import Services
from bot.shell_people import People
from devtools.local_slack import LocalSlack
from devtools.slack_requests import (
    block_action_body,
    block_suggestion_body,
    clicked,
    signed_headers,
    slash_command_body,
    view_submission_body,
)
from devtools.text import Choice, render
from storage import partners
from storage.models import Partner

SHELL_TOKEN = "xoxb-local-shell"
QUIT = ("quit", "exit", r"\q")
# The commands people are told about; anything else is answered as unknown, not sent to bolt.
SLASH_COMMANDS = tuple(dict.fromkeys(command.usage.split()[0] for command in COMMANDS))
FORMS_OPENED = ("views.open", "views.push")


def usage(partner: Partner, people: People) -> str:
    return (
        f"partnerbot local shell for {partner.name} (workspace {partner.team_id}).\n"
        "Type slash commands as you would in Slack, e.g. `/subscription dental`, "
        "`/order o'brien OLM 10` or `/partnerbot help`.\nA number picks one of the choices "
        "[1], [2], … shown last (an answer's, or the buttons of a message the bot posted); "
        "`quit` leaves. Messages the bot posts to channels and DMs are shown as they go out.\n"
        f"{people.describe()}"
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
        self.form: shell_forms.Form | None = None
        self.people = People({}, you=user_id)
        self.pages: web.AppRunner | None = None
        self.pages_note = ""
        self.posts_shown = 0
        self.files_shown = 0

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
        async with services.sessions() as session:
            managers = await partners.manager_ids(session=session, partner_id=self.partner.id)
        self.people = People.of(self.partner, managers, you=self.user_id)
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

    def has_new_posts(self) -> bool:
        return (
            len(self.local.calls_to("chat.postMessage")) > self.posts_shown
            or len(self.local.files) > self.files_shown
        )

    def new_posts(self) -> str:
        """The messages (and files) the bot posted to channels and DMs since last asked, as
        text; their buttons become the choices a number picks."""
        posts = self.local.calls_to("chat.postMessage")
        fresh, self.posts_shown = posts[self.posts_shown :], len(posts)
        files, self.files_shown = self.local.files[self.files_shown :], len(self.local.files)
        shown, offered = [], []
        for call in fresh:
            blocks = call.params.get("blocks") or []
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            where = call.params.get("channel", "")
            text, choices = render(blocks, call.params.get("text", ""), start=len(offered) + 1)
            offered += [dataclasses.replace(choice, channel=where) for choice in choices]
            shown.append(f"[posted to {where}]\n{self.people.named(text)}")
        shown += [f"[file “{file['title']}” posted to {file['channel']}]" for file in files]
        if offered:
            self.choices = offered
        return "\n\n".join(shown)

    async def run_line(self, line: str) -> str:
        """Runs one line typed at the prompt and returns what the reader sees."""
        if self.form is not None:
            answer = await self.fill_form(line)
            if answer is not None:
                return answer
        line = line.strip()
        if not line:
            return ""
        if whole_number(line, digits=6):
            return await self.pick(int(line))
        if not line.startswith("/"):
            return (
                "Type a slash command such as `/subscription dental`, "
                "the number of a choice, or `quit`."
            )
        command, _, text = line.partition(" ")
        if command.lower() not in SLASH_COMMANDS:
            return (
                f"`{command}` is not a partnerbot command; the commands are "
                f"{', '.join(SLASH_COMMANDS)} (`/partnerbot help` shows what each does)."
            )
        text, nobody = self.people.mentions(text.strip())
        if nobody:
            return f"Nobody here is called {nobody}. {self.people.describe()}"
        key = uuid.uuid4().hex
        body = slash_command_body(
            command=command.lower(),
            text=text,
            team_id=self.partner.team_id,
            user_id=self.user_id,
            response_url=self.local.response_url(key),
        )
        return await self.dispatch(body, key, keep_choices=False)

    async def pick(self, number: int) -> str:
        if not 1 <= number <= len(self.choices):
            return "There is no such choice; the numbers in [brackets] shown last are."
        choice = self.choices[number - 1]
        if choice.kind == "form_option" and self.form is not None:
            return await self.next_input(self.form.current.picked(choice))
        key = uuid.uuid4().hex
        body = block_action_body(
            action=clicked(
                kind=choice.kind, action_id=choice.action_id, value=choice.value, label=choice.label
            ),
            block_id=choice.block_id,
            team_id=self.partner.team_id,
            user_id=self.user_id,
            response_url=self.local.response_url(key),
            **({"channel_id": choice.channel} if choice.channel else {}),
        )
        return await self.dispatch(body, key, keep_choices=True)

    async def send(self, body: str):
        assert self.bolt_app is not None, "use the shell as an async context manager"
        request = AsyncBoltRequest(body=body, headers=signed_headers(self.signing_secret, body))
        return await self.bolt_app.async_dispatch(request)

    async def dispatch(self, body: str, key: str, *, keep_choices: bool) -> str:
        forms_before = sum(len(self.local.calls_to(method)) for method in FORMS_OPENED)
        response = await self.send(body)
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
            text, offered = render(
                message.get("blocks", []), message.get("text", ""), start=len(choices) + 1
            )
            texts.append(text)
            choices += offered
        if choices or not keep_choices:
            self.choices = choices
        opened = [
            call.params
            for call in self.local.calls
            if call.method in FORMS_OPENED
        ][forms_before:]  # fmt: skip
        for params in opened:
            view = params.get("view")
            texts.append(await self.open_form(json.loads(view) if isinstance(view, str) else view))
        if not texts:
            return "(no answer)"
        return self.people.named("\n\n".join(text for text in texts if text))

    async def open_form(self, view: dict) -> str:
        """Shows a form the bot opened and, when the shell can fill it in, asks for its first
        input."""
        self.form = shell_forms.fillable(view)
        ask = await self.ask() if self.form else shell_forms.prompt(None, view)
        return "\n\n".join(part for part in (shell_forms.shown(view), ask) if part)

    async def ask(self) -> str:
        """Asks for the open form's current input, offering a menu's options as choices."""
        assert self.form is not None
        current = self.form.current
        asked = shell_forms.prompt(self.form, self.form.view)
        if current.kind == "static_select":
            self.choices = current.static_choices()
            return asked + "\n" + shell_forms.offered(self.choices)
        if current.kind == "external_select" and not current.element.get("min_query_length"):
            return asked + "\n" + await self.search_form_menu("")
        return asked

    async def fill_form(self, line: str) -> str | None:
        """Takes a line typed while a form is open; None when it is a command instead (which
        closes the form, as leaving a dialog does in Slack)."""
        assert self.form is not None
        current, typed = self.form.current, line.strip()
        if typed.lower() == "cancel":
            self.form = None
            return "Form closed; nothing was changed."
        if current.multiline:
            if line.rstrip() != shell_forms.END_OF_TEXT:
                self.form.lines.append(line)
                return ""
            lines = self.form.lines
            return await self.next_input(current.typed("\n".join(lines)) if lines else None)
        if typed.startswith("/"):
            self.form = None
            return None
        if not typed:
            return await self.next_input(None)
        if current.kind in shell_forms.MENUS:
            if whole_number(typed, digits=6):
                return await self.pick(int(typed))
            if current.kind == "external_select":
                return await self.search_form_menu(typed)
            return "Pick one by its number:\n" + shell_forms.offered(self.choices)
        return await self.next_input(current.typed(typed))

    async def next_input(self, state: dict | None) -> str:
        """Records the current input (None: left as it is) and asks for the next, or submits."""
        assert self.form is not None
        current = self.form.current
        state = state or current.preset
        if state is None and not current.block.get("optional"):
            return f"“{current.label}” is required.\n" + await self.ask()
        if self.form.give(state):
            return await self.submit_form()
        return await self.ask()

    async def search_form_menu(self, typed: str) -> str:
        """Loads the options of the current menu matching what was typed, as choices."""
        assert self.form is not None
        current = self.form.current
        body = block_suggestion_body(
            action_id=current.element.get("action_id", ""),
            block_id=current.block_id,
            value=typed,
            team_id=self.partner.team_id,
            user_id=self.user_id,
            view=self.form.view,
        )
        response = await self.send(body)
        answer = response.body if isinstance(response.body, str) else ""
        self.choices = shell_forms.menu_choices(answer, current)
        if not self.choices:
            return f"Nothing matches “{typed}”; type another part of a name, or `cancel`."
        return shell_forms.offered(self.choices)

    async def submit_form(self) -> str:
        """Submits the open form as Slack would, and shows how the bot answered."""
        assert self.form is not None
        form, self.form = self.form, None
        body = view_submission_body(
            view=form.view, values=form.values, team_id=self.partner.team_id, user_id=self.user_id
        )
        response = await self.send(body)
        answer = response.body if isinstance(response.body, str) else ""
        action = json.loads(answer) if answer.startswith("{") else {}
        if action.get("response_action") == "errors":
            errors = action.get("errors", {})
            blocks = [f.block_id for f in form.fields]
            first = min((blocks.index(b) for b in errors if b in blocks), default=0)
            self.form = dataclasses.replace(form, index=first)
            return (
                "The form was not accepted:\n"
                + shell_forms.form_errors(errors, form.view)
                + "\n\n"
                + await self.ask()
            )
        if action.get("response_action") in ("update", "push"):
            return self.people.named(await self.open_form(action["view"]))
        if response.status != 200:
            return f"(the bot answered HTTP {response.status}: {answer})"
        return "Done: the form was accepted and closed."


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


async def show_posts_as_they_come(shell: Shell, write: Callable[[str], None], prompt: str) -> None:
    """Shows what the bot posts the moment it is posted (e.g. a customer confirmed in the
    browser, an outage alert going out), while the prompt waits for the next line."""
    again = prompt if sys.stdin.isatty() else ""
    while True:
        await shell.local.wait_for(shell.has_new_posts, timeout=None)
        write("\n" + shell.new_posts() + "\n\n" + again)


async def run_shell(services: Services, partner: Partner, *, user_id: str) -> None:
    """Runs the interactive shell on standard input and output until `quit` or end of input."""

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    prompt = f"{partner.name}> "
    async with Shell(services, partner, user_id=user_id) as shell:
        write(usage(partner, shell.people) + "\n" + shell.pages_note + "\n\n")
        watcher = asyncio.create_task(show_posts_as_they_come(shell, write, prompt))
        try:
            async for line in read_lines(prompt, write):
                if line.strip().lower() in QUIT:
                    break
                output = await shell.run_line(line)
                if output:
                    write(output + "\n\n")
        finally:
            watcher.cancel()
