"""A partner connects its Partner Center from Slack and sees live subscriptions in
/subscription; through the real server, the local Slack and the local Partner Center."""

from __future__ import annotations

import json
import logging

from sqlalchemy import text

from bot.partner_center.messages import ConnectAction
from tests.utils.e2e import Bot
from tests.utils.factories import make_partner
from tests.utils.partner_center import CLIENT_ID, SECRET, TENANT, fixture, subscription

MANAGER = "U0MANAGER"
CONTOSO = "d8202a51-69f9-4228-b900-d0e081af17d7"


async def open_connect_form(bot: Bot, team_id: str) -> dict:
    answer = await bot.slack.command(
        "/partnerbot", "setup partner-center", team_id=team_id, user_id=MANAGER
    )
    assert "Partner Center: not connected" in answer.text
    (opened,) = bot.local_slack.calls_to("views.open")
    view = opened.params["view"]
    return view if isinstance(view, dict) else json.loads(view)


def form_values(secret: str) -> dict:
    return {
        ConnectAction.TENANT: {"value": TENANT},
        ConnectAction.CLIENT_ID: {"value": CLIENT_ID},
        ConnectAction.SECRET: {"value": secret},
        ConnectAction.MPN_ID: {"value": ""},
    }


async def test_a_connected_partner_sees_live_subscriptions_with_their_freshness(
    pc_bot, sessions, caplog
):
    caplog.set_level(logging.DEBUG)
    partner = await make_partner(sessions, name="Northwind Cloud", managers=MANAGER)
    account = pc_bot.partner_center.account(TENANT, CLIENT_ID, SECRET)
    account.add_customer(CONTOSO, "Contoso Dental", "contosodental.onmicrosoft.com")
    account.subscriptions[CONTOSO] += [
        subscription("s-basic", quantity=25),
        fixture("subscription_marketplace_deleted.json"),
    ]
    view = await open_connect_form(pc_bot, partner.team_id)

    status, wrong = await pc_bot.slack.submit(
        view, form_values("not-the-secret"), team_id=partner.team_id, user_id=MANAGER
    )
    assert status == 200 and "refused the secret" in wrong["errors"][ConnectAction.SECRET]
    status, done = await pc_bot.slack.submit(
        view, form_values(SECRET), team_id=partner.team_id, user_id=MANAGER
    )
    assert status == 200 and done["response_action"] == "update"

    synced = await pc_bot.slack.command(
        "/partnerbot", "sync", team_id=partner.team_id, user_id=MANAGER
    )
    assert "Synced from Partner Center: 1 customers added" in synced.text
    answer = await pc_bot.slack.command("/subscription", "contoso", team_id=partner.team_id)

    for expected in (
        "Contoso Dental",
        "*M365-BB* — Microsoft 365 Business Basic · _active_",
        "25 seats × $6.00 per seat = *$150.00 a month*",
        "*DZH318Z0BXWC* — offer Name · _cancelled_",  # no plan matches: Partner Center's name
        "Partner of record: Northwind Cloud",
        "Figures from Partner Center, just now.",
    ):
        assert expected in answer.text, expected

    settings = await pc_bot.slack.command(
        "/partnerbot", "setup", team_id=partner.team_id, user_id=MANAGER
    )
    assert f"Partner Center: connected (app `{CLIENT_ID}`), last synced just now." in settings.text

    # The secret is nowhere in clear: not in the database, the logs, or what Slack was sent.
    async with sessions() as session:
        rows = (await session.exec(text("SELECT * FROM partner_center_connection"))).all()
    assert rows and SECRET not in repr(rows)
    assert SECRET not in caplog.text
    assert SECRET not in repr([call.params for call in pc_bot.local_slack.calls])


async def test_a_staff_member_may_neither_connect_nor_sync(pc_bot, sessions):
    partner = await make_partner(sessions, managers=MANAGER)

    connect = await pc_bot.slack.command(
        "/partnerbot", "setup partner-center", team_id=partner.team_id
    )
    sync = await pc_bot.slack.command("/partnerbot", "sync", team_id=partner.team_id)

    assert "Only managers (<@U0MANAGER>) can connect Partner Center" in connect.text
    assert "Only managers (<@U0MANAGER>) can start a Partner Center sync" in sync.text
    assert not pc_bot.local_slack.calls_to("views.open")


async def test_expired_consent_changes_nothing_and_the_managers_hear_it_once(pc_bot, sessions):
    partner = await make_partner(sessions, managers=MANAGER)
    account = pc_bot.partner_center.account(TENANT, CLIENT_ID, SECRET)
    account.add_customer(CONTOSO, "Contoso Dental", "contosodental.onmicrosoft.com")
    account.subscriptions[CONTOSO].append(subscription("s-basic", quantity=25))
    view = await open_connect_form(pc_bot, partner.team_id)
    await pc_bot.slack.submit(view, form_values(SECRET), team_id=partner.team_id, user_id=MANAGER)
    await pc_bot.slack.command("/partnerbot", "sync", team_id=partner.team_id, user_id=MANAGER)
    account.subscriptions[CONTOSO][0]["quantity"] = 30
    pc_bot.partner_center.revoke(TENANT)

    for _ in range(2):
        failed = await pc_bot.slack.command(
            "/partnerbot", "sync", team_id=partner.team_id, user_id=MANAGER
        )
        assert "The sync failed; nothing was changed." in failed.text
    answer = await pc_bot.slack.command("/subscription", "contoso", team_id=partner.team_id)

    assert "25 seats" in answer.text
    assert "the last sync failed" in answer.text

    def alerts() -> list[dict]:
        return [
            call.params for call in pc_bot.local_slack.calls_to("chat.postMessage")
            if call.params.get("channel") == partner.manager_channel
            and "Partner Center sync failed" in call.params.get("text", "")
        ]  # fmt: skip

    await pc_bot.local_slack.wait_for(alerts)
    assert len(alerts()) == 1
    assert "Partner Center refused the app (HTTP 401" in json.dumps(alerts()[0]["blocks"])
