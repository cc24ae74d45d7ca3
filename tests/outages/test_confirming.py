"""Exactly which customers an outage hits, for a partner connected to Partner Center: each
candidate customer's own service health is asked (a local Graph answering per tenant, by the
token's `tid`), the alert is edited with the confirmed, not listed and unknown customers, and
credits are owed to the confirmed ones only; Graph's throttling honoured, a refusing tenant
counted unknown and the managers told once, tokens and answers cached."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import select

from bot.app import build_services
from bot.outages import flows
from bot.outages.apology import apology_for_customer
from bot.outages.confirming import confirm_incident
from bot.outages.credits import credits_owed_between
from bot.outages.intake import parse_incident
from bot.outages.messages import ImpactView, impact_text, incident_view
from bot.outages.tenant_words import TenantChecksView
from bot.settings import load_settings
from bot.subscriptions.rules import CommissionRule
from bot.summaries import batch
from bot.summaries.rules import week_starting
from storage import outages as incident_rows
from storage.models import Customer, Incident, IncidentTenantCheck
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.graph import Sleeps, issue_changed_at
from tests.utils.tenants import (
    APP_ID,
    ISSUE,
    TENANTS,
    connected_partner,
    ten_tenants,
    tenant_check_settings,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def checking(engine, graph_site, database_url):
    """The bot's services asking tenants through the local Graph, three at a time."""
    graph = graph_site.graph
    settings = load_settings(
        database_url=database_url,
        secret_key="x" * 20,
        incident_feed_url=None,
        **tenant_check_settings(graph_site),
    )
    services = build_services(settings, engine=engine)
    services.clock = lambda: NOW
    services.sleep = Sleeps()
    ten_tenants(graph, issue(status="serviceDegradation"))
    yield services
    services.app_tokens.close()


def issue(**fields) -> dict:
    return issue_changed_at(
        "2026-11-20T11:00:00Z", id=ISSUE, startDateTime="2026-11-20T09:00:00Z", **fields
    )


async def receive(sessions, services, body: dict, now: datetime = NOW) -> flows.Ingested:
    incoming = parse_incident(json.dumps(body).encode(), services.catalogue)
    async with sessions() as session:
        return await flows.ingest(
            session, incoming, catalogue=services.catalogue, now=now, tenant_checks=True
        )


async def answers(sessions) -> dict[str, tuple[str, str]]:
    async with sessions() as session:
        rows = (await session.exec(select(IncidentTenantCheck, Customer).join(Customer))).all()
    return {customer.name: (check.result, check.reason) for check, customer in rows}


def edits(written, partner) -> list[str]:
    prefix = f"incident:1:partner:{partner.id}:root:edit:checks:"
    return written.keys(prefix)


async def test_an_incident_confirmed_in_three_of_ten_tenants(
    checking, sessions, graph_site, written
):
    partner = await connected_partner(sessions, checking.settings)

    ingested = await receive(sessions, checking, issue(status="serviceDegradation"))
    root_key = f"incident:{ingested.incident.id}:partner:{partner.id}:root"
    first = (await written()).text(root_key)
    # Posted at once, before any tenant answered: all ten may be affected, being asked.
    assert "10 customers" in first and "who may be affected" in first
    assert "Asking each customer's own service health" in first

    report = await confirm_incident(checking, ingested.incident.id)

    assert (report.partners, report.asked) == (1, 10)
    found = await answers(sessions)
    assert [name for name, (result, _) in sorted(found.items()) if result == "confirmed"] == [
        "Customer 01", "Customer 02", "Customer 03",
    ]  # fmt: skip
    assert sum(result == "not_listed" for result, _ in found.values()) == 5
    assert found["Customer 09"] == ("unknown", "refused")  # no consent in its tenant
    assert found["Customer 10"] == ("unknown", "refused")  # consent without the permission
    rows = await written()
    [edit] = edits(rows, partner)
    assert rows.rows[edit].method == "chat.update"
    assert rows.rows[edit].parent_key == root_key
    text = rows.text(edit)
    # 10 + 20 + 30 seats at $5.00 = $300.00 a month.
    assert "Confirmed in their own service health:* 3 customers · 60 seats · $300.00" in text
    assert "Customer 03 (30 seats), Customer 02 (20 seats), Customer 01 (10 seats)" in text
    assert "(not affected, says Microsoft): 5 customers" in text
    assert "*Unknown*, may be affected: 2 customers (2 refused your app" in text
    assert "still to answer" not in text

    # Resolved after 12 hours of November's 720: availability 98.33%, below 99%: 50% of the
    # fee. Owed to the confirmed three: $25.00 + $50.00 + $75.00.
    resolved = issue(
        status="serviceRestored", isResolved=True, endDateTime="2026-11-20T21:00:00Z",
        lastModifiedDateTime="2026-11-20T21:05:00Z",
    )  # fmt: skip
    await receive(sessions, checking, resolved, now=datetime(2026, 11, 20, 21, 5, tzinfo=UTC))
    rows = await written()
    closing = rows.text(f"{root_key}:closing:0")
    assert "3 confirmed customers owed a credit, $150.00 in total" in closing
    # Customers 9 and 10 (90 and 100 seats) can claim $225.00 + $250.00 if affected.
    assert "2 customers whose service health could not be read, 2 can claim" in closing
    assert "($475.00)" in closing
    assert "5 customers not listed in their service health, no credit" in closing
    table = list(csv.DictReader(io.StringIO(rows.file(f"{root_key}:closing:file"))))
    assert [(r["customer"], r["service health"], r["credit"], r["owed or if affected"])
            for r in table] == [
        ("Customer 10", "unknown", "$250.00", "if affected"),
        ("Customer 09", "unknown", "$225.00", "if affected"),
        ("Customer 03", "confirmed", "$75.00", "owed"),
        ("Customer 02", "confirmed", "$50.00", "owed"),
        ("Customer 01", "confirmed", "$25.00", "owed"),
    ]  # fmt: skip

    # The week's summary counts the same credits owed: the confirmed customers' only.
    async with sessions() as session:
        owed = await credits_owed_between(
            session, partner=partner, service="Exchange Online",
            start=datetime(2026, 11, 16, tzinfo=UTC), end=datetime(2026, 11, 23, tzinfo=UTC),
            catalogue=checking.catalogue,
        )  # fmt: skip
    assert owed == Decimal("150.00")
    # And so does the scheduled run, which works out every due partner's figures at once.
    async with sessions() as session:
        week = week_starting(date(2026, 11, 16), partner.timezone)
        together = await batch.summaries_of(
            session, [(partner, week)], catalogue=checking.catalogue, rule=CommissionRule(),
            now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        )  # fmt: skip
    assert together[partner.id].current.credits_owed == Decimal("150.00")

    # One customer's closing text: owed to a confirmed customer, to claim for an unknown one.
    async with sessions() as session:
        stored = await incident_rows.get(session=session, incident_id=ingested.incident.id)
        customers = {c.name: c for c in (await session.exec(select(Customer))).all()}
        texts = {
            name: await apology_for_customer(
                session, stored, partner, customers[name], checking.catalogue, NOW
            )
            for name in ("Customer 01", "Customer 09")
        }
    assert "you are owed a service credit of $25.00" in texts["Customer 01"]
    assert "If Customer 09 was affected" in texts["Customer 09"]
    assert "you can claim a service credit of $225.00" in texts["Customer 09"]


async def test_a_refusing_tenant_is_unknown_and_the_managers_are_told_once(
    checking, sessions, graph_site, written
):
    partner = await connected_partner(sessions, checking.settings)
    ingested = await receive(sessions, checking, issue())
    await confirm_incident(checking, ingested.incident.id)
    second = {**issue(), "id": "EX900002", "lastModifiedDateTime": "2026-11-20T11:30:00Z"}
    graph_site.graph.put(second)
    later = await receive(sessions, checking, second)
    await confirm_incident(checking, later.incident.id)

    rows = await written()
    [notice] = rows.keys(f"tenant-access:{partner.id}:")
    assert rows.rows[notice].channel == partner.manager_channel
    text = rows.text(notice)
    assert "2 customer tenants refused" in text
    assert TENANTS[8] in text and "AADSTS700016" in text  # Entra: the app is not in the tenant
    assert TENANTS[9] in text and "HTTP 403" in text  # Graph: no ServiceHealth.Read.All
    assert "ServiceHealth.Read.All" in text and APP_ID in text


async def test_graphs_throttling_is_waited_out_as_retry_after_says(checking, sessions, graph_site):
    await connected_partner(sessions, checking.settings)
    graph_site.graph.throttle_tenant(TENANTS[0], 2, 3)
    graph_site.graph.throttle_tenant(TENANTS[3], 20, 20)  # past the 30 s budget

    ingested = await receive(sessions, checking, issue())
    await confirm_incident(checking, ingested.incident.id)

    assert sorted(checking.sleep.waits) == [2, 3, 20]
    found = await answers(sessions)
    assert found["Customer 01"] == ("confirmed", "")
    assert found["Customer 04"] == ("unknown", "throttled")
    requests = graph_site.graph.tenant_requests
    asked = [status for tenant, _, status in requests if tenant == TENANTS[0]]
    assert asked == [429, 429, 200]

    # The next update asks the throttled tenant again, and only it.
    before = len(graph_site.graph.tenant_requests)
    await receive(sessions, checking, issue(lastModifiedDateTime="2026-11-20T11:40:00Z"))
    await confirm_incident(checking, ingested.incident.id)
    assert graph_site.graph.tenant_requests[before:] == [(TENANTS[3], ISSUE, 404)]
    assert (await answers(sessions))["Customer 04"] == ("not_listed", "")


async def test_answers_and_tokens_are_cached_per_incident_and_tenant(
    checking, sessions, graph_site, written
):
    partner = await connected_partner(sessions, checking.settings)
    ingested = await receive(sessions, checking, issue())
    await confirm_incident(checking, ingested.incident.id)
    asked = len(graph_site.graph.tenant_requests)
    assert asked == 9  # tenant 9 gave no token: Graph was not asked there

    # A second update of the incident asks nobody again (refusals included) and its edit of
    # the alert keeps the confirmed figures.
    await receive(sessions, checking, issue(lastModifiedDateTime="2026-11-20T11:40:00Z"))
    assert (await confirm_incident(checking, ingested.incident.id)).asked == 0
    assert len(graph_site.graph.tenant_requests) == asked
    rows = await written()
    update_edit = rows.text(f"incident:1:partner:{partner.id}:root:edit:2")
    assert "Confirmed in their own service health:* 3 customers" in update_edit

    # Another incident asks again, with each tenant's token from the cache.
    second = {**issue(), "id": "EX900002", "lastModifiedDateTime": "2026-11-20T11:30:00Z"}
    graph_site.graph.put(second)
    later = await receive(sessions, checking, second)
    await confirm_incident(checking, later.incident.id)
    tenants = Counter(request["tenant"] for request in graph_site.graph.entra.token_requests)
    # One token request per tenant for both incidents; the refusal of tenant 9 too (MSAL holds
    # back the same request right after Entra refused it).
    assert tenants == dict.fromkeys(TENANTS, 1)
    assert len(graph_site.graph.tenant_requests) == asked * 2


def test_the_alert_says_how_many_tenants_are_still_to_answer():
    incident = Incident(
        id=7, external_id=ISSUE, service="Exchange Online", title="Mail delayed",
        classification="incident", status="serviceDegradation", start_at=NOW,
    )  # fmt: skip
    view = incident_view(incident, "UTC", NOW)
    checks = TenantChecksView(candidates=10, confirmed=1, not_listed=2, refused=0, unknown=1)
    impact = ImpactView(customers=1, seats=10, monthly=Decimal("50.00"), top=[], checks=checks)

    text = impact_text(impact, view)

    assert "Confirmed in their own service health:* 1 customer · 10 seats · $50.00" in text
    assert "*Unknown*, may be affected: 1 customer (1 could not be asked)" in text
    assert "6 of 10 still to answer" in text
    nobody_yet = replace(checks, confirmed=0, not_listed=0, unknown=0)
    waiting = impact_text(replace(impact, customers=10, checks=nobody_yet), view)
    assert "10 customers" in waiting and "who may be affected" in waiting
    assert "Asking each customer's own service health" in waiting


async def test_a_partner_not_connected_is_not_asked(checking, sessions, graph_site, written):
    partner = await make_partner(sessions, name="Fabrikam Resellers")
    customer = await make_customer(sessions, partner, name="Tailspin")
    await make_subscription(
        sessions, customer, plan_code="EXO", start_date=date(2026, 1, 1),
        renewal_date=date(2027, 1, 1),
    )  # fmt: skip
    ingested = await receive(sessions, checking, issue())

    assert (await confirm_incident(checking, ingested.incident.id)).asked == 0
    text = (await written()).text(f"incident:1:partner:{partner.id}:root")
    assert "who may be affected" in text and "Asking each customer" not in text
    assert graph_site.graph.tenant_requests == []


async def test_the_alert_is_edited_as_answers_arrive_not_once_for_every_few(
    checking, sessions, written, monkeypatch
):
    # Answers are stored three at a time (four batches for ten tenants); the alert is edited
    # with the first batch's counts, then no more often than every EDIT_EVERY seconds, and
    # with the last.
    monkeypatch.setattr("bot.outages.confirming.BATCH", 3)
    partner = await connected_partner(sessions, checking.settings)
    ingested = await receive(sessions, checking, issue(status="serviceDegradation"))

    await confirm_incident(checking, ingested.incident.id)

    rows = await written()
    first, last = sorted(edits(rows, partner), key=answered_in)
    assert ":checks:3:" in first and "7 of 10 still to answer" in rows.text(first)
    assert ":checks:10:" in last and "still to answer" not in rows.text(last)
    async with sessions() as session:
        assert len((await session.exec(select(IncidentTenantCheck))).all()) == 10


async def test_with_no_pause_between_edits_every_batch_edits_the_alert(
    checking, sessions, written, monkeypatch
):
    monkeypatch.setattr("bot.outages.confirming.BATCH", 3)
    monkeypatch.setattr("bot.outages.confirming.EDIT_EVERY", 0.0)
    partner = await connected_partner(sessions, checking.settings)
    ingested = await receive(sessions, checking, issue(status="serviceDegradation"))

    await confirm_incident(checking, ingested.incident.id)

    answered = sorted(answered_in(key) for key in edits(await written(), partner))
    assert answered == [3, 6, 9, 10]


def answered_in(key: str) -> int:
    """How many tenants had answered when an edit was queued, as its key says."""
    return int(re.search(r":checks:(\d+):", key).group(1))
