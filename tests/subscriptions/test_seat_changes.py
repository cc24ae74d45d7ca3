"""Seat changes on the real database: a confirmed order and an import record the day a change
takes effect, and /subscription keeps the months before it as they were; who sees the money."""

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlmodel import select

from bot.catalogue import BUILT_IN
from bot.imports import import_subscriptions
from bot.subscriptions.commands import subscription_answer
from bot.subscriptions.rules import CommissionRule
from storage.models import Partner, SeatChange
from tests.utils import orders
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.slack import mrkdwn_texts

FILED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CONFIRMED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
ASKED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HEADER = "customer_domain,plan,seats,unit_price,billing_cycle,start_date,renewal_date,status,billing_owner\n"  # noqa: E501


async def goldcrest(sessions, *, seats: int = 7):
    partner = await make_partner(sessions, managers="U0BOSS")
    customer = await make_customer(
        sessions, partner, name="Goldcrest Dental", domain="goldcrest.onmicrosoft.com"
    )
    subscription = await make_subscription(
        sessions, customer, plan_code="EXO", seats=seats, unit_price="5.00",
        start_date=date(2026, 5, 1), renewal_date=date(2027, 5, 1),
    )  # fmt: skip
    return partner, subscription


async def answer_text(sessions, partner: Partner, *, user_id: str = "U0BOSS", now=ASKED) -> str:
    async with sessions() as session:
        partner = await session.get(Partner, partner.id)
        (message,) = await subscription_answer(
            session, "goldcrest", partner=partner, catalogue=BUILT_IN, rule=CommissionRule(),
            now=now, user_id=user_id,
        )  # fmt: skip
    return "\n".join(mrkdwn_texts(message.blocks))


async def seat_changes(sessions) -> list[SeatChange]:
    async with sessions() as session:
        return list((await session.exec(select(SeatChange).order_by(SeatChange.id))).all())


async def test_a_confirmed_seat_change_leaves_the_months_before_it_alone(sessions):
    partner, subscription = await goldcrest(sessions)
    filing = await orders.file(sessions, partner, "goldcrest", plan="EXO", seats=10, now=FILED)
    await orders.answer(sessions, filing.token, filing.order, now=CONFIRMED)

    (change,) = await seat_changes(sessions)
    assert (change.subscription_id, change.effective_on) == (subscription.id, date(2026, 11, 24))
    assert (change.seats_before, change.seats_after, change.order_id) == (7, 10, filing.order.id)
    text = await answer_text(sessions, partner)
    # Counted by hand in test_seat_history.py: six months at 7 seats earned $25.20; the first
    # year is worth $498.50 (12% = $59.82); the next twelve months $52.62.
    assert "10 seats × $5.00 per seat = *$50.00 a month*" in text
    assert "12% of the first year's value $498.50 = *$59.82*" in text
    assert "earned to date $25.20 · next 12 months $52.62" in text


async def test_an_imported_seat_change_counts_from_the_import_day(sessions, tmp_path):
    partner, _ = await goldcrest(sessions)
    path = tmp_path / "subscriptions.csv"
    path.write_text(
        HEADER
        + "goldcrest.onmicrosoft.com,EXO,10,5.00,annual,2026-05-01,2027-05-01,active,partner\n"
    )

    report = await import_subscriptions(
        sessions, team_id=partner.team_id, path=path, today=date(2026, 11, 24)
    )
    again = await import_subscriptions(
        sessions, team_id=partner.team_id, path=path, today=date(2026, 11, 25)
    )

    assert (report.updated, again.unchanged) == (1, 1)
    (change,) = await seat_changes(sessions)  # the unchanged re-import records nothing
    assert (change.effective_on, change.seats_before, change.seats_after) == (
        date(2026, 11, 24), 7, 10,
    )  # fmt: skip
    assert change.order_id is None
    assert "earned to date $25.20 · next 12 months $52.62" in await answer_text(sessions, partner)


async def test_an_import_that_changes_only_the_price_keeps_the_old_price_before(sessions, tmp_path):
    partner, _ = await goldcrest(sessions)
    path = tmp_path / "subscriptions.csv"
    path.write_text(
        HEADER
        + "goldcrest.onmicrosoft.com,EXO,7,6.00,annual,2026-05-01,2027-05-01,active,partner\n"
    )
    await import_subscriptions(sessions, team_id=partner.team_id, path=path, today=date(2026, 8, 1))

    (change,) = await seat_changes(sessions)
    assert (change.unit_price_before, change.unit_price_after) == (Decimal("5.00"), Decimal("6.00"))
    # May-July at 7 × $5 = $35, August-October at 7 × $6 = $42: 12% × (105 + 126) = $27.72.
    text = await answer_text(sessions, partner, now=datetime(2026, 11, 1, 12, tzinfo=UTC))
    assert "earned to date $27.72" in text
