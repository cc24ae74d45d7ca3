"""Every example a user is shown — in README.md, the shell's welcome and the help answers — works
on the demo data: typed into the shell in a sensible order, each finds something and none is
answered with an error."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.demo import load_demo_data
from bot.outages import flows
from bot.outages.intake import parse_incident
from bot.shell import Shell, usage
from storage import partners
from tests.utils.serve import free_port

README = Path(__file__).parents[1] / "README.md"
COMMAND = re.compile(r"`(/(?:subscription|order|outage|summary|partnerbot)\b[^`]*)`")
PLACEHOLDER = re.compile(r"[<>|…\[\]]|&lt;|&gt;")
HELP_COMMANDS = ("/partnerbot help", "/subscription", "/order help", "/outage help")
# How the bot's refusals begin (an unknown customer, order or outage, a missing argument, a
# command someone may not use …), and the shell's own "nothing came back".
FAILURE = re.compile(
    r"^(No |Missing|Unknown|There is no|Only |Nobody|Something went wrong|Sorry|\(no answer\)"
    r"|\(the bot answered)|is not a partnerbot command|cannot|not found|does not|isn't|doesn't"
)


def examples_in(text: str, *, bare: bool) -> list[str]:
    """The commands shown in backticks that can be typed as they are: no placeholders, and
    (unless `bare`) with arguments — `/subscription` alone names the command."""
    found = [" ".join(m.group(1).split()) for m in COMMAND.finditer(" ".join(text.split()))]
    return [c for c in found if not PLACEHOLDER.search(c) and (bare or " " in c)]


# Examples depend on each other: an order is filed before it is resent and cancelled, an
# outage declared before it is updated, apologised for and resolved.
ORDER_OF_VERBS = {
    "/subscription": 0, "/order": 1, "/order list": 2, "/order resend": 3, "/order cancel": 4,
    "/outage declare": 5, "/outage update": 6, "/outage apology": 7, "/outage list": 8,
    "/outage narrow": 8, "/outage template": 9, "/outage resolve": 10, "/summary": 11,
    "/partnerbot": 12,
}  # fmt: skip


def rank(example: str) -> int:
    words = example.split()
    verb = " ".join(words[:2])
    return ORDER_OF_VERBS.get(verb, ORDER_OF_VERBS.get(words[0], 99))


async def microsoft_reports(services, sessions, external_id: str) -> None:
    """Microsoft's service health reports an Exchange Online issue that names no regions, as
    the examples of `/outage narrow` assume (the demo data has no incidents of its own)."""
    now = services.clock()
    body = {
        "id": external_id, "service": "Exchange Online", "title": "Mail delayed for some users",
        "status": "serviceDegradation", "classification": "incident", "isResolved": False,
        "startDateTime": (now - timedelta(minutes=30)).isoformat(),
        "lastModifiedDateTime": now.isoformat(),
    }  # fmt: skip
    incoming = parse_incident(json.dumps(body).encode(), services.catalogue)
    async with sessions() as session:
        await flows.ingest(session, incoming, catalogue=services.catalogue, now=now)


@pytest.fixture
async def shell(services, sessions):
    await load_demo_data(sessions, catalogue=services.catalogue)
    await microsoft_reports(services, sessions, "EX123456")
    async with sessions() as session:
        partner = await partners.with_most_customers(session=session)
        (manager, *_) = await partners.manager_ids(session=session, partner_id=partner.id)
    settings = services.settings.model_copy(update={"port": free_port()})
    async with Shell(
        dataclasses.replace(services, settings=settings), partner, user_id=manager
    ) as shell:
        yield shell


async def test_every_example_shown_to_a_user_works_on_the_demo_data(shell):
    examples = examples_in(README.read_text(), bare=False)
    examples += examples_in(usage(shell.partner, shell.people), bare=True)
    for command in HELP_COMMANDS:
        examples += examples_in(await shell.run_line(command), bare=True)
    examples = sorted(dict.fromkeys(examples), key=rank)
    # Each kind of example is there (hand-counted from README.md and the help answers).
    for expected in ("/subscription dental", "/order list", "/order cancel 1", "/outage resolve 1",
                     "/partnerbot managers add @jane", "/summary last-week"):  # fmt: skip
        assert expected in examples

    failed = {}
    for example in examples:
        answer = await shell.run_line(example)
        if shell.form is not None:  # a form opened: the example worked; leave it
            await shell.run_line("cancel")
        headline = answer.strip().split("\n")[0]
        if not headline or FAILURE.search(headline):
            failed[example] = answer
    assert failed == {}, "\n\n".join(f"{k}\n{v}" for k, v in failed.items())
