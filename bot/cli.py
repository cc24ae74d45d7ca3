"""The command line: `python -m bot <command>` (README.md, *Operating it*)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.catalogue import CatalogueError
from bot.command_line import parser
from bot.errors import UnknownPartner, UserError
from bot.services import Services
from bot.settings import Settings, SettingsError, load_settings
from storage import partners, schema
from storage.db import sqlite_file

logger = logging.getLogger("bot")

DEFAULT_SHELL_USER = "U0SHELL"
NOT_CONNECTED = (
    "Slack is not connected (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set, nor the "
    "OAuth SLACK_CLIENT_ID and SLACK_CLIENT_SECRET; see 'Connect Slack' in README.md), so here "
    "is the local shell on the demo data instead."
)


class CliError(Exception):
    """Stops the command with one line on standard error and exit status 1."""


async def migrate(services: Services) -> None:
    before = await schema.current_revision(services.engine)
    await schema.upgrade(services.engine)
    after = await schema.current_revision(services.engine)
    if before == after:
        logger.info("database schema is up to date (%s)", after)
    else:
        logger.info("database schema migrated from %s to %s", before or "empty", after)


async def require_current_schema(services: Services) -> None:
    # Connecting would create an empty SQLite file, which is no help to anyone.
    missing = sqlite_file(services.settings.database_url)
    if missing is not None and not missing.exists():
        raise CliError(
            f"the database file {missing} does not exist: run `python -m bot migrate` (or "
            "`python -m bot start`) first, or point DATABASE_URL at the bot's database"
        )
    current = await schema.current_revision(services.engine)
    if current != schema.head_revision():
        raise CliError(
            f"the database schema is at {current or 'nothing (never migrated)'}, this bot needs "
            f"{schema.head_revision()}: run `python -m bot migrate` first"
        )


async def serve(services: Services) -> None:
    from bot.app import create_app

    settings = services.settings
    settings.require_for_serve()
    await require_current_schema(services)
    web_app = await create_app(settings, services=services)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host="0.0.0.0", port=settings.port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        raise CliError(f"PORT {settings.port} cannot be used: {error.strerror}") from None
    logger.info(
        "partnerbot serving on port %s: Slack requests at /slack/events, health at /healthz",
        settings.port,
    )
    if settings.oauth_enabled:
        logger.info("workspaces install partnerbot from %s/slack/install", settings.base_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        logger.info("partnerbot stopping")
        await runner.cleanup()


async def demo_data(services: Services) -> None:
    from bot.demo import load_demo_data

    report = await load_demo_data(services.sessions, catalogue=services.catalogue)
    logger.info("demo data loaded: %s", report.describe())


async def shell(services: Services, *, team_id: str | None, user_id: str | None) -> None:
    from bot.partners.flows import team_id_of
    from bot.shell import run_shell

    team_id = team_id_of(team_id) if team_id is not None else None
    await require_current_schema(services)
    async with services.sessions() as session:
        if team_id:
            partner = await partners.get_by_team_id(session=session, team_id=team_id)
            if partner is None:
                raise CliError(f"--team-id {team_id}: no partner is registered for that workspace")
        else:
            partner = await partners.with_most_customers(session=session)
            if partner is None:
                raise CliError(
                    "no partner is registered yet: run `python -m bot demo-data`, "
                    "or `python -m bot partner add …`"
                )
        if not user_id:
            managers = await partners.manager_ids(session=session, partner_id=partner.id)
            user_id = managers[0] if managers else DEFAULT_SHELL_USER
    await run_shell(services, partner, user_id=user_id.upper())


async def start(services: Services) -> None:
    await migrate(services)
    async with services.sessions() as session:
        empty = await partners.count(session=session) == 0
    if empty:
        await demo_data(services)
    if services.settings.slack_configured:
        await serve(services)
    else:
        sys.stdout.write(NOT_CONNECTED + "\n")
        await shell(services, team_id=None, user_id=None)


async def partner_add(services: Services, args: argparse.Namespace) -> None:
    from bot.partners.flows import add_partner, registration

    request = registration(
        name=args.name,
        team_id=args.team_id,
        alert_channel=args.alert_channel,
        manager_channel=args.manager_channel,
        orders_channel=args.orders_channel,
        timezone=args.timezone or services.settings.default_time_zone,
        managers=args.managers,
    )
    partner = await add_partner(services.sessions, request)
    logger.info("partner %r registered for workspace %s", partner.name, partner.team_id)


async def partner_link(services: Services, args: argparse.Namespace) -> None:
    from bot.partners.flows import link_workspace

    workspaces = services.workspaces
    linked = await link_workspace(
        services.sessions,
        team_id=args.team_id,
        partner_id=args.partner_id,
        name=args.name,
        client_id=workspaces.client_id if workspaces is not None else None,
    )
    partner = linked.partner
    if not linked.changed:
        logger.info("workspace %s is already linked to partner %r (id %s)",
                    partner.team_id, partner.name, partner.id)  # fmt: skip
    else:
        logger.info(
            "workspace %s linked to partner %r (id %s), which was registered for workspace %s",
            partner.team_id, partner.name, partner.id, linked.previous_team_id,
        )  # fmt: skip


async def partner_approve(services: Services, args: argparse.Namespace) -> None:
    from bot.partners.flows import approve_partner

    partner = await approve_partner(services.sessions, args.team_id, now=services.clock())
    logger.info(
        "partner %r (workspace %s) is approved; its managers' channel is told when `serve` runs",
        partner.name, partner.team_id,
    )  # fmt: skip


async def partner_list(services: Services) -> None:
    from storage import installations

    async with services.sessions() as session:
        rows = await partners.list_all(session=session)
        installed = []
        if services.workspaces is not None:
            installed = await installations.list_workspaces(
                session=session, client_id=services.workspaces.client_id
            )
    teams = {partner.team_id for partner in rows}
    lines = [
        f"{p.id}\t{p.team_id}\t{p.name}"
        + (
            f" (waiting for approval: python -m bot partner approve --team-id {p.team_id})"
            if p.approved_at is None
            else ""
        )
        for p in rows
    ]
    lines += [
        f"-\t{w.team_id}\t(installed {w.installed_at:%Y-%m-%d} as {w.team_name!r}, not linked: "
        f"python -m bot partner link --team-id {w.team_id} --partner-id …)"
        for w in installed
        if w.team_id not in teams
    ]
    sys.stdout.write("id\tworkspace\tpartner\n" + "".join(line + "\n" for line in lines))


def read_secret(path: Path, option: str = "--client-secret-file") -> str:
    """A secret from its file (or standard input), never from the command line, where other
    users and the shell's history would see it."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"{option}: cannot read {path}: {error}") from None
    return text.strip()


async def partner_connect(services: Services, args: argparse.Namespace) -> None:
    from bot.partner_center.connect import ConnectForm, connect

    async with services.sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id=args.team_id.upper())
    if partner is None:
        raise UnknownPartner(args.team_id.upper())
    form = ConnectForm(
        args.tenant.strip(), args.client_id.strip(), read_secret(args.client_secret_file),
        args.mpn_id.strip(),
    )  # fmt: skip
    connection = await connect(services, partner_id=partner.id, form=form, by="cli")
    logger.info(
        "partner %r connected to Partner Center (tenant %s, app %s); `serve` syncs it within a "
        "minute, or run `python -m bot partner sync --team-id %s`",
        partner.name, connection.tenant_id, connection.client_id, partner.team_id,
    )  # fmt: skip


async def partner_consent(services: Services, args: argparse.Namespace) -> None:
    from bot.partner_center.connect import store_user_consent

    async with services.sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id=args.team_id.upper())
    if partner is None:
        raise UnknownPartner(args.team_id.upper())
    token = read_secret(args.refresh_token_file, "--refresh-token-file")
    if not token:
        raise CliError(f"--refresh-token-file: {args.refresh_token_file} is empty")
    await store_user_consent(services, partner_id=partner.id, refresh_token=token)
    logger.info("partner %r: the Partner Center admin's consent is stored", partner.name)


async def partner_sync(services: Services, args: argparse.Namespace) -> None:
    from bot.partner_center.sync import sync_partner

    async with services.sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id=args.team_id.upper())
    if partner is None:
        raise UnknownPartner(args.team_id.upper())
    outcome = await sync_partner(services, partner.id)
    if outcome.problem is not None:
        raise CliError(f"the sync failed; nothing was changed: {outcome.problem}")
    logger.info(
        "partner %r synced from Partner Center: %s", partner.name, outcome.report.describe()
    )


async def import_file(services: Services, args: argparse.Namespace) -> None:
    from bot.imports import import_customers, import_subscriptions
    from bot.partners.flows import team_id_of

    team_id = team_id_of(args.team_id)
    if args.kind == "customers":
        report = await import_customers(services.sessions, team_id=team_id, path=args.file)
    else:
        report = await import_subscriptions(
            services.sessions,
            team_id=team_id,
            path=args.file,
            catalogue=services.catalogue,
        )
    # What the import did goes to standard output, for the operator and for scripts.
    sys.stdout.write(
        f"{args.file.name}: imported {report.describe()}\n"
        + "".join(f"  {line}\n" for line in report.details())
    )


async def run(args: argparse.Namespace, settings: Settings) -> None:
    from bot.app import build_services

    services = build_services(settings)
    try:
        match args.command:
            case "serve":
                await serve(services)
            case "migrate":
                await migrate(services)
            case "demo-data":
                await require_current_schema(services)
                await demo_data(services)
            case "start":
                await start(services)
            case "shell":
                await shell(services, team_id=args.team_id, user_id=args.user)
            case "partner":
                await require_current_schema(services)
                match args.partner_command:
                    case "add":
                        await partner_add(services, args)
                    case "link":
                        await partner_link(services, args)
                    case "list":
                        await partner_list(services)
                    case "approve":
                        await partner_approve(services, args)
                    case "connect":
                        await partner_connect(services, args)
                    case "consent":
                        await partner_consent(services, args)
                    case "sync":
                        await partner_sync(services, args)
            case "import":
                await require_current_schema(services)
                await import_file(services, args)
    finally:
        services.close_tokens()
        await services.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.command == "shell" else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("bot").setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # APScheduler logs every job added and every run at INFO; the jobs log what they did.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        asyncio.run(run(args, settings))
    except CatalogueError as error:
        sys.stderr.write(f"error: PLAN_CATALOGUE {error}\n")
        return 1
    except (CliError, SettingsError, UserError) as error:
        sys.stderr.write(f"error: {error}\n")
        for problem in getattr(error, "problems", [])[1:]:
            sys.stderr.write(f"  {problem}\n")
        return 1
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        sys.stderr.write(f"error: DATABASE_URL: the database cannot be used: {reason}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
