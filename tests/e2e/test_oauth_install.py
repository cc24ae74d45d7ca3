"""Many workspaces through the real server: Slack's OAuth install flow against the local Slack
(install link, authorize page, redirect back, oauth.v2.access), `/partnerbot setup`, and every Web
API call made with the token of the workspace it concerns."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import date
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import select

from bot.app import build_services, create_app
from bot.oauth import BOT_SCOPES
from bot.partners.flows import approve_partner
from bot.partners.messages import SetupAction
from bot.settings import load_settings
from devtools.slack_requests import event_body, signed_headers
from storage import installations, partners
from storage.models import OutboxMessage, slack_installations
from tests.utils.e2e import INCIDENT_SECRET, SIGNING_SECRET, Bot, SlackClient
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.incidents import incident, send

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "e2e-client-secret-0123456789"
STATE_SECRET = "e2e-state-secret-0123456789"
STATE_COOKIE = "slack-app-oauth-state"


@pytest.fixture
async def oauth_bot(sessions, engine, database_url, local_slack) -> AsyncIterator[Bot]:
    """The real server in many-workspace mode, with PUBLIC_BASE_URL its own loopback address
    (the socket is bound first, so the redirect URL is known before the app is built)."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listening.getsockname()[1]}"
    settings = load_settings(
        database_url=database_url,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_state_secret=STATE_SECRET,
        slack_signing_secret=SIGNING_SECRET,
        secret_key="e2e-secret-key-0123456789abcdef0123456789",
        slack_api_url=local_slack.api_url,
        public_base_url=url,
        incident_webhook_secret=INCIDENT_SECRET,
        run_scheduler=False,
        # Any workspace may become a partner here; the other policies have tests of their own.
        partner_signup="open",
    )
    settings.require_for_serve()
    services = build_services(settings, engine=engine)
    runner = web.AppRunner(await create_app(settings, services=services), access_log=None)
    await runner.setup()
    await web.SockSite(runner, listening).start()
    async with aiohttp.ClientSession() as http:
        yield Bot(url, SlackClient(url, local_slack, http), local_slack, services, http)
    await runner.cleanup()


async def install(
    bot: Bot, *, team_id: str, user_id: str = "U0ADMIN", team_name: str = "Alpha", cookie=True
) -> tuple[int, str]:
    """Goes through the install as a browser does: the install link, Slack's authorize page (the
    local one, where the installer says yes), and back to the redirect URL with the cookie."""
    bot.local_slack.next_install = (team_id, user_id, team_name)
    async with bot.http.get(bot.url + "/slack/install", allow_redirects=False) as started:
        assert started.status == 302
        state_cookie = SimpleCookie(started.headers["Set-Cookie"])[STATE_COOKIE].value
        authorize = started.headers["Location"]
    async with bot.http.get(authorize, allow_redirects=False) as slack_page:
        assert slack_page.status == 302
        back = slack_page.headers["Location"]
    assert back.startswith(bot.url + "/slack/oauth_redirect?")
    headers = {"Cookie": f"{STATE_COOKIE}={state_cookie}"} if cookie else {}
    async with bot.http.get(back, headers=headers, allow_redirects=False) as finished:
        assert finished.headers["Referrer-Policy"] == "no-referrer"
        return finished.status, await finished.text()


async def set_up(bot: Bot, *, team_id: str, user_id: str = "U0ADMIN", **values) -> dict:
    """Types `/partnerbot setup`, waits for the form it opens, fills it in and submits it."""
    slack = bot.local_slack
    opened = len(slack.calls_to("views.open"))
    answer = await bot.slack.command("/partnerbot", "setup", team_id=team_id, user_id=user_id,
                                     wait_for=0)  # fmt: skip
    assert answer.status == 200
    await slack.wait_for(lambda: len(slack.calls_to("views.open")) > opened)
    call = slack.calls_to("views.open")[-1]
    assert call.params["token"] == token_of(slack, team_id)
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == SetupAction.FORM
    form = {
        SetupAction.NAME: {"value": values.get("name", "Alpha IT")},
        SetupAction.ALERT_CHANNEL: {"selected_conversation": values.get("alert", "C0ALERTA")},
        SetupAction.MANAGER_CHANNEL: {"selected_conversation": values.get("manager", "C0MGRA")},
        SetupAction.ORDERS_CHANNEL: {"selected_conversation": None},
        SetupAction.TIMEZONE: {"value": values.get("timezone", "Europe/Berlin")},
    }
    status, result = await bot.slack.submit(view, form, team_id=team_id, user_id=user_id)
    assert status == 200
    return result


async def eventually(check, *, until=bool, timeout: float = 10.0) -> None:
    """Waits until `until(await check())` holds, looking every 50 ms."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not until(await check()):
        assert asyncio.get_running_loop().time() < deadline, "it never happened"
        await asyncio.sleep(0.05)


def token_of(slack, team_id: str) -> str:
    """The bot token the local Slack handed the team's (newest) install."""
    tokens = [token for token, team in slack.bot_tokens.items() if team == team_id]
    assert tokens, f"{team_id} was never installed"
    return tokens[-1]


async def customer_hit_by_the_incident(sessions, partner, name: str) -> None:
    customer = await make_customer(sessions, partner, name=name, region="Europe")
    await make_subscription(sessions, customer, plan_code="EXO", start_date=date(2026, 1, 5),
                            renewal_date=date(2027, 1, 5))  # fmt: skip


async def test_a_workspace_installs_sets_itself_up_and_is_answered_with_its_own_token(
    oauth_bot, sessions
):
    bot, slack = oauth_bot, oauth_bot.local_slack

    async with bot.http.get(bot.url + "/slack/install", allow_redirects=False) as started:
        authorize = urlsplit(started.headers["Location"])
    asked = parse_qs(authorize.query)
    assert f"{authorize.scheme}://{authorize.netloc}/" == slack.url
    assert authorize.path == "/oauth/v2/authorize"
    assert asked["client_id"] == [CLIENT_ID]
    assert set(asked["scope"][0].split(",")) == set(BOT_SCOPES)
    assert asked["redirect_uri"] == [bot.url + "/slack/oauth_redirect"]

    status, page = await install(bot, team_id="T0ALPHA", team_name="Alpha & Co")
    assert status == 200
    assert "partnerbot is installed in Alpha &amp; Co" in page and "/partnerbot setup" in page
    (access,) = slack.calls_to("oauth.v2.access")
    assert access.params["client_id"] == CLIENT_ID
    assert access.params["client_secret"] == CLIENT_SECRET
    async with sessions() as session:
        installed = await installations.get_workspace(
            session=session, client_id=CLIENT_ID, team_id="T0ALPHA"
        )
        bot_row = await installations.newest_bot(
            session=session, client_id=CLIENT_ID, team_id="T0ALPHA"
        )
    assert installed.installer_id == "U0ADMIN" and installed.team_name == "Alpha & Co"
    assert bot_row.bot_token == token_of(slack, "T0ALPHA")

    # Installed, not set up: commands say how to set it up; setup needs an admin or the installer.
    answer = await bot.slack.command("/subscription", "contoso", team_id="T0ALPHA", wait_for=0)
    assert "not set up for partnerbot" in answer.body and "/partnerbot setup" in answer.body
    assert "partner link --team-id T0ALPHA" in answer.body
    refused = await bot.slack.command("/partnerbot", "setup", team_id="T0ALPHA",
                                      user_id="U0STAFF")  # fmt: skip
    assert "Only a workspace admin" in refused.text
    assert slack.calls_to("views.open") == []

    slack.time_zones["U0ADMIN"] = "Europe/Berlin"
    result = await set_up(bot, team_id="T0ALPHA", name="Alpha IT")
    assert result["response_action"] == "update"
    assert "Alpha IT" in json.dumps(result["view"]) and "<@U0ADMIN>" in json.dumps(result["view"])
    async with sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id="T0ALPHA")
        managers = await partners.manager_ids(session=session, partner_id=partner.id)
    assert partner.name == "Alpha IT" and partner.alert_channel == "C0ALERTA"
    assert partner.timezone == "Europe/Berlin" and managers == ["U0ADMIN"]

    # A slash command of that workspace now works, and its answers are made with its token.
    managers_answer = await bot.slack.command("/partnerbot", "managers", team_id="T0ALPHA")
    assert "Managers: <@U0ADMIN>." in managers_answer.text
    assert {call.params["token"] for call in slack.calls_to("users.info")} == {
        token_of(slack, "T0ALPHA")
    }

    # A message the outbox sends for the partner goes out with the workspace's token.
    await customer_hit_by_the_incident(sessions, partner, "Contoso GmbH")
    status, _ = await send(bot, incident())
    assert status == 201
    await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage")) == 2)
    for call in slack.calls_to("chat.postMessage"):
        assert call.params["channel"] == "C0ALERTA"
        assert call.params["token"] == token_of(slack, "T0ALPHA")

    # Setup again: the current settings, and the form to change them.
    again = await set_up(bot, team_id="T0ALPHA", alert="C0NEWALERT", name="Alpha IT")
    assert again["response_action"] == "update"
    async with sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id="T0ALPHA")
    assert partner.alert_channel == "C0NEWALERT"


async def test_two_workspaces_each_get_their_own_token(oauth_bot, sessions):
    bot, slack = oauth_bot, oauth_bot.local_slack
    assert (await install(bot, team_id="T0ALPHA", user_id="U0AAA", team_name="Alpha"))[0] == 200
    assert (await install(bot, team_id="T0BETA", user_id="U0BBB", team_name="Beta"))[0] == 200
    assert token_of(slack, "T0ALPHA") != token_of(slack, "T0BETA")
    await set_up(bot, team_id="T0ALPHA", user_id="U0AAA", alert="C0ALERTA", name="Alpha IT")
    # Beta was registered by the operator with a placeholder workspace, then linked.
    beta = await make_partner(sessions, name="Beta Cloud", team_id="T0PLACEHOLDER1")
    from bot.partners.flows import link_workspace

    linked = await link_workspace(
        bot.services.sessions, team_id="T0BETA", partner_id=beta.id, client_id=CLIENT_ID
    )
    assert linked.changed and linked.partner.team_id == "T0BETA"
    async with sessions() as session:
        alpha = await partners.get_by_team_id(session=session, team_id="T0ALPHA")
    await customer_hit_by_the_incident(sessions, alpha, "Alpha Customer")
    await customer_hit_by_the_incident(sessions, linked.partner, "Beta Customer")

    status, answer = await send(bot, incident())
    assert status == 201 and answer["partnersNotified"] == 2
    await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage")) == 4)
    tokens = {
        channel: {c.params["token"] for c in slack.calls_to("chat.postMessage")
                  if c.params["channel"] == channel}
        for channel in ("C0ALERTA", linked.partner.alert_channel)
    }  # fmt: skip
    assert tokens == {
        "C0ALERTA": {token_of(slack, "T0ALPHA")},
        linked.partner.alert_channel: {token_of(slack, "T0BETA")},
    }

    # Each workspace's commands are answered with its own token too.
    for team in ("T0ALPHA", "T0BETA"):
        before = len(slack.calls_to("users.info"))
        answer = await bot.slack.command(
            "/partnerbot", "managers add <@U0NEW>", team_id=team, user_id="U0OTHER"
        )
        assert "Nothing was changed" in answer.text
        (call,) = slack.calls_to("users.info")[before:]
        assert call.params["token"] == token_of(slack, team)


async def test_a_tampered_or_foreign_state_is_refused_and_nothing_is_stored(oauth_bot, sessions):
    bot, slack = oauth_bot, oauth_bot.local_slack

    async def redirect(query: dict, cookie: str | None) -> tuple[int, str]:
        headers = {"Cookie": f"{STATE_COOKIE}={cookie}"} if cookie is not None else {}
        async with bot.http.get(
            f"{bot.url}/slack/oauth_redirect?{urlencode(query)}", headers=headers
        ) as response:
            return response.status, await response.text()

    slack.next_install = ("T0EVIL", "U0EVIL", "Evil")
    async with bot.http.get(bot.url + "/slack/install", allow_redirects=False) as started:
        state = SimpleCookie(started.headers["Set-Cookie"])[STATE_COOKIE].value
    async with bot.http.get(started.headers["Location"], allow_redirects=False) as slack_page:
        code = parse_qs(urlsplit(slack_page.headers["Location"]).query)["code"][0]

    forged = state[:-2] + ("AA" if not state.endswith("AA") else "BB")
    for query, cookie in (
        ({"code": code, "state": forged}, forged),  # a signature this bot did not make
        ({"code": code, "state": "made-up"}, "made-up"),
        ({"code": code, "state": state}, None),  # not the browser that started it
        ({"code": code, "state": state}, forged),
    ):
        status, page = await redirect(query, cookie)
        assert status in (400, 401), query
        assert "This installation link is no longer valid" in page and "Traceback" not in page
        assert 'href="/slack/install"' in page
    assert slack.calls_to("oauth.v2.access") == []

    # Cancelled on Slack's page: said so, nothing stored.
    slack.deny_next_install = True
    status, page = await install(bot, team_id="T0EVIL")
    assert status == 200 and "The installation was cancelled" in page

    # The genuine state still works once, and only once.
    status, page = await redirect({"code": code, "state": state}, state)
    assert status == 200 and "partnerbot is installed in Evil" in page
    status, page = await redirect({"code": code, "state": state}, state)
    assert status == 401 and "no longer valid" in page
    async with sessions() as session:
        connection = await session.connection()
        rows = (await connection.execute(select(slack_installations.c.team_id))).all()
    assert [row.team_id for row in rows] == ["T0EVIL"]


async def test_an_uninstalled_workspace_gets_nothing_more_and_its_messages_fail_clearly(
    oauth_bot, sessions
):
    bot, slack = oauth_bot, oauth_bot.local_slack
    await install(bot, team_id="T0ALPHA")
    await set_up(bot, team_id="T0ALPHA")
    async with sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id="T0ALPHA")
    await customer_hit_by_the_incident(sessions, partner, "Contoso GmbH")

    slack.uninstall("T0ALPHA")
    body = event_body(event={"type": "app_uninstalled"}, team_id="T0ALPHA")
    headers = {**signed_headers(SIGNING_SECRET, body), "Content-Type": "application/json"}
    assert (await bot.slack.post(body, headers))[0] == 200

    async def installed() -> bool:
        async with sessions() as session:
            return bool(await installations.list_workspaces(session=session, client_id=CLIENT_ID))

    await eventually(installed, until=lambda found: not found)  # the listener runs after the 200

    # Its partner (and customers) stay; what would go to its channels fails with the reason.
    status, _ = await send(bot, incident())
    assert status == 201

    async def failed() -> list[OutboxMessage]:
        async with sessions() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
        return [row for row in rows if row.state == "failed"]

    await eventually(failed, until=lambda rows: len(rows) == 2)
    root, reply = sorted(await failed(), key=lambda row: row.id)
    assert "workspace T0ALPHA has no partnerbot installation" in root.last_error
    assert root.attempts == 1  # not tried again and again
    assert "was never posted" in reply.last_error
    assert slack.calls_to("chat.postMessage") == []

    # A command from the workspace is told to install it again.
    answer = await bot.slack.command("/subscription", "contoso", team_id="T0ALPHA")
    assert "not installed in this workspace any more" in answer.text + answer.body
    assert f"{bot.url}/slack/install" in answer.text + answer.body

    # Installing again brings it back, linked to the same partner.
    status, page = await install(bot, team_id="T0ALPHA", team_name="Alpha")
    assert status == 200 and "linked to the partner <strong>Alpha IT</strong>" in page


async def test_with_one_bot_token_an_admin_sets_the_workspace_up_too(bot, sessions):
    slack = bot.local_slack
    refused = await bot.slack.command("/partnerbot", "setup", team_id="T0ONE", user_id="U0STAFF")
    assert "Only a workspace admin" in refused.text
    slack.admins.add("U0BOSS")
    answer = await bot.slack.command("/partnerbot", "setup", team_id="T0ONE", user_id="U0BOSS",
                                     wait_for=0)  # fmt: skip
    assert answer.status == 200
    await slack.wait_for(lambda: slack.calls_to("views.open"))
    view = slack.calls_to("views.open")[0].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    values = {
        SetupAction.NAME: {"value": "One Workspace Ltd"},
        SetupAction.ALERT_CHANNEL: {"selected_conversation": "C0ALERT1"},
        SetupAction.MANAGER_CHANNEL: {"selected_conversation": "C0MGR1"},
        SetupAction.ORDERS_CHANNEL: {"selected_conversation": None},
        SetupAction.TIMEZONE: {"value": "Mars/Olympus"},
    }
    status, result = await bot.slack.submit(view, values, team_id="T0ONE", user_id="U0BOSS")
    assert status == 200 and result["response_action"] == "errors"
    assert list(result["errors"]) == [SetupAction.TIMEZONE]
    values[SetupAction.TIMEZONE] = {"value": "UTC"}
    status, result = await bot.slack.submit(view, values, team_id="T0ONE", user_id="U0BOSS")
    assert result["response_action"] == "update"
    help_answer = await bot.slack.command("/partnerbot", "help", team_id="T0ONE")
    assert "/partnerbot setup" in help_answer.text
    shown = await bot.slack.command("/partnerbot", "setup", team_id="T0ONE", user_id="U0STAFF")
    assert "set up for the partner *One Workspace Ltd*" in shown.text
    assert "Only a workspace admin, or whoever installed partnerbot, can change them" in shown.text


async def test_a_token_lookup_the_database_cannot_answer_gets_the_database_answer(
    oauth_bot, sessions, monkeypatch
):
    bot = oauth_bot
    await install(bot, team_id="T0ALPHA")
    await set_up(bot, team_id="T0ALPHA")

    async def database_down(team_id: str):
        raise OSError("connection refused")

    monkeypatch.setattr(bot.services.workspaces, "bot", database_down)
    answer = await bot.slack.command("/subscription", "contoso", team_id="T0ALPHA", wait_for=0)
    assert answer.status == 200
    assert "cannot reach its database right now" in answer.body and "Traceback" not in answer.body


async def test_under_approval_a_new_workspace_waits_and_is_let_in_by_the_operator(
    oauth_bot, sessions
):
    bot, slack = oauth_bot, oauth_bot.local_slack
    bot.services.settings = bot.services.settings.model_copy(update={"partner_signup": "approval"})
    await install(bot, team_id="T0BETA", team_name="Beta")

    result = await set_up(bot, team_id="T0BETA", name="Beta <!channel> IT")
    assert result["response_action"] == "update"
    assert "waiting for approval" in json.dumps(result["view"])
    async with sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id="T0BETA")
    assert partner.approved_at is None

    # Until approved, everyone is told it waits, whatever they ask, and nothing else is shown.
    answer = await bot.slack.command("/partnerbot", "managers", team_id="T0BETA", wait_for=0)
    assert "waiting for approval by whoever runs it" in answer.body
    assert "&lt;!channel&gt;" in answer.body and "<!channel>" not in answer.body
    assert "Managers:" not in answer.body
    button = {"type": "button", "action_id": "outage_follow", "value": "1",
              "text": {"type": "plain_text", "text": "Follow"}}  # fmt: skip
    clicked = await bot.slack.click(button, block_id="alert", team_id="T0BETA")
    assert "waiting for approval" in clicked.text
    # The workspace may still look at and change what it entered.
    again = await set_up(bot, team_id="T0BETA", name="Beta IT")
    assert again["response_action"] == "update"

    await approve_partner(bot.services.sessions, "T0BETA", now=bot.services.clock())
    bot.services.wake_outbox()
    await slack.wait_for(lambda: any(
        "partnerbot is ready for Beta IT" in call.params.get("text", "")
        for call in slack.calls_to("chat.postMessage")
    ))  # fmt: skip
    managers = await bot.slack.command("/partnerbot", "managers", team_id="T0BETA")
    assert "Managers: <@U0ADMIN>." in managers.text


async def test_under_an_allow_list_a_workspace_off_the_list_is_refused_and_nothing_is_stored(
    oauth_bot, sessions
):
    bot = oauth_bot
    bot.services.settings = bot.services.settings.model_copy(
        update={"partner_signup": "allow-list", "partner_allow_list": "T0LISTED"}
    )
    await install(bot, team_id="T0STRANGER", team_name="Stranger")
    await install(bot, team_id="T0LISTED", team_name="Listed")

    refused = await set_up(bot, team_id="T0STRANGER")
    assert refused["response_action"] == "errors"
    assert "not one of the partner workspaces" in json.dumps(refused["errors"])
    listed = await set_up(bot, team_id="T0LISTED")
    assert listed["response_action"] == "update"

    async with sessions() as session:
        assert await partners.get_by_team_id(session=session, team_id="T0STRANGER") is None
        allowed = await partners.get_by_team_id(session=session, team_id="T0LISTED")
    assert allowed.approved_at is not None
