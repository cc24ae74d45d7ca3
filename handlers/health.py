"""HTTP routes for operators: /healthz and /metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from handlers.pages import SERVICES
from storage.db import database_answers


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    up = await database_answers(services.engine)
    services.metrics.database_up.set(1 if up else 0)
    if up:
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "unavailable", "database": "not answering"}, status=503)


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[SERVICES].metrics.registry
    response = web.Response(body=generate_latest(registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


def register(web_app: web.Application) -> None:
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
