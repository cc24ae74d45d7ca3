"""Partner Center at scale: every partner of a bench/gen.py data set connected, synced in full,
synced again after 1% of its subscriptions changed, and one incident's customers asked in their
own tenants, each measured against its ideal (calls × latency ÷ concurrency, or what Partner
Center's limit per partner allows when that is longer).

    python bench/partner_center.py --database-url URL [--partners N] [--latency 0.05]

Microsoft is played by bench/microsoft.py in a child process (a local Partner Center and a local
Graph with their Entra, over TLS, each call waiting --latency, Partner Center refusing each
partner's calls past --limit a minute, Graph answering --throttled of its calls 429). The bot's
own code runs in this process: the schedule's `sync_due_partners` and the outage checks'
`confirm_incident`, with the settings given. The database is left as it was found: the bench
records what it changed (bench/results/partner_center-state.json) and undoes it at the end, or
at the start of the next run if this one was killed. Prints one line a phase; writes the figures
to bench/results/partner_center-<timestamp>.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet
from microsoft import partner_app, partner_secret, partner_tenant
from pydantic import SecretStr
from sqlalchemy import bindparam, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from targets import RESULTS, BenchError, ChildServer, generated_database_url, run_and_save

from bot.app import build_services
from bot.outages.confirming import confirm_incident
from bot.partner_center.api import PAGE_SIZE
from bot.partner_center.sealing import seal, sealer
from bot.partner_center.sync import CONCURRENCY, sync_due_partners
from bot.settings import Settings, load_settings
from storage.db import create_engine

STATE = RESULTS / "partner_center-state.json"
LOADED_WITHIN = 1800.0  # seconds for the child to read the data set and answer
INCIDENT_PREFIX = "BENCHPC"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python bench/partner_center.py", description=__doc__.splitlines()[0]
    )
    root.add_argument("--database-url", required=True, help="a database filled by bench/gen.py")
    root.add_argument("--partners", type=int, default=5500, help="the first N partners (all)")
    root.add_argument("--latency", type=float, default=0.05, help="seconds each call waits")
    root.add_argument(
        "--limit",
        type=float,
        default=500,
        help="Partner Center's calls a minute per partner (0: no limit)",
    )
    root.add_argument(
        "--calls-per-minute",
        type=int,
        default=Settings.model_fields["partner_center_calls_per_minute"].default,
        help="PARTNER_CENTER_CALLS_PER_MINUTE (the bot's default)",
    )
    root.add_argument(
        "--sync-concurrency",
        type=int,
        default=Settings.model_fields["partner_center_sync_concurrency"].default,
        help="PARTNER_CENTER_SYNC_CONCURRENCY (the bot's default)",
    )
    root.add_argument("--throttled", type=float, default=0.01, help="share of Graph calls 429")
    root.add_argument("--service", default="Skype for Business", help="the incident's service")
    root.add_argument("--listed", type=float, default=0.3, help="share of tenants listing it")
    for option, name in (("--tenant-concurrency", "outage_tenant_concurrency"),
                         ("--tenant-partners", "outage_tenant_partners")):  # fmt: skip
        root.add_argument(
            option, type=int, default=Settings.model_fields[name].default,
            help=f"{name.upper()} (the bot's default)",
        )  # fmt: skip
    root.add_argument(
        "--phases", default="sync,resync,confirm", help="which of sync, resync, confirm to run"
    )
    return root


# The known start, and the way back to it


async def restore(database_url: str) -> str:
    """Undoes what an earlier run left (from the state file) and what any run changes. Its own
    engine: the bot's gives up on a statement after 30 s, and undoing a full sync rewrites
    millions of rows."""
    state = json.loads(STATE.read_text()) if STATE.exists() else {}
    engine = create_async_engine(database_url)
    try:
        await undo(engine, state)
    finally:
        await engine.dispose()
    STATE.unlink(missing_ok=True)
    return "undone: an earlier run's changes" if state else "clean"


async def undo(engine, state: dict) -> None:
    async with engine.begin() as connection:
        incidents = (
            await connection.execute(
                text("SELECT id FROM incident WHERE external_id LIKE :p"),
                {"p": INCIDENT_PREFIX + "%"},
            )
        ).scalars().all()  # fmt: skip
        for incident_id in incidents:
            for statement in (
                "DELETE FROM outbox_message WHERE idempotency_key LIKE :key",
                "DELETE FROM incident_tenant_check WHERE incident_id = :id",
                "DELETE FROM incident_alert WHERE incident_id = :id",
                "DELETE FROM incident WHERE id = :id",
            ):
                await connection.execute(
                    text(statement), {"key": f"incident:{incident_id}:%", "id": incident_id}
                )
        for prefix in ("partner-center:%", "tenant-access:%"):
            await connection.execute(
                text("DELETE FROM outbox_message WHERE idempotency_key LIKE :p"), {"p": prefix}
            )
        for number, seats, status in state.get("changed", []):
            await connection.execute(
                text("UPDATE subscription SET seats = :seats, status = :status WHERE id = :id"),
                {"seats": seats, "status": status, "id": number},
            )
        if "last_subscription" in state:
            await connection.execute(
                text("DELETE FROM subscription WHERE id > :id"), {"id": state["last_subscription"]}
            )
            await connection.execute(
                text("DELETE FROM customer WHERE id > :id"), {"id": state["last_customer"]}
            )
        await connection.execute(
            text(
                "UPDATE subscription SET external_id = NULL, source = 'import', offer_name = '', "
                "term = '', commitment_end_date = NULL, auto_renew = NULL, reseller_id = '' "
                "WHERE source = 'partner_center'"
            )
        )
        await connection.execute(
            text("UPDATE customer SET external_id = NULL WHERE external_id IS NOT NULL")
        )
        await connection.execute(text("DELETE FROM partner_center_connection"))


def save_state(state: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    STATE.write_text(json.dumps(state))


async def connect_partners(engine, partners: int, key: str) -> dict:
    """Connects the first `partners` partners (due now) and returns the set's sizes."""
    seal_with = sealer_of(key)
    async with engine.begin() as connection:
        ids = (
            await connection.execute(
                text("SELECT id FROM partner ORDER BY id LIMIT :n"), {"n": partners}
            )
        ).scalars().all()  # fmt: skip
        if not ids:
            raise BenchError("the database has no partners: fill it with bench/gen.py first")
        state = {
            "last_subscription": (
                await connection.execute(text("SELECT coalesce(max(id), 0) FROM subscription"))
            ).scalar(),
            "last_customer": (
                await connection.execute(text("SELECT coalesce(max(id), 0) FROM customer"))
            ).scalar(),
        }
        save_state(state)
        now = datetime.now(UTC) - timedelta(minutes=1)
        await connection.execute(
            text(
                "INSERT INTO partner_center_connection (partner_id, tenant_id, client_id, "
                "sealed_secret, mpn_id, connected_by, connected_at, next_sync_at, problem, "
                "sealed_user_token) VALUES (:p, :tenant, :client, :sealed, '', 'bench', :now, "
                ":now, '', '')"
            ),
            [
                {
                    "p": p,
                    "tenant": partner_tenant(p),
                    "client": partner_app(p),
                    "sealed": seal_with(partner_secret(p)),
                    "now": now,
                }
                for p in ids
            ],  # fmt: skip
        )
        sizes = (
            await connection.execute(
                text(
                    "SELECT partner_id, count(*) FROM customer WHERE partner_id <= :last "
                    "GROUP BY partner_id"
                ),
                {"last": ids[-1]},
            )
        ).all()
    customers = dict(sizes)
    return {"partner_ids": list(ids), "customers": customers, "state": state}


def sealer_of(key: str):
    box = sealer(SecretStr(key))
    return lambda secret: seal(box, secret)


# The Microsoft child


async def start_microsoft(args, database_url: str, folder: Path, http) -> tuple[ChildServer, dict]:
    command = [
        sys.executable, str(Path(__file__).with_name("microsoft.py")),
        "--database-url", database_url, "--partners", str(args.partners),
        "--latency", str(args.latency), "--limit", str(args.limit),
        "--throttled", str(args.throttled),
    ]  # fmt: skip
    child = ChildServer("microsoft", command, env=child_env(), log_path=folder / "microsoft.log")
    child.start()
    deadline = time.monotonic() + LOADED_WITHIN
    while time.monotonic() < deadline:
        if child.exit_status() is not None:
            raise BenchError(f"microsoft exited:\n{child.log_tail()}")
        try:
            async with http.get(f"{child.url}/healthz") as response:
                if response.status == 200:
                    return child, await response.json()
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise BenchError("microsoft did not load the data set in time")


def child_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PARTNER_CENTER", "OUTAGE"))}


async def stats(http, child: ChildServer) -> dict:
    async with http.get(f"{child.url}/stats") as response:
        return await response.json()


def delta(after: dict, before: dict) -> dict:
    return {name: after[name] - before.get(name, 0) for name in after}


# The phases


def settings_for(args, database_url: str, key: str, where: dict, **more):
    return load_settings(
        database_url=database_url,
        secret_key="b" * 40,
        incident_feed_url=None,
        partner_center_key=key,
        partner_center_ca_file=where["ca_file"],
        partner_center_sync_concurrency=args.sync_concurrency,
        partner_center_calls_per_minute=args.calls_per_minute,
        outage_tenant_concurrency=args.tenant_concurrency,
        outage_tenant_partners=args.tenant_partners,
        **more,
    )


def sync_ideal(args, customers: dict[int, int]) -> dict:
    """What the calls alone take. A partner's sync needs a token (two calls to Entra), its pages
    of customers and a call per customer, at most CONCURRENCY at once and at most its pace (a
    tenth of a minute's worth at once, then the rate); the round runs `--sync-concurrency`
    partners at once. So the ideal is the longest of: every partner's own ideal packed without a
    gap into the places, the biggest partner's, and every call's latency spread over every
    place's calls in flight."""
    rate = args.calls_per_minute / 60
    burst = args.calls_per_minute / 10

    def own(n: int) -> float:
        calls = max(1, math.ceil(n / PAGE_SIZE)) + n
        by_latency = (2 + max(1, math.ceil(n / PAGE_SIZE))) * args.latency + (
            n * args.latency / CONCURRENCY
        )
        return max(by_latency, max(0.0, calls - burst) / rate)

    times = {p: own(n) for p, n in customers.items()}
    calls = sum(2 + max(1, math.ceil(n / PAGE_SIZE)) + n for n in customers.values())
    places = args.sync_concurrency
    packed = sum(times.values()) / places
    biggest = max(times.values())
    by_latency = calls * args.latency / (places * CONCURRENCY)
    return {
        "calls": calls,
        "places": places,
        "packed_seconds": round(packed, 1),
        "biggest_partner_seconds": round(biggest, 1),
        "by_latency_seconds": round(by_latency, 1),
        "ideal_seconds": round(max(packed, biggest, by_latency), 1),
    }


async def sync_phase(name, args, services, engine, http, child, customers) -> dict:
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE partner_center_connection SET next_sync_at = :now"),
            {"now": datetime.now(UTC) - timedelta(seconds=1)},
        )
    before = await stats(http, child)
    cpu, started = time.process_time(), time.perf_counter()
    synced = await sync_due_partners(services)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    calls = delta(await stats(http, child), before)
    async with engine.connect() as connection:
        problems = (
            await connection.execute(
                text("SELECT count(*) FROM partner_center_connection WHERE problem <> ''")
            )
        ).scalar()
        linked = (
            await connection.execute(
                text("SELECT count(*) FROM customer WHERE external_id IS NOT NULL")
            )
        ).scalar()
    ideal = sync_ideal(args, customers)
    return {
        "phase": name,
        "partners_synced": synced,
        "partners_with_a_problem": problems,
        "customers_linked": linked,
        "wall_seconds": round(wall, 1),
        **ideal,
        "wall_over_ideal": round(wall / ideal["ideal_seconds"], 2),
        "bot_cpu_seconds": round(cpu, 1),
        "microsoft_cpu_seconds": None,
        "calls_made": calls,
    }


async def check_changes(engine, changed: list) -> int:
    """How many of the changed subscriptions the re-sync did not bring to Partner Center's."""
    wrong = 0
    query = text("SELECT id, seats, status FROM subscription WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    async with engine.connect() as connection:
        for start in range(0, len(changed), 5000):
            chunk = changed[start : start + 5000]
            found = await connection.execute(query, {"ids": [row[0] for row in chunk]})
            now = {number: (seats, status) for number, seats, status in found.all()}
            for number, seats, _status in chunk:
                now_seats, now_status = now.get(number, (None, None))
                wrong += not (now_status == "cancelled" or now_seats == seats + 1)
    return wrong


async def resync_phase(args, services, engine, http, child, customers, state) -> dict:
    async with http.post(f"{child.url}/change?share=0.01") as response:
        changed = (await response.json())["rows"]
    state["changed"] = changed  # undone at the end, or by the next run
    save_state(state)
    figures = await sync_phase("resync", args, services, engine, http, child, customers)
    figures["subscriptions_changed_in_partner_center"] = len(changed)
    figures["changes_not_synced"] = await check_changes(engine, changed)
    return figures


async def add_incident(engine, service: str, partner_ids: list[int]) -> tuple[int, str]:
    """One vendor incident naming no regions, alerted to every partner of the run."""
    external_id = f"{INCIDENT_PREFIX}{int(time.time())}"
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        incident_id = (
            await connection.execute(
                text(
                    "INSERT INTO incident (external_id, service, feature, title, classification, "
                    "status, impact_description, regions, start_at, is_resolved, latest_post, "
                    "posts_seen, version, body_hash, created_at, updated_at, declared_by) VALUES "
                    "(:x, :service, '', 'Users cannot join meetings', 'incident', "
                    "'serviceDegradation', 'Users may be unable to join meetings.', '', :now, "
                    ":no, '', 0, 1, '', :now, :now, '') RETURNING id"
                ),
                {"x": external_id, "service": service, "now": now, "no": False},
            )
        ).scalar()
        await connection.execute(
            text(
                "INSERT INTO incident_alert (incident_id, partner_id, channel, root_key, "
                "created_at) VALUES (:i, :p, :channel, :key, :now)"
            ),
            [
                {
                    "i": incident_id,
                    "p": p,
                    "channel": f"CB{p:07d}A",
                    "key": f"incident:{incident_id}:partner:{p}:root",
                    "now": now,
                }
                for p in partner_ids
            ],  # fmt: skip
        )
    return incident_id, external_id


async def link_customers(engine, last_partner: int) -> None:
    """Gives the customers their tenant ids as a sync would (bench/microsoft.py's ids)."""
    if engine.dialect.name == "sqlite":
        tenant = "printf('%08x-0000-4000-8000-%012x', id, id)"
    else:
        tenant = "lpad(to_hex(id), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(id), 12, '0')"
    async with engine.begin() as connection:
        await connection.execute(
            text(f"UPDATE customer SET external_id = {tenant} WHERE partner_id <= :last"),
            {"last": last_partner},
        )


async def confirm_phase(args, services, engine, http, child, partner_ids) -> dict:
    incident_id, external_id = await add_incident(engine, args.service, partner_ids)
    async with http.post(
        f"{child.url}/incident", params={"id": external_id, "listed": str(args.listed),
                                         "service": args.service}
    ) as response:  # fmt: skip
        listed = (await response.json())["listed"]
    before = await stats(http, child)
    cpu, started = time.process_time(), time.perf_counter()
    report = await confirm_incident(services, incident_id)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    calls = delta(await stats(http, child), before)
    async with engine.connect() as connection:
        answers = dict(
            (
                await connection.execute(
                    text(
                        "SELECT result || coalesce(':' || nullif(reason, ''), ''), count(*) "
                        "FROM incident_tenant_check WHERE incident_id = :i GROUP BY 1"
                    ),
                    {"i": incident_id},
                )
            ).all()
        )
        per_partner = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM incident_tenant_check WHERE incident_id = :i "
                    "GROUP BY partner_id"
                ),
                {"i": incident_id},
            )
        ).scalars().all()  # fmt: skip
        edits = (
            await connection.execute(
                text("SELECT count(*) FROM outbox_message WHERE idempotency_key LIKE :k"),
                {"k": f"incident:{incident_id}:%:edit:checks:%"},
            )
        ).scalar()
    in_flight = args.tenant_concurrency * args.tenant_partners
    # Each tenant needs a token and one Graph call, one after the other; a partner's tenants are
    # asked --tenant-concurrency at a time.
    spread = report.asked * 2 * args.latency / in_flight
    biggest = max(per_partner, default=0) * 2 * args.latency / args.tenant_concurrency
    ideal = max(spread, biggest)
    return {
        "phase": "confirm",
        "service": args.service,
        "partners_asked": report.partners,
        "tenants_asked": report.asked,
        "tenants_listing_the_issue": listed,
        "answers": answers,
        "alert_edits_queued": edits,
        "wall_seconds": round(wall, 1),
        "in_flight": in_flight,
        "largest_partner_tenants": max(per_partner, default=0),
        "spread_seconds": round(spread, 1),
        "biggest_partner_seconds": round(biggest, 1),
        "ideal_seconds": round(ideal, 1),
        "wall_over_ideal": round(wall / ideal, 2) if ideal else None,
        "bot_cpu_seconds": round(cpu, 1),
        "calls_made": calls,
    }


async def benchmark(args) -> dict:
    database_url = generated_database_url(args.database_url)
    engine = create_engine(database_url)
    folder = RESULTS / f"partner_center-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    folder.mkdir(parents=True, exist_ok=True)
    child = None
    figures: dict = {
        "benchmark": "partner_center",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": make_url(database_url).get_backend_name(),
        "latency": args.latency,
        "limit_per_partner_per_minute": args.limit,
        "calls_per_minute": args.calls_per_minute,
        "graph_throttled_share": args.throttled,
        "phases": [],
    }
    try:
        figures["start"] = await restore(database_url)
        key = Fernet.generate_key().decode()
        connected = await connect_partners(engine, args.partners, key)
        customers = connected["customers"]
        figures["partners"] = len(connected["partner_ids"])
        figures["customers"] = sum(customers.values())
        figures["largest_partner"] = max(customers.values(), default=0)
        async with aiohttp.ClientSession() as http:
            child, where = await start_microsoft(args, database_url, folder, http)
            base = settings_for(
                args, database_url, key, where,
                partner_center_authority=where["partner_center"],
                partner_center_api_url=where["partner_center"],
            )  # fmt: skip
            phases = args.phases.split(",")
            services = build_services(base, engine=engine)
            try:
                for name in ("sync", "resync"):
                    if name not in phases:
                        continue
                    child_cpu = child.cpu_seconds()
                    if name == "sync":
                        result = await sync_phase(
                            name, args, services, engine, http, child, customers
                        )
                    else:
                        result = await resync_phase(
                            args, services, engine, http, child, customers, connected["state"]
                        )
                    result["microsoft_cpu_seconds"] = round(child.cpu_seconds() - child_cpu, 1)
                    figures["phases"].append(result)
                    print(phase_line(result), flush=True)
            finally:
                services.app_tokens.close()
            if "confirm" in phases:
                if "sync" not in phases:
                    await link_customers(engine, connected["partner_ids"][-1])
                asking = build_services(
                    settings_for(
                        args, database_url, key, where,
                        partner_center_authority=where["graph"],
                        outage_tenant_graph_url=where["graph"] + "/v1.0",
                    ),
                    engine=engine,
                )  # fmt: skip
                try:
                    child_cpu = child.cpu_seconds()
                    result = await confirm_phase(
                        args, asking, engine, http, child, connected["partner_ids"]
                    )
                    result["microsoft_cpu_seconds"] = round(child.cpu_seconds() - child_cpu, 1)
                    figures["phases"].append(result)
                    print(phase_line(result), flush=True)
                finally:
                    asking.app_tokens.close()
            figures["microsoft_peak_rss_mib"] = round((child.status_field_kib("VmHWM") or 0) / 1024)
    finally:
        if child is not None:
            child.stop()
        try:
            figures["end"] = await restore(database_url)
        except Exception as error:  # the figures are kept; the next run undoes it
            figures["end"] = f"not undone ({type(error).__name__}: {error}): the next run will"
            sys.stderr.write(f"error: {figures['end']}\n")
        finally:
            await engine.dispose()
    return figures


def phase_line(f: dict) -> str:
    calls = f["calls_made"]
    if f["phase"] == "confirm":
        return (
            f"confirm {f['service']!r} partners={f['partners_asked']} tenants={f['tenants_asked']} "
            f"wall={f['wall_seconds']}s ideal={f['ideal_seconds']}s (spread "
            f"{f['spread_seconds']}s, biggest partner {f['biggest_partner_seconds']}s) "
            f"wall/ideal={f['wall_over_ideal']} graph calls={calls['graph_calls']} "
            f"429s={calls['graph_429s']} tokens={calls['graph_tokens']} "
            f"openid={calls['graph_openid']} edits={f['alert_edits_queued']} "
            f"answers={f['answers']} bot cpu={f['bot_cpu_seconds']}s "
            f"microsoft cpu={f['microsoft_cpu_seconds']}s"
        )
    return (
        f"{f['phase']} partners={f['partners_synced']} problems={f['partners_with_a_problem']} "
        f"wall={f['wall_seconds']}s ideal={f['ideal_seconds']}s (packed {f['packed_seconds']}s, "
        f"biggest partner {f['biggest_partner_seconds']}s, latency {f['by_latency_seconds']}s) "
        f"wall/ideal={f['wall_over_ideal']} calls={calls['partner_center_calls']} "
        f"429s={calls['partner_center_429s']} tokens={calls['partner_center_tokens']} "
        f"bot cpu={f['bot_cpu_seconds']}s microsoft cpu={f['microsoft_cpu_seconds']}s"
        + (
            f" changed={f['subscriptions_changed_in_partner_center']} "
            f"not synced={f['changes_not_synced']}"
            if f["phase"] == "resync"
            else ""
        )
    )


def main() -> int:
    args = parser().parse_args()
    if args.partners < 1 or args.latency < 0 or args.sync_concurrency < 1:
        sys.stderr.write("error: --partners and --sync-concurrency must be 1 or more\n")
        return 2
    try:
        generated_database_url(args.database_url)
    except BenchError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    return run_and_save("partner_center", lambda: benchmark(args))


if __name__ == "__main__":
    sys.exit(main())
