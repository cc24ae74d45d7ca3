"""Every kind of message and view the bot builds, filled with hostile and maximum-length data
(names that ping, spoof and are as long as the database allows, vendor texts as long as the
intake keeps), checked against Slack's limits; and the largest each kind produces, against its
limit, printed for the record (`pytest -s tests/test_every_message.py`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bot.blocks import (
    MAX_FALLBACK_TEXT,
    MAX_HEADER_TEXT,
    MAX_MESSAGE_BLOCKS_LENGTH,
    MAX_SECTION_TEXT,
    Message,
    blocks_length,
    escape,
    slack_length,
)
from bot.catalogue import BUILT_IN
from bot.customers import Choices, Found, NoMatch, TooLong, Usage
from bot.orders import cuts
from bot.orders import messages as order_messages
from bot.orders.rules import MAX_NOTE_LENGTH, describe
from bot.outages import messages as outage_messages
from bot.outages.closing import CreditLine, closing_message
from bot.outages.intake import MAX_TEXT
from bot.outages.messages import ImpactView, IncidentView
from bot.partners import messages as setup_messages
from bot.partners.help import help_blocks
from bot.picking import CustomerChoice
from bot.subscriptions.messages import lookup_messages
from bot.subscriptions.rules import CommissionRule
from bot.summaries import messages as summary_messages
from bot.summaries.rules import Summary, WeekFigures, week_of
from storage.models import Customer, Order, Partner, Subscription
from storage.summary_figures import OrderFigures, Renewal
from storage.summary_money import CommissionFigures
from tests.utils.slack import (
    assert_slack_accepts,
    assert_slack_accepts_view,
    mrkdwn_texts,
    text_objects,
)

NOW = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
TODAY = date(2026, 10, 12)
PINGS = "<!channel> <!here> <!everyone> <@U0BOSS> <https://evil.example|click>"
SPOOF = "Acme\u202eexe.fdp\u200b\u2066\u2069\ufeff"
EMOJI = "🏳️\u200d🌈👩🏽\u200d💻😀"


def hostile(length: int) -> str:
    """A name as long as the column allows, that pings, spoofs and is mostly ampersands (each
    five characters once escaped)."""
    start = f"{PINGS} {SPOOF} {EMOJI} "
    return (start + "&" * length)[:length]


NAME = hostile(200)  # customer and partner names: 200 characters in the database
VENDOR_TEXT = ("A vendor sentence with & and <b>markup</b>. " * 600)[:MAX_TEXT]
# An apology as its template renders it: every value escaped, twice the longest vendor text.
APOLOGY = escape(f"Dear {NAME},\n\n{VENDOR_TEXT}\n\nWhat is being done: {VENDOR_TEXT}")
TITLE = hostile(500)  # the incident title's column


# The data


def partner() -> Partner:
    return Partner(
        id=7, team_id="T0HOSTILE", name=NAME, alert_channel="C0ALERT", manager_channel="C0MGR",
        orders_channel="C0ORDERS", timezone="America/Argentina/ComodRivadavia",
    )  # fmt: skip


def customer(number: int = 1) -> Customer:
    return Customer(
        id=number, partner_id=7, name=hostile(200), name_key="x", domain=("d" * 240 + ".com"),
        region="Europe", contact_name=hostile(200), contact_email=("e" * 240 + "@x.com"),
    )  # fmt: skip


def incident_view(*, resolved: bool = False) -> IncidentView:
    return IncidentView(
        number=123_456, external_id=hostile(100), title=TITLE, service="Exchange Online",
        feature=hostile(200), status="service degradation", advisory=False,
        regions="Europe, North America, Asia Pacific, South America, Africa, Middle East",
        started="Mon 12 Oct 2026, 06:00 America/Argentina/ComodRivadavia",
        ended="Tue 13 Oct 2026, 06:00 America/Argentina/ComodRivadavia" if resolved else "",
        duration="1 day 0 h 00 min" if resolved else "", impact=VENDOR_TEXT, latest=VENDOR_TEXT,
        resolved=resolved, declared_by_partner=False,
    )  # fmt: skip


def order(state: str = "pending") -> Order:
    return Order(
        id=987_654, partner_id=7, customer_id=1, plan_code="BPOS-S", seats=10_000,
        unit_price=Decimal("15.00"), billing_owner="partner", previous_seats=9_999,
        note=hostile(MAX_NOTE_LENGTH), state=state, token_hash="h" * 64, filed_by="U0FILER",
        filed_at=NOW, expires_at=NOW + timedelta(days=14), decided_at=NOW,
        confirmer_name=hostile(200), confirmer_email="e" * 240 + "@x.com",
        decline_reason=hostile(1000),
    )  # fmt: skip


def subscription(number: int) -> Subscription:
    return Subscription(
        id=number, partner_id=7, customer_id=1, plan_code=["EXO", "BPOS-S", "SPO"][number % 3],
        seats=10_000, unit_price=Decimal("999.99"), billing_cycle="annual",
        start_date=TODAY - timedelta(days=number), renewal_date=TODAY + timedelta(days=number),
        status="active", billing_owner="partner", partner_of_record_id=7,
    )  # fmt: skip


def summary() -> Summary:
    figures = WeekFigures(
        orders=OrderFigures(10**6, 10**6, 10**6, 10**6, 10**6, 10**6, 10**7, 10**7),
        conversion=Decimal("99.9"), median_hours=Decimal("9999.9"),
        mrr=Decimal("123456789.12"),
        commission=CommissionFigures(Decimal("12345678.90"), Decimal("98765432.10")),
        incidents=10**4, customer_minutes=10**9, credits_owed=Decimal("1234567.89"),
    )  # fmt: skip
    return Summary(
        partner=partner(), week=week_of(NOW, "UTC"), current=figures, previous=figures,
        mrr_before=Decimal("1.00"),
        renewals=[Renewal(hostile(200), "BPOS-S", 10_000, Decimal("1e9")) for _ in range(10)],
        renewals_total=10**5, at_risk=[(hostile(200), "2 incidents in 30 days")] * 500,
    )  # fmt: skip


def choices(count: int) -> list[CustomerChoice]:
    return [CustomerChoice(n, hostile(200), "d" * 240 + ".com") for n in range(count)]


# Every kind, by name


def outage_kinds() -> dict[str, list[Message]]:
    view, closed = incident_view(), incident_view(resolved=True)
    impact = ImpactView(10**6, 10**9, Decimal("123456789.12"), [(hostile(200), 10_000)] * 5)
    changes = ["Status: degraded → *restoring service*", f"Title: {TITLE}",
               f"Impact: {VENDOR_TEXT}", f"Vendor update: {VENDOR_TEXT}"]  # fmt: skip
    credits = [
        CreditLine(hostile(200), "94.123%", "$1,234,567.89", "100%", Decimal("1234567.89"))
    ] * 2000
    return {
        "root alert": [outage_messages.root_message(view, impact)],
        "root alert, scope unknown": [
            outage_messages.root_message(replace(view, scope_known=False), impact)
        ],
        "apology in the thread, scope unknown": outage_messages.apology_message(
            APOLOGY, known=False
        ),
        "update reply": outage_messages.update_messages(changes, view),
        "follower DM": [outage_messages.follower_message(view, changes, "C0ALERT")],
        "closing message": closing_message(closed, credits, APOLOGY),
        "closing message, scope unknown": closing_message(closed, credits, APOLOGY, known=False),
        "apology in the thread": outage_messages.apology_message(APOLOGY),
        "/outage apology": outage_messages.apology_answer(NAME, APOLOGY),
        "/outage list": outage_messages.outage_list([view, closed] * 10),
        # Answers take text their callers composed, data escaped.
        "/outage answer": outage_messages.answer(f"Several match: {escape(hostile(3000))}"),
        "/outage usage": outage_messages.usage(escape(hostile(500))),
    }


def seat_cut() -> cuts.CutToConfirm:
    """The largest cut there is, of a plan with the longest code."""
    plan = BUILT_IN.get("BPOS-S")
    return cuts.CutToConfirm(customer(), plan, current=9_999, seats=9_998)


def described_order():
    """The hostile order, as the order's messages describe it."""
    return describe(
        order(),
        customer=customer(),
        partner=partner(),
        catalogue=BUILT_IN,
        time_zone="UTC",
        vendor=hostile(100),
    )


def order_kinds() -> dict[str, list[Message]]:
    described = described_order()
    link = "https://partnerbot.example.com/orders/" + "t" * 43
    rows = [(order(), customer(n)) for n in range(100)]
    answers = {
        state: order_messages.answered(
            order(state), customer=customer(), partner=partner(), catalogue=BUILT_IN, vendor="M"
        )
        for state in ("confirmed", "declined")
    } | {
        state: fn(order(state), customer=customer(), partner=partner())
        for state, fn in (("expired", order_messages.expired), ("pending", order_messages.reminder))
    }
    return {
        "/order filed": order_messages.filed(described, link),
        "/order resent": order_messages.filed(described, link, resent=True),
        "/order choices": order_messages.choices(
            hostile(200), choices(100), 10**6, plan_code="BPOS-S", seats=10_000
        ),
        "/order no match": order_messages.no_match(
            hostile(200), choices(5), plan_code="BPOS-S", seats=10_000
        ),
        "/order usage": order_messages.usage(),
        "/order list": order_messages.order_list(rows, time_zone="UTC", now=NOW),
        "/order cannot change": order_messages.cannot_change(
            987_654, customer(), order_messages.OrderState.EXPIRED, "cancelled"
        ),
        "/order cancelled": order_messages.cancelled(987_654, customer()),
        "/order seat cut": cuts.cut_question(seat_cut()),
        "/order seat cut, neither": cuts.nothing_filed(),
        "order confirmed notice": [answers["confirmed"]],
        "order declined notice": [answers["declined"]],
        "order expired DM": [answers["expired"]],
        "order reminder DM": [answers["pending"]],
    }


def subscription_kinds() -> dict[str, list[Message]]:
    def answer(lookup):
        return lookup_messages(
            lookup, partner=partner(), catalogue=BUILT_IN, rule=CommissionRule(), today=TODAY
        )

    many = [customer(n) for n in range(100)]
    subscriptions = [subscription(n) for n in range(300)]
    return {
        "/subscription usage": answer(Usage()),
        "/subscription too long": answer(TooLong(10**6)),
        "/subscription choices": answer(Choices(hostile(200), many, 10**6)),
        "/subscription no match": answer(NoMatch(hostile(200), many[:5])),
        "/subscription customer": answer(Found(customer(), subscriptions)),
    }


def other_kinds() -> dict[str, list[Message]]:
    managers = [f"U{n:010d}" for n in range(200)]
    return {
        "weekly summary": [summary_messages.summary_message(summary(), scheduled=True)],
        "/summary not a manager": summary_messages.not_a_manager(managers),
        "/summary answer": summary_messages.answer(escape(hostile(3000))),
        "/partnerbot setup settings": [
            setup_messages.current_settings(partner(), managers, may_change=True)
        ],
        "/partnerbot setup refused": [setup_messages.not_allowed()],
        "/partnerbot help": [Message("What partnerbot can do", help_blocks())],
    }


def every_message() -> dict[str, list[Message]]:
    return outage_kinds() | order_kinds() | subscription_kinds() | other_kinds()


def every_view() -> dict[str, dict]:
    described = described_order()
    filed = order_messages.filed(described, "https://partnerbot.example.com/orders/t")
    return {
        "order form": order_messages.order_form(BUILT_IN, private_metadata="C" * 3000),
        "order filed view": order_messages.form_result(filed),
        "order seat cut form": cuts.cut_form(seat_cut(), note=hostile(MAX_NOTE_LENGTH)),
        "apology form": outage_messages.apology_form(123_456),
        "apology view": outage_messages.apology_result(NAME, APOLOGY),
        "template form": outage_messages.template_form("closing", "{{ customer.name }}" * 300),
        "setup form (new)": setup_messages.setup_form(partner=None, name=NAME),
        "setup form (set up)": setup_messages.setup_form(partner=partner()),
        "setup done": setup_messages.done(
            partner(), [f"U{n:010d}" for n in range(200)], created=True, team_id="T" * 32
        ),
        "App Home (manager)": summary_messages.home_view(is_manager=True, summary=summary()),
        "App Home (staff)": summary_messages.home_view(is_manager=False, summary=None),
    }


# The checks


@pytest.mark.parametrize("kind", sorted(every_message()))
def test_every_message_slack_accepts_and_nothing_in_it_pings_or_spoofs(kind):
    built = every_message()[kind]
    assert built, kind
    for message in built:
        assert_slack_accepts(message)
        for text in [message.text, *mrkdwn_texts(message.blocks)]:
            assert "<!channel>" not in text and "<@U0BOSS>" not in text
            assert "<https://evil" not in text


@pytest.mark.parametrize("kind", sorted(every_view()))
def test_every_view_slack_accepts(kind):
    assert_slack_accepts_view(every_view()[kind])


def test_long_texts_stay_whole_across_the_messages_they_take():
    # The vendor's text appears whole in the update replies, the apology and the closing text.
    whole = " ".join(escape(VENDOR_TEXT).split())
    for kind in ("update reply", "apology in the thread", "/outage apology"):
        shown = " ".join(" ".join(mrkdwn_texts(message.blocks)) for message in outage_kinds()[kind])
        assert whole in " ".join(shown.split()), kind


def largest(messages: list[Message]) -> dict[str, int]:
    sections = [t for m in messages for b in m.blocks if b["type"] == "section"
                for t in [b["text"]["text"]]]  # fmt: skip
    headers = [t for m in messages for b in m.blocks if b["type"] == "header"
               for t in [b["text"]["text"]]]  # fmt: skip
    return {
        "messages": len(messages),
        "blocks": max(len(m.blocks) for m in messages),
        "block text": max(blocks_length(m.blocks) for m in messages),
        "section": max((slack_length(t) for t in sections), default=0),
        "header": max((slack_length(t) for t in headers), default=0),
        "text": max(slack_length(m.text) for m in messages),
    }


def test_the_largest_of_each_kind_against_its_limit():
    """The record for the closing note: the largest message each kind produces (shown with
    `pytest -s`)."""
    limits = {"blocks": 50, "block text": MAX_MESSAGE_BLOCKS_LENGTH, "section": MAX_SECTION_TEXT,
              "header": MAX_HEADER_TEXT, "text": MAX_FALLBACK_TEXT}  # fmt: skip
    lines = [f"{'kind':32} msgs  " + "  ".join(f"{k} /{v}" for k, v in limits.items())]
    for kind, built in sorted(every_message().items()):
        sizes = largest(built)
        for key, limit in limits.items():
            assert sizes[key] <= limit, (kind, key)
        lines.append(
            f"{kind:32} {sizes['messages']:>4}  "
            + "  ".join(f"{sizes[k]:>{len(k) + len(str(v)) + 2}}" for k, v in limits.items())
        )
    for kind, view in sorted(every_view().items()):
        texts = text_objects(view["blocks"], "mrkdwn") + text_objects(view["blocks"], "plain_text")
        longest = max(slack_length(t) for t in texts)
        title = slack_length(view.get("title", {}).get("text", ""))
        lines.append(
            f"{kind:32} view  blocks {len(view['blocks'])}/100  longest text {longest}  "
            f"title {title}/24"
        )
    print("\n" + "\n".join(lines))
