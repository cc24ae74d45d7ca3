"""The HTTP server itself: Slack signatures, /healthz, /metrics, and a database that goes away."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from bot.app import build_services, create_app
from devtools.slack_requests import (
    block_action_body,
    block_suggestion_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)
from storage import schema
from tests.e2e.database_switch import DatabaseSwitch
from tests.utils.e2e import SIGNING_SECRET, e2e_settings, start_server
from tests.utils.factories import make_customer, make_partner
from tests.utils.incidents import incident, sign


def interactions(response_url: str) -> dict[str, str]:
    """A click, an options load and a form submission from a workspace, as Slack sends them."""
    form = {
        "type": "modal",
        "callback_id": "some_form",
        "title": {"type": "plain_text", "text": "A form"},
        "blocks": [
            {
                "type": "input",
                "block_id": "first_field",
                "label": {"type": "plain_text", "text": "First"},
                "element": {"type": "plain_text_input", "action_id": "first_field"},
            }
        ],
    }
    button = {"type": "button", "action_id": "some_button", "value": "1",
              "text": {"type": "plain_text", "text": "Go"}}  # fmt: skip
    return {
        "click": block_action_body(
            action=button,
            block_id="b",
            team_id="T0ANY",
            user_id="U0STAFF",
            response_url=response_url,
        ),  # fmt: skip
        "options": block_suggestion_body(
            action_id="pick", block_id="pick", value="con", team_id="T0ANY", user_id="U0STAFF"
        ),  # fmt: skip
        "form": view_submission_body(
            view=form, values={"first_field": {"value": "x"}}, team_id="T0ANY", user_id="U0STAFF"
        ),  # fmt: skip
    }


def subscription_body(team_id: str, response_url: str) -> str:
    return slash_command_body(
        command="/subscription",
        text="contoso",
        team_id=team_id,
        user_id="U0STAFF",
        response_url=response_url,
    )


async def test_requests_with_a_missing_wrong_or_stale_signature_are_refused(bot, sessions):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso")
    body = subscription_body(partner.team_id, bot.local_slack.response_url("refused"))
    good = signed_headers(SIGNING_SECRET, body)
    wrong = signed_headers("not-the-signing-secret", body)
    stale = signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - 6 * 60)
    missing = {"Content-Type": "application/x-www-form-urlencoded"}
    tampered_body = body.replace("contoso", "fabrikam")

    assert (await bot.slack.post(body, missing))[0] == 401
    assert (await bot.slack.post(body, wrong))[0] == 401
    assert (await bot.slack.post(body, stale))[0] == 401
    assert (await bot.slack.post(tampered_body, good))[0] == 401
    assert bot.local_slack.responses("refused") == []
    # The same request, properly signed, is answered (in the ack, the answer being ready).
    status, answer = await bot.slack.post(body, good)
    assert status == 200 and "Contoso" in json.loads(answer)["text"]


async def test_healthz_answers_ok_while_the_database_answers(bot):
    assert await bot.get_json("/healthz") == (200, {"status": "ok"})


async def test_metrics_count_requests_in_prometheus_format(bot, sessions):
    partner = await make_partner(sessions)
    await bot.slack.command("/subscription", "anything", team_id=partner.team_id)
    await bot.get_json("/healthz")

    async with bot.http.get(bot.url + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        metrics = await response.text()

    assert 'partnerbot_slack_requests_total{kind="command",name="/subscription"} 1.0' in metrics
    assert (
        'partnerbot_http_requests_total{method="POST",route="/slack/events",status="200"} 1.0'
        in metrics
    )
    assert "partnerbot_database_up 1.0" in metrics
    assert 'partnerbot_answer_duration_seconds_count{command="/subscription"} 1.0' in metrics


async def test_database_outage_gives_503_and_clear_answers_then_recovers_by_itself(
    database_url, local_slack, tmp_path, engine
):
    async with DatabaseSwitch(database_url, tmp_path) as database:
        settings = e2e_settings(database.url, local_slack)
        services = build_services(settings)
        if database.url.startswith("sqlite"):
            # A SQLite file whose folder is gone cannot be opened: the database starts "down".
            await database.down()
        else:
            await schema.upgrade(services.engine)
        runner, url = await start_server(await create_app(settings, services=services))
        async with aiohttp.ClientSession() as http:

            async def health() -> int:
                async with http.get(url + "/healthz") as response:
                    return response.status

            async def command_answer() -> str:
                body = subscription_body("T0ANY", local_slack.response_url("down"))
                headers = signed_headers(SIGNING_SECRET, body)
                async with http.post(url + "/slack/events", data=body, headers=headers) as r:
                    assert r.status == 200
                    return await r.text()

            if not database.url.startswith("sqlite"):
                assert await health() == 200
                await database.down()
            assert await health() == 503
            answer = await command_answer()
            assert "cannot reach its database right now" in answer
            assert "Traceback" not in answer
            for kind, body in interactions(local_slack.response_url("clicked")).items():
                headers = signed_headers(SIGNING_SECRET, body)
                async with http.post(url + "/slack/events", data=body, headers=headers) as r:
                    assert r.status == 200, kind  # never bolt's 404, never a 500
                    said = await r.text()
                assert "Traceback" not in said
                if kind == "options":
                    [option] = json.loads(said)["options"]
                    assert "cannot reach its database" in option["text"]["text"]
                elif kind == "form":
                    answered = json.loads(said)
                    assert answered["response_action"] == "errors"
                    assert "cannot reach its database" in answered["errors"]["first_field"]
            [clicked] = await local_slack.wait_for_responses("clicked")
            assert "cannot reach its database right now" in clicked["text"]
            assert clicked["response_type"] == "ephemeral"
            # A customer opening or answering an order link gets a page that says so.
            link = url + "/orders/" + "A" * 43
            async with http.get(link) as page:
                assert page.status == 503
                html = await page.text()
                assert "We cannot show your order right now" in html and "Traceback" not in html
                assert page.headers["Referrer-Policy"] == "no-referrer"
            async with http.post(link + "/decline", data={"csrf": "x"}) as answered:
                assert answered.status == 503
            # The incident hook says it stored nothing, so the sender retries.
            body = json.dumps(incident()).encode()
            async with http.post(url + "/hooks/incidents", data=body, headers=sign(body)) as hook:
                assert hook.status == 503
                assert "nothing was stored" in (await hook.json())["error"]

            await database.up()
            assert await health() == 200
            # Back up, the bot answers again (this workspace is simply not registered there).
            if database.url.startswith("sqlite"):
                await schema.upgrade(services.engine)
            assert "not set up for partnerbot" in await command_answer()
        await runner.cleanup()


async def test_an_unexpected_failure_gets_a_reference_not_a_traceback(
    bot, sessions, monkeypatch, caplog
):
    partner = await make_partner(sessions)

    async def broken_look_up(*_args, **_kwargs):
        raise RuntimeError("boom: internal detail")

    # Fault injection: the flow fails in a way no input can trigger today.
    monkeypatch.setattr("bot.customers.look_up", broken_look_up)
    answer = await bot.slack.command("/subscription", "contoso", team_id=partner.team_id)

    [message] = answer.messages
    assert message["text"].startswith("Something went wrong on our side (ref ")
    reference = message["text"].split("(ref ")[1][:8]
    assert "boom" not in message["text"]
    assert any(reference in record.getMessage() for record in caplog.records)


async def test_with_an_app_token_slack_requests_arrive_over_socket_mode(
    sessions, engine, database_url, local_slack
):
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")
    settings = e2e_settings(database_url, local_slack, slack_app_token="xapp-e2e-app-token")
    runner, _ = await start_server(
        await create_app(settings, services=build_services(settings, engine=engine))
    )
    try:
        ack = await local_slack.send_over_socket(
            "slash_commands",
            {
                "command": "/subscription",
                "text": "contoso",
                "team_id": partner.team_id,
                "user_id": "U0STAFF",
                "channel_id": "C0LOCAL",
                "response_url": local_slack.response_url("socket"),
            },
        )
    finally:
        await runner.cleanup()
    assert "envelope_id" in ack
    # Ready in time, the answer comes in the acknowledgement's payload; no post at all.
    answer = ack["payload"]
    assert answer["response_type"] == "ephemeral"
    assert local_slack.responses("socket") == []
    [connect] = local_slack.calls_to("apps.connections.open")
    assert connect.params["token"] == "xapp-e2e-app-token"
    assert "Contoso Dental" in answer["blocks"][0]["text"]["text"]


async def test_a_database_that_never_answers_still_gets_the_asker_an_answer_in_time(
    bot, monkeypatch
):
    async def frozen(*_args, **_kwargs):
        await asyncio.sleep(3600)  # a database that takes the request and never answers

    # Fault injection: both calls made before any listener runs wait for ever.
    monkeypatch.setattr("handlers.slack_events.first_sight_and_partner", frozen)
    monkeypatch.setattr("handlers.context.partner_of_workspace", frozen)
    body = subscription_body("T0ANY", bot.local_slack.response_url("frozen"))
    headers = signed_headers(SIGNING_SECRET, body)
    # Slack gives up after 3 seconds; the client here waits longer, to see what comes.
    async with bot.http.post(
        bot.url + "/slack/events", data=body, headers=headers,
        timeout=aiohttp.ClientTimeout(total=10),
    ) as answered:  # fmt: skip
        assert answered.status == 200
        text = json.loads(await answered.text())["text"]
    assert "cannot reach its database right now" in text
