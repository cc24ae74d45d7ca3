"""POST /hooks/incidents: the vendor's incident feed, HMAC-signed; answers in JSON."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiohttp import web

from bot.outages import flows
from bot.outages.intake import MAX_BODY_BYTES, BadIncident, parse_incident, signature_valid
from bot.services import Services
from bot.settings import secret_value
from handlers.pages import SERVICES
from handlers.replies import DATABASE_ERRORS, failure_reference

logger = logging.getLogger(__name__)


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def receive_incident(request: web.Request) -> web.Response:
    services: Services = request.app[SERVICES]
    secret = secret_value(services.settings.incident_webhook_secret)
    if not secret:
        return error(404, "the incident hook is disabled: INCIDENT_WEBHOOK_SECRET is not set")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return error(413, f"the body is larger than {MAX_BODY_BYTES // 1024} KiB")
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if not signature_valid(secret, raw, request.headers.get("X-Signature", "")):
        return error(401, "missing or wrong X-Signature (sha256=<hex HMAC-SHA256 of the body>)")
    try:
        incoming = parse_incident(raw, services.catalogue)
    except BadIncident as problem:
        return error(400, str(problem))
    try:
        async with services.sessions() as session:
            ingested = await flows.ingest(
                session,
                incoming,
                catalogue=services.catalogue,
                now=services.clock(),
                collapse=timedelta(seconds=services.settings.outage_update_collapse_seconds),
            )
    except DATABASE_ERRORS:
        reference = failure_reference(f"storing incident {incoming.external_id}", services=services)
        return error(503, f"the database is not answering; nothing was stored (ref {reference})")
    if ingested.partners:
        services.wake_outbox()
    status = 201 if ingested.outcome == "created" else 200
    return web.json_response(
        {
            "id": ingested.incident.id,
            "externalId": incoming.external_id,
            "outcome": ingested.outcome,
            "partnersNotified": ingested.partners,
        },
        status=status,
    )


def register(web_app: web.Application) -> None:
    web_app.router.add_post("/hooks/incidents", receive_incident)
