"""The one failure handler: it answers at a response_url only when the request is known to be
Slack's, since anyone can write a response_url into a body."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy.exc import OperationalError

from handlers.context import VERIFIED_REQUEST
from handlers.errors import answering_failures, handle_error
from tests.utils.listeners import FakeAck, FakeRespond

BODY = {"response_url": "https://attacker.example/collect", "command": "/order"}


async def test_a_failure_on_an_unverified_request_is_not_answered_at_its_response_url():
    respond = FakeRespond()
    await handle_error(ValueError("bolt's check raised"), BODY, respond, {}, None)
    await handle_error(ValueError("again"), BODY, respond, {VERIFIED_REQUEST: False}, None)
    assert respond.calls == []


async def test_a_failure_on_a_verified_request_is_answered_privately(services):
    respond = FakeRespond()
    context = {"services": services, VERIFIED_REQUEST: True}
    await handle_error(RuntimeError("listener failed"), BODY, respond, context, None)
    (answer,) = respond.calls
    assert "Something went wrong" in answer["text"] and answer["response_type"] == "ephemeral"


async def test_over_socket_mode_the_connection_is_the_proof(services):
    respond = FakeRespond()
    request = SimpleNamespace(mode="socket_mode")
    await handle_error(RuntimeError("x"), BODY, respond, {"services": services}, request)
    assert len(respond.calls) == 1


async def test_a_wrapped_listener_passes_the_request_on(services):
    async def failing(ack) -> None:
        await ack()
        raise RuntimeError("listener failed")

    respond, ack = FakeRespond(), FakeAck()
    guarded = answering_failures(failing)
    await guarded(
        ack=ack, body=BODY, respond=respond, context={"services": services}, client=None,
        logger=None, command=None, action=None, view=None, payload=None,
        request=SimpleNamespace(mode="socket_mode"),
    )  # fmt: skip
    assert ack.calls == [{}] and len(respond.calls) == 1


async def test_a_command_whose_listener_fails_before_acking_is_answered_in_the_ack(services):
    async def failing_before_ack(ack) -> None:
        raise RuntimeError("listener failed")

    respond, ack = FakeRespond(), FakeAck()
    guarded = answering_failures(failing_before_ack)
    await guarded(
        ack=ack, body=BODY, respond=respond, context={"services": services}, client=None,
        logger=None, command=BODY, action=None, view=None, payload=None,
        request=SimpleNamespace(mode="socket_mode"),
    )  # fmt: skip
    [answer] = ack.calls
    assert "Something went wrong" in answer["text"] and answer["response_type"] == "ephemeral"
    assert respond.calls == []


async def database_down(*_args, **_kwargs) -> None:
    raise OperationalError("SELECT", {}, ConnectionRefusedError("the database is down"))


async def test_a_form_whose_listener_fails_shows_the_answer_beside_its_first_field(services):
    view = {
        "callback_id": "outage_apology_form",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "Pick one"}},
            {"type": "input", "block_id": "apology_customer", "element": {}},
        ],
    }
    body = {"type": "view_submission", "view": view}
    ack = FakeAck()
    await answering_failures(database_down)(
        ack=ack, body=body, respond=None, context={"services": services}, client=None,
        logger=None, command=None, action=None, view=view, payload=None, request=None,
    )  # fmt: skip
    [answer] = ack.calls
    assert answer["response_action"] == "errors"
    assert "cannot reach its database" in answer["errors"]["apology_customer"]


async def test_a_menu_whose_options_cannot_be_loaded_says_why_in_one_entry(services):
    body = {"type": "block_suggestion", "value": "con"}
    ack = FakeAck()
    await answering_failures(database_down)(
        ack=ack, body=body, respond=None, context={"services": services}, client=None,
        logger=None, command=None, action=None, view=None, payload=body, request=None,
    )  # fmt: skip
    [answer] = ack.calls
    [option] = answer["options"]
    assert option["text"]["text"].startswith("partnerbot cannot reach its database")
    assert len(option["text"]["text"]) <= 75
