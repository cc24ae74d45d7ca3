"""What the command line tells an operator before anything runs: real help for every command,
every missing setting at once, no empty database left behind, a team id that is not one."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.imports.rules import (
    CUSTOMER_COLUMNS,
    CUSTOMER_OPTIONAL_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    SUBSCRIPTION_OPTIONAL_COLUMNS,
)
from tests.utils.serve import SERVE_SETTINGS, run_bot


def help_of(command: str, capsys: pytest.CaptureFixture) -> str:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("start", "when the database has no partners yet"),
        ("serve", "SLACK_SIGNING_SECRET and SECRET_KEY (at\nleast 32 random characters)"),
        ("migrate", "Safe to run again"),
        ("demo-data", "10 partners (workspaces T0DEMO001 to\nT0DEMO010"),
        ("shell", "@name mentions one of the partner's people"),
    ],
)
def test_each_command_has_help_beyond_its_usage_line(command, says, capsys):
    text = help_of(command, capsys)
    assert says in text
    # The usage line, a paragraph of at least three lines, the options.
    assert len([line for line in text.splitlines() if line.strip()]) >= 6


def test_import_help_lists_every_csv_column(capsys):
    text = help_of("import", capsys)
    columns = (
        CUSTOMER_COLUMNS
        + CUSTOMER_OPTIONAL_COLUMNS
        + SUBSCRIPTION_COLUMNS
        + SUBSCRIPTION_OPTIONAL_COLUMNS
    )
    described = {line.split()[0] for line in text.splitlines() if line.startswith("  ")}
    assert set(columns) <= described, set(columns) - described
    assert "customers columns: name,domain,region,contact_name,contact_email[,timezone]" in text
    assert "Middle\n                 East & Africa" in text  # every region, wrapped


async def test_serve_names_every_missing_setting_at_once_and_creates_no_database(tmp_path):
    database = tmp_path / "partnerbot.db"
    code, _, err = await run_bot("serve", database_url=f"sqlite:///{database}", cwd=tmp_path)

    assert code == 1
    assert err.splitlines() == [
        "error: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN and SECRET_KEY are not set; "
        "set them in the environment or in .env"
    ]
    assert not database.exists()


async def test_serve_refuses_a_secret_key_too_short_to_be_a_secret(tmp_path):
    settings = SERVE_SETTINGS | {"SECRET_KEY": "hunter2-but-longer"}  # 18 characters
    code, _, err = await run_bot(
        "serve", database_url=f"sqlite:///{tmp_path / 'p.db'}", cwd=tmp_path, **settings
    )
    assert code == 1
    assert err.startswith(
        "error: SECRET_KEY is 18 characters long, too short to be a secret: use at least 32 "
        "random characters"
    )


async def test_serve_on_a_database_never_created_says_so_and_leaves_no_empty_file(tmp_path):
    database = tmp_path / "partnerbot.db"
    code, _, err = await run_bot(
        "serve", database_url=f"sqlite:///{database}", cwd=tmp_path, **SERVE_SETTINGS
    )
    assert code == 1
    assert "does not exist: run `python -m bot migrate`" in err
    assert not database.exists()


@pytest.mark.parametrize("command", [["shell"], ["import", "customers", "c.csv"]])
async def test_a_team_id_that_is_not_one_is_called_so(command, tmp_path, database_url, engine):
    code, _, err = await run_bot(
        *command, "--team-id", "garbage", database_url=database_url, cwd=tmp_path
    )
    assert code == 1
    assert err.strip() == "error: --team-id 'garbage' is not a Slack workspace id such as T0123ABCD"


async def test_a_plan_catalogue_that_cannot_be_used_is_named_in_one_line(tmp_path):
    (tmp_path / "plans.csv").write_text("code,name,services,list_price\nX,Y,Exchange Online,abc\n")
    code, _, err = await run_bot(
        "migrate", database_url="sqlite://", cwd=tmp_path, PLAN_CATALOGUE="plans.csv"
    )
    assert code == 1
    assert err.splitlines() == [
        "error: PLAN_CATALOGUE plans.csv: line 2: list_price is not a number"
    ]
