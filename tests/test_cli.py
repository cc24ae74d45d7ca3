"""`python -m bot …` as an operator runs it: real processes, real database, one-line errors."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from storage import partners
from tests.utils.serve import SERVE_SETTINGS, environment, free_port, run_bot


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
    (tmp_path / "fresh.db").touch()  # a database file, with no tables yet
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


async def test_a_bad_plan_catalogue_is_named_with_its_line(tmp_path):
    catalogue = tmp_path / "plans.csv"
    catalogue.write_text("code,name,services,list_price\nM365-BB,Basic,Exchange Online,6.00\n"
                         "M365-X,,Microsoft Teams,1.00\n")  # fmt: skip
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code, _, err = await run_bot(
        "migrate", database_url=url, cwd=tmp_path, PLAN_CATALOGUE=str(catalogue)
    )
    assert code == 1 and "Traceback" not in err
    assert err.strip() == (
        f"error: PLAN_CATALOGUE {catalogue}: line 3: code, name and services are required"
    )


async def test_settings_come_from_a_dotenv_file_in_the_working_directory(tmp_path):
    (tmp_path / ".env").write_text("PORT=not-a-number\n")
    code, _, err = await run_bot("migrate", database_url="sqlite://", cwd=tmp_path)
    assert code == 1
    assert err.startswith("error: PORT ")


async def serve_until_healthy(
    command: str, database_url: str, cwd: Path, settings: dict | None = None, check=None
) -> str:
    """Runs `python -m bot <command>` as a server, checks /healthz (and `check(http, url)`),
    stops it with SIGTERM."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        command,
        cwd=cwd,
        env=environment(database_url, PORT=str(port), **(settings or SERVE_SETTINGS)),
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
            if check is not None:
                await check(http, f"http://127.0.0.1:{port}")
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
    # Only the bot speaks at start: no APScheduler job bookkeeping ("Adding job tentatively",
    # jobs all named run_job), no bolt warning that a token goes unused.
    speakers = {line.split()[3] for line in log.splitlines()}
    assert {speaker.split(".")[0].rstrip(":") for speaker in speakers} == {"bot"}, log
    assert "WARNING" not in log and "ERROR" not in log, log
    assert (
        "scheduled jobs: expire-orders every 0:05:00, weekly-summaries every 0:01:00, "
        "remind-filers every 0:15:00, forget-seen-requests every 0:10:00"
    ) in log


async def test_the_shell_answers_slash_commands_for_one_partner(database_url, sessions, tmp_path):
    from tests.utils.factories import make_customer, make_partner

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
    assert "/subscription obriensonsplumbing.onmicrosoft.com" in out  # the usage answer


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
    from tests.utils.factories import make_customer, make_partner

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


# Many workspaces (OAuth)

CLIENT_ID = "1111111111.2222222222"
OAUTH_SETTINGS = {
    "SLACK_API_URL": "http://127.0.0.1:9/api/",
    "SLACK_CLIENT_ID": CLIENT_ID,
    "SLACK_CLIENT_SECRET": "cli-test-client-secret",
    "SLACK_STATE_SECRET": "cli-test-state-secret",
    "SLACK_SIGNING_SECRET": "cli-test-signing-secret",
    "SECRET_KEY": "cli-test-secret-key-0123456789abcdef",
}


async def installed(engine, team_id: str, *, team_name: str = "Installed Co") -> None:
    """Stores a workspace's installation as the OAuth flow does."""
    import time

    from slack_sdk.oauth.installation_store import Installation

    from storage.installations import installation_store

    await installation_store(engine, client_id=CLIENT_ID).async_save(
        Installation(
            app_id="A0CLI", team_id=team_id, team_name=team_name, user_id="U0INSTALLER",
            bot_token=f"xoxb-{team_id}", bot_id="B0CLI", bot_user_id="U0BOT",
            installed_at=time.time(),
        )
    )  # fmt: skip


async def test_partner_link_moves_a_partner_to_the_workspace_that_installed_partnerbot(
    database_url, engine, sessions, tmp_path
):
    from tests.utils.factories import make_partner

    partner = await make_partner(sessions, name="Northwind Cloud", team_id="T0PLACEHOLDER")
    await installed(engine, "T0INSTALLED")

    code, out, err = await run_bot("partner", "list", database_url=database_url, cwd=tmp_path,
                                   **OAUTH_SETTINGS)  # fmt: skip
    assert code == 0, err
    assert f"{partner.id}\tT0PLACEHOLDER\tNorthwind Cloud" in out
    assert "T0INSTALLED\t(installed " in out and "not linked" in out

    args = ("partner", "link", "--team-id", "t0installed", "--name", "northwind  cloud")
    code, _, err = await run_bot(*args, database_url=database_url, cwd=tmp_path, **OAUTH_SETTINGS)
    assert code == 0, err
    assert "workspace T0INSTALLED linked to partner 'Northwind Cloud'" in err
    assert "registered for workspace T0PLACEHOLDER" in err
    async with sessions() as session:
        assert (await partners.get_by_id(session=session, partner_id=partner.id)).team_id == (
            "T0INSTALLED"
        )

    # Again: already so, nothing changes.
    code, _, err = await run_bot(*args, database_url=database_url, cwd=tmp_path, **OAUTH_SETTINGS)
    assert code == 0, err
    assert "already linked to partner 'Northwind Cloud'" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--team-id", "T0NOTHERE", "--partner-id", "{partner}"),
            "error: --team-id T0NOTHERE: no workspace with that id has installed partnerbot "
            "(install it from PUBLIC_BASE_URL/slack/install first)",
        ),
        (
            ("--team-id", "T0INSTALLED", "--partner-id", "999999"),
            "error: --partner-id 999999: no partner has that id",
        ),
        (
            ("--team-id", "T0INSTALLED", "--name", "Nobody Ltd"),
            "error: --name 'Nobody Ltd': no partner has that name",
        ),
        (
            ("--team-id", "T0TAKEN", "--partner-id", "{partner}"),
            "error: workspace T0TAKEN is already linked to partner 'Other Partner' (id {other})",
        ),
        (
            ("--team-id", "#general", "--partner-id", "{partner}"),
            "error: --team-id '#general' is not a Slack workspace id such as T0123ABCD",
        ),
    ],
)
async def test_partner_link_refuses_bad_input_with_one_line(
    database_url, engine, sessions, tmp_path, args, message
):
    from tests.utils.factories import make_partner

    partner = await make_partner(sessions, name="Northwind Cloud", team_id="T0PLACEHOLDER")
    other = await make_partner(sessions, name="Other Partner", team_id="T0TAKEN")
    await installed(engine, "T0INSTALLED")
    await installed(engine, "T0TAKEN")
    filled = [arg.format(partner=partner.id, other=other.id) for arg in args]
    code, _, err = await run_bot("partner", "link", *filled, database_url=database_url,
                                 cwd=tmp_path, **OAUTH_SETTINGS)  # fmt: skip
    assert code == 1
    assert err.strip().splitlines() == [message.format(partner=partner.id, other=other.id)]
    async with sessions() as session:
        unchanged = await partners.get_by_id(session=session, partner_id=partner.id)
    assert unchanged.team_id == "T0PLACEHOLDER"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SLACK_STATE_SECRET": None}, "error: SLACK_STATE_SECRET is not set; set it in the "
         "environment or in .env"),
        ({"SLACK_CLIENT_SECRET": None}, "error: SLACK_CLIENT_SECRET is not set; set it in the "
         "environment or in .env"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2"}, "error: SLACK_BOT_TOKEN is set together with "
         "SLACK_CLIENT_ID/SLACK_CLIENT_SECRET: unset SLACK_BOT_TOKEN to serve many workspaces "
         "(OAuth), or the OAuth variables to serve one"),
    ],
)  # fmt: skip
async def test_serve_with_oauth_refuses_an_incomplete_setup_with_one_line(
    database_url, engine, tmp_path, change, message
):
    settings = {k: v for k, v in {**OAUTH_SETTINGS, **change}.items() if v is not None}
    code, _, err = await run_bot("serve", database_url=database_url, cwd=tmp_path, **settings)
    assert code == 1
    assert err.strip().splitlines() == [message]


async def test_serve_with_oauth_needs_no_bot_token_and_starts_installs(
    database_url, engine, tmp_path
):
    async def starts_an_install(http: aiohttp.ClientSession, url: str) -> None:
        async with http.get(url + "/slack/install", allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"].startswith("http://127.0.0.1:9/oauth/v2/authorize?")
            assert f"client_id={CLIENT_ID}" in response.headers["Location"]
            assert "slack-app-oauth-state=" in response.headers["Set-Cookie"]

    log = await serve_until_healthy(
        "serve", database_url, tmp_path, settings=OAUTH_SETTINGS, check=starts_an_install
    )
    assert "workspaces install partnerbot from http://localhost:" in log


async def test_partner_approve_lets_a_waiting_workspace_in_and_says_so(
    database_url, sessions, tmp_path
):
    from bot.partners.flows import SetupForm, set_up_workspace
    from bot.partners.signup import Signup

    form = SetupForm("Alpha IT", "C0ALERT", "C0MGR", None, "Europe/Berlin")
    await set_up_workspace(sessions, team_id="T0WAITING", form=form, by="U0ME",
                           signup=Signup.PENDING)  # fmt: skip

    code, out, err = await run_bot("partner", "list", database_url=database_url, cwd=tmp_path)
    assert code == 0, err
    assert (
        "Alpha IT (waiting for approval: python -m bot partner approve --team-id T0WAITING)" in out
    )

    code, _, err = await run_bot(
        "partner", "approve", "--team-id", "t0waiting", database_url=database_url, cwd=tmp_path
    )
    assert code == 0, err
    assert "partner 'Alpha IT' (workspace T0WAITING) is approved" in err
    code, out, _ = await run_bot("partner", "list", database_url=database_url, cwd=tmp_path)
    assert "\tT0WAITING\tAlpha IT\n" in out

    code, _, err = await run_bot(
        "partner", "approve", "--team-id", "T0NOBODY", database_url=database_url, cwd=tmp_path
    )
    assert code == 1
    assert err.strip() == "error: no partner is registered for workspace T0NOBODY"
