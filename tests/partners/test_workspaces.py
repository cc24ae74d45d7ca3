"""Many workspaces without a server: signed OAuth states, the authorize URL, the setup form's
rules, which token speaks for which workspace (cached, forgotten), and the outbox worker sending
each partner's message with its own workspace's token."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlmodel import select

from bot.app import outbox_client
from bot.blocks import Message, section
from bot.oauth import SignedStateStore, authorize_url, redirect_url, sign_state, verified_state
from bot.outbox.rows import post_message
from bot.outbox.worker import OutboxWorker
from bot.partners.flows import SetupForm, may_set_up, set_up_workspace, setup_problems
from bot.partners.signup import Signup
from bot.settings import load_settings
from bot.workspaces import WorkspaceClients, WorkspaceTokens, WorkspaceUnavailable
from devtools.local_slack import LocalSlack
from storage import installations, outbox, partners
from storage.installations import installation_store
from storage.models import OutboxMessage
from tests.utils.factories import make_partner
from tests.utils.slack import assert_slack_accepts

CLIENT_ID = "1111111111.2222222222"
SECRET = "state-secret-for-tests"


# Signed states and URLs


def test_a_signed_state_verifies_and_any_change_does_not():
    signed = sign_state("5f0c7c9e-state", SECRET)
    assert verified_state(signed, SECRET) == "5f0c7c9e-state"
    assert verified_state(signed, "another-secret") is None
    assert verified_state(signed[:-1] + ("A" if signed[-1] != "A" else "B"), SECRET) is None
    assert verified_state("other" + signed, SECRET) is None
    for junk in (None, "", ".", "no-signature", signed.split(".")[1]):
        assert verified_state(junk, SECRET) is None


def test_the_authorize_page_follows_the_web_api_host():
    assert authorize_url("https://slack.com/api/") == "https://slack.com/oauth/v2/authorize"
    assert authorize_url("https://slack-gov.com/api") == "https://slack-gov.com/oauth/v2/authorize"
    assert authorize_url("http://127.0.0.1:9/api/") == "http://127.0.0.1:9/oauth/v2/authorize"
    assert (
        redirect_url("https://bot.example.com/") == "https://bot.example.com/slack/oauth_redirect"
    )
    assert redirect_url(None) is None


async def test_the_state_store_refuses_a_forged_state_and_takes_a_state_once(engine, sessions):
    store = SignedStateStore(engine, secret=SECRET, expiration_seconds=600)
    state = await store.async_issue()
    assert verified_state(state, SECRET) is not None
    assert not await store.async_consume(sign_state("never-issued", SECRET))
    assert not await store.async_consume(state.rpartition(".")[0] + ".forged")
    assert await store.async_consume(state)
    assert not await store.async_consume(state)


async def test_expired_states_are_deleted_and_live_ones_kept(engine, sessions):
    kept = SignedStateStore(engine, secret=SECRET, expiration_seconds=600)
    gone = SignedStateStore(engine, secret=SECRET, expiration_seconds=-1)
    live, dead = await kept.async_issue(), await gone.async_issue()
    async with sessions() as session:
        assert await installations.delete_expired_states(
            session=session, now=datetime.now(UTC)
        ) == 1  # fmt: skip
        await session.commit()
    assert not await gone.async_consume(dead)
    assert await kept.async_consume(live)


# The setup form


def form(**changes) -> SetupForm:
    values = {
        "name": "Alpha IT",
        "alert_channel": "C0ALERT",
        "manager_channel": "C0MGR",
        "orders_channel": None,
        "timezone": "Europe/Berlin",
    }
    return SetupForm(**{**values, **changes})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"alert_channel": ""}, "alert_channel"),
        ({"manager_channel": "general"}, "manager_channel"),
        ({"orders_channel": "#orders"}, "orders_channel"),
        ({"timezone": "Mars/Base"}, "timezone"),
    ],
)
def test_the_setup_form_names_the_field_that_is_wrong(changes, field):
    assert list(setup_problems(form(**changes))) == [field]


def test_admins_owners_and_the_installer_may_set_up_and_nobody_else():
    assert may_set_up(user_id="U0ADMIN", is_admin=True, installer_id="")
    assert may_set_up(user_id="U0INSTALLER", is_admin=False, installer_id="U0INSTALLER")
    assert not may_set_up(user_id="U0STAFF", is_admin=False, installer_id="U0INSTALLER")
    assert not may_set_up(user_id="", is_admin=False, installer_id="")


def test_a_complete_setup_form_has_no_problems():
    assert setup_problems(form()) == {}
    assert setup_problems(form(orders_channel="C0ORDERS", timezone=" UTC ")) == {}


async def test_setting_up_registers_once_then_changes_the_settings(sessions):
    partner, created = await set_up_workspace(
        sessions, team_id="T0SETUP", form=form(), by="U0ME", signup=Signup.APPROVED
    )
    assert created and partner.team_id == "T0SETUP"
    again, created = await set_up_workspace(
        sessions, team_id="T0SETUP", form=form(name=" Alpha  IT  GmbH ", alert_channel="C0NEW"),
        by="U0SOMEONE", signup=Signup.APPROVED,
    )  # fmt: skip
    assert not created and again.id == partner.id
    async with sessions() as session:
        stored = await partners.get_by_team_id(session=session, team_id="T0SETUP")
        managers = await partners.manager_ids(session=session, partner_id=partner.id)
    assert stored.name == "Alpha IT GmbH" and stored.alert_channel == "C0NEW"
    assert managers == ["U0ME"]


def test_the_setup_views_and_answers_fit_slack_limits_and_escape_the_name():
    from slack_sdk.models.views import View

    from bot.partners.messages import current_settings, done, not_allowed, setup_form
    from storage.models import Partner

    partner = Partner(id=1, team_id="T0A", name="<!channel> & Co", alert_channel="C0A",
                      manager_channel="C0M", timezone="Europe/Berlin",
                      approved_at=datetime(2026, 11, 1, tzinfo=UTC))  # fmt: skip
    views = [
        setup_form(partner=None, name="Alpha", timezone="UTC"),
        setup_form(partner=partner),
        done(partner, ["U0ME"], created=True, team_id="T0A"),
        done(partner, ["U0ME"], created=False, team_id="T0A"),
    ]
    for view in views:
        View(**view).validate_json()
    answers = [current_settings(partner, ["U0ME"], may_change=True), not_allowed()]
    for answer in answers:
        assert_slack_accepts(answer)
    # Names are escaped wherever Slack reads mrkdwn; the name field shows it as it is.
    mrkdwn = [
        block["text"]["text"]
        for blocks in [view["blocks"] for view in views[1:]] + [a.blocks for a in answers]
        for block in blocks
        if block["type"] == "section"
    ]
    assert not any("<!channel>" in text for text in mrkdwn)
    assert sum("&lt;!channel&gt; &amp; Co" in text for text in mrkdwn) == 4
    assert views[1]["blocks"][1]["element"]["initial_value"] == "<!channel> & Co"
    assert views[1]["blocks"][2]["element"]["initial_conversation"] == "C0A"


# Which token speaks for which workspace


async def install(engine, team_id: str, token: str) -> None:
    await installation_store(engine, client_id=CLIENT_ID).async_save(
        Installation(
            app_id="A0TEST", team_id=team_id, team_name=team_id, user_id="U0INSTALLER",
            bot_token=token, bot_id="B0TEST", bot_user_id="U0BOT", installed_at=time.time(),
        )
    )  # fmt: skip


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_tokens_are_looked_up_once_a_minute_and_forgotten_on_uninstall(engine, sessions):
    store = installation_store(engine, client_id=CLIENT_ID)
    clock = Ticks()
    tokens = WorkspaceTokens(sessions, client_id=CLIENT_ID, ttl=60, clock=clock)
    assert await tokens.bot("T0ALPHA") is None
    await install(engine, "T0ALPHA", "xoxb-alpha-1")
    assert (await tokens.bot("T0ALPHA")).bot_token == "xoxb-alpha-1"  # none was kept

    # A reinstall's new token is seen once the minute is over (or at once after forget).
    await install(engine, "T0ALPHA", "xoxb-alpha-2")
    assert (await tokens.bot("T0ALPHA")).bot_token == "xoxb-alpha-1"
    clock.now += 61
    assert (await tokens.bot("T0ALPHA")).bot_token == "xoxb-alpha-2"

    await store.async_delete_all(enterprise_id=None, team_id="T0ALPHA")
    assert (await tokens.bot("T0ALPHA")).bot_token == "xoxb-alpha-2"
    tokens.forget("T0ALPHA")
    assert await tokens.bot("T0ALPHA") is None


async def test_a_grid_workspace_is_found_by_its_team_alone(engine, sessions):
    await installation_store(engine, client_id=CLIENT_ID).async_save(
        Installation(
            app_id="A0TEST", enterprise_id="E0GRID", team_id="T0INGRID", user_id="U0INSTALLER",
            bot_token="xoxb-grid", bot_id="B0TEST", bot_user_id="U0BOT", installed_at=time.time(),
        )
    )  # fmt: skip
    tokens = WorkspaceTokens(sessions, client_id=CLIENT_ID)
    assert (await tokens.bot("T0INGRID")).bot_token == "xoxb-grid"
    # Another app's installs (another client id) are not ours.
    assert await WorkspaceTokens(sessions, client_id="9.9").bot("T0INGRID") is None


async def test_each_partner_gets_its_workspace_client_and_an_uninstalled_one_none(engine, sessions):
    alpha = await make_partner(sessions, team_id="T0ALPHA")
    beta = await make_partner(sessions, team_id="T0BETA")
    await install(engine, "T0ALPHA", "xoxb-alpha")
    clients = WorkspaceClients(
        lambda token: outbox_client(load_settings(), token),
        tokens=WorkspaceTokens(sessions, client_id=CLIENT_ID),
    )
    assert (await clients.for_partner(alpha.id)).token == "xoxb-alpha"
    assert await clients.for_partner(alpha.id) is await clients.for_partner(alpha.id)
    with pytest.raises(WorkspaceUnavailable, match="workspace T0BETA has no partnerbot install"):
        await clients.for_partner(beta.id)
    with pytest.raises(WorkspaceUnavailable, match="partner 999999 no longer exists"):
        await clients.for_partner(999999)
    with pytest.raises(WorkspaceUnavailable, match="no partner named"):
        await clients.for_partner(None)

    one = WorkspaceClients(lambda token: outbox_client(load_settings(), token), token="xoxb-one")
    assert (await one.for_partner(beta.id)).token == "xoxb-one"
    assert (await one.for_partner(None)).token == "xoxb-one"


async def test_the_outbox_sends_with_each_workspaces_token_and_fails_an_uninstalled_one(
    engine, sessions
):
    slack = await LocalSlack().start()
    try:
        alpha = await make_partner(sessions, team_id="T0ALPHA")
        beta = await make_partner(sessions, team_id="T0BETA")
        gamma = await make_partner(sessions, team_id="T0GAMMA")
        await install(engine, "T0ALPHA", "xoxb-alpha")
        await install(engine, "T0BETA", "xoxb-beta")
        settings = load_settings(slack_api_url=slack.api_url)
        worker = OutboxWorker(
            sessions,
            clients=WorkspaceClients(
                lambda token: outbox_client(settings, token),
                tokens=WorkspaceTokens(sessions, client_id=CLIENT_ID),
            ),
        )
        now = datetime.now(UTC) - timedelta(seconds=1)
        rows = [
            post_message(key=f"hello:{p.id}", channel=p.alert_channel, partner_id=p.id, now=now,
                         message=Message("hello", [section("hello")]))
            for p in (alpha, beta, gamma)
        ]  # fmt: skip
        async with sessions() as session:
            await outbox.add(session=session, rows=rows)
            await session.commit()
        assert await worker.deliver_due() == 3

        sent = {c.params["channel"]: c.params["token"] for c in slack.calls_to("chat.postMessage")}
        assert sent == {alpha.alert_channel: "xoxb-alpha", beta.alert_channel: "xoxb-beta"}
        async with sessions() as session:
            stored = {r.partner_id: r for r in (await session.exec(select(OutboxMessage))).all()}
        assert stored[alpha.id].state == stored[beta.id].state == "sent"
        assert stored[gamma.id].state == "failed" and stored[gamma.id].attempts == 1
        assert stored[gamma.id].last_error.startswith(
            "workspace unavailable: workspace T0GAMMA has no partnerbot installation"
        )
        assert await worker.deliver_due() == 0  # given up on, not tried again
    finally:
        await slack.stop()
