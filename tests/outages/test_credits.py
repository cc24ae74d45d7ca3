"""SLA availability and credits on the real test database: per customer for the closing message,
and the credits that became owed within a period, for the weekly summaries."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.catalogue import BUILT_IN, EXCHANGE, SHAREPOINT
from bot.outages import flows
from bot.outages.credits import (
    credits_for_partner,
    credits_owed_between,
    customer_minutes_between,
)
from bot.outages.intake import parse_incident
from bot.outages.owed import credits_at_resolution
from bot.outages.scope import scope_for
from tests.utils.incidents import END, incident, two_partners

OPENED = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)


async def resolved_incident(sessions):
    for fields in ({}, {"status": "serviceRestored", "isResolved": True, "endDateTime": END}):
        incoming = parse_incident(json.dumps(incident(**fields)).encode(), BUILT_IN)
        async with sessions() as session:
            ingested = await flows.ingest(session, incoming, catalogue=BUILT_IN, now=OPENED)
    return ingested.incident


async def test_each_affected_customer_gets_its_availability_and_credit(sessions):
    a, _, _ = await two_partners(sessions)
    resolved = await resolved_incident(sessions)
    async with sessions() as session:
        credits = await credits_for_partner(session, resolved, a, BUILT_IN, OPENED)
    lines = sorted(
        (line.customer, line.availability, line.credit, line.rate) for _, line, _ in credits
    )
    assert lines == [
        ("Large AG", "99.597%", "$22.39", "25%"),
        ("Small GmbH", "99.597%", "$12.50", "25%"),
    ]
    contexts = {customer.name: context for customer, _, context in credits}
    assert contexts["Small GmbH"] == {
        "availability": "99.597%",
        "amount": "$12.50",
        "rate": "25%",
        "owed": True,
    }


async def test_credits_owed_within_a_period_count_each_month_once(sessions):
    a, b, _ = await two_partners(sessions)
    await resolved_incident(sessions)

    async def owed(partner, service, start, end) -> Decimal:
        async with sessions() as session:
            return await credits_owed_between(
                session, partner=partner, service=service, start=start, end=end, catalogue=BUILT_IN
            )

    week = (datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 10, 12, tzinfo=UTC))
    after = (datetime(2026, 10, 12, tzinfo=UTC), datetime(2026, 10, 19, tzinfo=UTC))
    assert await owed(a, EXCHANGE, *week) == Decimal("34.89")  # $12.50 + $22.39
    assert await owed(a, EXCHANGE, *after) == Decimal("0.00")
    assert await owed(b, EXCHANGE, *week) == Decimal("5.00")
    assert await owed(a, SHAREPOINT, *week) == Decimal("0")


async def test_customer_minutes_of_short_outages_add_up_before_rounding(sessions):
    a, _, _ = await two_partners(sessions)
    incidents = []
    # Two 40-second outages of Exchange in Europe, each hitting Alpha's 2 European customers:
    # 2 × 2 × 40 s = 160 customer-seconds, 2.67 customer-minutes: 3 (rounding each first: 0).
    for number, start in enumerate(("2026-10-10T08:00:00Z", "2026-10-10T09:00:00Z")):
        end = (datetime.fromisoformat(start) + timedelta(seconds=40)).isoformat()
        fields = {"id": f"EX{number}", "startDateTime": start, "endDateTime": end}
        for more in ({}, {"status": "serviceRestored", "isResolved": True}):
            body = json.dumps(incident(**fields, **more)).encode()
            async with sessions() as session:
                ingested = await flows.ingest(
                    session, parse_incident(body, BUILT_IN), catalogue=BUILT_IN, now=OPENED
                )
        incidents.append(ingested.incident)
    async with sessions() as session:
        minutes = await customer_minutes_between(
            session,
            partner=a,
            incidents=incidents,
            start=datetime(2026, 10, 5, tzinfo=UTC),
            end=datetime(2026, 10, 12, tzinfo=UTC),
            catalogue=BUILT_IN,
        )
    assert minutes == 3


async def test_every_partners_credits_at_once_are_each_partners_own(sessions):
    a, b, c = await two_partners(sessions)
    resolved = await resolved_incident(sessions)
    partners = {a.id: a, b.id: b, c.id: c}
    async with sessions() as session:
        scopes = {pid: await scope_for(session, resolved, pid) for pid in partners}
        together = await credits_at_resolution(
            session, resolved, partners=partners, scopes=scopes, catalogue=BUILT_IN, now=OPENED
        )
        for pid, partner in partners.items():
            alone = await credits_for_partner(session, resolved, partner, BUILT_IN, OPENED)
            assert together[pid] == [line for _, line, _ in alone], partner.name
    # Alpha's 2 European customers (as by hand above), Beta's one: 4 × $5.00 at 25% = $5.00;
    # Gamma sells SharePoint only.
    assert [(line.customer, line.credit) for line in together[a.id]] == [
        ("Large AG", "$22.39"),
        ("Small GmbH", "$12.50"),
    ]
    assert [(line.customer, line.credit) for line in together[b.id]] == [
        ("Beta Customer Ltd", "$5.00")
    ]
    assert together[c.id] == []
