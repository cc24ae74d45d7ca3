"""Block Kit for /partnerbot help: every command with examples, and what is not built yet."""

from __future__ import annotations

from dataclasses import dataclass

from bot.blocks import Message, context, escape, header, section, shorten


@dataclass(frozen=True)
class CommandHelp:
    usage: str
    does: str
    examples: tuple[str, ...]


COMMANDS: tuple[CommandHelp, ...] = (
    CommandHelp(
        "/subscription <customer name, domain or part of it>",
        "A customer's subscriptions: plan, seats, price, monthly and annual value, start and "
        "renewal dates, status, billing owner, partner of record, and your commission.",
        ("/subscription dental", "/subscription obriensonsplumbing.onmicrosoft.com"),
    ),
    CommandHelp(
        "/order <customer> <plan code> <seats>",
        "Files an order and gives you a confirmation link to send to the customer "
        "(no arguments: a form).",
        ("/order o'brien OLM 10", "/order"),
    ),
    CommandHelp(
        "/order list · /order cancel <order id> · /order resend <order id>",
        "Pending and recent orders; cancel one; send a fresh link (the old one stops working).",
        ("/order list", "/order resend 1", "/order cancel 1"),
    ),
    CommandHelp(
        "/outage declare <service> [region] — <title>",
        "Declares an outage of your own; the alert channel gets the alert and apology text.",
        ("/outage declare Exchange Online — Mail delayed for some users",),
    ),
    CommandHelp(
        "/outage update [id] <text> · /outage resolve [id] · /outage list",
        "Posts an update, resolves an outage, lists open and recent outages (id: the outage's "
        "number or the vendor's, e.g. EX123456; left out, your one open outage).",
        ("/outage update 1 Fix deployed, mail flowing again", "/outage resolve 1", "/outage list"),
    ),
    CommandHelp(
        "/outage apology [id] <customer> · /outage template [apology|closing]",
        "The apology text for one affected customer, ready to send; your own wording of the "
        "apology texts.",
        ("/outage apology 1 o'brien", "/outage template apology"),
    ),
    CommandHelp(
        "/outage narrow [id] <regions> · /outage narrow [id] all",
        "When the vendor does not say where an outage hits: the regions it hit your customers "
        "in (your team only); all undoes it.",
        ("/outage narrow EX123456 Europe", "/outage narrow EX123456 all"),
    ),
    CommandHelp(
        "/summary [this-week|last-week]",
        "Managers: the weekly summary, now, visible only to you.",
        ("/summary", "/summary last-week"),
    ),
    CommandHelp(
        "/summary schedule <weekday> <HH:MM> · /summary schedule off",
        "Managers: when the weekly summary is posted to the manager channel.",
        ("/summary schedule monday 09:00", "/summary schedule off"),
    ),
    CommandHelp(
        "/partnerbot managers [add|remove @someone]",
        "Who may read the weekly summaries; managers and workspace admins change it.",
        ("/partnerbot managers add @jane",),
    ),
    CommandHelp(
        "/partnerbot setup",
        "Workspace admins: connect this workspace to your partner account, or change its "
        "channels, time zone and who sees commission and prices.",
        ("/partnerbot setup",),
    ),
    CommandHelp(
        "/partnerbot setup partner-center · /partnerbot sync",
        "Managers: connect your Partner Center (a form), so that /subscription shows live "
        "subscriptions; sync from it now.",
        ("/partnerbot setup partner-center", "/partnerbot sync"),
    ),
    CommandHelp(
        "/partnerbot help",
        "This list.",
        ("/partnerbot help",),
    ),
)


def help_blocks(commands: tuple[CommandHelp, ...] = COMMANDS) -> list[dict]:
    """What the bot can do, one section per command, with examples."""
    blocks = [
        header("What partnerbot can do"),
        section(
            "Ask about your customers, file orders, handle outages and read weekly summaries — "
            "right here in Slack. Everything the bot answers is visible only to you."
        ),
    ]
    for command in commands:
        blocks.append(
            section(
                f"*`{escape(command.usage)}`*\n{command.does}\n"
                + ("Example: " if len(command.examples) == 1 else "Examples: ")
                + " · ".join(f"`{escape(example)}`" for example in command.examples)
            )
        )
    blocks.append(context("Customers are matched by name or tenant domain, in any letter case."))
    return blocks


def not_a_subcommand(word: str) -> Message:
    """`/partnerbot <word>` for a word that is no subcommand: says so, names the subcommands,
    then shows the help."""
    typed = escape(shorten(word, 100)).replace("`", "'")
    text = (
        f"`{typed}` is not a /partnerbot subcommand. Its subcommands are `help`, `managers`, "
        "`setup` and `sync`; here is everything partnerbot can do."
    )
    return Message(f"{typed} is not a /partnerbot subcommand", [section(text), *help_blocks()])
