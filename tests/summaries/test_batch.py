"""Every partner's summary at once (the scheduled Monday) says what each partner's own summary
says: the grouped queries keep partners apart, within one week's bounds and across time zones.
Figures counted by hand in the comments."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from bot.catalogue import BUILT_IN
from bot.outages import flows as outage_flows
from bot.outages.intake import parse_incident
from bot.subscriptions.rules import CommissionRule
from bot.summaries import batch
from bot.summaries import flows as summary_flows
from bot.summaries.rules import week_starting
from storage import outage_scopes
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.incidents import incident, two_partners

RULE = CommissionRule()
NOW = datetime(2026, 10, 14, 12, 0, tzinfo=UTC)  # a Wednesday; last week is 5-11 October
MONDAY = date(2026, 10, 5)


async def two_outages(sessions) -> None:
    """Exchange in Europe, 3 h on Tuesday 6 October and 1 h on Thursday 8 October, each seen
    open first (so the partners with customers there are alerted), then resolved."""
    for number, (start, end) in enumerate(
        (("2026-10-06T08:00:00Z", "2026-10-06T11:00:00Z"),
         ("2026-10-08T08:00:00Z", "2026-10-08T09:00:00Z")), start=1,
    ):  # fmt: skip
        resolved = {"endDateTime": end, "isResolved": True, "status": "serviceRestored"}
        for fields in ({}, resolved):
            body = incident(id=f"EX{number}", startDateTime=start, **fields)
            incoming = parse_incident(json.dumps(body).encode(), BUILT_IN)
            async with sessions() as session:
                await outage_flows.ingest(session, incoming, catalogue=BUILT_IN, now=NOW)


def what_it_says(summary) -> tuple:
    return (summary.week, summary.current, summary.previous, summary.mrr_before,
            summary.renewals, summary.renewals_total, summary.at_risk)  # fmt: skip


async def test_every_partners_summary_at_once_is_each_partners_own(sessions):
    a, b, c = await two_partners(sessions)  # Berlin, London, UTC
    # Delta, in Berlin too (the same week's bounds as Alpha's): one American Exchange customer,
    # not hit, renewing on 20 October.
    d = await make_partner(sessions, name="Delta Net", timezone="Europe/Berlin")
    west = await make_customer(sessions, d, name="Westward LLC", region="North America")
    await make_subscription(
        sessions, west, plan_code="EXO", seats=3, unit_price="5.00",
        start_date=date(2025, 10, 20), renewal_date=date(2026, 10, 20),
    )  # fmt: skip
    await two_outages(sessions)
    due = [(p, week_starting(MONDAY, p.timezone)) for p in (a, b, c, d)]

    async with sessions() as session:
        together = await batch.summaries_of(session, due, catalogue=BUILT_IN, rule=RULE, now=NOW)
    for partner, week in due:
        async with sessions() as session:
            alone = await summary_flows.build_summary(
                session, partner=partner, week=week, catalogue=BUILT_IN, rule=RULE, now=NOW
            )
        assert what_it_says(together[partner.id]) == what_it_says(alone), partner.name

    alpha, beta, gamma, delta = (together[p.id].current for p in (a, b, c, d))
    # Alpha: 2 European customers with Exchange, (180 + 60) min × 2 = 480 customer-minutes.
    # October has 745 h in Berlin and London; 4 h down: 99.463%, 25% credits: Small GmbH's
    # $50.00 → $12.50, Large AG's Exchange share of $300.00 ($89.55…) → $22.39; $34.89.
    assert (alpha.incidents, alpha.customer_minutes, alpha.credits_owed) == (
        2, 480, Decimal("34.89"),
    )  # fmt: skip
    # Beta: one European customer, 4 × $5.00: 240 customer-minutes and $5.00.
    assert (beta.incidents, beta.customer_minutes, beta.credits_owed) == (2, 240, Decimal("5.00"))
    # Gamma sells SharePoint only, Delta only in America: neither was alerted.
    assert (gamma.incidents, gamma.customer_minutes, gamma.credits_owed) == (0, 0, Decimal(0))
    assert (delta.incidents, delta.customer_minutes, delta.credits_owed) == (0, 0, Decimal(0))
    assert together[a.id].at_risk == [
        ("Large AG", "hit by 2 incidents in 30 days"),
        ("Small GmbH", "hit by 2 incidents in 30 days"),
    ]
    assert together[b.id].at_risk == [("Beta Customer Ltd", "hit by 2 incidents in 30 days")]
    assert together[d.id].at_risk == []
    # Revenue at the end of the week: Alpha $50 + $300 + $500 (Faraway's 100 EXO seats) = $850;
    # Delta 3 × $5.00 = $15.00, renewing within 30 days of 12 October; Alpha's renew in January.
    assert (alpha.mrr, delta.mrr) == (Decimal("850.00"), Decimal("15.00"))
    assert together[d.id].renewals_total == 1 and together[a.id].renewals_total == 0


async def test_a_partners_narrowing_counts_for_it_alone(sessions):
    a, b, _ = await two_partners(sessions)
    # An Exchange incident the vendor placed nowhere: every partner's customers may be hit, so
    # Alpha's 3 Exchange customers (Faraway in America too) and Beta's 1, 2 h each; Alpha then
    # narrows it to North America: only Faraway counts for Alpha, Beta keeps its customer.
    body = incident(id="EX9", startDateTime="2026-10-06T08:00:00Z", regions=[])
    for fields in ({}, {"endDateTime": "2026-10-06T10:00:00Z", "isResolved": True,
                        "status": "serviceRestored"}):  # fmt: skip
        incoming = parse_incident(json.dumps({**body, **fields}).encode(), BUILT_IN)
        async with sessions() as session:
            stored = await outage_flows.ingest(session, incoming, catalogue=BUILT_IN, now=NOW)
    async with sessions() as session:
        await outage_scopes.set_narrowing(
            session=session, incident_id=stored.incident.id, partner_id=a.id,
            regions=["North America"], by="U0STAFF", now=NOW,
        )  # fmt: skip
        await session.commit()
    due = [(p, week_starting(MONDAY, p.timezone)) for p in (a, b)]
    async with sessions() as session:
        together = await batch.summaries_of(session, due, catalogue=BUILT_IN, rule=RULE, now=NOW)
    # 120 min × 1 customer for each.
    assert together[a.id].current.customer_minutes == 120
    assert together[b.id].current.customer_minutes == 120
