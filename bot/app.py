"""Builds the bolt AsyncApp and the aiohttp web.Application, and registers every handler."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

import handlers.errors
import handlers.health
import handlers.incident_hook
import handlers.install
import handlers.order_pages
import handlers.orders
import handlers.outages
import handlers.pages
import handlers.partners
import handlers.slack_events
import handlers.subscriptions
import handlers.summaries
from bot.catalogue import load_catalogue
from bot.entra import AppTokens
from bot.oauth import INSTALL_PATH
from bot.outbox.worker import OutboxWorker
from bot.partners.messages import not_installed_text
from bot.scheduler import build_scheduler, describe_jobs
from bot.services import Services
from bot.settings import Settings, secret_value
from bot.slack_retries import safe_retries
from bot.subscriptions.rules import CommissionRule
from bot.workspaces import WorkspaceClients, WorkspaceTokens
from handlers.context import partner_middleware
from storage.db import create_engine, session_factory
from storage.installations import installation_store

logger = logging.getLogger("bot")

SERVER_NAME = "partnerbot"  # the Server header of every answer: no versions


def build_services(settings: Settings, *, engine=None) -> Services:
    """Creates the engine, session factory, catalogue and commission rule for one process, and
    with many workspaces (OAuth) the installation store and the token lookups."""
    engine = engine or create_engine(settings.database_url)
    sessions = session_factory(engine)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        catalogue=load_catalogue(settings.plan_catalogue),
        rule=CommissionRule(settings.commission_first_year_rate, settings.commission_later_rate),
        app_tokens=AppTokens(ca_file=settings.partner_center_ca_file),
    )
    if settings.oauth_enabled:
        client_id = (settings.slack_client_id or "").strip()
        services.installations = installation_store(engine, client_id=client_id)
        services.workspaces = WorkspaceTokens(sessions, client_id=client_id)
    return services


def slack_client(settings: Settings, token: str | None) -> AsyncWebClient:
    """A Web API client that honours SLACK_API_URL and retries 429s; 5xx answers and dropped
    connections only for calls that do nothing twice (bot/slack_retries.py): a post, a file or a
    modal is never sent again by slack_sdk."""
    return use_slack_api(AsyncWebClient(token=token), settings)


def use_slack_api(client: AsyncWebClient, settings: Settings) -> AsyncWebClient:
    """Points a Web API client at SLACK_API_URL, retrying as `slack_client` says."""
    client.base_url = settings.slack_api_url
    client.retry_handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=3), *safe_retries()]
    return client


def outbox_client(
    settings: Settings, token: str, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The outbox worker's client: one connection pool for all its calls, and no waiting out a
    429 inside the call (the worker puts the message back for later and uses the slot meanwhile).
    Posts and uploads are never repeated by slack_sdk: the outbox repeats them, after looking for
    the earlier attempt's message; reads are retried."""
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=safe_retries(),
    )


def build_bolt_app(
    services: Services,
    *,
    token: str = "",
    signing_secret: str,
    process_before_response: bool = False,
) -> AsyncApp:
    """Builds the Slack app with every listener registered: for the one workspace of `token`,
    or without a token for every workspace that installed it (OAuth; each request then gets its
    workspace's token from the installation store)."""
    many = not token
    if many and services.workspaces is None:
        raise ValueError("a bot token, or the OAuth settings (many workspaces), is required")
    # Given the token rather than a client: with a client, bolt also reads SLACK_BOT_TOKEN and
    # warns at every start that it goes unused.
    app = AsyncApp(
        token=token or None,
        signing_secret=signing_secret,
        # The HTTP answer goes back as soon as a listener acks (with its answer when it is ready
        # in time, as /subscription does; else before it posts to the response_url).
        process_before_response=process_before_response,
        **(
            {
                "oauth_settings": handlers.install.oauth_settings(services),
                "authorize": handlers.install.WorkspaceAuthorize(services.workspaces),
                "user_facing_authorize_error_message": not_installed_text(
                    services.settings.base_url + INSTALL_PATH
                ),
            }
            if many
            else {}
        ),
    )
    use_slack_api(app.client, services.settings)
    app.use(partner_middleware(services))
    if many:
        handlers.install.register(app, services)
    handlers.subscriptions.register(app)
    handlers.orders.register(app)
    handlers.outages.register(app)
    handlers.summaries.register(app)
    handlers.partners.register(app)
    handlers.errors.register(app)
    return app


@web.middleware
async def http_metrics(request: web.Request, handler) -> web.StreamResponse:
    services = request.app[handlers.pages.SERVICES]
    route = request.match_info.route.resource
    name = route.canonical if route is not None else "unmatched"
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        services.metrics.http_requests.labels(name, request.method, str(status)).inc()
        services.metrics.http_latency.labels(name).observe(time.perf_counter() - started)


async def plain_server_header(_request: web.Request, response: web.StreamResponse) -> None:
    # aiohttp's default names the Python and aiohttp versions, a map to known vulnerabilities.
    response.headers["Server"] = SERVER_NAME


def background_work(services: Services, bolt_app: AsyncApp):
    """The outbox worker and the scheduler, for as long as the web application runs: started
    with it, and stopped (the worker between statements) before the engine is disposed."""

    async def run(_app: web.Application) -> AsyncIterator[None]:
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=services.settings.outbox_concurrency)
        )
        # Each message goes out with the token of its partner's workspace.
        clients = WorkspaceClients(
            lambda token: outbox_client(services.settings, token, http),
            token=bolt_app.client.token or "",
            tokens=services.workspaces if bolt_app.oauth_flow is not None else None,
        )
        # The worker reads the same clock as the flows that queue its rows (tests move it).
        worker = OutboxWorker(
            services.sessions,
            clients=clients,
            clock=lambda: services.clock(),
            lease=timedelta(seconds=services.settings.outbox_lease_seconds),
            concurrency=services.settings.outbox_concurrency,
        )
        services.wake_outbox = worker.wake
        worker.start()
        scheduler = build_scheduler(services)
        if services.settings.run_scheduler:
            scheduler.start()
            logger.info("scheduled jobs: %s", describe_jobs(scheduler))
        yield
        await scheduler.stop()
        await worker.stop()
        await http.close()

    return run


def create_web_app(
    services: Services,
    bolt_app: AsyncApp,
    *,
    app_token: str = "",
    signing_secret: str | None = None,
) -> web.Application:
    """Builds the HTTP application: the Slack endpoint and the operators' routes; with an app
    token, Slack's requests arrive over Socket Mode instead (the routes stay for the rest).
    `/slack/events` verifies requests with `signing_secret` (default: the settings')."""
    web_app = web.Application(middlewares=[http_metrics])
    web_app.on_response_prepare.append(plain_server_header)
    web_app[handlers.pages.SERVICES] = services
    web_app[handlers.slack_events.BOLT_APP] = bolt_app

    async def dispose_engine(_app: web.Application) -> AsyncIterator[None]:
        yield
        if services.background:
            # Tenant checks under way finish (each answer is short), or are given up after
            # 10 s; an incident's unanswered customers are asked at its next update.
            _, left = await asyncio.wait(set(services.background), timeout=10)
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
        services.close_tokens()
        await services.engine.dispose()

    async def socket_mode(_app: web.Application) -> AsyncIterator[None]:
        handler = AsyncSocketModeHandler(bolt_app, app_token)
        await handler.connect_async()
        yield
        await handler.close_async()

    async def response_posts(_app: web.Application) -> AsyncIterator[None]:
        services.response_http = aiohttp.ClientSession()
        yield
        http, services.response_http = services.response_http, None
        await http.close()

    web_app.cleanup_ctx.append(dispose_engine)
    web_app.cleanup_ctx.append(response_posts)
    web_app.cleanup_ctx.append(background_work(services, bolt_app))
    if app_token:
        web_app.cleanup_ctx.append(socket_mode)
    if signing_secret is None:
        signing_secret = secret_value(services.settings.slack_signing_secret)
    handlers.slack_events.register(web_app, signing_secret=signing_secret)
    if bolt_app.oauth_flow is not None:
        handlers.install.register_routes(web_app)
    handlers.health.register(web_app)
    handlers.order_pages.register(web_app)
    handlers.incident_hook.register(web_app)
    return web_app


async def create_app(settings: Settings, *, services: Services | None = None) -> web.Application:
    """The app factory used by `serve` and by the tests."""
    services = services or build_services(settings)
    signing_secret = secret_value(settings.slack_signing_secret)
    bolt_app = build_bolt_app(
        services,
        # With OAuth there is no one token: each workspace's comes from its installation.
        token="" if settings.oauth_enabled else secret_value(settings.slack_bot_token),
        signing_secret=signing_secret,
    )
    return create_web_app(
        services,
        bolt_app,
        app_token=secret_value(settings.slack_app_token),
        signing_secret=signing_secret,
    )
