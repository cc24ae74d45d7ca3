"""What partner staff do with outages, on the real test database: declare, update and resolve
their own, follow one, one customer's apology or all of them, and their own templates."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.catalogue import BUILT_IN, EXCHANGE
from bot.outages import flows, staff
from bot.outages.intake import parse_incident
from bot.outages.staff import Declare
from storage.models import Customer, Incident, IncidentFollower
from tests.utils.incidents import END, count, incident, two_partners

NOW = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)
COLLAPSE = timedelta(seconds=5)


async def declare(sessions, partner, title: str = "Mail stuck in the queue") -> flows.Ingested:
    async with sessions() as session:
        return await staff.declare(
            session,
            partner=partner,
            declared=Declare(EXCHANGE, "Europe", title),
            by="U0STAFF",
            now=NOW,
            catalogue=BUILT_IN,
            collapse=COLLAPSE,
        )


async def change(sessions, partner, number: int, *, now: datetime, **what) -> staff.StaffResult:
    async with sessions() as session:
        return await staff.change_declared(
            session,
            partner=partner,
            incident_id=number,
            now=now,
            catalogue=BUILT_IN,
            collapse=COLLAPSE,
            **what,
        )


async def vendor_incident(sessions, **fields) -> int:
    incoming = parse_incident(json.dumps(incident(**fields)).encode(), BUILT_IN)
    async with sessions() as session:
        ingested = await flows.ingest(session, incoming, catalogue=BUILT_IN, now=NOW)
    return ingested.incident.id


async def apology(sessions, partner, number: int, **which) -> staff.ApologyResult:
    async with sessions() as session:
        return await staff.apology_for(
            session,
            partner=partner,
            incident_id=number,
            catalogue=BUILT_IN,
            now=NOW + timedelta(hours=4),
            **which,
        )


async def test_a_declared_outage_alerts_only_the_declaring_partner(sessions, written):
    a, b, _ = await two_partners(sessions)
    declared = await declare(sessions, a)
    assert declared.outcome == "created" and declared.partners == 1
    stored = declared.incident
    assert stored.partner_id == a.id and stored.external_id.startswith(f"P{a.id}-")
    assert stored.impact_description == "" and stored.declared_by == "U0STAFF"
    assert json.loads(stored.regions) == ["Europe"] and stored.status == "investigating"

    seen = await written()
    root = f"incident:{stored.id}:partner:{a.id}:root"
    assert seen.keys() == [root, root + ":apology"]
    assert set(seen.alerts) == {a.id}  # Beta Cloud's Exchange customer is not told
    shown = seen.text(root)
    assert "Mail stuck in the queue" in shown and "declared by <@U0STAFF>" in shown
    assert "2 customers · 30 seats" in shown


async def test_staff_update_and_resolve_their_own_outage_and_only_theirs(sessions, written):
    a, b, _ = await two_partners(sessions)
    number = (await declare(sessions, a)).incident.id
    root = f"incident:{number}:partner:{a.id}:root"

    refused = await change(sessions, b, number, now=NOW, text="hello")
    assert refused.problem.startswith(f"There is no outage #{number} for your company")
    updated = await change(sessions, a, number, now=NOW + timedelta(minutes=5), text="Draining")
    assert updated.problem == "" and updated.ingested.outcome == "updated"
    (reply,) = (await written()).keys(root + ":update:")
    assert "Vendor update: Draining" in (await written()).text(reply)

    resolved = await change(sessions, a, number, now=NOW + timedelta(hours=1), resolve=True)
    assert resolved.ingested.incident.is_resolved
    assert resolved.ingested.incident.end_at == NOW + timedelta(hours=1)
    seen = await written()
    assert seen.keys(root + ":closing:") == [
        root + ":closing:0",
        root + ":closing:1",
        root + ":closing:file",
    ]
    assert "Resolved* after 1 h 00 min" in seen.text(root + ":closing:0")
    again = await change(sessions, a, number, now=NOW + timedelta(hours=2), resolve=True)
    assert again.problem == f"Outage #{number} is already resolved."

    vendor = await vendor_incident(sessions)
    theirs = await change(sessions, a, vendor, now=NOW, text="hi")
    assert f"Outage #{vendor} was reported by the vendor" in theirs.problem


async def test_one_customers_apology_is_personal_and_its_closing_carries_the_credit(sessions):
    a, _, c = await two_partners(sessions)
    number = await vendor_incident(sessions)

    found = await apology(sessions, a, number, customer_query="small")
    assert found.problem == "" and found.customer.name == "Small GmbH"
    assert "Dear Jane Doe" in found.text and "for Small GmbH" in found.text
    assert "since Sat 10 Oct 2026, 10:00 Europe/Berlin" in found.text and "Alpha IT" in found.text
    several = await apology(sessions, a, number, customer_query="")
    assert several.problem.startswith("Several affected customers match: Large AG, Small GmbH.")
    none = await apology(sessions, a, number, customer_query="faraway")
    assert none.problem == (f"No customer of yours affected by outage #{number} matches “faraway”.")
    hidden = await apology(sessions, c, number, customer_query="small")
    assert hidden.problem.startswith(f"There is no outage #{number} for your company")

    await vendor_incident(sessions, status="serviceRestored", isResolved=True, endDateTime=END)
    closing = await apology(sessions, a, number, customer_id=found.customer.id)
    assert "Good news" in closing.text and "for Small GmbH is 99.597%" in closing.text
    assert "service credit of $12.50" in closing.text


async def test_all_apologies_are_one_plain_text_per_affected_customer(sessions):
    a, _, _ = await two_partners(sessions)
    number = await vendor_incident(sessions)
    async with sessions() as session:
        found = await staff.visible_incident(session, partner=a, incident_id=number)
        content = await staff.all_apologies(
            session, partner=a, incident=found, catalogue=BUILT_IN, now=NOW
        )
    large, small = content.split("\n\n\n")
    heading = r"=== {} \(customer\d+\.onmicrosoft\.com\) <jane@example\.com> ===\n\nDear Jane Doe,"
    assert re.match(heading.format("Large AG"), large) and "for Large AG" in large
    assert re.match(heading.format("Small GmbH"), small) and "for Small GmbH" in small
    assert "&lt;" not in content and content.endswith("\n")


async def test_following_an_outage_and_stopping(sessions):
    a, _, c = await two_partners(sessions)
    number = await vendor_incident(sessions)
    async with sessions() as session:
        on = await staff.follow(session, partner=a, incident_id=number, user_id="U0F", on=True)
    assert on.startswith(f"You will get every update of outage #{number} by DM.")
    assert await count(sessions, IncidentFollower) == 1
    async with sessions() as session:
        off = await staff.follow(session, partner=a, incident_id=number, user_id="U0F", on=False)
        hidden = await staff.follow(session, partner=c, incident_id=number, user_id="U0C", on=True)
    assert off == f"You no longer follow outage #{number}."
    assert hidden.startswith(f"There is no outage #{number} for your company")
    assert await count(sessions, IncidentFollower) == 0


async def test_a_partners_own_template_is_checked_saved_and_used_for_the_next_alert(
    sessions, written
):
    a, _, _ = await two_partners(sessions)
    async with sessions() as session:
        shipped = await staff.current_template(session, partner=a, kind="apology")
        broken = await staff.save_template(
            session, partner=a, kind="apology", body="Hi {% if %}", by="U0", now=NOW
        )
        saved = await staff.save_template(
            session, partner=a, kind="apology", body="Sorry, {{ customer.name }}!", by="U0", now=NOW
        )
        current = await staff.current_template(session, partner=a, kind="apology")
    assert shipped.startswith("Dear {{ customer.contact_name or customer.name }},")
    assert "line 1" in broken and saved == "" and current == "Sorry, {{ customer.name }}!"

    number = await vendor_incident(sessions)
    seen = await written()
    assert "Sorry, [customer]!" in seen.text(f"incident:{number}:partner:{a.id}:root:apology")


async def test_a_declared_outages_apology_names_it_and_says_nothing_internal(sessions):
    # Issue 14: "What we know: Declared by <@U0DEMO001A>." and no word of the outage's title.
    a, _, _ = await two_partners(sessions)
    async with sessions() as session:
        small = (await session.exec(select(Customer).where(Customer.name == "Small GmbH"))).one()
        small.timezone = "America/New_York"
        session.add(small)
        await session.commit()
    number = (await declare(sessions, a, title="Mail delayed for some users")).incident.id
    await change(
        sessions,
        a,
        number,
        now=NOW + timedelta(minutes=5),
        text="Fix deployed <@U0BOSS>, see <#C0OPS|ops> and <https://status.example.com|status>",
    )
    found = await apology(sessions, a, number, customer_query="small")
    text = found.text
    assert "Mail delayed for some users" in text
    # 09:00 UTC is 05:00 in New York (EDT) on 10 October: the customer's zone, not Berlin's.
    assert "since Sat 10 Oct 2026, 05:00 America/New_York" in text
    assert "What is being done: Fix deployed, see and status (https://status.example.com)" in text
    for internal in ("Declared by", "U0STAFF", "U0BOSS", "C0OPS", "&lt;@", "<@", "What we know"):
        assert internal not in text, internal

    # An outage declared before who declared it was kept apart says it in its impact: left out.
    async with sessions() as session:
        stored = await session.get(Incident, number)
        stored.impact_description = "Declared by <@U0DEMO001A>."
        session.add(stored)
        await session.commit()
    older = await apology(sessions, a, number, customer_query="small")
    assert "Declared by" not in older.text and "U0DEMO001A" not in older.text
