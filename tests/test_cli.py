"""`python -m bot …` as an operator runs it: real processes, real database, one-line errors."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from storage import partners

SETTINGS_VARIABLES = (
    "DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
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
    "SECRET_KEY": "cli-test-secret-key",
}


async def test_partner_add_registers_a_workspace_once(database_url, sessions, tmp_path):
    args = (
        "partner",
        "add",
        "Northwind Cloud",
        "--team-id",
        "t0nw",
        "--alert-channel",
        "C0ALERT",
        "--manager-channel",
        "C0MGR",
        "--timezone",
        "Europe/Berlin",
        "--managers",
        "U1,U2",
    )
    code, _, err = await run_bot(*args, database_url=database_url, cwd=tmp_path)
    assert code == 0, err

    async with sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id="T0NW")
        assert partner.name == "Northwind Cloud"
        assert partner.timezone == "Europe/Berlin"
        assert await partners.manager_ids(session=session, partner_id=partner.id) == ["U1", "U2"]

    code, out, err = await run_bot(*args, database_url=database_url, cwd=tmp_path)
    assert code == 1
    assert err.strip() == "error: workspace T0NW is already registered to partner 'Northwind Cloud'"


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--timezone", "Mars/Olympus", "--timezone 'Mars/Olympus' is not an IANA time zone"),
        ("--alert-channel", "#general", "--alert-channel '#general' is not a Slack channel id"),
    ],
)
async def test_partner_add_names_the_bad_option(
    database_url, sessions, tmp_path, option, value, message
):
    args = {
        "--alert-channel": "C0A",
        "--manager-channel": "C0M",
        "--timezone": "UTC",
        option: value,
    }
    flat = [item for pair in args.items() for item in pair]
    code, _, err = await run_bot(
        "partner", "add", "X", "--team-id", "T0X", *flat, database_url=database_url, cwd=tmp_path
    )
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("missing", ["SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SECRET_KEY"])
async def test_serve_without_a_required_secret_stops_with_one_line(
    database_url, engine, tmp_path, missing
):
    settings = {k: v for k, v in SERVE_SETTINGS.items() if k != missing}
    code, _, err = await run_bot("serve", database_url=database_url, cwd=tmp_path, **settings)
    assert code == 1
    assert err.strip().splitlines() == [
        f"error: {missing} is not set; set it in the environment or in .env"
    ]


async def test_serve_refuses_a_database_that_was_never_migrated(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    code, _, err = await run_bot("serve", database_url=url, cwd=tmp_path, **SERVE_SETTINGS)
    assert code == 1
    assert "run `python -m bot migrate` first" in err
    assert "Traceback" not in err


async def test_migrate_then_migrate_again_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = await run_bot("migrate", database_url=url, cwd=tmp_path)
    second = await run_bot("migrate", database_url=url, cwd=tmp_path)
    assert first[0] == 0 and "migrated from empty" in first[2]
    assert second[0] == 0 and "up to date" in second[2]


async def test_a_malformed_database_url_is_named(tmp_path):
    code, _, err = await run_bot("migrate", database_url="mysql://nope", cwd=tmp_path)
    assert code == 1
    assert err.strip() == "error: DATABASE_URL must be a sqlite:// or postgresql:// URL"


async def test_settings_come_from_a_dotenv_file_in_the_working_directory(tmp_path):
    (tmp_path / ".env").write_text("PORT=not-a-number\n")
    code, _, err = await run_bot("migrate", database_url="sqlite://", cwd=tmp_path)
    assert code == 1
    assert err.startswith("error: PORT ")


async def serve_until_healthy(command: str, database_url: str, cwd: Path) -> str:
    """Runs `python -m bot <command>` as a server, checks /healthz, stops it with SIGTERM."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        command,
        cwd=cwd,
        env=environment(database_url, PORT=str(port), **SERVE_SETTINGS),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert response.status == 200
                        assert await response.json() == {"status": "ok"}
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail(f"{command} did not answer /healthz within 20 seconds")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, err = await asyncio.wait_for(process.communicate(), 20)
        except TimeoutError:
            process.kill()  # never leave a stuck bot behind
            await process.wait()
            raise
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in err.decode(), err.decode()[err.decode().find("Traceback") - 600 :][
        :1500
    ]
    return err.decode()


async def test_serve_answers_health_checks_and_stops_cleanly_on_sigterm(
    database_url, engine, tmp_path
):
    log = await serve_until_healthy("serve", database_url, tmp_path)
    assert "partnerbot serving on port" in log


async def test_start_without_slack_migrates_loads_demo_data_and_opens_the_shell(tmp_path):
    url = f"sqlite:///{tmp_path / 'quickstart.db'}"
    code, out, err = await run_bot(
        "start", database_url=url, cwd=tmp_path, stdin="/subscription plumbing\n1\n"
    )
    assert code == 0, err
    assert "demo data loaded: 10 partners, 1,040 customers" in err
    assert out.splitlines()[0].startswith("Slack is not connected (SLACK_BOT_TOKEN and ")
    assert "partnerbot local shell for" in out
    assert "O'Brien & Sons Plumbing" in out
    assert "Your commission: earned to date $" in out  # picking [1] answered with a customer

    # A second start finds data and loads nothing more.
    code, out, err = await run_bot("start", database_url=url, cwd=tmp_path)
    assert code == 0, err
    assert "demo data" not in err


async def test_start_with_slack_credentials_serves(tmp_path):
    log = await serve_until_healthy("start", f"sqlite:///{tmp_path / 'qs.db'}", tmp_path)
    assert "demo data loaded" in log
    assert "partnerbot serving on port" in log


async def test_the_shell_answers_slash_commands_for_one_partner(database_url, sessions, tmp_path):
    from tests.factories import make_customer, make_partner

    partner = await make_partner(sessions, name="Northwind Cloud")
    await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")
    await make_customer(sessions, partner, name="Contoso Legal", domain="contosolegal.com")
    other = await make_partner(sessions, name="Other Partner")
    await make_customer(sessions, other, name="Contoso Elsewhere", domain="elsewhere.com")

    code, out, err = await run_bot(
        "shell",
        "--team-id",
        partner.team_id,
        database_url=database_url,
        cwd=tmp_path,
        stdin="/subscription contoso\n2\n/partnerbot help\n/subscription\n",
    )

    assert code == 0, err
    assert "partnerbot local shell for Northwind Cloud" in out
    assert "2 customers match “contoso”" in out
    assert "[1] Contoso Dental · contosodental.com" in out
    assert "Contoso Legal\n=============" in out  # picking [2] answered with that customer
    assert "Contoso Elsewhere" not in out
    assert "What partnerbot can do" in out
    assert "/subscription contoso.onmicrosoft.com" in out  # the usage answer


async def test_the_shell_refuses_an_unknown_workspace(database_url, engine, tmp_path):
    code, _, err = await run_bot(
        "shell", "--team-id", "T0NOBODY", database_url=database_url, cwd=tmp_path
    )
    assert code == 1
    assert err.strip() == "error: --team-id T0NOBODY: no partner is registered for that workspace"


async def read_until(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> re.Match:
    """Reads a process's output until a pattern shows up (10 s at most)."""

    async def read() -> re.Match:
        while not (match := re.search(pattern, "".join(seen))):
            chunk = await stream.read(4096)
            if not chunk:
                raise AssertionError(f"output ended without {pattern!r}:\n{''.join(seen)}")
            seen.append(chunk.decode())
        return match

    return await asyncio.wait_for(read(), 10)


async def test_an_order_filed_in_the_shell_is_confirmed_on_its_page_and_shows_up_after(
    database_url, sessions, tmp_path
):
    from tests.factories import make_customer, make_partner

    partner = await make_partner(sessions, name="Northwind Cloud")
    await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "shell",
        "--team-id",
        partner.team_id,
        "--user",
        "U0ME",
        cwd=tmp_path,
        env=environment(database_url, PORT=str(port)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    seen: list[str] = []
    try:
        await read_until(process.stdout, rf"Order links open at http://localhost:{port}/", seen)
        process.stdin.write(b"/order contosodental.com EXO 12\n")
        link = (await read_until(process.stdout, r"http://localhost:\d+/orders/[\w-]{43}", seen))[0]

        async with aiohttp.ClientSession() as http:
            async with http.get(link) as page:
                html = await page.text()
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html)[1]
            form = {"csrf": csrf, "name": "Jane Doe", "email": "jane@contosodental.com"}
            async with http.post(link + "/confirm", data=form) as confirmed:
                assert "Thank you — your order is confirmed" in await confirmed.text()

        process.stdin.write(b"/subscription contosodental\n")
        await read_until(process.stdout, r"EXO\* — Exchange Online", seen)
        process.stdin.write(b"quit\n")
        await asyncio.wait_for(process.wait(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    out = "".join(seen) + (await process.stdout.read()).decode()
    assert f"[posted to {partner.alert_channel}]" in out and "[posted to U0ME]" in out
    assert "Contoso Dental confirmed order #" in out
    # 12 seats × $5.00 = $60.00 a month, with this partner as partner of record.
    assert "12 seats × $5.00 per seat = *$60.00 a month*" in out
    assert "Partner of record: Northwind Cloud" in out
