"""The /outage arguments, read without Slack or a database."""

from __future__ import annotations

from bot.catalogue import BUILT_IN, EXCHANGE
from bot.outages.commands import Declare, OnOutage, Usage, parse_outage_command


def test_outage_command_arguments():
    assert parse_outage_command("declare Exchange Online Europe — Mail delayed", BUILT_IN) == (
        Declare(EXCHANGE, "Europe", "Mail delayed")
    )
    assert parse_outage_command("declare office live meeting -- Calls drop", BUILT_IN) == (
        Declare("Office Live Meeting", None, "Calls drop")
    )
    assert parse_outage_command("resolve #12", BUILT_IN) == OnOutage("resolve", "#12")
    # The id may be the vendor's, or left out (the one open outage): told apart later.
    assert parse_outage_command("apology EX123456 contoso", BUILT_IN) == (
        OnOutage("apology", "EX123456 contoso")
    )
    assert parse_outage_command("resolve", BUILT_IN) == OnOutage("resolve", "")
    assert "Missing the update's text" in parse_outage_command("update 3", BUILT_IN).problem
    assert "Missing the customer" in parse_outage_command("apology", BUILT_IN).problem
    problem = parse_outage_command("declare <!channel> — x", BUILT_IN)
    assert isinstance(problem, Usage) and "&lt;!channel&gt;" in problem.problem
    assert (
        "Middle East &amp; Africa"
        in parse_outage_command("declare Exchange Online Moon — x", BUILT_IN).problem
    )
