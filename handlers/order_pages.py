"""The customer's order page: read the order (GET changes nothing), then confirm or decline with a
form post that carries the order's CSRF token."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

import bot
from bot.orders.customer_page import (
    LARGEST_FORM,
    Page,
    PostedAnswer,
    answer_from_page,
    page_for_link,
    refused_form_page,
    unavailable,
)
from bot.orders.rules import Answer
from handlers.pages import SECURITY_HEADERS, SERVICES, templates
from handlers.replies import DATABASE_ERRORS, failure_reference
from handlers.request_bodies import TooLarge, Unreadable, form_within

TEMPLATES = web.AppKey("templates", jinja2.Environment)
STATIC = Path(bot.__file__).resolve().parent / "static"
RECEIPT_COOKIE = "order_receipt"


@web.middleware
async def security_headers(request: web.Request, handler) -> web.StreamResponse:
    """Adds the pages' security headers to every answer under /orders and /static, and turns a
    database outage into a page that says so."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
    except DATABASE_ERRORS:
        if not request.path.startswith("/orders/"):
            raise
        reference = failure_reference("on an order page", services=request.app[SERVICES])
        response = render(request, unavailable(reference))
    if request.path.startswith(("/orders/", "/static/")):
        response.headers.update(SECURITY_HEADERS)
    if isinstance(response, web.HTTPException):
        raise response
    return response


def render(request: web.Request, page: Page) -> web.Response:
    html = request.app[TEMPLATES].get_template(page.template).render(**page.values)
    return web.Response(text=html, status=page.status, content_type="text/html", charset="utf-8")


async def show_order(request: web.Request) -> web.Response:
    page = await page_for_link(
        request.app[SERVICES],
        token=request.match_info["token"],
        receipt=request.cookies.get(RECEIPT_COOKIE, ""),
    )
    response = render(request, page)
    if page.forget_receipt:
        response.del_cookie(RECEIPT_COOKIE, path="/orders/")
    return response


def text_field(form, name: str) -> str:
    """A form field's text; a file sent in its place counts as nothing typed."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


async def posted_answer(request: web.Request) -> PostedAnswer:
    """What the browser sent; raises TooLarge for a body far bigger than the page's form, and
    Unreadable for one that does not parse."""
    form = await form_within(request, LARGEST_FORM)
    return PostedAnswer(
        csrf=text_field(form, "csrf"),
        name=text_field(form, "name"),
        email=text_field(form, "email"),
        reason=text_field(form, "reason"),
        first_name=text_field(form, "first_name"),
        last_name=text_field(form, "last_name"),
        phone=text_field(form, "phone"),
        accepts_agreement=text_field(form, "accept_agreement") == "yes",
        forwarded_for=request.headers.get("X-Forwarded-For", ""),
        remote=request.remote or "",
        user_agent=request.headers.get("User-Agent", ""),
    )


async def answer_order(request: web.Request, answer: Answer) -> web.StreamResponse:
    services = request.app[SERVICES]
    token = request.match_info["token"]
    try:
        posted = await posted_answer(request)
    except (TooLarge, Unreadable) as refused:
        too_large = isinstance(refused, TooLarge)
        page = await refused_form_page(services, token=token, too_large=too_large)
        return render(request, page)
    outcome = await answer_from_page(services, token=token, answer=answer, posted=posted)
    if isinstance(outcome, Page):
        return render(request, outcome)
    response = web.HTTPSeeOther(outcome.location)
    if outcome.receipt_for is not None:
        response.set_cookie(
            RECEIPT_COOKIE,
            str(outcome.receipt_for),
            path="/orders/",
            max_age=600,
            httponly=True,
            samesite="Strict",
            secure=services.settings.base_url.startswith("https://"),
        )
    return response


async def confirm_order(request: web.Request) -> web.StreamResponse:
    return await answer_order(request, Answer.CONFIRM)


async def decline_order(request: web.Request) -> web.StreamResponse:
    return await answer_order(request, Answer.DECLINE)


def register(web_app: web.Application) -> None:
    web_app[TEMPLATES] = templates()
    web_app.middlewares.append(security_headers)
    web_app.router.add_get("/orders/{token}", show_order)
    web_app.router.add_post("/orders/{token}/confirm", confirm_order)
    web_app.router.add_post("/orders/{token}/decline", decline_order)
    web_app.router.add_static("/static/", STATIC, append_version=False)
