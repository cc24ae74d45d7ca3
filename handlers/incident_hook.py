"""POST /hooks/incidents: the vendor's incident feed, signed over a timestamp and the body;
answers in JSON."""

from __future__ import annotations

import time

from aiohttp import web

from bot.outages import flows
from bot.outages.hook_signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from bot.outages.intake import (
    MAX_BODY_BYTES,
    Refusal,
    body_too_large,
    database_down,
    delivered_incident,
    refusal_before_reading,
)
from bot.services import Services
from bot.settings import secret_value
from handlers.pages import SERVICES
from handlers.replies import DATABASE_ERRORS, failure_reference
from handlers.request_bodies import TooLarge, body_within


def refused(refusal: Refusal) -> web.Response:
    return web.json_response({"error": refusal.message}, status=refusal.status)


async def receive_incident(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    secret = secret_value(services.settings.incident_webhook_secret)
    timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
    refusal = refusal_before_reading(secret, request.content_length, timestamp, time.time())
    if refusal is not None:
        return refused(refusal)
    try:
        # The whole body, however many TCP segments or chunks it arrives in.
        raw = await body_within(request, MAX_BODY_BYTES)
    except TooLarge:
        return refused(body_too_large())
    incoming = delivered_incident(
        secret,
        raw,
        timestamp,
        request.headers.get(SIGNATURE_HEADER, "").strip(),
        time.time(),
        services.catalogue,
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
