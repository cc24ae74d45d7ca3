"""The customer's order page: read the order (GET changes nothing), then confirm or decline with a
form post that carries the order's CSRF token."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import jinja2
from aiohttp import web

import bot
from bot.orders import flows
from bot.orders.rules import Answer, csrf_token, csrf_valid, describe
from bot.services import Services
from bot.settings import secret_value
from bot.zones import when_in
from handlers.pages import SECURITY_HEADERS, SERVICES, templates
from handlers.replies import DATABASE_ERRORS, failure_reference

logger = logging.getLogger(__name__)

TEMPLATES = web.AppKey("templates", jinja2.Environment)
STATIC = Path(bot.__file__).resolve().parent / "static"
RECEIPT_COOKIE = "order_receipt"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FORM_BYTES = 16 * 1024


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
        response = page(request, "unavailable.html", status=503, reference=reference)
    if request.path.startswith(("/orders/", "/static/")):
        response.headers.update(SECURITY_HEADERS)
    if isinstance(response, web.HTTPException):
        raise response
    return response


def page(request: web.Request, template: str, *, status: int = 200, **values) -> web.Response:
    html = request.app[TEMPLATES].get_template(template).render(**values)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def not_found(request: web.Request) -> web.Response:
    return page(request, "not_found.html", status=404)


def order_page(
    request: web.Request,
    link: flows.LinkOrder,
    *,
    token: str,
    status: int = 200,
    just_answered: bool = False,
    errors: tuple[str, ...] = (),
    name: str = "",
    email: str = "",
) -> web.Response:
    services: Services = request.app[SERVICES]
    order = link.order
    time_zone = link.customer.timezone or link.partner.timezone
    return page(
        request,
        "order.html",
        status=status,
        order=describe(
            order,
            customer=link.customer,
            partner=link.partner,
            catalogue=services.catalogue,
            time_zone=time_zone,
        ),
        state=link.state.value,
        token=token,
        just_answered=just_answered,
        decided=when_in(order.decided_at, time_zone) if order.decided_at else "",
        confirmer=order.confirmer_name,
        errors=errors,
        name=name,
        email=email,
        csrf=csrf_token(
            secret_value(services.settings.secret_key),
            order_id=order.id,
            stored_hash=order.token_hash,
        ),
    )


async def show_order(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    token = request.match_info["token"]
    async with services.sessions() as session:
        link = await flows.open_link(session, token=token, now=services.clock())
    if link is None:
        return not_found(request)
    just_answered = request.cookies.get(RECEIPT_COOKIE) == str(link.order.id)
    response = order_page(request, link, token=token, just_answered=just_answered)
    if just_answered:
        response.del_cookie(RECEIPT_COOKIE, path="/orders/")
    return response


def confirmer_of(request: web.Request, form) -> flows.Confirmer:
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
    remote = request.remote or ""
    ip = f"{forwarded} via {remote}" if forwarded and forwarded != remote else remote
    return flows.Confirmer(
        name=" ".join(str(form.get("name", "")).split()),
        email=str(form.get("email", "")).strip(),
        ip=ip,
        user_agent=request.headers.get("User-Agent", ""),
        reason=str(form.get("reason", "")).strip(),
    )


def problems(answer: Answer, confirmer: flows.Confirmer) -> tuple[str, ...]:
    """What is missing from a confirmation (a decline needs nothing)."""
    if answer is Answer.DECLINE:
        return ()
    found = []
    if not confirmer.name:
        found.append("Type your name.")
    if not EMAIL.match(confirmer.email):
        found.append("Type your email address, such as name@example.com.")
    return tuple(found)


async def answer_order(request: web.Request, answer: Answer) -> web.Response:
    services: Services = request.app[SERVICES]
    token = request.match_info["token"]
    secret_key = secret_value(services.settings.secret_key)
    form = await request.post()
    csrf = str(form.get("csrf", ""))
    confirmer = confirmer_of(request, form)
    async with services.sessions() as session:
        missing = problems(answer, confirmer)
        if missing:
            link = await flows.open_link(session, token=token, now=services.clock())
            if link is None:
                return not_found(request)
            if not csrf_valid(
                secret_key, csrf, order_id=link.order.id, stored_hash=link.order.token_hash
            ):
                return page(request, "forbidden.html", status=403)
            return order_page(
                request,
                link,
                token=token,
                status=400,
                errors=missing,
                name=confirmer.name,
                email=confirmer.email,
            )
        try:
            answered = await flows.answer_link(
                session,
                token=token,
                answer=answer,
                csrf=csrf,
                confirmer=confirmer,
                secret_key=secret_key,
                now=services.clock(),
                catalogue=services.catalogue,
            )
        except flows.Forbidden:
            return page(request, "forbidden.html", status=403)
    if answered is None:
        return not_found(request)
    response = web.HTTPSeeOther(f"/orders/{token}")
    if answered.changed:
        services.wake_outbox()
        response.set_cookie(
            RECEIPT_COOKIE,
            str(answered.link.order.id),
            path="/orders/",
            max_age=600,
            httponly=True,
            samesite="Strict",
            secure=services.settings.base_url.startswith("https://"),
        )
    return response


async def confirm_order(request: web.Request) -> web.Response:
    return await answer_order(request, Answer.CONFIRM)


async def decline_order(request: web.Request) -> web.Response:
    return await answer_order(request, Answer.DECLINE)


def register(web_app: web.Application) -> None:
    web_app[TEMPLATES] = templates()
    web_app.middlewares.append(security_headers)
    web_app.router.add_get("/orders/{token}", show_order)
    web_app.router.add_post("/orders/{token}/confirm", confirm_order)
    web_app.router.add_post("/orders/{token}/decline", decline_order)
    web_app.router.add_static("/static/", STATIC, append_version=False)
