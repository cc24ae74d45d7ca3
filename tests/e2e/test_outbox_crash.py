"""Kill -9 a real `serve` in the middle of an incident's fan-out against a slow Slack, start it
again, and count: every channel ends up with every message exactly once."""

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
    port = free_port()
    first = await start_serve(database_url, port, local_slack.api_url, tmp_path)
    body = json.dumps(incident(id="EXCRASH1")).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"http://127.0.0.1:{port}/hooks/incidents",
            data=body,
            headers={"X-Signature": sign(body, SERVE_INCIDENT_SECRET)},
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
