"""The /outage listener and the listeners of an outage alert's buttons and forms, called directly
with a fake ack, respond and client, on the real test database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.catalogue import BUILT_IN
from bot.outages import flows
from bot.outages.intake import parse_incident
from bot.outages.messages import OutageAction
from handlers import outages
from storage.models import ApologyTemplate, IncidentFollower, OutboxMessage
from tests.utils.incidents import incident, two_partners
from tests.utils.listeners import FakeAck, FakeClient, FakeRespond, listener_context

NOW = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def services(services):
    """The services with the clock stopped at NOW."""
    services.clock = lambda: NOW
    return services


async def vendor_incident(sessions) -> int:
    incoming = parse_incident(json.dumps(incident()).encode(), BUILT_IN)
    async with sessions() as session:
        ingested = await flows.ingest(session, incoming, catalogue=BUILT_IN, now=NOW)
    return ingested.incident.id


async def command(services, partner, text: str) -> tuple[FakeAck, FakeRespond, FakeClient]:
    ack, respond, client = FakeAck(), FakeRespond(), FakeClient()
    payload = {"text": text, "user_id": "U0STAFF", "trigger_id": "trigger-1"}
    await outages.outage_command(ack, payload, respond, listener_context(services, partner), client)
    return ack, respond, client


def picked(customer_id: str) -> dict:
    block = OutageAction.APOLOGY_CUSTOMER
    return {block: {block: {"selected_option": {"value": customer_id}}}}


async def test_outage_declare_answers_the_asker_and_queues_the_alert(services, sessions):
    a, _, _ = await two_partners(sessions)
    ack, respond, client = await command(
        services, a, "declare Exchange Online Europe — Mail stuck in the queue"
    )
    assert ack.calls == [{}]
    (answer,) = respond.calls
    assert "declared (Exchange Online): your alert channel has the alert" in answer["text"]
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert {row.channel for row in rows} == {a.alert_channel}
    assert client.calls == []


async def test_outage_list_usage_and_a_refusal_are_answered(services, sessions):
    a, b, _ = await two_partners(sessions)
    _, empty, _ = await command(services, a, "list")
    assert empty.texts == ["No open outages and none in the last 30 days."]
    number = await vendor_incident(sessions)
    _, listed, _ = await command(services, a, "list")
    assert f"#{number}* (EX100200) Mail delayed for some users" in json.dumps(
        listed.calls[0]["blocks"]
    )
    _, usage, _ = await command(services, a, "")
    assert "*/outage* — your own outages, and apology texts" in usage.texts[0]
    _, refused, _ = await command(services, b, f"update {number} hello")
    assert "was reported by the vendor" in refused.texts[0]


async def test_outage_template_opens_the_form_with_the_current_wording(services, sessions):
    a, _, _ = await two_partners(sessions)
    ack, respond, client = await command(services, a, "template closing")
    assert ack.calls == [{}] and respond.calls == []
    (opened,) = client.calls_to("views_open")
    assert opened["trigger_id"] == "trigger-1"
    assert opened["view"]["callback_id"] == OutageAction.TEMPLATE_FORM
    assert opened["view"]["private_metadata"] == "closing"
    element = opened["view"]["blocks"][1]["element"]
    assert element["initial_value"].startswith("Dear {{ customer.contact_name")
    assert "Good news" in element["initial_value"]


async def test_follow_and_unfollow_buttons(services, sessions):
    a, _, c = await two_partners(sessions)
    number = await vendor_incident(sessions)
    body = {"user": {"id": "U0F"}}
    for action_id, who in ((OutageAction.FOLLOW, a), (OutageAction.FOLLOW, c)):
        ack, respond = FakeAck(), FakeRespond()
        action = {"action_id": action_id, "value": str(number)}
        await outages.follow_clicked(ack, action, respond, listener_context(services, who), body)
        assert ack.calls == [{}]
        assert respond.calls[0]["response_type"] == "ephemeral"
        assert respond.calls[0]["replace_original"] is False
        if who is a:
            assert respond.texts == [
                f"You will get every update of outage #{number} by DM. "
                "Press *Unfollow* on the alert to stop."
            ]
        else:
            assert respond.texts[0].startswith(f"There is no outage #{number} for your company")
    async with sessions() as session:
        assert len((await session.exec(select(IncidentFollower))).all()) == 1
    respond = FakeRespond()
    action = {"action_id": OutageAction.UNFOLLOW, "value": str(number)}
    await outages.follow_clicked(FakeAck(), action, respond, listener_context(services, a), body)
    assert respond.texts == [f"You no longer follow outage #{number}."]


async def test_apology_for_one_customer_form_from_button_to_text(services, sessions):
    a, _, _ = await two_partners(sessions)
    number = await vendor_incident(sessions)
    context = listener_context(services, a)

    ack, client = FakeAck(), FakeClient()
    action = {"action_id": OutageAction.APOLOGY_ONE, "value": str(number)}
    body = {"trigger_id": "trigger-2"}
    await outages.apology_one_clicked(ack, action, FakeRespond(), context, body, client)
    assert ack.calls == [{}]
    (opened,) = client.calls_to("views_open")
    assert opened["trigger_id"] == "trigger-2"
    assert opened["view"]["callback_id"] == OutageAction.APOLOGY_FORM
    assert opened["view"]["private_metadata"] == str(number)

    options = FakeAck()
    form = {"view": {"private_metadata": str(number)}}
    await outages.apology_customer_options(options, {"value": "small"}, form, context)
    (option,) = options.response["options"]
    assert option["text"]["text"].startswith("Small GmbH · ")

    unpicked = FakeAck()
    view = {"private_metadata": str(number), "state": {"values": {}}}
    await outages.apology_form_submitted(unpicked, view, context)
    assert unpicked.response == {
        "response_action": "errors",
        "errors": {OutageAction.APOLOGY_CUSTOMER: "Pick a customer from the list."},
    }

    shown = FakeAck()
    view = {"private_metadata": str(number), "state": {"values": picked(option["value"])}}
    await outages.apology_form_submitted(shown, view, context)
    assert shown.response["response_action"] == "update"
    text = json.dumps(shown.response["view"]["blocks"], ensure_ascii=False)
    assert "*Apology for Small GmbH*, ready to send" in text and "Dear Jane Doe" in text


async def test_all_apologies_are_uploaded_to_the_alerts_thread(services, sessions):
    a, _, c = await two_partners(sessions)
    number = await vendor_incident(sessions)
    action = {"action_id": OutageAction.APOLOGY_ALL, "value": str(number)}

    respond, client = FakeRespond(), FakeClient()
    await outages.all_apologies_clicked(
        FakeAck(), action, respond, listener_context(services, c), client
    )
    assert respond.texts[0].startswith(f"There is no outage #{number} for your company")
    assert client.calls == []

    root_key = f"incident:{number}:partner:{a.id}:root"
    async with sessions() as session:
        root = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.idempotency_key == root_key)
            )
        ).one()
        root.state, root.ts = "sent", "1760000000.000100"
        session.add(root)
        await session.commit()
    ack, respond, client = FakeAck(), FakeRespond(), FakeClient()
    await outages.all_apologies_clicked(ack, action, respond, listener_context(services, a), client)
    assert ack.calls == [{}] and respond.calls == []
    (upload,) = client.calls_to("files_upload_v2")
    assert upload["channel"] == a.alert_channel and upload["thread_ts"] == "1760000000.000100"
    assert upload["filename"] == f"outage-{number}-apologies.txt"
    assert upload["title"] == f"Apologies for outage #{number}, one per affected customer"
    assert "=== Large AG (" in upload["content"] and "=== Small GmbH (" in upload["content"]


async def test_a_template_is_saved_or_refused_in_its_form(services, sessions):
    a, _, _ = await two_partners(sessions)
    context = listener_context(services, a)
    block = OutageAction.TEMPLATE_TEXT

    def form(text: str) -> dict:
        return {
            "private_metadata": "apology",
            "state": {"values": {block: {block: {"value": text}}}},
        }

    refused = FakeAck()
    await outages.template_submitted(refused, form("Hi {% if %}"), {"user": {"id": "U0"}}, context)
    assert refused.response["response_action"] == "errors"
    assert refused.response["errors"][block].startswith("Not saved: ")
    assert "line 1" in refused.response["errors"][block]

    saved = FakeAck()
    await outages.template_submitted(
        saved, form("Sorry {{ customer.name }}"), {"user": {"id": "U0"}}, context
    )
    assert saved.calls == [{}]
    async with sessions() as session:
        (row,) = (await session.exec(select(ApologyTemplate))).all()
    assert (row.kind, row.body, row.updated_by) == ("apology", "Sorry {{ customer.name }}", "U0")
