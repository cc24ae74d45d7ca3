"""Who may become a partner by setting a workspace up (PARTNER_SIGNUP); the operator's approval."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.errors import UserError
from bot.partners.flows import SetupForm, approve_partner, set_up_workspace
from bot.partners.signup import Signup, signup_for
from bot.settings import SettingsError, load_settings
from storage import outbox, partners
from storage.summaries import scheduled_partners
from tests.utils.factories import make_partner

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FORM = SetupForm(
    name="Alpha IT",
    alert_channel="C0ALERT",
    manager_channel="C0MGR",
    orders_channel=None,
    timezone="Europe/Berlin",
)


@pytest.mark.parametrize(
    ("policy", "team_id", "expected"),
    [
        ("open", "T0ANY", Signup.APPROVED),
        ("approval", "T0ANY", Signup.PENDING),
        ("allow-list", "T0LISTED", Signup.APPROVED),
        ("allow-list", "t0listed", Signup.APPROVED),
        ("allow-list", "T0STRANGER", Signup.REFUSED),
    ],
)
def test_the_operators_policy_decides_what_a_new_workspace_becomes(policy, team_id, expected):
    decided = signup_for(team_id, policy=policy, allow_list={"T0LISTED"}, many_workspaces=True)
    assert decided is expected


@pytest.mark.parametrize("policy", ["open", "approval", "allow-list"])
def test_with_one_bot_token_the_one_workspace_is_the_operators_own(policy):
    assert signup_for("T0OWN", policy=policy, allow_list=set(), many_workspaces=False) is (
        Signup.APPROVED
    )


async def test_a_pending_workspace_is_stored_waiting_and_left_out_of_the_weekly_summaries(
    sessions,
):
    await make_partner(sessions, name="Approved IT")
    partner, created = await set_up_workspace(
        sessions, team_id="T0NEW1", form=FORM, by="U0ME", signup=Signup.PENDING
    )

    assert created and partner.approved_at is None
    async with sessions() as session:
        scheduled = [p.name for p, _ in await scheduled_partners(session=session)]
    assert scheduled == ["Approved IT"]


async def test_a_refused_workspace_is_told_why_and_nothing_is_stored(sessions):
    with pytest.raises(UserError, match="not one of the partner workspaces"):
        await set_up_workspace(
            sessions, team_id="T0NEW2", form=FORM, by="U0ME", signup=Signup.REFUSED
        )
    async with sessions() as session:
        assert await partners.get_by_team_id(session=session, team_id="T0NEW2") is None


async def test_approving_tells_the_managers_channel_once(sessions):
    await set_up_workspace(sessions, team_id="T0NEW3", form=FORM, by="U0ME", signup=Signup.PENDING)

    approved = await approve_partner(sessions, "t0new3", now=NOW)
    again = await approve_partner(sessions, "T0NEW3", now=NOW)

    assert approved.approved_at == NOW and again.approved_at == NOW
    async with sessions() as session:
        rows = await outbox.by_key_prefix(session=session, prefix=f"partner:{approved.id}:")
    [row] = rows
    assert row.channel == "C0MGR" and row.state == outbox.PENDING
    assert "partnerbot is ready for Alpha IT" in json.loads(row.payload)["text"]


async def test_approving_a_workspace_nobody_registered_says_so(sessions):
    with pytest.raises(UserError, match="no partner is registered for workspace T0NOBODY"):
        await approve_partner(sessions, "T0NOBODY", now=NOW)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"partner_signup": "closed"}, "PARTNER_SIGNUP Input should be 'open', 'approval'"),
        ({"partner_signup": "allow-list"}, "PARTNER_ALLOW_LIST names no workspace"),
        (
            {"partner_signup": "allow-list", "partner_allow_list": "T0GOOD, general"},
            "PARTNER_ALLOW_LIST 'GENERAL' is not a Slack workspace id",
        ),
    ],
)
def test_a_bad_signup_setting_is_named_in_one_line(settings, message):
    with pytest.raises(SettingsError) as raised:
        load_settings(database_url="sqlite://", **settings)
    assert str(raised.value).startswith(message)


def test_the_allow_list_takes_commas_or_spaces_in_any_letter_case():
    settings = load_settings(
        database_url="sqlite://", partner_signup="allow-list", partner_allow_list="t0a, T0B  T0C"
    )
    assert settings.allowed_workspaces == {"T0A", "T0B", "T0C"}
    assert load_settings(database_url="sqlite://").partner_signup == "approval"
