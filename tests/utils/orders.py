"""Order test helpers: an order, its customer and partner built in memory (no database), and the
order flows called on the test database the way the flow tests call them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlmodel import select

from bot.catalogue import BUILT_IN
from bot.orders import flows, staff
from bot.orders.cuts import CutToConfirm
from bot.orders.rules import Answer, csrf_token, describe
from storage import outbox
from storage.models import Customer, Order, OutboxMessage, Partner

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # a Sunday
EXPIRES = NOW + timedelta(days=14)


def an_order(**changes) -> Order:
    """25 seats of BPOS-S at the list price, filed now, for two weeks."""
    values = {
        "id": 42,
        "partner_id": 1,
        "customer_id": 1,
        "plan_code": "BPOS-S",
        "seats": 25,
        "unit_price": Decimal("15.00"),
        "billing_owner": "vendor",
        "token_hash": "0" * 64,
        "filed_by": "U0FILER",
        "filed_at": NOW,
        "expires_at": EXPIRES,
    }
    return Order(**(values | changes))


def a_customer(name: str = "Contoso Dental", domain: str = "contosodental.com") -> Customer:
    return Customer(id=1, partner_id=1, name=name, name_key=name.lower(), domain=domain)


def a_partner(name: str = "Northwind Cloud") -> Partner:
    return Partner(
        id=1, team_id="T0ORDERS", name=name, alert_channel="C0ALERT", manager_channel="C0MGR",
        timezone="Europe/Berlin",
    )  # fmt: skip


def description(order: Order | None = None, *, customer=None, partner=None):
    return describe(
        order or an_order(), customer=customer or a_customer(), partner=partner or a_partner(),
        catalogue=BUILT_IN, time_zone="Europe/Berlin", vendor="Microsoft",
    )  # fmt: skip


# On the database.

# 23:30 UTC on Sunday 22 Nov 2026 is already Monday 23 Nov in Berlin, the partners' time zone.
FILED = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
BERLIN_DAY = date(2026, 11, 23)
TTL_DAYS = 14
SECRET = "server-secret-for-tests"
FILER = "U0FILER"
CONFIRMER = flows.Confirmer(
    name="Jane Doe", email="jane@contosodental.com", ip="203.0.113.7",
    user_agent="Mozilla/5.0 (Test)",
)  # fmt: skip


async def file(sessions, partner, query="", *, plan="BPOS-S", seats=25, now=FILED, **more):
    async with sessions() as session:
        return await flows.file_order(
            session, partner=partner, plan=BUILT_IN.get(plan), seats=seats, filed_by=FILER,
            now=now, ttl_days=TTL_DAYS, customer_query=query, **more,
        )  # fmt: skip


async def file_order_as_typed(session, **filing) -> flows.Filing:
    """Files an order as `flows.file_order` does, and a seat cut as the filer who picked "set
    to N" in answer to the question about it (tests that are about something else)."""
    filed = await flows.file_order(session, **filing)
    if isinstance(filed, CutToConfirm):
        return await flows.file_order(session, **filing, seen_seats=filed.current)
    return filed


def csrf_for(order: Order) -> str:
    return csrf_token(SECRET, order_id=order.id, stored_hash=order.token_hash)


async def answer(sessions, token, order, *, answer=Answer.CONFIRM, now=None, csrf=None, **who):
    async with sessions() as session:
        return await flows.answer_link(
            session, token=token, answer=answer,
            csrf=csrf_for(order) if csrf is None else csrf,
            confirmer=flows.Confirmer(**who) if who else CONFIRMER, secret_key=SECRET,
            now=now or FILED + timedelta(days=1), catalogue=BUILT_IN, vendor="Microsoft",
        )  # fmt: skip


async def open_link(sessions, token, now=None):
    async with sessions() as session:
        return await flows.open_link(session, token=token, now=now or FILED + timedelta(days=1))


async def stored_order(sessions, order_id: int) -> Order:
    async with sessions() as session:
        return await session.get(Order, order_id)


async def all_of(sessions, model) -> list:
    async with sessions() as session:
        return list((await session.exec(select(model).order_by(model.id))).all())


async def outbox_rows(sessions, prefix: str) -> list[OutboxMessage]:
    async with sessions() as session:
        return await outbox.by_key_prefix(session=session, prefix=prefix)


async def cancel(sessions, partner, order_id, *, now=None, by="U0STAFF"):
    async with sessions() as session:
        return await staff.cancel_order(
            session, partner=partner, order_id=order_id, by=by,
            now=now or FILED + timedelta(hours=1),
        )  # fmt: skip


async def resend(sessions, partner, order_id, *, now):
    async with sessions() as session:
        return await staff.resend_order(
            session, partner=partner, order_id=order_id, now=now, ttl_days=TTL_DAYS
        )
