"""The outage flows on the real test database: an incident ingested, fanned out to the partners
whose customers it hits, its updates collapsed into one thread reply, and its resolution with the
SLA credits; checked by the incident, alerts and outbox rows they write."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bot.blocks import Message
from bot.catalogue import BUILT_IN
from bot.money import format_money
from bot.outages import flows
from bot.outages.closing import CreditLine, closing_message, credits_file
from bot.outages.fan_out import COLLAPSE
from bot.outages.intake import parse_incident
from bot.outages.messages import incident_view
from storage import outages as incident_rows
from storage import outbox
from storage.models import Customer, Incident, Subscription
from tests.utils.factories import make_partner
from tests.utils.incidents import END, count, incident, two_partners
from tests.utils.slack import assert_slack_accepts, mrkdwn_texts

OPENED = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)
FIX = [
    {"description": {"content": "We are investigating."}},
    {"description": {"content": "A fix is being deployed."}},
]


async def ingest(sessions, now: datetime, **fields) -> flows.Ingested:
    incoming = parse_incident(json.dumps(incident(**fields)).encode(), BUILT_IN)
    async with sessions() as session:
        return await flows.ingest(session, incoming, catalogue=BUILT_IN, now=now)


def root_key(number: int, partner) -> str:
    return f"incident:{number}:partner:{partner.id}:root"


async def test_a_new_incident_alerts_each_partner_hit_with_a_root_and_an_apology(sessions, written):
    a, b, c = await two_partners(sessions)
    ingested = await ingest(sessions, OPENED)
    assert ingested.outcome == "created" and ingested.partners == 2
    number = ingested.incident.id
    async with sessions() as session:
        stored = await session.get(Incident, number)
    assert stored.external_id == "EX100200" and stored.version == 1 and not stored.is_resolved
    assert (
        json.loads(stored.regions) == ["Europe"] and stored.latest_post == "We are investigating."
    )

    seen = await written()
    assert seen.keys() == sorted(
        [root_key(number, a), root_key(number, a) + ":apology"]
        + [root_key(number, b), root_key(number, b) + ":apology"]
    )
    assert set(seen.alerts) == {a.id, b.id}  # Gamma Sites sells no Exchange: no alert
    assert seen.alerts[a.id].channel == a.alert_channel
    assert seen.alerts[a.id].root_key == root_key(number, a)

    root = seen.rows[root_key(number, a)]
    assert root.method == "chat.postMessage" and root.parent_key is None
    assert root.channel == a.alert_channel and root.partner_id == a.id
    assert root.next_attempt_at == OPENED
    shown = seen.text(root_key(number, a))
    assert f"Outage #{number}" in shown and "Mail delayed for some users" in shown
    assert "Sat 10 Oct 2026, 10:00 Europe/Berlin" in shown
    assert "2 customers · 30 seats · $350.00 monthly revenue at risk" in shown
    assert "Large AG (20 seats), Small GmbH (10 seats)" in shown and "Faraway" not in shown

    apology = seen.rows[root_key(number, a) + ":apology"]
    assert apology.parent_key == root_key(number, a) and apology.channel == a.alert_channel
    words = seen.text(root_key(number, a) + ":apology")
    assert "Dear [customer]" in words and "We are sorry" in words and "Alpha IT" in words
    assert "We are investigating." in words

    assert "1 customer · 4 seats · $20.00 monthly revenue at risk" in seen.text(root_key(number, b))
    assert c.id not in {row.partner_id for row in seen.rows.values()}


async def test_the_same_body_again_changes_nothing(sessions, written):
    await two_partners(sessions)
    await ingest(sessions, OPENED)
    again = await ingest(sessions, OPENED + timedelta(minutes=1))
    assert again.outcome == "unchanged" and again.partners == 0
    assert again.incident.version == 1
    assert len((await written()).rows) == 4
    assert await count(sessions, Incident) == 1


async def test_updates_edit_the_root_and_quick_ones_collapse_into_one_reply(sessions, written):
    a, _, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id
    root = root_key(number, a)
    first = OPENED + timedelta(minutes=10)
    updated = await ingest(sessions, first, status="restoringService", posts=FIX)
    assert updated.outcome == "updated" and updated.partners == 2
    assert updated.incident.version == 2
    await ingest(
        sessions,
        first + timedelta(seconds=2),
        status="restoringService",
        posts=FIX,
        regions=["Europe", "Asia Pacific"],
    )

    seen = await written()
    edits = seen.keys(root + ":edit:")
    assert edits == [root + ":edit:2", root + ":edit:3"]
    for key in edits:
        assert seen.rows[key].method == "chat.update" and seen.rows[key].parent_key == root
    assert "Restoring service" in seen.text(root + ":edit:3")
    (reply,) = seen.keys(root + ":update:")  # two quick updates, one reply
    assert reply == f"{root}:update:{number}:{first.isoformat()}"
    assert seen.rows[reply].parent_key == root and seen.rows[reply].channel == a.alert_channel
    assert seen.rows[reply].next_attempt_at == first + COLLAPSE
    assert seen.changes(reply) == [
        "Status: degraded → *restoring service*",
        "Vendor update: A fix is being deployed.",
        "Regions: Europe, Asia Pacific",
    ]
    text = seen.text(reply)
    assert "Status: degraded → *restoring service*" in text and "Asia Pacific" in text


async def test_an_update_after_the_reply_went_out_gets_a_reply_of_its_own(sessions, written):
    a, _, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id
    root = root_key(number, a)
    first = OPENED + timedelta(minutes=10)
    await ingest(sessions, first, status="restoringService", posts=FIX)
    async with sessions() as session:
        for row in await outbox.by_key_prefix(session=session, prefix=f"{root}:update:"):
            row.state = "sent"
            session.add(row)
        await session.commit()
    later = first + timedelta(minutes=5)
    await ingest(sessions, later, status="restoringService", posts=FIX, title="Mail stuck")

    seen = await written()
    replies = seen.keys(root + ":update:")
    assert replies == [f"{root}:update:{number}:{first.isoformat()}",
                       f"{root}:update:{number}:{later.isoformat()}"]  # fmt: skip
    assert seen.changes(replies[1]) == ["Title: Mail stuck"]


async def test_followers_get_each_update_by_dm(sessions, written):
    a, _, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id
    await follow(sessions, number, a, "U0FOLLOW")
    await ingest(sessions, OPENED + timedelta(minutes=10), status="restoringService", posts=FIX)

    seen = await written()
    key = f"incident:{number}:follower:{a.id}:U0FOLLOW:2"
    assert seen.keys(f"incident:{number}:follower:") == [key]
    assert seen.rows[key].channel == "U0FOLLOW" and seen.rows[key].parent_key is None
    dm = seen.text(key)
    assert f"Outage #{number}" in dm and "now restoring service" in dm
    assert "A fix is being deployed." in dm and "You follow this outage" in dm


async def test_resolution_closes_each_thread_with_the_credits_owed(sessions, written):
    a, b, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id
    closed = OPENED + timedelta(hours=2, minutes=5)
    resolved = await ingest(
        sessions, closed, status="serviceRestored", isResolved=True, endDateTime=END
    )
    assert resolved.outcome == "updated" and resolved.incident.is_resolved
    assert resolved.incident.end_at == datetime(2026, 10, 10, 11, 0, tzinfo=UTC)

    seen = await written()
    root = root_key(number, a)
    assert seen.keys(root + ":closing:") == [
        root + ":closing:0",
        root + ":closing:1",
        root + ":closing:file",
    ]
    for key in seen.keys(root + ":closing:"):
        assert seen.rows[key].parent_key == root
        assert seen.rows[key].next_attempt_at == closed + COLLAPSE
    credits = seen.text(root + ":closing:0")
    assert "Resolved* after 3 h 00 min" in credits
    # October 2026 in Berlin has 745 hours; 3 down leave 99.597%: a 25% credit of the service's
    # monthly fee (Small GmbH: $50.00; Large AG: Exchange's share of $300.00, $89.55…).
    assert "*2 customers owed a credit, $34.89 in total*; 0 customers within the SLA" in credits
    large = "• Large AG: *credit $22.39* (25% of the service's monthly fee; availability 99.597%)"
    small = "• Small GmbH: *credit $12.50* (25%"
    assert large in credits and small in credits
    assert credits.index(large) < credits.index(small)  # the largest credit first
    file = seen.file(root + ":closing:file")
    assert file.splitlines()[0] == (
        "customer,domain,availability this month,credit rate,credit owed"
    )
    assert [line.split(",")[0] for line in file.splitlines()[1:]] == ["Large AG", "Small GmbH"]
    assert seen.rows[root + ":closing:file"].method == "files.upload_v2"
    closing = seen.text(root + ":closing:1")
    assert "Good news" in closing and "after 3 h 00 min" in closing and "Alpha IT" in closing
    assert "Resolved* after 3 h 00 min" in seen.text(root + ":edit:2")
    assert "Beta Customer Ltd: *credit $5.00*" in seen.text(root_key(number, b) + ":closing:0")


async def test_an_advisory_gets_its_notice_and_neither_apology_nor_credits(sessions, written):
    a, b, _ = await two_partners(sessions)
    opened = await ingest(sessions, OPENED, id="EX300", classification="advisory")
    number = opened.incident.id
    assert (await written()).keys() == sorted([root_key(number, a), root_key(number, b)])
    await ingest(
        sessions,
        OPENED + timedelta(hours=3),
        id="EX300",
        classification="advisory",
        status="serviceRestored",
        isResolved=True,
        endDateTime=END,
    )
    seen = await written()
    assert "Advisory #" in seen.text(root_key(number, a))
    assert seen.keys(root_key(number, a) + ":closing:") == []
    assert seen.keys(root_key(number, a) + ":apology") == []
    assert seen.keys(root_key(number, a) + ":edit:") == [root_key(number, a) + ":edit:2"]


HOSTILE = "<!channel> <!here> <@U0BOSS> Acme\u202eexe.fdp\u200b & Co"


async def follow(sessions, incident_id: int, partner, user_id: str) -> None:
    """Someone of the partner follows the incident (as the alert's Follow button does)."""
    async with sessions() as session:
        await incident_rows.set_following(
            session=session, incident_id=incident_id, partner_id=partner.id, user_id=user_id,
            follow=True,
        )  # fmt: skip
        await session.commit()


def payload_of(seen, key: str) -> dict:
    return json.loads(seen.rows[key].payload)


async def test_vendor_and_staff_text_in_updates_and_dms_pings_nobody(sessions, written):
    a, _, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id
    await follow(sessions, number, a, "U0FOLLOW")
    hostile_posts = [*FIX, {"description": {"content": HOSTILE}}]
    await ingest(
        sessions, OPENED + timedelta(minutes=10), title=f"{HOSTILE} title", posts=hostile_posts
    )

    seen = await written()
    root = root_key(number, a)
    (reply,) = seen.keys(root + ":update:")
    dm = f"incident:{number}:follower:{a.id}:U0FOLLOW:2"
    for key in (reply, dm, root + ":edit:2"):
        message = payload_of(seen, key)
        assert_slack_accepts(message)
        # Slack parses the notification text and mrkdwn (plain_text, e.g. a header, it does not).
        parsed = " ".join([message["text"], *mrkdwn_texts(message["blocks"])])
        assert "<!channel>" not in parsed and "<!here>" not in parsed and "<@U0BOSS>" not in parsed
        assert "\u202e" not in seen.text(key) and "\u200b" not in seen.text(key)
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U0BOSS&gt; Acmeexe.fdp &amp; Co" in seen.text(reply)
    assert "&lt;!channel&gt;" in seen.text(dm)


def sentences(count: int) -> str:
    """Vendor prose: numbered sentences in paragraphs, so any loss shows."""
    paragraphs = [
        " ".join(f"Step {p}.{s} of the fix is rolling out to every region." for s in range(8))
        for p in range(count)
    ]
    return "\n\n".join(paragraphs)


def section_texts(message: dict) -> list[str]:
    return [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]


async def test_a_forty_thousand_character_update_goes_out_whole_in_several_replies(
    sessions, written
):
    a, _, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id
    await follow(sessions, number, a, "U0FOLLOW")
    # The intake keeps up to 20,000 characters a post: two such posts in one update.
    first_post, second_post = sentences(44), sentences(44).replace("Step", "Phase")
    assert len(first_post) + len(second_post) >= 37_000
    await ingest(
        sessions,
        OPENED + timedelta(minutes=10),
        posts=[
            *FIX,
            {"description": {"content": first_post}},
            {"description": {"content": second_post}},
        ],
    )

    seen = await written()
    root = root_key(number, a)
    replies = seen.keys(root + ":update:")
    assert len(replies) >= 4  # 40,000 characters do not fit in one message's blocks
    ordered = sorted(replies, key=lambda key: seen.rows[key].id)
    assert all(seen.rows[key].parent_key == root for key in ordered)
    shown = []
    for key in ordered:
        message = payload_of(seen, key)
        assert_slack_accepts(message)
        shown += section_texts(message)
    whole = " ".join(" ".join(shown).split())
    # Every sentence is there, in order, cut only between paragraphs or sentences.
    expected = " ".join(f"• Vendor update: {first_post}\n• Vendor update: {second_post}".split())
    assert whole.endswith(expected)
    assert "…" not in whole
    # The DM is one message, cut where it reads well, pointing to the thread for the rest.
    dm = payload_of(seen, f"incident:{number}:follower:{a.id}:U0FOLLOW:2")
    assert_slack_accepts(dm)
    assert section_texts(dm)[0].endswith("region.…")
    assert f"The whole update is in the alert's thread in <#{a.alert_channel}>" in seen.text(
        f"incident:{number}:follower:{a.id}:U0FOLLOW:2"
    )


async def test_a_long_update_in_a_burst_is_not_folded_into_the_waiting_reply(sessions, written):
    a, _, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id
    root = root_key(number, a)
    first = OPENED + timedelta(minutes=10)
    await ingest(sessions, first, status="restoringService", posts=FIX)
    long_post = {"description": {"content": sentences(40)}}
    await ingest(
        sessions, first + timedelta(seconds=2), status="restoringService", posts=[*FIX, long_post]
    )

    seen = await written()
    replies = sorted(seen.keys(root + ":update:"), key=lambda key: seen.rows[key].id)
    # The waiting reply keeps its own change; the long one follows in replies of its own.
    assert seen.changes(replies[0]) == [
        "Status: degraded → *restoring service*",
        "Vendor update: A fix is being deployed.",
    ]
    assert len(replies) >= 3
    for key in replies:
        assert_slack_accepts(payload_of(seen, key))
    assert "Step 39.7 of the fix" in seen.text(replies[-1])


async def test_a_long_impact_text_makes_the_apology_go_on_in_more_replies(sessions, written):
    a, _, _ = await two_partners(sessions)
    impact = sentences(40)  # the intake keeps up to 20,000 characters
    number = (await ingest(sessions, OPENED, impactDescription=impact)).incident.id

    seen = await written()
    root = root_key(number, a)
    assert_slack_accepts(payload_of(seen, root))
    assert "…" in seen.text(root)  # the root shows the start of the impact, cut
    apologies = seen.keys(root + ":apology")
    assert apologies == [root + ":apology", root + ":apology:1"]
    shown = []
    for key in sorted(apologies, key=lambda key: seen.rows[key].id):
        message = payload_of(seen, key)
        assert_slack_accepts(message)
        assert seen.rows[key].parent_key == root
        shown += section_texts(message)
    assert " ".join(impact.split()) in " ".join(" ".join(shown).split())


async def test_a_false_positive_closes_as_no_impact_without_apology_or_credits(sessions, written):
    a, _, _ = await two_partners(sessions)
    number = (await ingest(sessions, OPENED)).incident.id
    closed = await ingest(
        sessions, OPENED + timedelta(hours=3), status="FalsePositive", isResolved=True
    )
    assert closed.outcome == "updated" and closed.incident.is_resolved
    seen = await written()
    root = root_key(number, a)
    assert seen.keys(root + ":closing:") == [root + ":closing:0"]  # one note, no apology
    note = seen.text(root + ":closing:0")
    assert "no impact" in note and "no credit is owed" in note
    assert "owed a credit" not in note and "Good news" not in note
    edited = seen.text(root + ":edit:2")
    assert "Closed: no impact" in edited and "Resolved* after" not in edited
    assert "Closed: no impact" in seen.changes(seen.keys(root + ":update:")[0])
    # A real outage of the same service later that month does not count the false positive's
    # three hours as downtime.
    later = OPENED + timedelta(days=1)
    await ingest(sessions, later, id="EX2", startDateTime="2026-10-11T08:00:00Z")
    await ingest(
        sessions,
        later,
        id="EX2",
        startDateTime="2026-10-11T08:00:00Z",
        endDateTime="2026-10-11T08:30:00Z",
        status="serviceRestored",
    )
    seen = await written()
    later_root = f"incident:{number + 1}:partner:{a.id}:root"
    credits = seen.text(later_root + ":closing:0")
    assert "*No credit owed*; 2 customers within the SLA, no credit." in credits
    assert re.search(
        r"^Small GmbH,\S+,99\.932%,0%,\$0\.00$", seen.file(later_root + ":closing:file"), re.M
    )


async def test_an_older_version_never_overwrites_a_newer_one(sessions, written):
    a, _, _ = await two_partners(sessions)
    opened = {"lastModifiedDateTime": "2026-10-10T08:10:00Z"}
    number = (await ingest(sessions, OPENED, **opened)).incident.id
    resolved = {
        "status": "serviceRestored",
        "isResolved": True,
        "endDateTime": END,
        "lastModifiedDateTime": END,
    }
    await ingest(sessions, OPENED + timedelta(hours=3), **resolved)
    before = (await written()).keys()
    replay = await ingest(sessions, OPENED + timedelta(hours=4), **opened)
    assert replay.outcome == "stale" and replay.partners == 0
    assert replay.incident.is_resolved and replay.incident.status == "serviceRestored"
    assert (await written()).keys() == before  # no edit back to "degraded", no reply
    assert number == replay.incident.id


async def test_history_is_recorded_without_alerts(sessions, written):
    await two_partners(sessions)
    window = OPENED - timedelta(days=7)

    async def first_sight(**fields) -> flows.Ingested:
        incoming = parse_incident(json.dumps(incident(**fields)).encode(), BUILT_IN)
        async with sessions() as session:
            return await flows.ingest(
                session, incoming, catalogue=BUILT_IN, now=OPENED, history=window
            )

    done = await first_sight(id="EX1", status="serviceRestored", isResolved=True, endDateTime=END)
    assert done.outcome == "recorded" and done.partners == 0
    assert done.note == "first seen already resolved: recorded without alerts"
    old = await first_sight(id="EX2", lastModifiedDateTime="2026-09-01T00:00:00Z")
    assert old.outcome == "recorded" and "2026-09-01, before the history window" in old.note
    assert not old.incident.is_resolved
    fresh = await first_sight(id="EX3", lastModifiedDateTime="2026-10-10T08:30:00Z")
    assert fresh.outcome == "created" and fresh.partners == 2
    assert {key.split(":")[1] for key in (await written()).keys()} == {str(fresh.incident.id)}
    # The recorded issue's resolution later tells nobody: nobody was told it began.
    late = await first_sight(id="EX1", status="resolved", isResolved=True, endDateTime=END)
    assert late.outcome == "updated" and late.partners == 0


async def test_a_one_minute_outage_of_320_customers_says_what_matters_and_files_the_rest(
    sessions, written
):
    # Issue 14: a one-minute outage posted 320 lines of "within the SLA, no credit".
    partner = await make_partner(sessions, name="Many Customers", timezone="Europe/Berlin")
    async with sessions() as session:
        for n in range(320):
            customer = Customer(
                partner_id=partner.id,
                name=f"Customer {n:03d}",
                name_key=f"customer {n:03d}",
                domain=f"c{n:03d}.onmicrosoft.com",
                region="Europe",
            )
            session.add(customer)
            await session.flush()
            session.add(
                Subscription(
                    partner_id=partner.id,
                    customer_id=customer.id,
                    plan_code="EXO",
                    seats=5,
                    unit_price=Decimal("5.00"),
                    billing_cycle="annual",
                    start_date=date(2026, 1, 5),
                    renewal_date=date(2027, 1, 5),
                    status="active",
                    billing_owner="partner",
                )
            )
        await session.commit()
    number = (await ingest(sessions, OPENED, startDateTime="2026-10-10T10:04:00Z")).incident.id
    await ingest(
        sessions,
        OPENED + timedelta(hours=2),
        startDateTime="2026-10-10T10:04:00Z",
        endDateTime="2026-10-10T10:05:00Z",
        status="serviceRestored",
        isResolved=True,
    )
    seen = await written()
    root = root_key(number, partner)
    # One reply with the figures, one with the closing text, one file: not 320 lines.
    assert seen.keys(root + ":closing:") == [
        root + ":closing:0",
        root + ":closing:1",
        root + ":closing:file",
    ]
    figures = seen.text(root + ":closing:0")
    assert "Resolved* after 1 min (from Sat 10 Oct 2026, 12:04 Europe/Berlin to" in figures
    assert "*No credit owed*; 320 customers within the SLA, no credit." in figures
    assert "Customer 0" not in figures and "99.99" not in figures
    rows = seen.file(root + ":closing:file").splitlines()
    # 1 minute of October's 745 hours (44,700 minutes): 99.997%, shown rounded down.
    assert len(rows) == 321 and rows[1].startswith("Customer 000,c000.onmicrosoft.com,99.997%,")
    assert_slack_accepts(Message("x", json.loads(seen.rows[root + ":closing:0"].payload)["blocks"]))


async def test_the_closing_names_at_most_fifteen_credits_and_counts_the_rest(sessions, written):
    a, _, _ = await two_partners(sessions)
    credits = [
        CreditLine(f"Customer {n:02d}", "99.000%", format_money(Decimal(n)), "25%", Decimal(n))
        for n in range(1, 21)
    ] + [CreditLine("Fine Ltd", "99.950%", "", "0%")]
    view = incident_view(Incident(id=7, external_id="EX7", service="Exchange Online",
                                  title="Mail", classification="incident", status="serviceRestored",
                                  start_at=OPENED, end_at=OPENED + timedelta(hours=9),
                                  is_resolved=True, impact_description="", latest_post=""),
                         "UTC", OPENED)  # fmt: skip
    (figures, *_) = closing_message(view, credits, "Dear [customer]")
    text = json.dumps(figures.blocks, ensure_ascii=False)
    # 1 + 2 + … + 20 = $210.00; the 15 largest ($20 … $6) shown, 5 more counted.
    assert "*20 customers owed a credit, $210.00 in total*; 1 customer within the SLA" in text
    assert "Customer 20: *credit $20.00*" in text and "Customer 06: *credit $6.00*" in text
    assert "Customer 05" not in text and "… and 5 more in the file." in text
    assert "Fine Ltd" not in text
    file = credits_file(credits, known=True).decode().splitlines()
    assert file[1].startswith("Customer 20,,99.000%,25%,$20.00")
    assert file[-1] == "Fine Ltd,,99.950%,0%,$0.00"
    formula = CreditLine("=HYPERLINK(1)", "99.000%", "$1.00", "25%", Decimal(1))
    assert credits_file([formula], known=False).decode().splitlines()[1].startswith("'=HYPER")
