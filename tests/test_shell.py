"""The local shell as a person uses it: posts shown as they go out, forms filled in by typing,
the buttons of an alert picked by number, plain answers to unknown commands, @names."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import sys
from datetime import date

import pytest

from bot.shell import Shell
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.serve import environment, free_port

DECLARE = "/outage declare Exchange Online — Mail delayed for some users"


@pytest.fixture
async def partner(sessions):
    partner = await make_partner(sessions, name="Northwind Cloud", managers="U0BOSS1")
    customer = await make_customer(
        sessions, partner, name="Contoso Dental", domain="contosodental.com"
    )
    await make_subscription(
        sessions, customer, start_date=date(2026, 1, 1), renewal_date=date(2027, 1, 1)
    )
    return partner


@pytest.fixture
async def shell(services, partner):
    settings = services.settings.model_copy(update={"port": free_port()})
    async with Shell(
        dataclasses.replace(services, settings=settings), partner, user_id="U0BOSS1"
    ) as shell:
        yield shell


async def test_a_post_is_shown_the_moment_it_goes_out_without_another_line(
    database_url, partner, tmp_path
):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "shell", "--team-id", partner.team_id,
        cwd=tmp_path, env=environment(database_url, PORT=str(free_port())),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    seen = ""
    try:
        process.stdin.write(f"{DECLARE}\n".encode())
        await process.stdin.drain()
        # Nothing more is typed: the alert must show up on its own.
        async with asyncio.timeout(15):
            while f"[posted to {partner.alert_channel}]" not in seen:
                chunk = await process.stdout.read(4096)
                assert chunk, f"the shell ended without showing the alert:\n{seen}"
                seen += chunk.decode()
        process.stdin.write(b"quit\n")
        await process.stdin.drain()
        _, err = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert "Outage #" in seen and "Mail delayed for some users" in seen


async def test_outage_template_opens_a_form_that_is_filled_in_by_typing(shell):
    form = await shell.run_line("/outage template")
    assert form.startswith("Apology wording\n===============")
    assert "“Text”: type it (as many lines as you need), then a line holding only `.`" in form

    assert await shell.run_line("Dear {{ customer.name }},") == ""
    assert await shell.run_line("sorry from {{ partner.name }}.") == ""
    assert await shell.run_line(".") == "Done: the form was accepted and closed."

    again = await shell.run_line("/outage template")
    assert "Text:\nDear {{ customer.name }},\nsorry from {{ partner.name }}." in again
    await shell.run_line("{{ broken")
    refused = await shell.run_line(".")
    assert refused.startswith("The form was not accepted:\nText: Not saved: ")
    assert await shell.run_line("cancel") == "Form closed; nothing was changed."


async def test_the_buttons_of_an_alert_are_picked_by_number(shell):
    await shell.run_line(DECLARE)
    await shell.local.wait_for(shell.has_new_posts)
    alert = shell.new_posts()
    assert re.search(
        r"\[1\] Apology for one customer\n  \[2\] All apologies\n  \[3\] Follow", alert
    )

    followed = await shell.run_line("3")
    assert followed.startswith("You will get every update of outage #")

    form = await shell.run_line("1")
    assert "Apology for a customer" in form
    assert "[1] Contoso Dental · contosodental.com" in form
    apology = await shell.run_line("1")
    assert "Apology for Contoso Dental" in apology
    assert "Dear Jane Doe," in apology


async def test_an_unknown_command_gets_a_plain_answer_and_no_developer_warning(shell, caplog):
    answer = await shell.run_line("/foo bar")
    assert answer == (
        "`/foo` is not a partnerbot command; the commands are /subscription, /order, /outage, "
        "/summary, /partnerbot (`/partnerbot help` shows what each does)."
    )
    assert caplog.records == []


async def test_at_name_mentions_one_of_the_partners_people(shell):
    assert "@alex (manager, you)" in shell.people.describe()
    added = await shell.run_line("/partnerbot managers add @jane")
    assert added.startswith("@jane is now a manager")
    assert await shell.run_line("/partnerbot managers") == "Managers: @alex, @jane."
    nobody = await shell.run_line("/partnerbot managers add @bob")
    assert nobody.startswith("Nobody here is called @bob. People here (type @name): @alex")


async def test_order_alone_opens_the_order_form_filled_in_one_input_after_the_other(shell):
    form = await shell.run_line("/order")
    assert "(1 of 4) “Customer”: pick one by its number, or type part of a name" in form
    assert "[1] Contoso Dental · contosodental.com" in await shell.run_line("contoso")
    plans = await shell.run_line("1")
    assert "(2 of 4) “Plan”: pick one by its number" in plans
    assert "  [2] EXO — Exchange Online" in plans
    assert "(3 of 4) “Seats”" in await shell.run_line("2")
    assert await shell.run_line("") == (
        "“Seats” is required.\n(3 of 4) “Seats”: type it on one line; `cancel` closes the form."
    )
    assert "(4 of 4) “Note for the customer”" in await shell.run_line("12")
    filed = await shell.run_line(".")
    # Contoso Dental has 10 EXO seats: 12 is a change of that subscription.
    assert "Order #" in filed and "waiting for Contoso Dental" in filed
    assert "from 10 to 12 seats" in filed
