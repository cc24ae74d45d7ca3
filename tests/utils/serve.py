"""Real `python -m bot …` processes, as an operator runs them: a free port, a clean environment,
and `serve` started and waited for."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp

SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_STATE_SECRET",
    "SLACK_API_URL",
    "PUBLIC_BASE_URL",
    "PORT",
    "INCIDENT_WEBHOOK_SECRET",
    "SECRET_KEY",
    "ORDER_LINK_TTL_DAYS",
)


def environment(database_url: str, **settings: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    return {**env, "DATABASE_URL": database_url, **settings}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVE_SETTINGS = {
    # Nothing listens there: posts fail at once instead of waiting on DNS for slack.com, which
    # this machine cannot reach (a stopping process would wait for those lookups).
    "SLACK_API_URL": "http://127.0.0.1:9/api/",
    "SLACK_BOT_TOKEN": "xoxb-cli-test",
    "SLACK_SIGNING_SECRET": "cli-test-signing-secret",
    "SECRET_KEY": "cli-test-secret-key-0123456789abcdef",
}


async def run_bot(
    *args: str, database_url: str, cwd: Path, stdin: str = "", **settings: str
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=environment(database_url, **settings),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    except TimeoutError:
        process.kill()  # never leave a stuck bot behind
        await process.wait()
        raise
    return process.returncode, out.decode(), err.decode()


SERVE_INCIDENT_SECRET = "crash-test-incident-secret"


async def start_serve(
    database_url: str,
    port: int,
    slack_api: str,
    cwd,
    *,
    scheduler: bool = False,
    lease: float = 1,
) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        cwd=cwd,
        env=environment(
            database_url,
            **{
                **SERVE_SETTINGS,
                "PORT": str(port),
                "SLACK_API_URL": slack_api,
                "INCIDENT_WEBHOOK_SECRET": SERVE_INCIDENT_SECRET,
                "OUTBOX_LEASE_SECONDS": str(lease),
                "RUN_SCHEDULER": "true" if scheduler else "false",
            },
        ),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError("serve did not answer /healthz within 20 seconds")
