"""Every partner's weekly summary at once, as the scheduler posts them on a Monday morning: the
figures, the chart and the queued messages, over a data set from bench/gen.py.

    python bench/summaries.py --database-url URL [--concurrency 4]

Every partner's schedule is set to Monday 09:00 (its own time zone) and the run ledger and queued
summaries of earlier runs are cleared, then `post_due_summaries` runs once, as at Monday 19:00
UTC, when Monday 09:00 has passed in every zone. At the end it deletes the summaries it queued
and the runs it claimed, so that the next `serve` on the database (another bench's) does not send
them first; the schedules stay at Monday 09:00. Prints one line; writes the figures to
bench/results/summaries-<timestamp>.json."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta

from load import latency_figures
from sqlalchemy import text
from sqlalchemy.engine import make_url
from targets import BenchError, generated_database_url, run_and_save

from bot.catalogue import load_catalogue
from bot.settings import Settings
from bot.subscriptions.rules import CommissionRule
from bot.summaries import flows
from storage.db import create_engine, session_factory


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python bench/summaries.py", description=__doc__.splitlines()[0]
    )
    root.add_argument(
        "--database-url",
        required=True,
        help="a database filled by bench/gen.py (PostgreSQL: its name must contain 'bench')",
    )
    root.add_argument(
        "--concurrency",
        type=int,
        default=flows.SUMMARY_CONCURRENCY,
        help="batches of partners worked on at once (the bot's own figure by default)",
    )
    return root


def monday_evening(now: datetime) -> datetime:
    """The latest Monday 19:00 UTC before now: Monday 09:00 has passed in every zone by then, less
    than 24 hours before (so every partner is due, none too late)."""
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=19, minute=0, second=0, microsecond=0
    )
    return monday if monday <= now else monday - timedelta(days=7)


async def clear_summaries(connection) -> None:
    """Deletes every claimed summary run and every queued summary message."""
    await connection.execute(text("DELETE FROM summary_run"))
    await connection.execute(
        text("DELETE FROM outbox_message WHERE idempotency_key LIKE 'summary:%'")
    )


async def reset(engine) -> tuple[int, int]:
    """Makes every partner due: Monday 09:00 schedules, no run claimed, no summary queued."""
    async with engine.begin() as connection:
        await clear_summaries(connection)
        await connection.execute(
            text("UPDATE summary_schedule SET weekday = 0, at_minutes = 540, enabled = :yes"),
            {"yes": True},
        )
        partners = (await connection.execute(text("SELECT count(*) FROM partner"))).scalar()
        customers = (await connection.execute(text("SELECT count(*) FROM customer"))).scalar()
    if not partners:
        raise BenchError("the database has no partners: fill it with bench/gen.py first")
    return partners, customers


async def benchmark(url: str, concurrency: int) -> dict:
    """Makes every partner due, posts their summaries once, and returns the figures."""
    engine = create_engine(url)
    partners = 0
    try:
        partners, customers = await reset(engine)
        catalogue = load_catalogue(None)
        settings = Settings()  # the bot's own commission rates (or the environment's)
        rule = CommissionRule(settings.commission_first_year_rate, settings.commission_later_rate)
        now = monday_evening(datetime.now(UTC))
        timings: list[float] = []
        cpu_before, started = time.process_time(), time.perf_counter()
        posted = await flows.post_due_summaries(
            session_factory(engine),
            catalogue=catalogue,
            rule=rule,
            now=now,
            concurrency=concurrency,
            timings=timings,
        )
        total = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        async with engine.connect() as connection:
            queued = (
                await connection.execute(
                    text(
                        "SELECT count(*), coalesce(sum(length(payload)), 0) FROM outbox_message "
                        "WHERE idempotency_key LIKE 'summary:%'"
                    )
                )
            ).one()
    finally:
        try:
            if partners:
                # Left queued, they would be due for the next serve on this database.
                async with engine.begin() as connection:
                    await clear_summaries(connection)
        finally:
            await engine.dispose()
    return {
        "benchmark": "summaries",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": make_url(url).get_backend_name(),
        "partners": partners,
        "customers": customers,
        "as_of": now.isoformat(),
        "concurrency": concurrency,
        "posted": posted,
        "total_seconds": round(total, 1),
        "per_partner_ms": {
            **latency_figures(timings),
            "max": round(1000 * max(timings, default=0.0), 2),
        },
        "bench_process_cpu_seconds": round(cpu, 1),
        "queued_messages": queued[0],
        "queued_megabytes": round(queued[1] / 1e6, 1),
    }


def figures_line(f: dict) -> str:
    p = f["per_partner_ms"]
    return (
        f"summaries {f['database']} partners={f['partners']} customers={f['customers']} "
        f"posted={f['posted']} total={f['total_seconds']}s per partner p50={p['p50']}ms "
        f"p95={p['p95']}ms p99={p['p99']}ms max={p['max']}ms concurrency={f['concurrency']} "
        f"cpu={f['bench_process_cpu_seconds']}s queued={f['queued_messages']} messages "
        f"({f['queued_megabytes']} MB)"
    )


def main() -> int:
    args = parser().parse_args()
    if not 1 <= args.concurrency <= 32:
        sys.stderr.write("error: --concurrency must be between 1 and 32\n")
        return 2
    try:
        url = generated_database_url(args.database_url)
    except BenchError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    return run_and_save("summaries", lambda: benchmark(url, args.concurrency), line=figures_line)


if __name__ == "__main__":
    sys.exit(main())
