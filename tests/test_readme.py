"""README.md (and what it links in docs/) is the user's only guide: every setting, command, CSV
column and built-in plan is documented there, and nothing points at files users do not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.catalogue import BUILT_IN, CATALOGUE_COLUMNS
from bot.command_line import parser
from bot.imports.rules import (
    CUSTOMER_COLUMNS,
    CUSTOMER_OPTIONAL_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    SUBSCRIPTION_OPTIONAL_COLUMNS,
)
from bot.settings import Settings

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
FORMATS = (ROOT / "docs" / "formats.md").read_text()
GUIDES = {"README.md": README, **{f"docs/{p.name}": p.read_text() for p in ROOT.glob("docs/*.md")}}


def table_rows(text: str) -> dict[str, str]:
    """The rows of the Markdown tables in a text, by their first cell without backticks."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) > 1:
            rows[cells[0].strip("`")] = line
    return rows


def test_every_setting_has_a_row_in_the_configuration_table():
    configuration = README[README.index("### Configuration") :]
    rows = table_rows(configuration[: configuration.index("\n### ", 1)])
    variables = {name.upper() for name in Settings.model_fields}
    assert variables - set(rows) == set()
    # The contract's own, by name (hand-listed from the deployment contract).
    for variable in ("DATABASE_URL", "PORT", "PUBLIC_BASE_URL", "SECRET_KEY",
                     "INCIDENT_WEBHOOK_SECRET", "ORDER_LINK_TTL_DAYS", "SLACK_APP_TOKEN",
                     "SLACK_API_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):  # fmt: skip
        assert variable in rows


@pytest.mark.parametrize("guide", sorted(GUIDES))
def test_no_guide_points_at_files_users_do_not_have(guide):
    assert not re.search(r"CONTRACT\.md|DESIGN\.md|STYLE\.md|\.\./shared|shared/", GUIDES[guide])


def test_every_link_to_docs_leads_to_a_file():
    for guide, text in GUIDES.items():
        for target in re.findall(r"\]\(((?:\.\./|docs/)[^)#]+)", text):
            base = ROOT if guide == "README.md" else ROOT / "docs"
            assert (base / target).is_file(), (guide, target)


def test_every_command_of_the_command_line_is_in_the_readme():
    commands = parser()._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse's own
    operating = README[README.index("## Operating it") :]
    for name in commands:
        assert f"| `{name}" in operating, name


def test_every_csv_column_is_described():
    rows = table_rows(FORMATS)
    for column in (CUSTOMER_COLUMNS + CUSTOMER_OPTIONAL_COLUMNS + SUBSCRIPTION_COLUMNS
                   + SUBSCRIPTION_OPTIONAL_COLUMNS):  # fmt: skip
        assert column in rows, column
    assert ",".join(CATALOGUE_COLUMNS) in FORMATS


def test_every_built_in_plan_is_listed_with_its_services_and_price():
    rows = table_rows(FORMATS[FORMATS.index("## Plan catalogue") :])
    for plan in BUILT_IN.plans.values():
        row = rows.get(plan.code, "")
        assert plan.name in row and f"| {plan.list_price} |" in row, plan.code
        assert all(service in row for service in plan.services), plan.code
