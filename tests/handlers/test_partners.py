"""The /partnerbot listeners and the setup form, called as bolt calls them, with Slack's users.info
answered by a fake client."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from bot.blocks import Message
from bot.partners import commands
from bot.partners.messages import SetupAction
from handlers.partners import partnerbot_command, setup_submitted
from storage import partners
from tests.utils.factories import make_partner
from tests.utils.listeners import FakeAck, FakeClient, FakeRespond, listener_context
from tests.utils.slack import assert_slack_accepts

ADMIN = {"users_info": {"ok": True, "user": {"id": "U0ADMIN1", "is_admin": True}}}
MEMBER = {"users_info": {"ok": True, "user": {"id": "U0MEMBER1", "is_admin": False}}}


def command(text: str, user_id: str = "U0MEMBER1", team_id: str = "T0NEW001") -> dict:
    return {"text": text, "user_id": user_id, "team_id": team_id, "trigger_id": "1.2.3"}


def setup_view(**values: str) -> dict:
    fields = {
        SetupAction.NAME: "Northwind Cloud",
        SetupAction.ALERT_CHANNEL: "C0ALERTS1",
        SetupAction.MANAGER_CHANNEL: "C0MANAGE1",
        SetupAction.TIMEZONE: "Europe/Berlin",
        **values,
    }
    return {
        "state": {
            "values": {
                block: {"input": {"type": "plain_text_input", "value": value}}
                for block, value in fields.items()
            }
        }
    }


async def test_partnerbot_alone_answers_with_help(services, sessions):
    partner = await make_partner(sessions)
    ack, respond = FakeAck(), FakeRespond()

    await partnerbot_command(
        ack, command(""), respond, listener_context(services, partner), FakeClient()
    )

    assert ack.calls == [{}]
    [answer] = respond.calls
    assert answer["text"] == "What partnerbot can do" and "/subscription" in str(answer["blocks"])


async def test_a_word_that_is_no_subcommand_is_named_before_the_help(services, sessions):
    partner = await make_partner(sessions)
    ack, respond = FakeAck(), FakeRespond()

    await partnerbot_command(
        ack, command("frob now"), respond, listener_context(services, partner), FakeClient()
    )

    [answer] = respond.calls
    assert answer["text"] == "frob is not a /partnerbot subcommand"
    assert answer["blocks"][0]["text"]["text"] == (
        "`frob` is not a /partnerbot subcommand. Its subcommands are `help`, `managers`, "
        "`setup` and `sync`; here is everything partnerbot can do."
    )
    assert "/subscription" in str(answer["blocks"][1:])
    assert_slack_accepts(Message(answer["text"], answer["blocks"]))


async def test_help_in_capitals_is_the_help(services, sessions):
    partner = await make_partner(sessions)
    respond = FakeRespond()
    await partnerbot_command(
        FakeAck(), command("HELP"), respond, listener_context(services, partner), FakeClient()
    )
    assert respond.calls[0]["text"] == "What partnerbot can do"


async def test_someone_who_is_neither_manager_nor_admin_cannot_add_a_manager(services, sessions):
    partner = await make_partner(sessions, managers="U0BOSS001")
    respond = FakeRespond()
    client = FakeClient(answers=MEMBER)

    await partnerbot_command(
        FakeAck(), command("managers add <@U0MEMBER1>"), respond,
        listener_context(services, partner), client,
    )  # fmt: skip

    assert respond.texts == [
        "Only managers (<@U0BOSS001>) and workspace admins can change who the managers are. "
        "Nothing was changed."
    ]
    assert "blocks" not in respond.calls[0]
    async with sessions() as session:
        assert await partners.manager_ids(session=session, partner_id=partner.id) == ["U0BOSS001"]


async def test_a_workspace_admin_adds_a_manager(services, sessions):
    partner = await make_partner(sessions, managers="U0BOSS001")
    respond = FakeRespond()

    await partnerbot_command(
        FakeAck(), command("managers add <@U0NEW0001>", user_id="U0ADMIN1"), respond,
        listener_context(services, partner), FakeClient(answers=ADMIN),
    )  # fmt: skip

    assert respond.texts == ["<@U0NEW0001> is now a manager: they get `/summary`."]
    async with sessions() as session:
        managers = await partners.manager_ids(session=session, partner_id=partner.id)
    assert sorted(managers) == ["U0BOSS001", "U0NEW0001"]


async def test_setup_by_an_admin_of_a_new_workspace_opens_the_form_and_says_nothing_else(
    services,
):
    respond, client = FakeRespond(), FakeClient(answers=ADMIN)

    await partnerbot_command(
        FakeAck(), command("setup", user_id="U0ADMIN1"), respond,
        listener_context(services, None), client,
    )  # fmt: skip

    [opened] = client.calls_to("views_open")
    assert opened["trigger_id"] == "1.2.3"
    assert opened["view"]["callback_id"] == SetupAction.FORM
    assert respond.calls == []


async def test_setup_by_a_member_is_refused_without_a_form(services):
    respond, client = FakeRespond(), FakeClient(answers=MEMBER)

    await partnerbot_command(
        FakeAck(), command("setup"), respond, listener_context(services, None), client
    )

    assert client.calls_to("views_open") == []
    [answer] = respond.calls
    assert "admin" in answer["text"]


async def test_the_submitted_setup_form_registers_the_partner(services, sessions):
    ack = FakeAck()
    body = {"team": {"id": "T0NEW001"}, "user": {"id": "U0ADMIN1"}}

    await setup_submitted(
        ack, setup_view(), body, listener_context(services, None), FakeClient(answers=ADMIN)
    )

    [answer] = ack.calls
    assert answer["response_action"] == "update"
    async with sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id="T0NEW001")
        assert partner.name == "Northwind Cloud" and partner.alert_channel == "C0ALERTS1"
        assert await partners.manager_ids(session=session, partner_id=partner.id) == ["U0ADMIN1"]


async def test_a_setup_form_with_a_bad_time_zone_is_answered_beside_the_field(services, sessions):
    ack = FakeAck()
    body = {"team": {"id": "T0NEW001"}, "user": {"id": "U0ADMIN1"}}

    await setup_submitted(
        ack, setup_view(**{SetupAction.TIMEZONE: "Mars/Olympus"}), body,
        listener_context(services, None), FakeClient(answers=ADMIN),
    )  # fmt: skip

    [answer] = ack.calls
    assert answer["response_action"] == "errors"
    assert "not a time zone" in answer["errors"][SetupAction.TIMEZONE]
    async with sessions() as session:
        assert await partners.get_by_team_id(session=session, team_id="T0NEW001") is None


async def test_a_database_failure_while_saving_the_form_is_said_beside_the_name(
    services, monkeypatch
):
    async def database_down(*_args, **_kwargs):
        raise OperationalError("INSERT", {}, ConnectionRefusedError("down"))

    # Fault injection: the database cannot be made to fail in the middle of this form otherwise.
    monkeypatch.setattr(commands, "submit_setup", database_down)
    ack = FakeAck()

    await setup_submitted(
        ack, setup_view(), {"team": {"id": "T0NEW001"}, "user": {"id": "U0ADMIN1"}},
        listener_context(services, None), FakeClient(answers=ADMIN),
    )  # fmt: skip

    [answer] = ack.calls
    assert answer["response_action"] == "errors"
    assert "cannot reach its database" in answer["errors"][SetupAction.NAME]
    assert "(ref " in answer["errors"][SetupAction.NAME]


def with_money_choice(view: dict, value: str) -> dict:
    """The setup view with the money radio buttons answered as Slack sends them."""
    picked = {"type": "radio_buttons", "selected_option": {"value": value}}
    view["state"]["values"][SetupAction.MONEY] = {SetupAction.MONEY: picked}
    return view


async def test_the_setup_form_decides_who_sees_the_money_and_shows_it_again(services, sessions):
    body = {"team": {"id": "T0NEW001"}, "user": {"id": "U0ADMIN1"}}
    await setup_submitted(
        FakeAck(), with_money_choice(setup_view(), "commission"), body,
        listener_context(services, None), FakeClient(answers=ADMIN),
    )  # fmt: skip
    async with sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id="T0NEW001")
    assert partner.money_for_managers_only == "commission"

    respond, client = FakeRespond(), FakeClient(answers=ADMIN)
    await partnerbot_command(
        FakeAck(), command("setup", user_id="U0ADMIN1"), respond,
        listener_context(services, partner), client,
    )  # fmt: skip
    [opened] = client.calls_to("views_open")
    [money] = [b for b in opened["view"]["blocks"] if b.get("block_id") == SetupAction.MONEY]
    assert money["element"]["initial_option"]["value"] == "commission"
    assert "Commission and prices in /subscription: commission for managers only" in str(
        respond.calls
    )

    ack = FakeAck()
    await setup_submitted(
        ack, with_money_choice(setup_view(), "all"), body,
        listener_context(services, partner), FakeClient(answers=ADMIN),
    )  # fmt: skip
    assert ack.calls[0]["response_action"] == "update"
    async with sessions() as session:
        changed = await partners.get_by_team_id(session=session, team_id="T0NEW001")
    assert changed.money_for_managers_only == "all"


async def test_a_form_without_the_money_choice_keeps_everyone_seeing_it(services, sessions):
    body = {"team": {"id": "T0NEW001"}, "user": {"id": "U0ADMIN1"}}
    await setup_submitted(
        FakeAck(), setup_view(), body, listener_context(services, None), FakeClient(answers=ADMIN)
    )
    async with sessions() as session:
        partner = await partners.get_by_team_id(session=session, team_id="T0NEW001")
    assert partner.money_for_managers_only == "none"


async def test_an_unknown_money_choice_is_answered_beside_the_field(services, sessions):
    ack = FakeAck()
    body = {"team": {"id": "T0NEW001"}, "user": {"id": "U0ADMIN1"}}
    await setup_submitted(
        ack, with_money_choice(setup_view(), "nobody"), body,
        listener_context(services, None), FakeClient(answers=ADMIN),
    )  # fmt: skip
    [answer] = ack.calls
    assert answer["errors"] == {SetupAction.MONEY: "Pick who sees commission and prices."}
