"""The arguments and the help text of `python -m bot <command>`: what `--help` tells an operator."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

from bot.catalogue import REGIONS
from bot.settings import MIN_SECRET_KEY_LENGTH
from bot.subscriptions.rules import BILLING_CYCLES, BILLING_OWNERS, STATUSES

SETTINGS_NOTE = (
    "Settings come from the environment or a .env file in the working directory;\n"
    "README.md (Configuration) lists them all."
)
REGION_LIST = textwrap.fill(
    "required; one of: " + ", ".join(REGIONS), width=78, subsequent_indent=" " * 17
)

SERVE_HELP = f"""\
Runs the bot in one process: Slack's requests at /slack/events, the customers' order pages at
/orders/…, the incident hook POST /hooks/incidents, /healthz and /metrics on PORT (default 3000),
the outbox worker that posts to Slack, and the scheduled jobs (order expiry and reminders, weekly
summaries, the incident feed). Stop it with Ctrl-C or SIGTERM.

Needs, for one workspace: SLACK_BOT_TOKEN (xoxb-…), SLACK_SIGNING_SECRET and SECRET_KEY (at
least {MIN_SECRET_KEY_LENGTH} random characters); for many workspaces (OAuth) SLACK_CLIENT_ID,
SLACK_CLIENT_SECRET, SLACK_STATE_SECRET, SLACK_SIGNING_SECRET and SECRET_KEY instead of the bot
token. Often set too: DATABASE_URL (default ./partnerbot.db), PUBLIC_BASE_URL (where customers
open their links), PORT, INCIDENT_WEBHOOK_SECRET (turns the incident hook on),
ORDER_LINK_TTL_DAYS (default 14), SLACK_APP_TOKEN (xapp-…: Socket Mode instead of HTTP).
Refuses to start, naming what is wrong, when a setting is missing or malformed, or when the
database schema is older than the code (run `python -m bot migrate` first).

{SETTINGS_NOTE}"""

MIGRATE_HELP = f"""\
Brings the database schema up to date (Alembic upgrade head): creates the tables in a new
database (DATABASE_URL, default the SQLite file ./partnerbot.db) and applies the migrations an
older one lacks. Safe to run again: an up-to-date database is left as it is. Run it once per
release, before `serve` (the Procfile's release line does).

{SETTINGS_NOTE}"""

DEMO_DATA_HELP = """\
Fills an empty database with the demo data set: 10 partners (workspaces T0DEMO001 to
T0DEMO010; the biggest, T0DEMO001 "Northwind Cloud Partners", is the one the shell opens),
1,040 customers in every region with their subscriptions. Refuses a database that already holds
partners. Run `python -m bot migrate` first (or use `start`, which does both)."""

START_HELP = """\
The quick start: `migrate`, then `demo-data` when the database has no partners yet, then
`serve` when Slack is configured (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or the OAuth
settings, in the environment or .env), or else the local `shell` on the demo data."""

SHELL_HELP = """\
Type the same slash commands as in Slack (/subscription, /order, /outage, /summary,
/partnerbot help) and read the answers as text, through the same handlers as `serve`; no Slack
needed. A number picks one of the choices [1], [2], … shown under the last answer (buttons and
menus); @name mentions one of the partner's people (e.g. a manager, @jane). What the bot posts
to channels and DMs is shown as it goes out, and the customer pages are served on PORT so an
order link opens in a browser. `quit` (or Ctrl-D) leaves."""

IMPORT_HELP = f"""\
Loads or updates one partner's customers or subscriptions from a CSV file: UTF-8, a header row,
columns in any order and letter case, extra columns ignored. The file imports whole or not at
all: every problem is listed with its line number and nothing is written. Prints what it did
with each row: added, changed (each field, before and after), unchanged (counted).

customers columns: name,domain,region,contact_name,contact_email[,timezone]
  name           required
  domain         required; the customer's tenant domain, e.g. contoso.onmicrosoft.com; it
                 identifies the customer, so a re-import updates the customer of that domain
  region         {REGION_LIST}
  contact_name   optional
  contact_email  optional; an email address
  timezone       optional; an IANA name such as Europe/Berlin
  A blank optional cell keeps what is stored for a customer imported before; `-` clears it.

subscriptions columns:
customer_domain,plan,seats,unit_price,billing_cycle,start_date,renewal_date,status,
billing_owner[,partner_of_record]
  customer_domain    a customer of this partner (import customers first)
  plan               a plan code of the catalogue, e.g. EXO (README.md: Plan catalogue)
  seats              1 to 1,000,000; 0 only when cancelled
  unit_price         per seat per month, e.g. 4.50; blank: the catalogue's list price for a
                     new subscription, the stored price for one imported before
  billing_cycle      {" or ".join(BILLING_CYCLES)}
  start_date         YYYY-MM-DD; with customer and plan it identifies the subscription
  renewal_date       YYYY-MM-DD, not before start_date
  status             {", ".join(STATUSES)}
  billing_owner      {" or ".join(BILLING_OWNERS)} (who bills the customer)
  partner_of_record  optional; yes (blank: yes for a new subscription, the stored value for
                     one imported before) or no (this partner earns no commission on it)

Example: python -m bot import customers customers.csv --team-id T0123ABCD"""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m bot",
        description="partnerbot: a Slack bot for channel partners.\n" + SETTINGS_NOTE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    command("serve", "run the bot: Slack endpoint, pages, hooks, scheduler", SERVE_HELP)
    command("migrate", "bring the database schema up to date", MIGRATE_HELP)
    command("demo-data", "fill an empty database with demo data", DEMO_DATA_HELP)
    command(
        "start", "quick start: migrate, demo data if empty, then serve or the shell", START_HELP
    )

    shell = command("shell", "type slash commands locally, no Slack needed", SHELL_HELP)
    shell.add_argument(
        "--team-id",
        help="the partner workspace to act in, e.g. T0DEMO002 (default: the one with most "
        "customers)",
    )
    shell.add_argument(
        "--user",
        default=None,
        help="the Slack user id to act as (default: the partner's first manager)",
    )

    partner = commands.add_parser("partner", help="manage partner workspaces")
    partner_commands = partner.add_subparsers(dest="partner_command", required=True)
    add = partner_commands.add_parser("add", help="register a partner workspace")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--team-id", required=True, help="the workspace, e.g. T0123ABCD")
    add.add_argument("--alert-channel", required=True, help="channel id for outage alerts")
    add.add_argument("--manager-channel", required=True, help="channel id for weekly summaries")
    add.add_argument("--orders-channel", help="channel id for order answers (default: alerts)")
    add.add_argument("--timezone", default=None, help="IANA name, e.g. Europe/Berlin")
    add.add_argument("--managers", help="comma-separated Slack user ids, e.g. U1,U2")

    link = partner_commands.add_parser(
        "link", help="link a workspace that installed partnerbot to an existing partner"
    )
    link.add_argument("--team-id", required=True, help="the installed workspace, e.g. T0123ABCD")
    which = link.add_mutually_exclusive_group(required=True)
    which.add_argument("--partner-id", type=int, help="the partner's id (see `partner list`)")
    which.add_argument("--name", help="the partner's exact name")
    partner_commands.add_parser(
        "list", help="list the partners and the workspaces that installed partnerbot"
    )
    approve = partner_commands.add_parser(
        "approve", help="approve a workspace that set itself up (PARTNER_SIGNUP=approval)"
    )
    approve.add_argument("--team-id", required=True, help="the workspace, e.g. T0123ABCD")

    connect = partner_commands.add_parser(
        "connect", help="connect a partner's Partner Center (an app in its own Entra tenant)"
    )
    connect.add_argument("--team-id", required=True, help="the partner's workspace")
    connect.add_argument("--tenant", required=True, help="the partner's Entra tenant id or domain")
    connect.add_argument("--client-id", required=True, help="the app's Application (client) ID")
    connect.add_argument(
        "--client-secret-file",
        required=True,
        type=Path,
        help="a file holding the client secret's value (- reads it from standard input)",
    )
    connect.add_argument("--mpn-id", default="", help="the partner's own MPN (partner) id")
    consent = partner_commands.add_parser(
        "consent",
        help="store a Partner Center admin's refresh token for the connected app (App+User)",
    )
    consent.add_argument("--team-id", required=True, help="the partner's workspace")
    consent.add_argument(
        "--refresh-token-file",
        required=True,
        type=Path,
        help="a file holding the refresh token (- reads it from standard input)",
    )
    sync = partner_commands.add_parser("sync", help="sync a partner from Partner Center now")
    sync.add_argument("--team-id", required=True, help="the partner's workspace")

    imports = command("import", "load customers or subscriptions from CSV", IMPORT_HELP)
    imports.add_argument("kind", choices=("customers", "subscriptions"))
    imports.add_argument("file", metavar="FILE.csv", type=Path)
    imports.add_argument("--team-id", required=True, help="the partner's workspace, T…")
    return root
