"""The servers a benchmark loads: their database, and the bot or the floor as a child process."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.demo import DemoReport, load_demo_data
from bot.settings import async_database_url
from storage import schema
from storage.db import create_engine, is_sqlite, session_factory

RESULTS = Path(__file__).parent / "results"
# The bench drops everything in the database it is given, so it only takes one named for it.
REFUSED_DATABASES = {"", "postgres", "test", "template0", "template1"}
DATABASE_NAME_MARK = "bench"
HEALTHY_WITHIN = 30.0  # seconds for a child to answer /healthz
STOP_WITHIN = 5.0  # seconds for a child to stop on SIGTERM before it is killed


class BenchError(Exception):
    """Stops the benchmark with one line on standard error."""


def bench_database_url(given: str | None, folder: Path) -> str:
    """The async URL the bench runs on: a fresh SQLite file in `folder` unless a URL is given."""
    if not given:
        return async_database_url(f"sqlite:///{folder / 'bench.db'}")
    try:
        url = async_database_url(given)
    except ValueError as error:
        raise BenchError(f"--database-url {error}") from None
    if not is_sqlite(url):
        return checked_postgres_url(url)
    path = make_url(url).database or ""
    if path in ("", ":memory:") or Path(path).exists():
        raise BenchError(
            "--database-url: give a SQLite file that does not exist yet (the bench creates it and "
            "loads the demo data), or leave the option out for a temporary one"
        )
    return url


def checked_postgres_url(url: str) -> str:
    """Returns the async URL of a PostgreSQL database the bench may empty, or refuses it."""
    database = make_url(url).database or ""
    if database in REFUSED_DATABASES or DATABASE_NAME_MARK not in database:
        raise BenchError(
            f"--database-url names the database {database or '(none)'!r}; the bench empties the "
            f"database it runs on, so give it a dedicated one whose name contains "
            f"{DATABASE_NAME_MARK!r}, e.g. postgresql://postgres@127.0.0.1:5432/partnerbot_bench"
        )
    return async_database_url(url)


def generated_database_url(given: str) -> str:
    """The async URL of a database that bench/gen.py fills or filled: any SQLite file; on
    PostgreSQL only a database named for benches."""
    try:
        url = async_database_url(given)
    except ValueError as error:
        raise BenchError(f"--database-url {error}") from None
    return url if is_sqlite(url) else checked_postgres_url(url)


async def empty_postgres_database(url: str) -> None:
    """Creates the database when it is missing, then drops everything in it."""
    target = make_url(url).set(drivername="postgresql")
    try:
        connection = await asyncpg.connect(target.render_as_string(hide_password=False))
    except asyncpg.InvalidCatalogNameError:
        server = target.set(database="postgres").render_as_string(hide_password=False)
        connection = await asyncpg.connect(server)
        await connection.execute(f'CREATE DATABASE "{target.database}"')
        await connection.close()
        connection = await asyncpg.connect(target.render_as_string(hide_password=False))
    try:
        await connection.execute("DROP SCHEMA public CASCADE")
        await connection.execute("CREATE SCHEMA public")
    finally:
        await connection.close()


async def prepare_database(url: str) -> DemoReport:
    """Brings an empty database to the newest schema and loads the demo data into it."""
    engine = create_engine(url)
    try:
        if not is_sqlite(url):
            await empty_postgres_database(url)
        await schema.upgrade(engine)
        report = await load_demo_data(session_factory(engine))
        if engine.dialect.name == "postgresql":
            async with engine.connect() as connection:
                # Fresh tables have no planner statistics yet; a deployed database would.
                await connection.execute(text("ANALYZE"))
                await connection.commit()
    except (OSError, SQLAlchemyError, asyncpg.PostgresError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise BenchError(f"the database cannot be prepared: {reason}") from None
    finally:
        await engine.dispose()
    return report


async def drop_queued_messages(connection) -> int:
    """Deletes every outbox message not yet sent, so that a bench's `serve` measures only its own
    work: messages another bench left due (summaries.py, a fan-out stopped half-way) would be sent
    first, beside the load. A bench database only (its name says so)."""
    result = await connection.execute(text("DELETE FROM outbox_message WHERE state = 'pending'"))
    return result.rowcount or 0


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ChildServer:
    """One HTTP server under load, run as a child process with its output in a log file."""

    def __init__(self, name: str, command: list[str], *, env: dict, log_path: Path) -> None:
        self.name = name
        self.command = command
        self.port = free_loopback_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def exit_status(self) -> int | None:
        """The child's exit status, or None while it runs."""
        return None if self.process is None else self.process.poll()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> ChildServer:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.log_path.parent,  # away from any .env in the checkout
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def log_tail(self, lines: int = 15) -> str:
        text_lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text_lines[-lines:])

    async def wait_until_healthy(self, http: aiohttp.ClientSession) -> None:
        """Polls /healthz until it answers 200; a child that exits or stays silent stops the run."""
        deadline = time.monotonic() + HEALTHY_WITHIN
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with status {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                async with http.get(f"{self.url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise BenchError(f"{self.name} did not answer /healthz within {HEALTHY_WITHIN:.0f} s")

    def status_field_kib(self, field: str) -> int | None:
        """Reads one memory figure (e.g. VmHWM, the peak resident set) from /proc, in KiB."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        return None

    def cpu_seconds(self) -> float | None:
        """Returns the CPU time (user + system) the child has used so far (None once it is gone)."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        user_ticks, system_ticks = int(fields[11]), int(fields[12])
        return (user_ticks + system_ticks) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Stops the child: SIGTERM, then SIGKILL if it has not exited within STOP_WITHIN."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_WITHIN)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def bot_command() -> list[str]:
    return [sys.executable, "-m", "bot", "serve"]


def floor_command() -> list[str]:
    return [sys.executable, str(Path(__file__).with_name("floor_app.py"))]


def run_and_save(
    name: str, work: Callable[[], Awaitable[dict]], *, line: Callable[[dict], str] | None = None
) -> int:
    """Runs a benchmark to its end, prints its line, and saves its figures (with the machine's)
    to bench/results/<name>-<timestamp>.json; returns the exit status. A BenchError is one line
    on standard error (1); Ctrl-C or SIGTERM stops the run, closing what it started (130)."""

    async def stoppable() -> dict:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
        return await work()

    started = time.monotonic()
    try:
        result = asyncio.run(stoppable())
    except BenchError as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.stderr.write("stopped\n")
        return 130
    if line is not None:
        print(line(result))
    result.setdefault("machine", {"cpus": os.cpu_count(), "python": platform.python_version()})
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"results: {path}  (whole run {time.monotonic() - started:.1f} s)")
    return 0
