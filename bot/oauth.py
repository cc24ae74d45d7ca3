"""The rules of Slack's OAuth install flow (many workspaces): the scopes the bot asks for, where
Slack's authorize page is, and the signed `state` that ties Slack's answer to this bot."""

from __future__ import annotations

import base64
import hashlib
import hmac

from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy.ext.asyncio import AsyncEngine

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_TTL_SECONDS = 600  # how long an install started in a browser may take

# The bot scopes, as manifest.yml declares them (tests/e2e/test_manifest.py keeps both equal).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "channels:join",  # the outbox joins public channels it posts to, to read them back
    "im:write",
    "files:write",
    "channels:history",
    "groups:history",
    "im:history",
    "users:read",
)


def authorize_url(api_url: str) -> str:
    """Returns Slack's authorize page for the Web API at `api_url`: slack.com's for
    https://slack.com/api/, GovSlack's for its API, a test server's for its own."""
    base = api_url.rstrip("/").removesuffix("/api")
    return f"{base}/oauth/v2/authorize"


def redirect_url(public_base_url: str | None) -> str | None:
    """Returns the redirect URL to send Slack, or None to let Slack use the app's only one."""
    if not public_base_url:
        return None
    return public_base_url.rstrip("/") + REDIRECT_PATH


def _signature(state: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), state.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_state(state: str, secret: str) -> str:
    """Returns the state with its HMAC (SLACK_STATE_SECRET), as it goes to Slack and the browser."""
    return f"{state}.{_signature(state, secret)}"


def verified_state(signed: str | None, secret: str) -> str | None:
    """Returns the state a signed state carries, or None when this bot did not sign it."""
    state, dot, signature = (signed or "").rpartition(".")
    if not dot or not state:
        return None
    if not hmac.compare_digest(signature.encode(), _signature(state, secret).encode()):
        return None
    return state


FAILURES = {
    "access_denied": (
        "The installation was cancelled",
        "Slack reports that the installation was not allowed, so nothing was installed.",
    ),
    "invalid_browser": (
        "This installation link is no longer valid",
        "An installation has to be finished in the browser that started it, within 10 minutes, "
        "and only once. Nothing was installed.",
    ),
    "invalid_code": (
        "Slack did not confirm the installation",
        "The answer from Slack could not be used (it may have been used already). "
        "Nothing was installed.",
    ),
    "storage_error": (
        "The installation could not be saved",
        "Slack confirmed it, but partnerbot could not record it. Nothing was installed.",
    ),
}
FAILURES["invalid_state"] = FAILURES["invalid_browser"]
FAILURES["missing_code"] = FAILURES["invalid_code"]


def failure_words(reason: str) -> tuple[str, str]:
    """Returns the heading and the explanation of an install that failed for `reason` (bolt's
    and Slack's reason codes)."""
    return FAILURES.get(
        reason,
        ("The installation did not finish", f"Slack answered {reason!r}. Nothing was installed."),
    )


class SignedStateStore(AsyncSQLAlchemyOAuthStateStore):
    """slack_sdk's OAuth state store whose states carry an HMAC with SLACK_STATE_SECRET: a state
    this bot did not issue is refused before the database is asked, and each state is used once
    and only before it expires."""

    def __init__(self, engine: AsyncEngine, *, secret: str, expiration_seconds: int) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=engine)
        self._secret = secret

    async def async_issue(self, *args, **kwargs) -> str:
        return sign_state(await super().async_issue(*args, **kwargs), self._secret)

    async def async_consume(self, state: str) -> bool:
        unsigned = verified_state(state, self._secret)
        if unsigned is None:
            self.logger.warning("refused an OAuth state this bot did not sign")
            return False
        return await super().async_consume(unsigned)
