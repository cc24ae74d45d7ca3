"""Many workspaces: Slack's OAuth install flow on /slack/install and /slack/oauth_redirect (bolt's
AsyncOAuthFlow with slack_sdk's stores on our database), the bot token of each request's
workspace, and forgetting a workspace that uninstalls the app or revokes its token."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.listener.async_builtins import AsyncTokenRevocationListeners
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse

from bot.oauth import (
    BOT_SCOPES,
    INSTALL_PATH,
    REDIRECT_PATH,
    STATE_TTL_SECONDS,
    SignedStateStore,
    authorize_url,
    failure_words,
    redirect_url,
)
from bot.partners.flows import workspace_installed
from bot.services import Services
from bot.settings import secret_value
from bot.workspaces import WorkspaceTokens
from handlers.context import WORKSPACE_LOOKUP_FAILED
from handlers.pages import SECURITY_HEADERS, SERVICES, templates
from handlers.replies import DATABASE_ERRORS, failure_reference
from handlers.slack_events import BOLT_APP

logger = logging.getLogger(__name__)

PAGES = templates()
TOKEN_LOOKUP_TIMEOUT = 2.0  # seconds; Slack gives up after 3


class WorkspaceAuthorize(AsyncAuthorize):
    """bolt's authorize step for many workspaces: the newest bot installation of the workspace a
    request comes from, found by its team id (cached briefly by WorkspaceTokens). Unlike bolt's
    default it asks Slack nothing (auth.test) per request: the installation already names the
    bot."""

    def __init__(self, tokens: WorkspaceTokens) -> None:
        self.tokens = tokens

    async def __call__(
        self, *, context, enterprise_id: str | None, team_id: str | None, user_id: str | None,
        **_actor,
    ) -> AuthorizeResult | None:  # fmt: skip
        if not team_id:
            return None  # org-wide installs are not offered (manifest: org_deploy_enabled false)
        try:
            bot = await asyncio.wait_for(self.tokens.bot(team_id), TOKEN_LOOKUP_TIMEOUT)
        except DATABASE_ERRORS:
            # The partner middleware answers that the database is down, as it does for its own
            # lookup; nothing runs without a token meanwhile.
            logger.exception("database unavailable while finding workspace %s's token", team_id)
            context[WORKSPACE_LOOKUP_FAILED] = True
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)
        if bot is None:
            logger.warning("request from workspace %s, which has no installation", team_id)
            return None
        return AuthorizeResult(
            enterprise_id=bot.enterprise_id or enterprise_id,
            team_id=bot.team_id,
            team=bot.team_name,
            bot_user_id=bot.bot_user_id,
            bot_id=bot.bot_id,
            bot_token=bot.bot_token,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


def page(template: str, *, status: int = 200, **values) -> BoltResponse:
    html = PAGES.get_template(template).render(**values)
    return BoltResponse(
        status=status, body=html, headers={"Content-Type": "text/html; charset=utf-8"}
    )


def install_callbacks(services: Services) -> AsyncCallbackOptions:
    """The pages that end an install: what to do next, or why nothing was installed."""

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        team_id = installation.team_id or ""
        partner = await workspace_installed(
            services, team_id=team_id, team_name=installation.team_name or "",
            by=installation.user_id or "",
        )  # fmt: skip
        return page(
            "installed.html",
            team_id=team_id,
            team_name=installation.team_name or "",
            partner_name=partner.name if partner else "",
        )

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        heading, explanation = failure_words(args.reason)
        reference = ""
        if args.error is not None:
            reference = failure_reference(
                f"installing: {args.reason}", services=None, kind="install", error=args.error
            )
        else:
            logger.warning("install refused: %s", args.reason)
        return page(
            "install_failed.html",
            status=args.suggested_status_code,
            heading=heading,
            explanation=explanation,
            install_url=INSTALL_PATH,
            reference=reference,
        )

    return AsyncCallbackOptions(success=success, failure=failure)


def oauth_settings(services: Services) -> AsyncOAuthSettings:
    """bolt's OAuth settings: our paths and scopes, slack_sdk's stores on the bot's database."""
    settings = services.settings
    assert services.installations is not None, "OAuth mode builds the installation store"
    return AsyncOAuthSettings(
        client_id=(settings.slack_client_id or "").strip(),
        client_secret=secret_value(settings.slack_client_secret),
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=redirect_url(settings.public_base_url),
        install_path=INSTALL_PATH,
        # Straight on to Slack: the install link is the "Add to Slack" button.
        install_page_rendering_enabled=False,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=install_callbacks(services),
        authorization_url=authorize_url(settings.slack_api_url),
        installation_store=services.installations,
        installation_store_bot_only=True,
        state_store=SignedStateStore(
            services.engine,
            secret=secret_value(settings.slack_state_secret),
            expiration_seconds=STATE_TTL_SECONDS,
        ),
        state_expiration_seconds=STATE_TTL_SECONDS,
        logger=logger,
    )


async def through_flow(request: web.Request, step) -> web.StreamResponse:
    """Runs one step of bolt's OAuth flow on an aiohttp request; a database that does not answer
    gets a page that says so instead of a traceback."""
    try:
        response = await to_aiohttp_response(await step(await to_bolt_request(request)))
    except DATABASE_ERRORS:
        reference = failure_reference("during an install", services=request.app[SERVICES])
        failed = page(
            "install_failed.html",
            status=503,
            heading="partnerbot cannot finish installations right now",
            explanation="Its database does not answer. Nothing was installed; please try again "
            "in a few minutes.",
            install_url=INSTALL_PATH,
            reference=reference,
        )
        response = await to_aiohttp_response(failed)
    response.headers.update(SECURITY_HEADERS)
    return response


async def install(request: web.Request) -> web.StreamResponse:
    """Starts an install: a state cookie, and on to Slack's authorize page."""
    return await through_flow(request, request.app[BOLT_APP].oauth_flow.handle_installation)


async def oauth_redirect(request: web.Request) -> web.StreamResponse:
    """Finishes an install where Slack sends the browser back: checks the state, trades the code
    for the workspace's bot token (oauth.v2.access), stores the installation, shows the page."""
    return await through_flow(request, request.app[BOLT_APP].oauth_flow.handle_callback)


def token_revocation_listeners(services: Services):
    """bolt's built-in app_uninstalled and tokens_revoked handling (deleting the workspace's
    installation), followed by forgetting the token this process keeps."""
    assert services.installations is not None
    builtin = AsyncTokenRevocationListeners(services.installations)

    def forget(context) -> None:
        if services.workspaces is not None:
            services.workspaces.forget(context.team_id)

    async def app_uninstalled(context) -> None:
        await builtin.handle_app_uninstalled_events(context)
        forget(context)
        logger.info("workspace %s uninstalled partnerbot; its installation is deleted",
                    context.team_id)  # fmt: skip

    async def tokens_revoked(event, context) -> None:
        await builtin.handle_tokens_revoked_events(event, context)
        forget(context)
        logger.info("workspace %s revoked partnerbot's tokens", context.team_id)

    return app_uninstalled, tokens_revoked


def register(app: AsyncApp, services: Services) -> None:
    app_uninstalled, tokens_revoked = token_revocation_listeners(services)
    app.event("app_uninstalled")(app_uninstalled)
    app.event("tokens_revoked")(tokens_revoked)


def register_routes(web_app: web.Application) -> None:
    web_app.router.add_get(INSTALL_PATH, install)
    web_app.router.add_get(REDIRECT_PATH, oauth_redirect)
