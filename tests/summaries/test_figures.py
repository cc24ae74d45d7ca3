"""The summary's SQL figures: commission accrued by the day in and after the first year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from storage import summary_money as figures
from tests.utils.factories import make_customer, make_partner, make_subscription


async def test_commission_accrues_by_the_day_at_the_rate_of_its_year(sessions):
    partner = await make_partner(sessions)
    young = await make_customer(sessions, partner, name="Young")
    old = await make_customer(sessions, partner, name="Old")
    # 10 seats × $5.00 = $600.00 a year each.
    await make_subscription(
        sessions,
        young,
        seats=10,
        unit_price="5.00",
        start_date=date(2026, 8, 10),
        renewal_date=date(2027, 8, 10),
    )
    await make_subscription(
        sessions,
        old,
        seats=10,
        unit_price="5.00",
        start_date=date(2024, 1, 1),
        renewal_date=date(2027, 1, 1),
    )
    async with sessions() as session:
        result = await figures.commission_figures(
            session=session,
            partner_id=partner.id,
            week_start=date(2026, 11, 9),
            week_end=date(2026, 11, 16),
            rates=(Decimal("0.12"), Decimal("0.06")),
        )
    # This week, 7 days each: young in its first year 600 × 7/365 × 12% = $1.3808; old after it
    # 600 × 7/365 × 6% = $0.6904; together $2.07.
    assert result.earned_this_week == Decimal("2.07")
    # Next 365 days from 16 Nov: young is 98 days old, so 267 first-year days at 12% and 98 at
    # 6%: 600 × (267 × 0.12 + 98 × 0.06)/365 = $62.33; old all at 6%: $36.00. Together $98.33.
    assert result.expected_next_12_months == Decimal("98.33")
