"""The same signed request twice does one thing: a captured command replayed to this process or
another, and Slack's own retries of an event, are acknowledged and acted on once; what changes
nothing (an options load) is answered every time."""

from __future__ import annotations

import asyncio
import logging

from sqlmodel import func, select

from bot.app import build_services, create_app
from devtools.slack_requests import block_suggestion_body, event_body, slash_command_body
from storage.models import Order, SeenSlackRequest
from tests.e2e.test_hostile_requests import JSON, post, sign
from tests.utils.e2e import e2e_settings, start_server
from tests.utils.factories import make_customer, make_partner


async def orders_filed(sessions) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(Order))).one()


async def test_a_replayed_order_command_files_one_order(bot, sessions, caplog):
    caplog.set_level(logging.INFO)
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")
    body = slash_command_body(
        command="/order", text="contoso dental BPOS-S 25", team_id=partner.team_id,
        user_id="U0FILER", response_url=bot.local_slack.response_url("order"),
    ).encode()  # fmt: skip
    headers = sign(body)

    status, _, _ = await post(bot, body, headers)
    assert status == 200
    (answer,) = await bot.local_slack.wait_for_responses("order", 1)
    assert "filed" in answer["text"]
    replays = [await post(bot, body, headers) for _ in range(3)]

    assert [(status, text) for status, text, _ in replays] == [(200, "")] * 3
    later = await bot.slack.command("/order", "list", team_id=partner.team_id, user_id="U0FILER")
    assert later.status == 200
    assert await orders_filed(sessions) == 1
    assert len(bot.local_slack.responses("order")) == 1
    seen_again = [r for r in caplog.records if "seen before" in r.getMessage()]
    assert len(seen_again) == 3


async def test_a_replay_to_another_serve_process_is_acted_on_once(
    bot, sessions, database_url, local_slack
):
    """Two processes share nothing but the database: the record of seen requests is there."""
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")
    settings = e2e_settings(database_url, local_slack)
    other_services = build_services(settings)
    runner, other_url = await start_server(await create_app(settings, services=other_services))
    try:
        body = slash_command_body(
            command="/order", text="contoso dental BPOS-S 5", team_id=partner.team_id,
            user_id="U0FILER", response_url=local_slack.response_url("two"),
        ).encode()  # fmt: skip
        headers = sign(body)
        first, second = await asyncio.gather(
            post(bot, body, headers),
            bot.http.post(other_url + "/slack/events", data=body, headers=headers),
        )
        assert first[0] == 200 and second.status == 200
        second.release()
        await local_slack.wait_for_responses("two", 1)
        later = await bot.slack.command("/order", "list", team_id=partner.team_id)
        assert later.status == 200
    finally:
        await runner.cleanup()
    assert await orders_filed(sessions) == 1
    assert len(local_slack.responses("two")) == 1


async def test_slacks_retry_of_an_event_is_acknowledged_and_not_acted_on_again(
    bot, sessions, caplog
):
    caplog.set_level(logging.INFO)
    partner = await make_partner(sessions, managers="U0BOSS")
    event = {"type": "app_home_opened", "user": "U0BOSS", "tab": "home"}
    body = event_body(event=event, team_id=partner.team_id).encode()

    status, _, _ = await post(bot, body, {**sign(body), "Content-Type": JSON})
    assert status == 200
    slack = bot.local_slack
    await slack.wait_for(lambda: len(slack.calls_to("views.publish")) == 1)
    # Slack's retries carry the same body, newly signed, and say which retry they are.
    for retry in (1, 2, 3):
        headers = {**sign(body), "Content-Type": JSON, "X-Slack-Retry-Num": str(retry),
                   "X-Slack-Retry-Reason": "http_timeout"}  # fmt: skip
        status, _, _ = await post(bot, body, headers)
        assert status == 200
    other = event_body(event={**event, "user": "U0OTHER"}, team_id=partner.team_id).encode()
    status, _, _ = await post(bot, other, {**sign(other), "Content-Type": JSON})
    await slack.wait_for(
        lambda: any(call.params["user_id"] == "U0OTHER" for call in slack.calls_to("views.publish"))
    )

    published_for = [call.params["user_id"] for call in slack.calls_to("views.publish")]
    assert sorted(published_for) == ["U0BOSS", "U0OTHER"]
    # Each retry was answered before bolt saw it (its listener would run in the background).
    seen_again = [r for r in caplog.records if "seen before" in r.getMessage()]
    assert len(seen_again) == 3


async def test_an_options_load_asked_twice_alike_is_answered_twice(bot, sessions):
    """An options load changes nothing, and two alike within a second sign alike: both are
    answered, and neither is recorded."""
    partner = await make_partner(sessions)
    await make_customer(sessions, partner, name="Contoso Dental", domain="contosodental.com")
    body = block_suggestion_body(
        action_id="order_customer", block_id="order_customer", value="conto",
        team_id=partner.team_id, user_id="U0STAFF",
    ).encode()  # fmt: skip
    headers = sign(body)
    answers = [await post(bot, body, headers) for _ in range(2)]
    assert [status for status, _, _ in answers] == [200, 200]
    assert all("Contoso Dental" in text for _, text, _ in answers)

    async with bot.services.sessions() as session:
        assert (await session.exec(select(func.count()).select_from(SeenSlackRequest))).one() == 0
