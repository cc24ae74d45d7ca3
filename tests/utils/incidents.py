"""Incidents as POST /hooks/incidents takes them, signed, and the partners and Slack calls the
outage tests look at."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import date

from sqlmodel import select

from bot.outages.hook_signature import SIGNATURE_HEADER, signed_headers
from tests.utils.e2e import INCIDENT_SECRET
from tests.utils.factories import make_customer, make_partner, make_subscription

START, END = "2026-10-10T08:00:00Z", "2026-10-10T11:00:00Z"


def sign(body: bytes, secret: str = INCIDENT_SECRET, *, at: float | None = None) -> dict:
    """The headers that sign `body` as a sender does, at `at` (Unix seconds; default now)."""
    return signed_headers(secret, body, time.time() if at is None else at)


async def send(
    bot, body: dict | bytes, *, signature: str | Mapping[str, str] | None = None
) -> tuple[int, dict]:
    """Posts an incident signed now; `signature` replaces the signing: the headers of `sign`, or
    a bare signature header value sent with a fresh timestamp."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signing = sign(raw) if signature is None else signature
    if isinstance(signing, str):
        signing = {**sign(raw), SIGNATURE_HEADER: signing}
    headers = {"Content-Type": "application/json", **signing}
    async with bot.http.post(bot.url + "/hooks/incidents", data=raw, headers=headers) as response:
        return response.status, await response.json()


def incident(**fields) -> dict:
    return {
        "id": "EX100200",
        "title": "Mail delayed for some users",
        "service": "Exchange Online",
        "feature": "Mail flow",
        "status": "serviceDegradation",
        "classification": "incident",
        "impactDescription": "Users may see delays sending and receiving mail.",
        "startDateTime": START,
        "isResolved": False,
        "regions": ["Europe"],
        "posts": [{"description": {"content": "We are investigating."}}],
        **fields,
    }


async def count(sessions, model) -> int:
    async with sessions() as session:
        return len((await session.exec(select(model))).all())


async def two_partners(sessions):
    """Partner A: two European customers on plans with Exchange, one American; partner B: one
    European Exchange customer; partner C: SharePoint only."""
    a = await make_partner(sessions, name="Alpha IT", timezone="Europe/Berlin")
    b = await make_partner(sessions, name="Beta Cloud", timezone="Europe/London")
    c = await make_partner(sessions, name="Gamma Sites")
    dates = {"start_date": date(2026, 1, 5), "renewal_date": date(2027, 1, 5)}
    small = await make_customer(sessions, a, name="Small GmbH", region="Europe")
    large = await make_customer(sessions, a, name="Large AG", region="Europe")
    far = await make_customer(sessions, a, name="Faraway Inc", region="North America")
    theirs = await make_customer(sessions, b, name="Beta Customer Ltd", region="Europe")
    sites = await make_customer(sessions, c, name="Sites Only", region="Europe")
    await make_subscription(sessions, small, plan_code="EXO", seats=10, unit_price="5.00", **dates)
    await make_subscription(
        sessions, large, plan_code="BPOS-S", seats=20, unit_price="15.00", **dates
    )
    await make_subscription(sessions, far, plan_code="EXO", seats=100, unit_price="5.00", **dates)
    await make_subscription(sessions, theirs, plan_code="EXO", seats=4, unit_price="5.00", **dates)
    await make_subscription(sessions, sites, plan_code="SPO", seats=7, unit_price="5.25", **dates)
    return a, b, c


def posts_to(slack, channel: str) -> list:
    return [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == channel]


def text_of(call) -> str:
    return call.params["text"] + json.dumps(call.params.get("blocks", []), ensure_ascii=False)
