"""How fast /subscription is answered: the real bot and a bare bolt app under the same signed load.

    python bench/commands.py [--seconds 10] [--concurrency 32] [--database-url URL]

See bench/README.md for what each figure means."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from gen import sample_team_ids
from load import AnswerClock, Load, query_pools, run_figures, run_load
from sqlalchemy import text
from sqlalchemy.engine import make_url
from targets import (
    RESULTS,
    BenchError,
    ChildServer,
    bench_database_url,
    bot_command,
    drop_queued_messages,
    floor_command,
    generated_database_url,
    prepare_database,
    run_and_save,
)

from bot.demo import DEMO_TEAM_IDS
from bot.settings import Settings
from storage.db import create_engine, session_factory

WARM_UP_SECONDS = 1.0
QUERY_SEED = 2026
MAX_SECONDS = 120.0
MAX_CONCURRENCY = 256
PREPARED_PARTNERS = 40  # partners whose staff send the load on a prepared data set


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python bench/commands.py", description=__doc__.splitlines()[0]
    )
    root.add_argument("--seconds", type=float, default=10.0, help="measured load per target")
    root.add_argument("--concurrency", type=int, default=32, help="workers sending at once")
    root.add_argument(
        "--database-url",
        help="default: a fresh temporary SQLite file; a PostgreSQL database is emptied first, so "
        "its name must contain 'bench' (e.g. postgresql://postgres@127.0.0.1:5432/partnerbot_bench)",
    )
    root.add_argument(
        "--prepared",
        action="store_true",
        help="load the data already in --database-url (from bench/gen.py) instead of emptying "
        "it and loading the demo data; queries go to 40 partners drawn by size",
    )
    return root


def child_environment(*, database_url: str, signing_secret: str, api_url: str) -> dict:
    """The children's environment: ours without any bot setting, then exactly the bench's."""
    settings_names = {name.upper() for name in Settings.model_fields}
    inherited = {name: value for name, value in os.environ.items() if name not in settings_names}
    return {
        **inherited,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": signing_secret,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "SLACK_API_URL": api_url,
        # Scheduled jobs (a weekly summary falling due mid-run) would make the figures depend on
        # the day and hour; this bench measures the command path only.
        "RUN_SCHEDULER": "false",
    }


async def measure(server: ChildServer, load: Load, *, seconds: float) -> dict:
    """Warms a server up, loads it for `seconds` and returns its figures."""
    await run_load(load, seconds=WARM_UP_SECONDS, seed=QUERY_SEED, label=f"{server.name}-warm")
    server_cpu_before, client_cpu_before = server.cpu_seconds(), time.process_time()
    run = await run_load(load, seconds=seconds, seed=QUERY_SEED, label=server.name)
    server_cpu_after = server.cpu_seconds()
    figures = run_figures(run)
    server_cpu = None
    if server_cpu_before is not None and server_cpu_after is not None:
        server_cpu = server_cpu_after - server_cpu_before
    figures["cpu_percent"] = None if server_cpu is None else round(100 * server_cpu / run.elapsed)
    figures["cpu_ms_per_request"] = (
        round(1000 * server_cpu / len(run.samples), 2) if server_cpu and run.samples else None
    )
    figures["client_cpu_percent"] = round(
        100 * (time.process_time() - client_cpu_before) / run.elapsed
    )
    peak_kib = server.status_field_kib("VmHWM")
    figures["peak_rss_mib"] = round(peak_kib / 1024, 1) if peak_kib is not None else None
    figures["exit_status"] = server.exit_status()  # None: still running, as it should be
    return figures


def milliseconds(figures: dict) -> str:
    return " ".join(
        f"{name}={'-' if value is None else f'{value:.1f}ms'}" for name, value in figures.items()
    )


def figures_line(name: str, backend: str, args: argparse.Namespace, figures: dict) -> str:
    return (
        f"{name:<6} {backend:<10} c={args.concurrency} {args.seconds:g}s  "
        f"requests={figures['requests']} rps={figures['rps']:.1f} "
        f"ack {milliseconds(figures['ack_ms'])} answer {milliseconds(figures['answer_ms'])} "
        f"errors={figures['errors']} cpu={figures['cpu_percent']}% "
        f"({figures['cpu_ms_per_request']}ms/request)"
    ) + ("" if figures["exit_status"] is None else f"  EXITED {figures['exit_status']}")


async def benchmark(args: argparse.Namespace, folder: Path) -> dict:
    if args.prepared:
        if not args.database_url:
            raise BenchError("--prepared needs --database-url (a database bench/gen.py filled)")
        database_url = generated_database_url(args.database_url)
    else:
        database_url = bench_database_url(args.database_url, folder)
    backend = make_url(database_url).get_backend_name()

    engine = create_engine(database_url)
    try:
        if args.prepared:
            print(f"using the data in {backend} as it is …", flush=True)
            data = await describe_data(engine)
            async with engine.begin() as connection:
                dropped = await drop_queued_messages(connection)
            print(f"start: no queued messages ({dropped} left by earlier runs deleted)", flush=True)
            team_ids = await sample_team_ids(database_url, PREPARED_PARTNERS, QUERY_SEED)
        else:
            print(f"preparing {backend}: migrate + demo data …", flush=True)
            data = (await prepare_database(database_url)).describe()
            team_ids = DEMO_TEAM_IDS
        pools = await query_pools(session_factory(engine), seed=QUERY_SEED, team_ids=team_ids)
    finally:
        await engine.dispose()

    slack = await AnswerClock().start()
    signing_secret = secrets.token_urlsafe(32)
    env = child_environment(
        database_url=database_url, signing_secret=signing_secret, api_url=slack.api_url
    )
    servers = [
        ChildServer("bot", bot_command(), env=env, log_path=folder / "bot.log"),
        ChildServer("floor", floor_command(), env=env, log_path=folder / "floor.log"),
    ]
    results = {}
    try:
        for server in servers:
            server.start()
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(server.wait_until_healthy(http) for server in servers))
        print(
            f"data: {data}; bot serve pid={servers[0].pid}, floor pid="
            f"{servers[1].pid}; {WARM_UP_SECONDS:g} s warm-up + {args.seconds:g} s each",
            flush=True,
        )
        for server in servers:
            load = Load(
                events_url=f"{server.url}/slack/events",
                signing_secret=signing_secret,
                slack=slack,
                pools=pools,
                concurrency=args.concurrency,
                check_answers=server.name == "bot",
            )
            results[server.name] = await measure(server, load, seconds=args.seconds)
            print(figures_line(server.name, backend, args, results[server.name]), flush=True)
            if results[server.name]["errors"]:
                kept = keep_log(server)
                print(f"{server.name} log with its errors kept in {kept}", flush=True)
    finally:
        for server in servers:
            server.stop()
        await slack.stop()

    bot, floor = results["bot"], results["floor"]
    ratio = round(bot["rps"] / floor["rps"], 3) if floor["rps"] else None
    print(
        f"rps bot/floor={ratio}  peak RSS bot serve={bot['peak_rss_mib']} MiB "
        f"(floor {floor['peak_rss_mib']} MiB)  client cpu={bot['client_cpu_percent']}%/"
        f"{floor['client_cpu_percent']}%  unexpected answers={bot['unexpected_answers']}"
    )
    return {
        "benchmark": "commands",
        "command": "/subscription",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": backend,
        "database_url": make_url(database_url).render_as_string(hide_password=True)
        if args.database_url
        else "a temporary SQLite file",
        "data": data,
        "seconds": args.seconds,
        "warm_up_seconds": WARM_UP_SECONDS,
        "concurrency": args.concurrency,
        "targets": results,
        "rps_ratio_bot_to_floor": ratio,
        "late_posts": slack.late_posts,
    }


def keep_log(server: ChildServer) -> Path:
    """Copies a target's log out of the run's temporary folder, to read why it failed."""
    RESULTS.mkdir(exist_ok=True)
    kept = RESULTS / f"commands-{server.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.log"
    shutil.copyfile(server.log_path, kept)
    return kept


async def describe_data(engine) -> str:
    """Counts what a prepared database holds, in the words DemoReport uses."""
    async with engine.connect() as connection:

        async def count(table: str) -> int:
            return (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar()

        partners, customers = await count("partner"), await count("customer")
        subscriptions = await count("subscription")
    if not partners:
        raise BenchError("--prepared: the database has no partners; run bench/gen.py first")
    return f"{partners:,} partners, {customers:,} customers, {subscriptions:,} subscriptions"


async def main_async(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="partnerbot-bench-") as folder:
        return await benchmark(args, Path(folder))


def main() -> int:
    args = parser().parse_args()
    if not 0 < args.seconds <= MAX_SECONDS:
        sys.stderr.write(f"error: --seconds must be more than 0 and at most {MAX_SECONDS:g}\n")
        return 2
    if not 0 < args.concurrency <= MAX_CONCURRENCY:
        sys.stderr.write(f"error: --concurrency must be between 1 and {MAX_CONCURRENCY}\n")
        return 2
    return run_and_save("commands", lambda: main_async(args))


if __name__ == "__main__":
    sys.exit(main())
