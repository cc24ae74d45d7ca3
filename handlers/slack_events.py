"""The HTTP route Slack posts every command, interaction and event to; bolt verifies and routes."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

BOLT_APP = web.AppKey("bolt_app", AsyncApp)


async def slack_events(request: web.Request) -> web.Response:
    bolt_app = request.app[BOLT_APP]
    return await to_aiohttp_response(await bolt_app.async_dispatch(await to_bolt_request(request)))


def register(web_app: web.Application) -> None:
    web_app.router.add_post("/slack/events", slack_events)
