"""Two real `serve` processes on one database, as behind a load balancer: an incident delivered
to both fans out once, and the weekly summary they are both due to post goes out once."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from datetime import date, timedelta

import aiohttp
from sqlmodel import select

from bot.zones import utc_now
from storage import summaries as summary_rows
from storage.models import SummaryRun
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.incidents import incident, sign
from tests.utils.serve import SERVE_INCIDENT_SECRET, free_port, start_serve

PARTNERS = 8


async def test_two_serve_processes_fan_out_once_and_post_each_summary_once(
    database_url, sessions, local_slack, tmp_path
):
    # Every partner's summary fell due two minutes ago (in UTC, its time zone).
    due = utc_now() - timedelta(minutes=2)
    partners = []
    for number in range(PARTNERS):
        partner = await make_partner(
            sessions, name=f"Partner {number}", timezone="UTC", managers=f"U0BOSS{number}"
        )
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
        async with sessions() as session:
            await summary_rows.save_schedule(
                session=session,
                partner_id=partner.id,
                weekday=due.weekday(),
                at_minutes=due.hour * 60 + due.minute,
                enabled=True,
                by="test",
                now=due,
            )
            await session.commit()
        partners.append(partner)
    ports = [free_port(), free_port()]
    processes = []
    try:
        for port in ports:
            processes.append(
                await start_serve(
                    database_url, port, local_slack.api_url, tmp_path, scheduler=True, lease=10
                )
            )
        body = json.dumps(incident(id="EXTWO")).encode()
        async with aiohttp.ClientSession() as http:

            async def deliver(port: int) -> int:
                async with http.post(
                    f"http://127.0.0.1:{port}/hooks/incidents",
                    data=body,
                    headers=sign(body, SERVE_INCIDENT_SECRET),
                ) as response:
                    return response.status

            statuses = await asyncio.gather(*(deliver(port) for port in ports * 2))
        assert sorted(statuses) == [200, 200, 200, 201]

        def done() -> bool:
            return (
                all(
                    len(local_slack.posted.get(p.alert_channel, [])) >= 2
                    and local_slack.posted.get(p.manager_channel)
                    for p in partners
                )
                and len(local_slack.files) >= PARTNERS
            )

        await local_slack.wait_for(done, timeout=60)
        await asyncio.sleep(2)  # a duplicate would show up by now
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            await asyncio.wait_for(process.wait(), 20)

    for partner in partners:
        assert len(local_slack.posted[partner.alert_channel]) == 2
        assert len(local_slack.posted[partner.manager_channel]) == 1
    charts = Counter(file["channel"] for file in local_slack.files)
    assert charts == Counter({p.manager_channel: 1 for p in partners}), [
        (f["channel"], f["id"]) for f in local_slack.files
    ]
    async with sessions() as session:
        runs = (await session.exec(select(SummaryRun))).all()
    assert len(runs) == PARTNERS and len({run.claimed_by for run in runs}) >= 1
