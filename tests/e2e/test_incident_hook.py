"""POST /hooks/incidents through the real server: signatures, bad bodies, fan-out to the partners
whose customers are hit (and only them), threading of updates, resolution with SLA credits."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import select

from bot.outages.intake import RESOLVED_STATUSES, STATUS_WORDS
from storage.models import Incident, OutboxMessage
from tests.utils.factories import make_customer, make_partner, make_subscription
from tests.utils.incidents import END, count, incident, posts_to, send, sign, text_of, two_partners


async def test_bad_signatures_and_bodies_are_refused_and_store_nothing(bot, sessions):
    good = json.dumps(incident()).encode()
    assert (await send(bot, good, signature=""))[0] == 401
    assert (await send(bot, good, signature=sign(good, "wrong-secret")))[0] == 401
    assert (await send(bot, good, signature=sign(good + b" ")))[0] == 401
    cases = {
        b"{not json": "not valid JSON",
        b"[1, 2]": "must be a JSON object",
        json.dumps({**incident(), "id": None}).encode(): "`id` is missing",
        json.dumps(
            {k: v for k, v in incident().items() if k != "service"}
        ).encode(): "`service` is missing",
        json.dumps(incident(startDateTime="yesterday")).encode(): "`startDateTime` is not a date",
        json.dumps(
            incident(endDateTime="2026-10-01T00:00:00Z")
        ).encode(): "`endDateTime` is before `startDateTime`",
        json.dumps(incident(regions=["Atlantis"])).encode(): "unknown region 'Atlantis'",
        json.dumps(incident(status="onFire")).encode(): "unknown `status` 'onFire'",
        json.dumps(incident(isResolved="yes")).encode(): "`isResolved` must be true or false",
        json.dumps(incident(posts="nope")).encode(): "`posts` must be a list",
    }
    for raw, expected in cases.items():
        status, answer = await send(bot, raw)
        assert status == 400, raw
        assert expected in answer["error"], (raw, answer)
    assert await count(sessions, Incident) == 0
    assert await count(sessions, OutboxMessage) == 0


async def test_an_incident_alerts_exactly_the_partners_whose_customers_are_hit(bot, sessions):
    a, b, c = await two_partners(sessions)
    slack = bot.local_slack

    status, answer = await send(bot, incident())
    assert status == 201 and answer["outcome"] == "created" and answer["partnersNotified"] == 2

    await slack.wait_for(
        lambda: (
            len(posts_to(slack, a.alert_channel)) == 2
            and len(posts_to(slack, b.alert_channel)) == 2
        )
    )
    root_a, apology_a = posts_to(slack, a.alert_channel)
    shown = text_of(root_a)
    assert "Outage #" in shown and "Mail delayed for some users" in shown
    assert "Degraded" in shown and "serviceDegradation" not in shown
    assert "Exchange Online" in shown and "Mail flow" in shown and "Europe" in shown
    assert "Sat 10 Oct 2026, 10:00 Europe/Berlin" in shown  # 08:00 UTC in Berlin (CEST)
    # Small GmbH: EXO 10 × $5.00 = $50.00; Large AG: BPOS-S 20 × $15.00 = $300.00; Faraway Inc is
    # in North America, outside the incident's region.
    assert "2 customers · 30 seats · $350.00 monthly revenue at risk" in shown
    assert "Large AG (20 seats), Small GmbH (10 seats)" in shown
    assert "Faraway" not in shown and "Beta Customer" not in shown
    assert (
        apology_a.params["thread_ts"]
        == next(row for row in slack.posted[a.alert_channel] if row["thread_ts"] is None)["ts"]
    )
    apology = text_of(apology_a)
    assert "We are sorry" in apology and "Alpha IT" in apology
    assert "We are investigating." in apology

    root_b = text_of(posts_to(slack, b.alert_channel)[0])
    assert "1 customer · 4 seats · $20.00 monthly revenue at risk" in root_b
    assert "Large AG" not in root_b and "Small GmbH" not in root_b
    assert posts_to(slack, c.alert_channel) == []

    # The very same body again changes nothing and posts nothing.
    status, again = await send(bot, incident())
    assert status == 200 and again["outcome"] == "unchanged"
    await asyncio.sleep(0.5)
    assert len(slack.calls_to("chat.postMessage")) == 4


async def test_updates_thread_under_the_root_and_edit_it_and_quick_ones_collapse(bot, sessions):
    a, _, _ = await two_partners(sessions)
    slack = bot.local_slack
    await send(bot, incident())
    await slack.wait_for(lambda: len(posts_to(slack, a.alert_channel)) == 2)
    root_ts = next(r for r in slack.posted[a.alert_channel] if r["thread_ts"] is None)["ts"]

    posts = [
        {"description": {"content": "We are investigating."}},
        {"description": {"content": "A fix is being deployed."}},
    ]
    await send(bot, incident(status="restoringService", posts=posts))
    both = ["Europe", "Asia Pacific"]
    await send(bot, incident(status="restoringService", posts=posts, regions=both))

    await slack.wait_for(
        lambda: (
            len(posts_to(slack, a.alert_channel)) == 3 and len(slack.calls_to("chat.update")) >= 2
        )
    )
    await asyncio.sleep(0.5)
    replies = posts_to(slack, a.alert_channel)[2:]
    assert len(replies) == 1, [text_of(r) for r in replies]  # two quick updates, one reply
    reply = text_of(replies[0])
    assert replies[0].params["thread_ts"] == root_ts
    assert "Status: degraded → *restoring service*" in reply
    assert "A fix is being deployed." in reply and "Asia Pacific" in reply
    edits = [e for e in slack.calls_to("chat.update") if e.params["channel"] == a.alert_channel]
    assert {e.params["ts"] for e in edits} == {root_ts}
    assert "Restoring service" in text_of(edits[-1])
    assert (
        len(
            [
                c
                for c in slack.calls_to("chat.postMessage")
                if c.params.get("thread_ts") is None and c.params["channel"] == a.alert_channel
            ]
        )
        == 1
    )  # never a second root


async def test_resolution_closes_the_alert_with_duration_and_credits(bot, sessions):
    a, _, _ = await two_partners(sessions)
    slack = bot.local_slack
    await send(bot, incident())
    await slack.wait_for(lambda: len(posts_to(slack, a.alert_channel)) == 2)

    status, answer = await send(
        bot, incident(status="serviceRestored", isResolved=True, endDateTime=END)
    )
    assert status == 200 and answer["outcome"] == "updated"

    await slack.wait_for(
        lambda: any("Resolved" in text_of(c) for c in posts_to(slack, a.alert_channel)[2:])
    )
    await asyncio.sleep(0.5)
    closing = "\n".join(text_of(c) for c in posts_to(slack, a.alert_channel)[2:])
    assert "Resolved* after 3 h 00 min" in closing
    # October 2026 in Berlin has 745 hours (the clocks go back on the 25th); 3 hours down leaves
    # 742/745 = 99.597% available: below 99.9%, a 25% credit of the service's monthly fee.
    # Small GmbH: EXO $50.00 × 25% = $12.50.
    # Large AG: BPOS-S $300.00, of which Exchange's share is 5.00/(5.00+5.25+2.00+4.50) =
    # $89.55…; 25% of that = $22.39.
    assert (
        "Small GmbH: *credit $12.50* (25% of the service's monthly fee; availability 99.597%)"
        in (closing)
    )
    assert "Large AG: *credit $22.39*" in closing
    assert "*2 customers owed a credit, $34.89 in total*" in closing
    assert "Good news" in closing and "after 3 h 00 min" in closing
    edits = [e for e in slack.calls_to("chat.update") if e.params["channel"] == a.alert_channel]
    assert "Resolved* after 3 h 00 min" in text_of(edits[-1])


async def test_an_advisory_gets_a_lighter_notice_without_apologies(bot, sessions):
    a, _, _ = await two_partners(sessions)
    slack = bot.local_slack
    status, _ = await send(
        bot,
        incident(id="EX300", classification="advisory", title="Some users may see slower search"),
    )
    assert status == 201
    await slack.wait_for(lambda: posts_to(slack, a.alert_channel))
    await asyncio.sleep(0.5)
    (root,) = posts_to(slack, a.alert_channel)  # no apology in a thread
    shown = text_of(root)
    assert "Advisory #" in shown and "Some users may see slower search" in shown
    assert "Apology for one customer" not in shown and "Impact:*" not in shown


async def test_concurrent_deliveries_of_one_body_store_and_post_it_once(bot, sessions):
    a, b, _ = await two_partners(sessions)
    results = await asyncio.gather(*(send(bot, incident(id="EX400")) for _ in range(6)))
    outcomes = sorted(answer["outcome"] for _, answer in results)
    assert outcomes == ["created"] + ["unchanged"] * 5
    assert await count(sessions, Incident) == 1
    slack = bot.local_slack
    await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage")) >= 4)
    await asyncio.sleep(0.5)
    assert len(posts_to(slack, a.alert_channel)) == 2 and len(posts_to(slack, b.alert_channel)) == 2


async def test_the_hook_is_disabled_while_its_secret_is_unset(bot, sessions):
    bot.services.settings = bot.services.settings.model_copy(
        update={"incident_webhook_secret": None}
    )
    status, answer = await send(bot, incident())
    assert status == 404 and "INCIDENT_WEBHOOK_SECRET is not set" in answer["error"]
    assert await count(sessions, Incident) == 0


# Bodies as Microsoft publishes them (tests/fixtures/graph/README.md says where each is from).
FIXTURES = Path(__file__).parent.parent / "fixtures" / "graph"


def published(name: str) -> dict:
    body = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    issues = body.get("value") or body.get("issues") or [body]
    return issues[0]


async def stored_incident(sessions, external_id: str) -> Incident:
    async with sessions() as session:
        found = await session.exec(select(Incident).where(Incident.external_id == external_id))
        return found.one()


async def test_every_documented_status_in_both_spellings_is_understood(bot, sessions):
    await two_partners(sessions)
    for number, status in enumerate(STATUS_WORDS):
        for spelling in (status, status[0].upper() + status[1:]):
            external_id = f"EX7{number:02d}{spelling[0]}"
            code, answer = await send(bot, incident(id=external_id, status=spelling))
            stored = await stored_incident(sessions, external_id)
            assert stored.status == status, spelling
            if status in RESOLVED_STATUSES:
                # First seen over already: recorded, nobody alerted.
                assert (code, answer["outcome"]) == (201, "recorded"), spelling
                assert answer["partnersNotified"] == 0 and stored.is_resolved
            else:
                assert (code, answer["outcome"]) == (201, "created"), spelling
                assert answer["partnersNotified"] == 2 and not stored.is_resolved
    code, answer = await send(bot, incident(id="EX799", classification="UnknownFutureValue"))
    assert code == 201 and (await stored_incident(sessions, "EX799")).classification == "unknown"


async def test_microsofts_published_examples_are_recorded_as_history(bot, sessions):
    await two_partners(sessions)
    examples = {
        "graph-docs-get-servicehealthissue.json": ("MO226784", "Microsoft 365 suite"),
        "graph-docs-list-issues.json": ("EX226792", "Exchange Online"),
        "cli-m365-healthissue-get.json": ("CR384241", "Dynamics 365 Apps"),
        "cli-m365-health-get-issues.json": ("EX415080", "Exchange Online"),
    }
    for name, (external_id, service) in examples.items():
        code, answer = await send(bot, published(name))
        assert (code, answer["outcome"], answer["partnersNotified"]) == (201, "recorded", 0), name
        stored = await stored_incident(sessions, external_id)
        assert stored.service == service and stored.status == "serviceRestored"
        assert stored.is_resolved and "\\" not in stored.latest_post
    assert (await stored_incident(sessions, "MO226784")).classification == "advisory"
    assert (
        "User Impact: Users may experience delays"
        in (await stored_incident(sessions, "CR384241")).latest_post
    )
    await asyncio.sleep(0.3)
    assert bot.local_slack.calls_to("chat.postMessage") == []


async def test_a_published_example_live_then_resolved_alerts_and_closes(bot, sessions):
    a, _, _ = await two_partners(sessions)
    slack = bot.local_slack
    resolved = published("graph-docs-list-issues.json")
    now = bot.services.clock()
    live = {
        **resolved,
        "status": "ServiceDegradation",
        "isResolved": False,
        "endDateTime": None,
        "startDateTime": (now - timedelta(hours=2)).isoformat(),
        "lastModifiedDateTime": (now - timedelta(hours=1)).isoformat(),
        "posts": [
            {
                "description": {
                    "contentType": "html",
                    "content": "<p>Title: Mail &amp; calendar delays</p><ul><li>Scope: "
                    '<a href="https://status.example/EX226792">details</a></li></ul>',
                }
            }
        ],
    }
    code, answer = await send(bot, live)
    assert (code, answer["outcome"], answer["partnersNotified"]) == (201, "created", 2)
    await slack.wait_for(lambda: len(posts_to(slack, a.alert_channel)) == 2)
    apology = text_of(posts_to(slack, a.alert_channel)[1])
    assert "Title: Mail &amp; calendar delays" in apology  # Slack's escaping of "&", once
    assert "- Scope: details (https://status.example/EX226792)" in apology
    assert "&lt;p&gt;" not in apology and "&amp;amp;" not in apology

    code, answer = await send(
        bot, {**resolved, "lastModifiedDateTime": now.isoformat(), "endDateTime": now.isoformat()}
    )
    assert (code, answer["outcome"]) == (200, "updated")
    # The older live version replayed changes nothing: the incident stays resolved.
    code, answer = await send(bot, live)
    assert (code, answer["outcome"], answer["partnersNotified"]) == (200, "stale", 0)
    stored = await stored_incident(sessions, "EX226792")
    assert stored.is_resolved and stored.status == "serviceRestored" and stored.version == 2


async def test_microsofts_suite_example_live_alerts_every_partner_with_a_customer(bot, sessions):
    a, b, c = await two_partners(sessions)
    now = bot.services.clock()
    suite = {
        **published("graph-docs-get-servicehealthissue.json"),  # Microsoft 365 suite
        "status": "ServiceInterruption",
        "classification": "Incident",
        "isResolved": False,
        "endDateTime": None,
        "lastModifiedDateTime": now.isoformat(),
    }
    code, answer = await send(bot, suite)
    # A's Exchange and suite customers, B's Exchange customer, C's SharePoint-only customer.
    assert (code, answer["outcome"], answer["partnersNotified"]) == (201, "created", 3)
    for partner in (a, b, c):
        await bot.local_slack.wait_for(lambda p=partner: posts_to(bot.local_slack, p.alert_channel))


async def test_a_teams_issue_reaches_todays_plans_and_the_services_teams_replaced(bot, sessions):
    dates = {"start_date": date(2026, 1, 5), "renewal_date": date(2027, 1, 5)}
    meetings = await make_partner(sessions, name="Meetings Co")
    today = await make_partner(sessions, name="Today Co")
    mail_only = await make_partner(sessions, name="Mail Only Co")
    for partner, plan in ((meetings, "OLM"), (today, "M365-BB"), (mail_only, "EXO-P1")):
        customer = await make_customer(sessions, partner, name=f"{plan} customer")
        await make_subscription(sessions, customer, plan_code=plan, seats=5, **dates)

    teams = incident(id="TM200", service="microsoft teams", regions=[])
    code, answer = await send(bot, teams)
    assert (code, answer["outcome"], answer["partnersNotified"]) == (201, "created", 2)
    assert (await stored_incident(sessions, "TM200")).service == "Microsoft Teams"
    await bot.local_slack.wait_for(lambda: posts_to(bot.local_slack, today.alert_channel))
    await bot.local_slack.wait_for(lambda: posts_to(bot.local_slack, meetings.alert_channel))
    await asyncio.sleep(0.2)
    assert posts_to(bot.local_slack, mail_only.alert_channel) == []


async def test_an_issue_for_a_service_no_plan_includes_is_stored_and_says_nobody_was_alerted(
    bot, sessions
):
    await two_partners(sessions)
    code, answer = await send(bot, incident(id="CR1", service="Dynamics 365 Apps"))
    assert (code, answer["outcome"], answer["partnersNotified"]) == (201, "created", 0)
    assert answer["note"] == "no plan includes Dynamics 365 Apps: nobody was alerted"
    assert (await stored_incident(sessions, "CR1")).service == "Dynamics 365 Apps"
