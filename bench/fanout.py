"""One vendor incident that hits thousands of partners: how long until every partner's alert and
apology are in Slack, against the ideal, with a slow Slack that answers 429 now and then; then
the same again with the bot killed (SIGKILL) half-way and restarted.

    python bench/fanout.py [--database-url URL] [--partners 5500] [--customers 1000000]
                           [--prepared] [--latency 0.03] [--rate-limited 0.02] [--concurrency 16]

See bench/README.md for what each figure means."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from commands import child_environment
from sqlalchemy import text
from sqlalchemy.engine import make_url
from targets import (
    BenchError,
    ChildServer,
    bench_database_url,
    bot_command,
    drop_queued_messages,
    generated_database_url,
    run_and_save,
)

from bot.outages.hook_signature import signed_headers
from devtools.local_slack import Call, LocalSlack
from storage.db import create_engine

SEED = 2026
INCIDENT_PREFIX = "BENCH-FANOUT-"
DELIVERY_TIMEOUT = 600.0  # seconds for every message of one run to arrive
LEASE_SECONDS = 10  # the bot's OUTBOX_LEASE_SECONDS here: how soon a dead worker's rows go again


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python bench/fanout.py", description=__doc__.splitlines()[0]
    )
    root.add_argument(
        "--database-url",
        help="default: a fresh temporary SQLite file; a PostgreSQL database is emptied and "
        "filled first (unless --prepared), so its name must contain 'bench'",
    )
    root.add_argument("--partners", type=int, default=5500, help="partners to generate")
    root.add_argument("--customers", type=int, default=100_000, help="customers to generate")
    root.add_argument(
        "--prepared",
        action="store_true",
        help="use the data already in --database-url (from bench/gen.py) instead of generating",
    )
    root.add_argument("--latency", type=float, default=0.03, help="seconds Slack takes per call")
    root.add_argument(
        "--rate-limited", type=float, default=0.02, help="share of calls answered 429"
    )
    root.add_argument("--concurrency", type=int, default=16, help="the bot's OUTBOX_CONCURRENCY")
    root.add_argument("--no-kill", action="store_true", help="skip the run with a kill -9")
    return root


class CountingSlack(LocalSlack):
    """A LocalSlack that counts the posts of each outbox key as they arrive (and keeps nothing
    else it does not need), so that watching 11,000 posts costs next to nothing."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.posts: Counter[str] = Counter()
        self.calls_by_method: Counter[str] = Counter()
        self.last_post_at = 0.0
        self.threads_wrong = 0  # replies whose thread_ts is not their root's ts

    async def _record(self, call: Call) -> None:
        self.calls_by_method[call.method] += 1
        if call.method != "chat.postMessage":
            return
        metadata = call.params.get("metadata") or {}
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        key = metadata.get("event_payload", {}).get("key", "")
        self.posts[key] += 1
        self.last_post_at = time.monotonic()

    def delivered(self, prefix: str) -> int:
        return sum(1 for key in self.posts if key.startswith(prefix))

    def check_threads(self) -> int:
        """Counts replies posted in another thread than their root's."""
        wrong = 0
        for messages in self.posted.values():
            ts_of = {}
            for message in messages:
                key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")
                ts_of[key] = message["ts"]
            for message in messages:
                key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")
                if key.endswith(":apology") and message.get("thread_ts") != ts_of.get(
                    key.removesuffix(":apology")
                ):
                    wrong += 1
        return wrong


def incident_body(external_id: str, now: datetime) -> bytes:
    """A Graph serviceHealthIssue for Exchange Online in every region: every partner that sells
    Exchange (alone or in the suite) has affected customers."""
    return json.dumps(
        {
            "id": external_id,
            "title": "Users can't send or receive email",
            "service": "Exchange Online",
            "status": "serviceDegradation",
            "classification": "incident",
            "impactDescription": "Users may be unable to send or receive email.",
            "startDateTime": (now - timedelta(minutes=20)).isoformat().replace("+00:00", "Z"),
            "isResolved": False,
            "posts": [],
        }
    ).encode()


async def prepare(args: argparse.Namespace, database_url: str) -> dict:
    """Generates the data set, or checks the prepared one and forgets earlier runs' incidents."""
    if not args.prepared:
        from gen import generate  # noqa: PLC0415 - only when generating

        print(f"generating {args.partners} partners, {args.customers} customers …", flush=True)
        return await generate(
            database_url, partners=args.partners, customers=args.customers, seed=SEED
        )
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            partners = (await connection.execute(text("SELECT count(*) FROM partner"))).scalar()
            customers = (await connection.execute(text("SELECT count(*) FROM customer"))).scalar()
            if not partners:
                raise BenchError("--prepared: the database has no partners; run bench/gen.py")
            # Only what earlier runs of this bench left: their incidents and their messages.
            earlier = await connection.execute(
                text("SELECT id FROM incident WHERE external_id LIKE :prefix"),
                {"prefix": INCIDENT_PREFIX + "%"},
            )
            for (incident_id,) in earlier.all():
                await connection.execute(
                    text("DELETE FROM outbox_message WHERE idempotency_key LIKE :key"),
                    {"key": f"incident:{incident_id}:%"},
                )
                await connection.execute(
                    text("DELETE FROM incident WHERE id = :id"), {"id": incident_id}
                )
            dropped = await drop_queued_messages(connection)
        print(f"start: no queued messages ({dropped} left by earlier runs deleted)", flush=True)
    finally:
        await engine.dispose()
    return {"partners": partners, "customers": customers, "generated": False}


async def queued(database_url: str, incident_id: int) -> dict:
    """The outbox rows an incident queued, by state, and the partners alerted."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT state, count(*) FROM outbox_message WHERE idempotency_key LIKE :p "
                    "GROUP BY state"
                ),
                {"p": f"incident:{incident_id}:%"},
            )
            states = dict(rows.all())
            alerts = await connection.execute(
                text("SELECT count(*) FROM incident_alert WHERE incident_id = :i"),
                {"i": incident_id},
            )
            return {"states": states, "alerts": alerts.scalar()}
    finally:
        await engine.dispose()


class Run:
    """One fan-out: the bot started, the incident posted, the deliveries watched."""

    def __init__(self, name: str, args, env: dict, folder: Path, slack: CountingSlack) -> None:
        self.name, self.args, self.env, self.folder, self.slack = name, args, env, folder, slack
        self.servers: list[ChildServer] = []

    def start_bot(self, http: aiohttp.ClientSession) -> ChildServer:
        number = len(self.servers) + 1
        server = ChildServer(
            "bot", bot_command(), env=self.env, log_path=self.folder / f"{self.name}-{number}.log"
        )
        self.servers.append(server.start())
        return server

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    async def post_incident(self, server: ChildServer, http, external_id: str) -> tuple[int, int]:
        body = incident_body(external_id, datetime.now(UTC))
        signing = signed_headers(self.env["INCIDENT_WEBHOOK_SECRET"], body, time.time())
        async with http.post(
            f"{server.url}/hooks/incidents",
            data=body,
            headers={"Content-Type": "application/json", **signing},
            timeout=aiohttp.ClientTimeout(total=600),
        ) as response:
            answer = await response.json()
            if response.status != 201:
                raise BenchError(f"the hook answered {response.status}: {answer}")
        return int(answer["id"]), response.status

    async def wait_delivered(self, prefix: str, expected: int, *, at_least: int) -> None:
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while self.slack.delivered(prefix) < min(at_least, expected):
            for server in self.servers[-1:]:
                if server.exit_status() is not None:
                    raise BenchError(f"the bot exited:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise BenchError(
                    f"{self.slack.delivered(prefix)} of {expected} messages after "
                    f"{DELIVERY_TIMEOUT:.0f} s"
                )
            await asyncio.sleep(0.02)


async def fan_out_once(
    args, env: dict, folder: Path, database_url: str, *, kill: bool, number: int
) -> dict:
    name = "fanout+kill" if kill else "fanout"
    slack = await CountingSlack(
        latency=args.latency, rate_limited_share=args.rate_limited, seed=SEED + number
    ).start()
    env = {**env, "SLACK_API_URL": slack.api_url}
    run = Run(name, args, env, folder, slack)
    figures: dict = {"run": name}
    try:
        async with aiohttp.ClientSession() as http:
            server = run.start_bot(http)
            await server.wait_until_healthy(http)
            cpu_before = server.cpu_seconds() or 0.0
            external_id = f"{INCIDENT_PREFIX}{number}-{secrets.token_hex(3)}"
            started = time.monotonic()
            incident_id, _ = await run.post_incident(server, http, external_id)
            figures["intake_seconds"] = round(time.monotonic() - started, 2)
            prefix = f"incident:{incident_id}:"
            counts = await queued(database_url, incident_id)
            expected = sum(counts["states"].values())
            figures.update(partners=counts["alerts"], messages=expected)
            if kill:
                await run.wait_delivered(prefix, expected, at_least=expected // 2)
                figures["killed_after_messages"] = slack.delivered(prefix)
                figures["killed_at_seconds"] = round(time.monotonic() - started, 2)
                figures["cpu_seconds_first"] = round((server.cpu_seconds() or 0) - cpu_before, 1)
                os.kill(server.pid, signal.SIGKILL)
                server.process.wait()
                restarted = time.monotonic()
                server = run.start_bot(http)
                await server.wait_until_healthy(http)
                figures["restart_seconds"] = round(time.monotonic() - restarted, 2)
                cpu_before = server.cpu_seconds() or 0.0
            await run.wait_delivered(prefix, expected, at_least=expected)
            figures["wall_seconds"] = round(slack.last_post_at - started, 2)
            await asyncio.sleep(1.0)  # a duplicate still on its way would arrive by now
            figures["cpu_seconds"] = round((server.cpu_seconds() or 0) - cpu_before, 1)
            peak = server.status_field_kib("VmHWM")
            figures["peak_rss_mib"] = round(peak / 1024, 1) if peak else None
        after = await queued(database_url, incident_id)
    finally:
        run.stop()
        await slack.stop()

    posts = {key: count for key, count in slack.posts.items() if key.startswith(prefix)}
    figures["duplicates"] = sum(count - 1 for count in posts.values() if count > 1)
    figures["losses"] = expected - len(posts)
    figures["rows_not_sent"] = sum(n for state, n in after["states"].items() if state != "sent")
    figures["replies_in_wrong_thread"] = slack.check_threads()
    figures["calls"] = sum(slack.calls_by_method.values()) + slack.rate_limited_answers
    figures["rate_limited_answers"] = slack.rate_limited_answers
    figures["history_lookups"] = (
        slack.calls_by_method["conversations.history"]
        + (slack.calls_by_method["conversations.replies"])
    )
    ideal = expected * args.latency / args.concurrency
    figures["ideal_seconds"] = round(ideal, 2)
    figures["wall_over_ideal"] = round(figures["wall_seconds"] / ideal, 2) if ideal else None
    return figures


def figures_line(backend: str, f: dict) -> str:
    line = (
        f"{f['run']:<12} {backend:<10} partners={f['partners']} messages={f['messages']} "
        f"calls={f['calls']} (429s={f['rate_limited_answers']}, look-ups={f['history_lookups']}) "
        f"intake={f['intake_seconds']}s wall={f['wall_seconds']}s ideal={f['ideal_seconds']}s "
        f"wall/ideal={f['wall_over_ideal']} duplicates={f['duplicates']} losses={f['losses']} "
        f"unsent rows={f['rows_not_sent']} wrong threads={f['replies_in_wrong_thread']} "
        f"bot cpu={f['cpu_seconds']}s peak RSS={f['peak_rss_mib']} MiB"
    )
    if "killed_after_messages" in f:
        line += (
            f"  killed after {f['killed_after_messages']} messages at {f['killed_at_seconds']}s, "
            f"restarted in {f['restart_seconds']}s"
        )
    return line


async def benchmark(args: argparse.Namespace, folder: Path) -> dict:
    if args.prepared and not args.database_url:
        raise BenchError("--prepared needs --database-url (a database bench/gen.py filled)")
    if args.prepared:
        database_url = generated_database_url(args.database_url)
    else:
        database_url = bench_database_url(args.database_url, folder)
    backend = make_url(database_url).get_backend_name()
    data = await prepare(args, database_url)
    env = {
        **child_environment(
            database_url=database_url,
            signing_secret=secrets.token_urlsafe(32),
            api_url="http://127.0.0.1:9/api/",
        ),
        "INCIDENT_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "OUTBOX_CONCURRENCY": str(args.concurrency),
        "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    print(
        f"data: {data.get('partners')} partners, {data.get('customers')} customers; Slack "
        f"{args.latency * 1000:g} ms a call, {args.rate_limited:.0%} answered 429 "
        f"(Retry-After 1 s); bot outbox concurrency {args.concurrency}",
        flush=True,
    )
    runs = []
    for number, kill in enumerate([False] if args.no_kill else [False, True], start=1):
        figures = await fan_out_once(args, env, folder, database_url, kill=kill, number=number)
        print(figures_line(backend, figures), flush=True)
        runs.append(figures)
    return {
        "benchmark": "fanout",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": backend,
        "data": data,
        "latency_seconds": args.latency,
        "rate_limited_share": args.rate_limited,
        "concurrency": args.concurrency,
        "lease_seconds": LEASE_SECONDS,
        "runs": runs,
    }


async def main_async(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="partnerbot-fanout-") as folder:
        return await benchmark(args, Path(folder))


def main() -> int:
    args = parser().parse_args()
    if not 1 <= args.concurrency <= 256:
        sys.stderr.write("error: --concurrency must be between 1 and 256\n")
        return 2
    if not 0 <= args.rate_limited < 1 or not 0 <= args.latency <= 5:
        sys.stderr.write("error: --rate-limited must be in [0, 1) and --latency in [0, 5]\n")
        return 2
    return run_and_save("fanout", lambda: main_async(args))


if __name__ == "__main__":
    sys.exit(main())
