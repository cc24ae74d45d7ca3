"""POST /hooks/incidents: the vendor's incident feed, HMAC-signed; answers in JSON."""

from __future__ import annotations

from aiohttp import web

from bot.outages import flows
from bot.outages.intake import (
    MAX_BODY_BYTES,
    Refusal,
    database_down,
    delivered_incident,
    refusal_before_reading,
)
from bot.services import Services
from bot.settings import secret_value
from handlers.pages import SERVICES
from handlers.replies import DATABASE_ERRORS, failure_reference


def refused(refusal: Refusal) -> web.Response:
    return web.json_response({"error": refusal.message}, status=refusal.status)


async def receive_incident(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    secret = secret_value(services.settings.incident_webhook_secret)
    refusal = refusal_before_reading(secret, request.content_length)
    if refusal is not None:
        return refused(refusal)
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    incoming = delivered_incident(
        secret, raw, request.headers.get("X-Signature", ""), services.catalogue
    )
    if isinstance(incoming, Refusal):
        return refused(incoming)
    try:
        ingested = await flows.receive(services, incoming)
    except DATABASE_ERRORS:
        reference = failure_reference(f"storing incident {incoming.external_id}", services=services)
        return refused(database_down(reference))
    status, answer = flows.hook_answer(ingested, incoming.external_id)
    return web.json_response(answer, status=status)


def register(web_app: web.Application) -> None:
    web_app.router.add_post("/hooks/incidents", receive_incident)
