"""Syncs at scale: a partner with more customers than Partner Center lets it call for at once is
paced instead of throttled, and the schedule syncs several partners at once until none is due."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from bot.partner_center.api import Pace
from bot.partner_center.connect import ConnectForm, connect
from bot.partner_center.sync import sync_due_partners, sync_partner
from devtools.microsoft_limits import CallLimit
from storage import partner_center as connections
from storage.models import PartnerCenterConnection, Subscription
from tests.utils.factories import make_customer, make_partner
from tests.utils.partner_center import CLIENT_ID, SECRET, TENANT, connected, services_for
from tests.utils.partner_center import subscription as remote_subscription


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_a_pace_lets_a_tenth_of_a_minute_through_then_one_call_at_its_rate():
    fake = FakeTime()
    pace = Pace(120, clock=fake.clock, sleep=fake.sleep)  # 2 a second, 12 at once

    for _ in range(12):
        await pace.take()
    assert fake.slept == []
    await pace.take()
    await pace.take()
    assert fake.slept == [0.5, 0.5]
    assert pace.waited == 1.0

    fake.now += 60  # a quiet minute refills 12 calls at most, not 120
    for _ in range(12):
        await pace.take()
    assert len(fake.slept) == 2
    await pace.take()
    assert len(fake.slept) == 3


async def syncing_79_customers(local_pc, engine, database_url, sessions, calls_per_minute: int):
    """A partner of 79 customers (80 calls: a page, then each customer's subscriptions) whose
    Partner Center lets it make 600 calls a minute, 60 at once; its sync keeps to
    `calls_per_minute` and may wait 3 s in all for Retry-After."""
    local_pc.limit = CallLimit(per_minute=600, burst=60)
    services = services_for(
        local_pc, engine, database_url, partner_center_calls_per_minute=calls_per_minute,
        partner_center_retry_budget=3,
    )  # fmt: skip
    partner = await make_partner(sessions)
    customers_of(await connected(services, local_pc, partner.id), 79)
    return services, partner


def customers_of(account, count: int) -> None:
    for n in range(count):
        customer_id = f"{n:08d}-cccc-4ddd-8eee-{n:012d}"
        account.add_customer(customer_id, f"Customer {n:03d}", f"customer{n:03d}.example")
        account.subscriptions[customer_id] = [remote_subscription(f"sub-{n:03d}")]


async def test_a_partner_over_partner_centers_limit_is_paced_and_syncs_without_a_429(
    local_pc, engine, database_url, sessions
):
    # 20 calls past the limit's burst. The sync keeps to 540 a minute, under the limit: calls do
    # not reach Partner Center exactly as far apart as they left.
    paced, partner = await syncing_79_customers(local_pc, engine, database_url, sessions, 540)

    outcome = await sync_partner(paced, partner.id)

    assert outcome.problem is None
    assert outcome.report.added == 79
    assert local_pc.limit.refused == 0
    paced.app_tokens.close()


async def test_without_the_pace_the_same_partner_is_throttled_past_its_budget(
    local_pc, engine, database_url, sessions
):
    unpaced, partner = await syncing_79_customers(local_pc, engine, database_url, sessions, 60_000)

    outcome = await sync_partner(unpaced, partner.id)

    assert outcome.problem is not None and "slow down" in outcome.problem
    assert local_pc.limit.refused >= 3
    async with sessions() as session:
        stored = (await session.exec(select(func.count()).select_from(Subscription))).one()
    assert stored == 0  # all or nothing
    unpaced.app_tokens.close()


async def test_the_schedule_syncs_partners_side_by_side_until_none_is_due(
    local_pc, engine, database_url, sessions, monkeypatch
):
    services = services_for(local_pc, engine, database_url, partner_center_sync_concurrency=3)
    started: list[tuple[str, float, float]] = []  # tenant, first and last call of its sync
    partner_ids = []
    for n in range(5):
        partner = await make_partner(sessions, team_id=f"T0PACE{n:04d}")
        tenant, client = TENANT.replace("1111", f"{n:04d}"), CLIENT_ID.replace("0b1c", f"{n:04d}")
        account = local_pc.account(tenant, client, SECRET)
        await connect(
            services, partner_id=partner.id, form=ConnectForm(tenant, client, SECRET), by="U1"
        )
        customers_of(account, 4)
        partner_ids.append(partner.id)
    local_pc.latency = 0.1  # every call takes 0.1 s: 5 calls a sync, at least 0.2 s each
    calls = len(local_pc.requests)
    real_sync = sync_partner

    async def timed(services, partner_id, **options):
        begun = time.monotonic()
        outcome = await real_sync(services, partner_id, **options)
        started.append((partner_id, begun, time.monotonic()))
        return outcome

    monkeypatch.setattr("bot.partner_center.sync.sync_partner", timed)
    try:
        synced = await sync_due_partners(services)
        again = await sync_due_partners(services)  # claimed: none due before the interval
    finally:
        services.app_tokens.close()

    assert (synced, again) == (5, 0)
    assert sorted(p for p, _, _ in started) == sorted(partner_ids)
    assert len(local_pc.requests) - calls == 5 * 5  # a page of customers and 4 subscriptions
    most_at_once = max(sum(1 for _, b, e in started if b <= begun < e) for _, begun, _ in started)
    assert most_at_once == 3


async def test_the_longest_waiting_are_due_first_and_among_them_the_biggest(sessions):
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    partners = {}
    for name, customers, waiting in (
        ("small", 1, 5),
        ("big", 3, 5),
        ("older", 1, 10),
        ("no", 0, 5),
    ):
        partner = await make_partner(sessions, name=name)
        for n in range(customers):
            await make_customer(sessions, partner, name=f"{name} customer {n}")
        async with sessions() as session:
            session.add(
                PartnerCenterConnection(
                    partner_id=partner.id, tenant_id=TENANT, client_id=CLIENT_ID,
                    sealed_secret="sealed", next_sync_at=now - timedelta(minutes=waiting),
                )
            )  # fmt: skip
            await session.commit()
        partners[partner.id] = name

    async with sessions() as session:
        due = await connections.due(session=session, now=now, limit=10)

    assert [partners[partner_id] for partner_id in due] == ["older", "big", "small", "no"]
