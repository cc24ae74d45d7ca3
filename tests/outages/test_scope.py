"""Who an outage hit when Graph does not say where: customers who *may* be affected, credits
they can claim *if* they were, and a partner's narrowing of it for its own team only; checked on
the real test database, with figures counted by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.catalogue import BUILT_IN
from bot.outages import flows, narrowing, staff
from bot.outages.choosing import choose_outage
from bot.outages.credits import credits_owed_between, customer_minutes_between
from bot.outages.intake import parse_incident
from storage.models import Incident
from tests.utils.incidents import END, incident, two_partners

OPENED = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)
CLOSED = OPENED + timedelta(hours=2, minutes=5)


async def ingest(sessions, now: datetime, **fields) -> flows.Ingested:
    body = {k: v for k, v in incident(**fields).items() if k != "regions"}  # as Graph sends it
    incoming = parse_incident(json.dumps(body).encode(), BUILT_IN)
    async with sessions() as session:
        return await flows.ingest(session, incoming, catalogue=BUILT_IN, now=now)


async def resolve(sessions, **fields) -> flows.Ingested:
    return await ingest(
        sessions, CLOSED, status="serviceRestored", isResolved=True, endDateTime=END, **fields
    )


def root_of(number: int, partner) -> str:
    return f"incident:{number}:partner:{partner.id}:root"


async def narrow(sessions, partner, number: int, text: str, now: datetime = OPENED) -> str:
    async with sessions() as session:
        incident_row = await session.get(Incident, number)
        return await narrowing.narrow(
            session,
            partner=partner,
            incident=incident_row,
            text=text,
            by="U0NARROW",
            now=now + timedelta(minutes=10),
            catalogue=BUILT_IN,
        )


async def test_without_regions_customers_may_be_affected_and_credits_are_claims(sessions, written):
    a, b, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id
    seen = await written()
    root = seen.text(root_of(number, a))
    # Every customer of Alpha IT with Exchange: Small GmbH (10 seats, $50), Large AG (20 seats,
    # $300) and Faraway Inc in North America (100 seats, $500).
    assert "*Your customers who may be affected:* 3 customers · 130 seats · $850.00" in root
    assert "*Regions:* not said by the vendor" in root
    assert "Your customers affected:" not in root
    assert "/outage narrow EX100200 &lt;regions&gt;" in root
    thread = seen.text(root_of(number, a) + ":apology")
    assert "to customers who report trouble or that you know were hit" in thread
    assert "It may affect [customer]" in thread and "not working as it should" not in thread

    await resolve(sessions)
    seen = await written()
    closing = seen.text(root_of(number, a) + ":closing:0")
    # 3 h down of 745 h in October (Berlin): 99.597%, a 25% credit each if affected: $12.50,
    # $22.39 (Exchange's 5/16.75 of $300) and $125.00; $159.89 together.
    assert "nobody is known to be owed anything" in closing
    assert "*If they were affected, 3 customers can claim a credit, $159.89 in total*" in closing
    assert "• Faraway Inc: *can claim $125.00*" in closing
    assert "owed a credit" not in closing
    file = seen.file(root_of(number, a) + ":closing:file")
    assert file.splitlines()[0].endswith(",credit if affected")
    note = seen.text(root_of(number, a) + ":closing:1")
    assert "to customers who report trouble" in note

    found = await apology(sessions, a, number, "small")
    assert "If Small GmbH was affected" in found.text
    assert "you can claim a service credit of $12.50" in found.text
    assert "you are owed" not in found.text

    # Nothing is owed, so the week's credits owed leave it out; its customer-minutes count the
    # customers who may have been hit: 3 customers × 180 min.
    async with sessions() as session:
        owed = await week_credits_owed(session, a)
        stored = await session.get(Incident, number)
        minutes = await customer_minutes_between(
            session,
            partner=a,
            incidents=[stored],
            start=OPENED - timedelta(days=1),
            end=CLOSED,
            catalogue=BUILT_IN,
        )
    assert owed == 0 and minutes == 540


async def week_credits_owed(session, partner) -> Decimal:
    """Credits owed for Exchange Online in the week's summary that holds the outage."""
    return await credits_owed_between(
        session,
        partner=partner,
        service="Exchange Online",
        start=OPENED - timedelta(days=1),
        end=CLOSED,
        catalogue=BUILT_IN,
    )


async def apology(sessions, partner, number: int, query: str) -> staff.ApologyResult:
    async with sessions() as session:
        return await staff.apology_for(
            session,
            partner=partner,
            incident_id=number,
            customer_query=query,
            catalogue=BUILT_IN,
            now=CLOSED,
        )


async def test_a_partner_narrows_an_outage_for_its_own_team_only(sessions, written):
    a, b, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id

    answer = await narrow(sessions, a, number, "europe")
    assert answer.startswith(f"Outage #{number} narrowed to Europe for your team: 2 customers")
    seen = await written()
    (edit,) = seen.keys(root_of(number, a) + ":edit:narrow:")
    shown = seen.text(edit)
    assert "*Your customers affected:* 2 customers · 30 seats · $350.00" in shown
    assert "*Regions:* Europe (as your team narrowed it)" in shown
    assert "Faraway" not in shown
    (note,) = seen.keys(root_of(number, a) + ":narrow:")
    assert "Narrowed by <@U0NARROW>* to Europe" in seen.text(note)
    assert seen.keys(root_of(number, b) + ":edit:") == []  # Beta Cloud is not touched

    # A later vendor update keeps Alpha's narrowing and Beta's unknown scope.
    await ingest(sessions, OPENED + timedelta(hours=1), status="restoringService")
    seen = await written()
    assert "*Your customers affected:* 2 customers" in seen.text(root_of(number, a) + ":edit:2")
    assert "who may be affected:* 1 customer" in seen.text(root_of(number, b) + ":edit:2")

    none = await apology(sessions, a, number, "faraway")
    assert none.problem.startswith("No customer of yours affected")

    await resolve(sessions)
    seen = await written()
    ours = seen.text(root_of(number, a) + ":closing:0")
    assert "*2 customers owed a credit, $34.89 in total*" in ours  # $12.50 + $22.39
    theirs = seen.text(root_of(number, b) + ":closing:0")
    assert "*If they were affected, 1 customer can claim a credit, $5.00 in total*" in theirs
    owed = await apology(sessions, a, number, "small")
    assert "you are owed a service credit of $12.50" in owed.text
    async with sessions() as session:
        credited = await week_credits_owed(session, a)
    assert credited == Decimal("34.89")  # narrowed, so owed: the week's summary counts it
    assert "is over; narrow an outage while it is open" in await narrow(sessions, a, number, "all")


async def test_narrowing_is_refused_where_it_makes_no_sense_and_can_be_undone(sessions, written):
    a, _, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id
    assert "`mars` is not a region" in await narrow(sessions, a, number, "Europe, Mars")
    assert "was not narrowed; nothing changed" in await narrow(sessions, a, number, "all")
    both = await narrow(sessions, a, number, "Europe, north america")
    assert "narrowed to Europe, North America for your team: 3 customers" in both
    undone = await narrow(sessions, a, number, "all", now=OPENED + timedelta(minutes=1))
    assert "no longer narrowed: 3 customers may be affected" in undone
    seen = await written()
    assert len(seen.keys(root_of(number, a) + ":narrow:")) == 2

    placed = (await ingest(sessions, OPENED, id="EX9", regions=None)).incident.id
    assert placed  # (regions left out: Graph's shape)
    async with sessions() as session:
        with_regions = await flows.ingest(
            session,
            parse_incident(json.dumps(incident(id="EX10")).encode(), BUILT_IN),
            catalogue=BUILT_IN,
            now=OPENED,
        )
    refused = await narrow(sessions, a, with_regions.incident.id, "europe")
    assert "The vendor said where outage" in refused and "(Europe)" in refused


async def test_an_outage_is_named_by_its_number_the_vendors_id_or_not_at_all(sessions):
    a, b, _ = await two_partners(sessions)
    first = (await ingest(sessions, OPENED)).incident.id

    async def choose(partner, words: str):
        async with sessions() as session:
            return await choose_outage(
                session,
                partner=partner,
                words=words,
                now=OPENED,
                fits=lambda incident: True,
                example="/outage apology EX123456 &lt;customer&gt;",
            )

    by_number = await choose(a, f"#{first} small gmbh")
    assert (by_number.incident.id, by_number.rest) == (first, "small gmbh")
    by_vendor_id = await choose(a, "ex100200 small gmbh")  # any case
    assert (by_vendor_id.incident.id, by_vendor_id.rest) == (first, "small gmbh")
    left_out = await choose(a, "small gmbh")
    assert (left_out.incident.id, left_out.rest) == (first, "small gmbh")
    wrong = await choose(a, "EX999999 small")
    assert wrong.problem.startswith("There is no outage EX999999 for your company")

    later = "2026-10-10T08:30:00Z"
    second = (await ingest(sessions, OPENED, id="EX200300", startDateTime=later)).incident.id
    several = await choose(a, "small gmbh")
    assert several.problem.startswith(
        f"Which outage? 2 are open: #{second} (EX200300), #{first} (EX100200)."
    )
    assert (await choose(a, "EX200300 small")).incident.id == second
