"""Who an incident affects, counted in SQL: active subscriptions to a plan with the service, of
customers in the incident's regions (none given: every region), per partner."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.catalogue import BUILT_IN, EXCHANGE, SHAREPOINT
from bot.outages.rules import plans_with
from storage import outages
from tests.utils.factories import make_customer, make_partner, make_subscription

DATES = {"start_date": date(2026, 1, 1), "renewal_date": date(2027, 1, 1)}


async def test_only_active_subscriptions_with_the_service_in_the_regions_count(sessions):
    north = await make_partner(sessions, name="North")
    south = await make_partner(sessions, name="South")
    eu = await make_customer(sessions, north, name="EU Active", region="Europe")
    apac = await make_customer(sessions, north, name="APAC Active", region="Asia Pacific")
    paused = await make_customer(sessions, north, name="EU Suspended", region="Europe")
    gone = await make_customer(sessions, north, name="EU Cancelled", region="Europe")
    theirs = await make_customer(sessions, south, name="South EU", region="Europe")
    await make_subscription(sessions, eu, plan_code="EXO", seats=10, unit_price="5.00", **DATES)
    await make_subscription(sessions, eu, plan_code="SPO", seats=3, unit_price="5.25", **DATES)
    await make_subscription(
        sessions, apac, plan_code="BPOS-S", seats=7, unit_price="15.00", **DATES
    )
    await make_subscription(
        sessions, paused, plan_code="EXO", seats=50, status="suspended", **DATES
    )
    await make_subscription(sessions, gone, plan_code="EXO", seats=60, status="cancelled", **DATES)
    await make_subscription(sessions, theirs, plan_code="EXO", seats=2, unit_price="5.00", **DATES)
    exchange = plans_with(EXCHANGE, BUILT_IN)

    async with sessions() as session:
        europe = await outages.impact_by_partner(
            session=session, plan_codes=exchange, regions=["Europe"]
        )
        everywhere = await outages.impact_by_partner(
            session=session, plan_codes=exchange, regions=[]
        )
        sharepoint = await outages.affected_customers(
            session=session,
            partner_id=north.id,
            plan_codes=plans_with(SHAREPOINT, BUILT_IN),
            regions=[],
        )
        only_south = await outages.impact_by_partner(
            session=session, plan_codes=exchange, regions=[], partner_id=south.id
        )

    by_partner = {impact.partner_id: impact for impact in europe}
    # North in Europe: only EU Active's EXO, 10 × $5.00 = $50.00 (its SPO has no Exchange).
    assert (by_partner[north.id].customers, by_partner[north.id].seats) == (1, 10)
    assert by_partner[north.id].monthly == Decimal("50.00")
    assert (by_partner[south.id].customers, by_partner[south.id].monthly) == (1, Decimal("10.00"))
    # Every region: APAC Active's suite counts too, 7 × $15.00 = $105.00, more seats first.
    north_all = {i.partner_id: i for i in everywhere}[north.id]
    assert (north_all.customers, north_all.seats, north_all.monthly) == (2, 17, Decimal("155.00"))
    # SharePoint: the suite and SPO; most seats first.
    assert [(a.customer.name, a.seats) for a in sharepoint] == [
        ("APAC Active", 7),
        ("EU Active", 3),
    ]
    assert [i.partner_id for i in only_south] == [south.id]


async def test_the_largest_affected_customers_are_ranked_within_each_partner(sessions):
    north = await make_partner(sessions, name="North")
    south = await make_partner(sessions, name="South")
    seats = {"Alpha": 5, "Bravo": 40, "Charlie": 12, "Delta": 12, "Echo": 1}
    for name, count in seats.items():
        customer = await make_customer(sessions, north, name=name, region="Europe")
        await make_subscription(sessions, customer, plan_code="EXO", seats=count, **DATES)
    # Two plans with Exchange add up for one customer; a plan without it does not count.
    both = await make_customer(sessions, south, name="Both Plans", region="Europe")
    await make_subscription(sessions, both, plan_code="EXO", seats=3, **DATES)
    await make_subscription(sessions, both, plan_code="BPOS-S", seats=4, **DATES)
    await make_subscription(sessions, both, plan_code="SPO", seats=100, **DATES)
    other = await make_customer(sessions, south, name="Other", region="Asia Pacific")
    await make_subscription(sessions, other, plan_code="EXO", seats=6, **DATES)
    exchange = plans_with(EXCHANGE, BUILT_IN)

    async with sessions() as session:
        top = await outages.top_affected_by_partner(
            session=session, plan_codes=exchange, regions=[], limit=3
        )
        europe = await outages.top_affected_by_partner(
            session=session, plan_codes=exchange, regions=["Europe"], limit=3
        )
        only_north = await outages.top_affected_by_partner(
            session=session, plan_codes=exchange, regions=[], limit=10, partner_id=north.id
        )

    # Most seats first; a tie (Charlie, Delta: 12) goes by name; only the first three.
    assert top[north.id] == [("Bravo", 40), ("Charlie", 12), ("Delta", 12)]
    assert top[south.id] == [("Both Plans", 7), ("Other", 6)]
    assert europe[south.id] == [("Both Plans", 7)]
    assert list(only_north) == [north.id] and len(only_north[north.id]) == 5
