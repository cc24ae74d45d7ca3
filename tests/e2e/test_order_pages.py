"""The customer's order page over real HTTP: what it shows, what it refuses, and that confirming
happens once whatever the customer (or a mail scanner) does."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sqlmodel import select

from bot.orders import flows, staff
from bot.zones import today_in
from storage.models import Order, OutboxMessage, Subscription
from tests.utils.factories import make_customer, make_partner, make_subscription

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


async def file(bot, sessions, partner, customer, *, plan="BPOS-S", seats=25, user="U0FILER"):
    """Files an order through the product's flow and returns (order, token)."""
    async with sessions() as session:
        filed = await flows.file_order(
            session,
            partner=partner,
            plan=bot.services.catalogue.get(plan),
            seats=seats,
            filed_by=user,
            now=bot.services.clock(),
            ttl_days=14,
            customer_id=customer.id,
        )
    return filed.order, filed.token


async def get(bot, path: str) -> tuple[int, str, dict]:
    async with bot.http.get(bot.url + path, allow_redirects=False) as response:
        return response.status, await response.text(), dict(response.headers)


async def post(bot, path: str, form: dict) -> tuple[int, str, dict]:
    async with bot.http.post(bot.url + path, data=form, allow_redirects=False) as response:
        return response.status, await response.text(), dict(response.headers)


async def csrf_of(bot, token: str) -> str:
    _, html, _ = await get(bot, f"/orders/{token}")
    return CSRF.search(html).group(1)


async def rows(sessions, model) -> list:
    async with sessions() as session:
        return list((await session.exec(select(model))).all())


async def order_now(sessions, order_id: int) -> Order:
    async with sessions() as session:
        return await session.get(Order, order_id)


async def partner_and_customer(sessions, *, name="Contoso Dental"):
    partner = await make_partner(sessions, name="Northwind Cloud", timezone="Europe/Berlin")
    customer = await make_customer(sessions, partner, name=name, domain="contosodental.com")
    return partner, customer


async def test_the_page_shows_the_order_and_changes_nothing(bot, sessions):
    partner, customer = await partner_and_customer(sessions)
    order, token = await file(bot, sessions, partner, customer)

    for _ in range(3):  # a mail scanner, a preview, then the customer
        status, html, headers = await get(bot, f"/orders/{token}")
        assert status == 200

    # Not the partner of record before the customer confirms.
    assert "Northwind Cloud, once you confirm" in html and "your partner of record" not in html
    assert "Contoso Dental" in html and "contosodental.com" in html
    assert "Business Productivity Online Standard Suite" in html and "Exchange Online" in html
    # 25 seats × $15.00 = $375.00 a month, $4,500.00 a year.
    assert "$15.00" in html and "$375.00" in html and "$4,500.00" in html
    assert "Microsoft" in html and "the vendor" not in html and "Europe/Berlin" in html
    assert "Confirm order" in html and "Decline order" in html and "<script" not in html
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    assert (await order_now(sessions, order.id)).state == "pending"
    assert await rows(sessions, OutboxMessage) == []
    assert await rows(sessions, Subscription) == []


async def test_stored_text_is_escaped_on_the_page(bot, sessions):
    partner, customer = await partner_and_customer(sessions, name="<script>alert(1)</script>")
    _, token = await file(bot, sessions, partner, customer)
    _, html, _ = await get(bot, f"/orders/{token}")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


async def test_invisible_characters_in_stored_names_never_reach_the_page(bot, sessions):
    spoof = "Acme\u202eexe.fdp\u200b Dental\u2066"
    partner, customer = await partner_and_customer(sessions, name=spoof)
    _, token = await file(bot, sessions, partner, customer)
    _, html, _ = await get(bot, f"/orders/{token}")
    assert "Acmeexe.fdp Dental" in html
    assert not any(mark in html for mark in ("\u202e", "\u200b", "\u2066"))


async def test_unknown_tampered_and_cancelled_links_all_get_the_same_404(bot, sessions):
    partner, customer = await partner_and_customer(sessions)
    cancelled, cancelled_token = await file(bot, sessions, partner, customer)
    async with sessions() as session:
        await staff.cancel_order(
            session, partner=partner, order_id=cancelled.id, by="U1", now=bot.services.clock()
        )
    _, token = await file(bot, sessions, partner, customer, plan="EXO")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

    pages = [
        await get(bot, f"/orders/{t}")
        for t in (tampered, cancelled_token, "nonsense", "x" * 43, token.upper())
    ]
    assert {status for status, _, _ in pages} == {404}
    assert len({html for _, html, _ in pages}) == 1
    _, html, headers = pages[0]
    assert "This link is not valid" in html and "Contoso" not in html and "Northwind" not in html
    assert headers["Referrer-Policy"] == "no-referrer"
    status, _, _ = await post(
        bot, f"/orders/{cancelled_token}/confirm", {"csrf": "0", "name": "A", "email": "a@b.co"}
    )
    assert status == 404


async def test_a_post_without_this_orders_csrf_token_is_refused_and_changes_nothing(bot, sessions):
    partner, customer = await partner_and_customer(sessions)
    order, token = await file(bot, sessions, partner, customer)
    _, other_token = await file(bot, sessions, partner, customer, plan="EXO")
    other_csrf = await csrf_of(bot, other_token)
    form = {"name": "Jane Doe", "email": "jane@contosodental.com"}

    for csrf in (None, "", "deadbeef", other_csrf):
        data = form if csrf is None else {**form, "csrf": csrf}
        status, html, _ = await post(bot, f"/orders/{token}/confirm", data)
        assert status == 403, csrf
        assert "Nothing was changed" in html
    status, _, _ = await post(bot, f"/orders/{token}/decline", {"csrf": other_csrf})
    assert status == 403
    assert (await order_now(sessions, order.id)).state == "pending"
    assert await rows(sessions, Subscription) == []


async def test_confirming_creates_the_subscription_and_notifies_once(bot, sessions):
    partner, customer = await partner_and_customer(sessions)
    order, token = await file(bot, sessions, partner, customer, user="U0FILER")
    csrf = await csrf_of(bot, token)
    form = {"csrf": csrf, "name": "Jane  Doe", "email": "jane@contosodental.com"}

    status, _, headers = await post(bot, f"/orders/{token}/confirm", form)
    assert status == 303 and headers["Location"] == f"/orders/{token}"
    # A double click and a retry from another tab change nothing more.
    for _ in range(2):
        again, _, _ = await post(bot, f"/orders/{token}/confirm", form)
        assert again == 303

    confirmed = await order_now(sessions, order.id)
    assert confirmed.state == "confirmed" and confirmed.decided_at is not None
    assert (confirmed.confirmer_name, confirmed.confirmer_email) == (
        "Jane Doe",
        "jane@contosodental.com",
    )
    assert confirmed.confirmer_ip == "127.0.0.1" and confirmed.confirmer_user_agent
    (subscription,) = await rows(sessions, Subscription)
    assert (subscription.plan_code, subscription.seats, subscription.status) == (
        "BPOS-S",
        25,
        "active",
    )
    assert subscription.partner_of_record_id == partner.id
    assert subscription.start_date == today_in("Europe/Berlin", confirmed.decided_at)
    assert confirmed.subscription_id == subscription.id

    slack = bot.local_slack
    await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage")) >= 2)
    await asyncio.sleep(0.3)  # room for a duplicate to show up, if there were one
    posts = slack.calls_to("chat.postMessage")
    assert sorted(call.params["channel"] for call in posts) == sorted(
        [partner.alert_channel, "U0FILER"]
    )
    for call in posts:
        assert f"Contoso Dental confirmed order #{order.id}" in call.params["text"]
    outbox = await rows(sessions, OutboxMessage)
    assert {row.state for row in outbox} == {"sent"} and all(row.ts for row in outbox)

    # The customer sees the receipt right after answering, "already confirmed" on later visits.
    cookie = headers["Set-Cookie"].split(";")[0]
    async with bot.http.get(bot.url + f"/orders/{token}", headers={"Cookie": cookie}) as receipt:
        html = await receipt.text()
        assert "Thank you — your order is confirmed" in html and "Jane Doe" in html
        assert "order_receipt=" in receipt.headers["Set-Cookie"]  # cleared: shown once
    _, html, _ = await get(bot, f"/orders/{token}")
    assert "already confirmed" in html and "Jane Doe" in html and "Confirm order" not in html


async def test_concurrent_confirmations_make_one_subscription_and_one_notification_each(
    bot, sessions
):
    partner, customer = await partner_and_customer(sessions)
    today = today_in("Europe/Berlin")
    await make_subscription(
        sessions,
        customer,
        plan_code="EXO",
        seats=10,
        unit_price="5.00",
        start_date=today - timedelta(days=20),
        renewal_date=today + timedelta(days=345),
    )
    order, token = await file(bot, sessions, partner, customer, plan="EXO", seats=30)
    csrf = await csrf_of(bot, token)
    form = {"csrf": csrf, "name": "Jane", "email": "jane@contosodental.com"}

    statuses = await asyncio.gather(
        *(post(bot, f"/orders/{token}/confirm", form) for _ in range(8))
    )
    assert {status for status, _, _ in statuses} == {303}
    (subscription,) = await rows(sessions, Subscription)
    assert subscription.seats == 30 and subscription.partner_of_record_id == partner.id
    outbox = await rows(sessions, OutboxMessage)
    assert len(outbox) == 2


async def test_declining_keeps_the_reason_and_changes_no_subscription(bot, sessions):
    partner, customer = await partner_and_customer(sessions)
    order, token = await file(bot, sessions, partner, customer, user="U0FILER")
    csrf = await csrf_of(bot, token)

    status, _, _ = await post(
        bot, f"/orders/{token}/decline", {"csrf": csrf, "reason": "Too expensive <for now>"}
    )
    assert status == 303

    declined = await order_now(sessions, order.id)
    assert declined.state == "declined" and declined.decline_reason == "Too expensive <for now>"
    assert await rows(sessions, Subscription) == []
    slack = bot.local_slack
    await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage")) >= 2)
    for call in slack.calls_to("chat.postMessage"):
        assert "declined order" in call.params["text"]
        assert "Too expensive &lt;for now&gt;" in str(call.params["blocks"])
    # Confirming afterwards changes nothing.
    await post(
        bot, f"/orders/{token}/confirm", {"csrf": csrf, "name": "Jane", "email": "jane@x.com"}
    )
    assert (await order_now(sessions, order.id)).state == "declined"
    _, html, _ = await get(bot, f"/orders/{token}")
    assert "This order was declined" in html


async def test_a_confirmation_without_name_or_email_asks_again_and_changes_nothing(bot, sessions):
    partner, customer = await partner_and_customer(sessions)
    order, token = await file(bot, sessions, partner, customer)
    csrf = await csrf_of(bot, token)

    status, html, _ = await post(
        bot, f"/orders/{token}/confirm", {"csrf": csrf, "name": "Jane", "email": "not-an-email"}
    )

    assert status == 400
    assert "Type your email address" in html and 'value="Jane"' in html
    assert (await order_now(sessions, order.id)).state == "pending"


async def test_an_expired_link_says_so_and_cannot_be_confirmed(bot, sessions):
    partner, customer = await partner_and_customer(sessions)
    order, token = await file(bot, sessions, partner, customer)
    csrf = await csrf_of(bot, token)
    later = order.expires_at + timedelta(seconds=1)
    bot.services.clock = lambda: later

    _, html, _ = await get(bot, f"/orders/{token}")
    assert "This order has expired" in html and "ask Northwind Cloud for a new link" in html
    await post(
        bot, f"/orders/{token}/confirm", {"csrf": csrf, "name": "Jane", "email": "jane@x.com"}
    )
    assert (await order_now(sessions, order.id)).state == "pending"  # the sweep marks it
    assert await rows(sessions, Subscription) == []


async def test_static_stylesheet_is_served_with_the_same_headers(bot):
    status, css, headers = await get(bot, "/static/order.css")
    assert status == 200 and "font" in css
    assert headers["X-Content-Type-Options"] == "nosniff"
