"""Kill -9 a real `serve` in the middle of an incident's fan-out against a slow Slack, start it
again, and count: every channel ends up with every message exactly once. The local Slack is
strict (the bot reads only channels it joined) and limits history as Slack limits apps outside
the Marketplace (15 messages an answer, one call per period; the period is shortened here)."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from datetime import date

import aiohttp
from sqlmodel import select

from storage.models import OutboxMessage
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.incidents import incident, sign
from tests.utils.serve import SERVE_INCIDENT_SECRET, free_port, start_serve

PARTNERS = 30


async def test_kill_9_mid_fan_out_then_restart_delivers_everything_exactly_once(
    database_url, sessions, local_slack, tmp_path
):
    channels = []
    for number in range(PARTNERS):
        partner = await make_partner(sessions, name=f"Partner {number}")
        customer = await make_customer(
            sessions, partner, name=f"Customer {number}", region="Europe"
        )
        await make_subscription(
            sessions,
            customer,
            plan_code="EXO",
            seats=5,
            start_date=date(2026, 1, 1),
            renewal_date=date(2027, 1, 1),
        )
        channels.append(partner.alert_channel)
    local_slack.latency = 0.03  # a slow Slack: the fan-out takes a while
    local_slack.history_limited = True
    local_slack.history_seconds = 0.5  # Slack's minute, shortened: Retry-After is then 1 s
    port = free_port()
    first = await start_serve(database_url, port, local_slack.api_url, tmp_path)
    body = json.dumps(incident(id="EXCRASH1")).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"http://127.0.0.1:{port}/hooks/incidents",
            data=body,
            headers=sign(body, SERVE_INCIDENT_SECRET),
        ) as response:
            assert response.status == 201

    await local_slack.wait_for(lambda: len(local_slack.calls_to("chat.postMessage")) >= 15)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    before_restart = len(local_slack.calls_to("chat.postMessage"))
    assert before_restart < 2 * PARTNERS  # killed in the middle

    second = await start_serve(database_url, port, local_slack.api_url, tmp_path)
    try:

        def delivered() -> bool:
            return all(len(local_slack.posted.get(c, [])) >= 2 for c in channels)

        await local_slack.wait_for(delivered, timeout=60)
        # Every row recorded: the ones posted before the kill were found by looking.
        for _ in range(600):
            async with sessions() as session:
                states = {row.state for row in (await session.exec(select(OutboxMessage))).all()}
            if states == {"sent"}:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # past a lease: a duplicate would show up now
    finally:
        second.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(second.communicate(), 20)
    assert "Traceback" not in err.decode()

    for channel in channels:
        posted = local_slack.posted[channel]
        keys = Counter(message["metadata"]["event_payload"]["key"] for message in posted)
        assert len(posted) == 2 and set(keys.values()) == {1}, (channel, keys)
        root, reply = sorted(posted, key=lambda m: m["thread_ts"] is not None)
        assert reply["thread_ts"] == root["ts"]
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert len(rows) == 2 * PARTNERS and {row.state for row in rows} == {"sent"}
    # The bot joined every alert channel before posting, so each look could read it.
    assert set(channels) <= local_slack.members
    looks = local_slack.calls_to("conversations.history") + local_slack.calls_to(
        "conversations.replies"
    )
    assert looks and all(int(call.params["limit"]) <= 15 for call in looks)
