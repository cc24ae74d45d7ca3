"""The customer page's forms against hostile posts: far bigger than the page's, fields longer
than the audit trail keeps, files for fields, bodies that do not parse. Each gets the order's
page saying so (413 or 400), nothing sent is echoed whole, and the order stays as it was."""

from __future__ import annotations

import aiohttp

from storage.models import Order
from tests.e2e.test_hostile_requests import assert_logged_briefly, post
from tests.e2e.test_order_pages import csrf_of, file, order_now
from tests.utils.factories import make_customer, make_partner


async def post_form(bot, path: str, form) -> tuple[int, str, dict]:
    async with bot.http.post(bot.url + path, data=form, allow_redirects=False) as response:
        return response.status, await response.text(), dict(response.headers)


async def a_link(bot, sessions) -> tuple[Order, str, str]:
    """A pending order, its link's token and the page's CSRF token."""
    partner = await make_partner(sessions)
    customer = await make_customer(sessions, partner, name="Contoso Dental")
    order, token = await file(bot, sessions, partner, customer)
    return order, token, await csrf_of(bot, token)


async def test_a_form_far_bigger_than_the_page_gets_413_and_is_not_echoed(bot, sessions):
    order, token, csrf = await a_link(bot, sessions)
    name = "Mallory" + "M" * 500_000
    form = {"csrf": csrf, "name": name, "email": "x@example.com"}

    for answer in ("confirm", "decline"):
        status, html, headers = await post_form(bot, f"/orders/{token}/{answer}", form)
        assert status == 413 and "too long" in html
        assert "MMMMMMMMMM" not in html and len(html) < 20_000
        assert headers["Referrer-Policy"] == "no-referrer"
    assert (await order_now(sessions, order.id)).state == "pending"


async def test_fields_longer_than_the_audit_trail_keeps_are_refused_and_not_echoed(bot, sessions):
    order, token, csrf = await a_link(bot, sessions)
    long_name = "Jane " + "D" * 5_000

    form = {"csrf": csrf, "name": long_name, "email": "jane@example.com"}
    status, html, _ = await post_form(bot, f"/orders/{token}/confirm", form)
    assert status == 400 and "at most 200 characters" in html
    assert "D" * 201 not in html
    long_email = {"csrf": csrf, "name": "Jane", "email": "j" * 250 + "@example.com"}
    status, html, _ = await post_form(bot, f"/orders/{token}/confirm", long_email)
    assert status == 400 and "at most 254 characters" in html
    reason = {"csrf": csrf, "reason": "too dear " * 200}
    status, html, _ = await post_form(bot, f"/orders/{token}/decline", reason)
    assert status == 400 and "at most 1,000 characters" in html
    assert (await order_now(sessions, order.id)).state == "pending"


async def test_a_file_posted_for_a_field_counts_as_nothing_typed(bot, sessions):
    order, token, csrf = await a_link(bot, sessions)
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("name", b"Jane Doe", filename="name.txt")
    form.add_field("email", "jane@example.com")

    status, html, _ = await post_form(bot, f"/orders/{token}/confirm", form)

    assert status == 400 and "Type your name." in html
    assert (await order_now(sessions, order.id)).state == "pending"


async def test_a_form_that_does_not_parse_gets_400_and_a_page_that_says_so(bot, sessions, caplog):
    order, token, _ = await a_link(bot, sessions)
    broken = [
        ("multipart/form-data", b"name=Jane"),  # no boundary
        ("multipart/form-data; boundary=zz", b"--zz\r\nnot a header\r\n\r\nJane\r\n--zz--"),
    ]
    for content_type, body in broken:
        headers = {"Content-Type": content_type}
        status, html, _ = await post(bot, body, headers, path=f"/orders/{token}/confirm")
        assert status == 400 and "could not read" in html, content_type
    assert_logged_briefly(caplog)
    assert (await order_now(sessions, order.id)).state == "pending"
