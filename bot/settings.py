"""Typed settings from the environment and `.env`; nothing else in the bot reads os.environ."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import SettingsConfigDict

from bot.arguments import TEAM_ID
from bot.feed_settings import FeedSettings
from bot.zones import is_time_zone

# Values copied from examples and tutorials; starting with one of them is a misconfiguration.
PLACEHOLDERS = {
    "",
    "changeme",
    "change-me",
    "secret",
    "xoxb-your-token",
    "your-signing-secret",
    "...",
}

SERVE_REQUIRES = ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SECRET_KEY")
# Many workspaces: Slack's OAuth install flow instead of one bot token.
OAUTH_SERVE_REQUIRES = (
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_STATE_SECRET",
    "SLACK_SIGNING_SECRET",
    "SECRET_KEY",
)

# SECRET_KEY signs the customer pages' forms: shorter than this it can be guessed or is a word.
MIN_SECRET_KEY_LENGTH = 32

CLIENT_ID = re.compile(r"^[0-9]+\.[0-9]+$")

# Microsoft Graph's list of service health issues, read when the feed signs in to Entra.


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable in one line."""


class Settings(FeedSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./partnerbot.db"
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_state_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    public_base_url: str | None = None
    port: int = 3000
    incident_webhook_secret: SecretStr | None = None
    secret_key: SecretStr | None = None
    order_link_ttl_days: int = 14
    outage_update_collapse_seconds: float = 5.0
    # An issue first seen this many days after its last change is history: stored, no alerts.
    incident_history_days: int = Field(default=7, ge=1)
    outbox_lease_seconds: float = 60.0
    outbox_concurrency: int = 16
    run_scheduler: bool = True
    default_time_zone: str = "UTC"
    plan_catalogue: Path | None = None
    # Who bills the subscriptions the vendor bills, by name on the customer's page and in orders.
    vendor_name: str = "Microsoft"
    commission_first_year_rate: Decimal = Decimal("0.12")
    commission_later_rate: Decimal = Decimal("0.06")
    # Many workspaces: who may become a partner by setting a workspace up in Slack.
    partner_signup: Literal["open", "approval", "allow-list"] = "approval"
    partner_allow_list: str = Field(default="", validate_default=True)
    # Partner Center: the key sealing each partner's client secret (Fernet keys, newest first,
    # separated by commas), where Microsoft Entra and Partner Center answer, how often to sync.
    partner_center_key: SecretStr | None = None
    partner_center_authority: str = "https://login.microsoftonline.com"
    partner_center_api_url: str = "https://api.partnercenter.microsoft.com"
    partner_center_sync_minutes: int = Field(default=60, ge=5)
    # Partners synced at once, and the calls one partner's sync makes a minute at most (Partner
    # Center throttles each partner tenant's calls: keep under its limit). Each sync is held to
    # its pace, so a round of thousands of partners needs many at once.
    partner_center_sync_concurrency: int = Field(default=64, ge=1, le=256)
    partner_center_calls_per_minute: int = Field(default=400, ge=1)
    # How long one sync may wait in all for Partner Center's Retry-After before it gives up.
    partner_center_retry_budget: float = Field(default=120.0, ge=0)
    # Certificates to trust for both besides the system's (a local or inspecting proxy's CA).
    partner_center_ca_file: Path | None = None
    # A connected partner's outage alerts: each candidate customer's own service health is asked
    # whether it lists the incident (Graph, through the partner's app consented in the tenant).
    outage_tenant_checks: bool = True
    outage_tenant_graph_url: str = "https://graph.microsoft.com/v1.0"
    outage_tenant_concurrency: int = Field(default=8, ge=1, le=64)
    # Partners whose customers' tenants are asked at once (each with its own concurrency above).
    outage_tenant_partners: int = Field(default=8, ge=1, le=64)
    # How long one tenant's question may wait in all for Graph's Retry-After before it is unknown.
    outage_tenant_retry_budget: float = Field(default=60.0, ge=0)
    # The country whose Partner Center catalogue orders are placed from (ISO 3166 alpha-2).
    partner_center_country: str = Field(default="US", pattern=r"^[A-Z]{2}$")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        return async_database_url(url)

    @field_validator(
        "incident_webhook_secret",
        "incident_feed_token",
        "incident_feed_client_secret",
        "partner_center_key",
    )
    @classmethod
    def _blank_is_unset(cls, secret: SecretStr | None) -> SecretStr | None:
        # `INCIDENT_WEBHOOK_SECRET=` left empty in .env must switch the hook off, not sign with "".
        if secret is None or not secret.get_secret_value().strip():
            return None
        return secret

    @field_validator(
        "incident_feed_url",
        "incident_feed_tenant_id",
        "incident_feed_client_id",
        "incident_feed_certificate_thumbprint",
        "incident_feed_certificate",
        "incident_feed_ca_bundle",
        mode="before",
    )
    @classmethod
    def _blank_text_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("outbox_concurrency")
    @classmethod
    def _concurrency(cls, calls: int) -> int:
        if not 1 <= calls <= 256:
            raise ValueError("must be between 1 and 256 calls at once")
        return calls

    @field_validator(
        "slack_api_url",
        "public_base_url",
        "incident_feed_url",
        "partner_center_authority",
        "partner_center_api_url",
        "outage_tenant_graph_url",
    )
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, url: str) -> str:
        return url if url.endswith("/") else url + "/"

    @field_validator("port")
    @classmethod
    def _port_range(cls, port: int) -> int:
        if not 1 <= port <= 65535:
            raise ValueError("must be a port number between 1 and 65535")
        return port

    @field_validator("order_link_ttl_days")
    @classmethod
    def _positive_days(cls, days: int) -> int:
        if days < 1:
            raise ValueError("must be at least 1")
        return days

    @field_validator("commission_first_year_rate", "commission_later_rate")
    @classmethod
    def _rate(cls, rate: Decimal) -> Decimal:
        if not Decimal(0) <= rate <= Decimal(1):
            raise ValueError("must be a fraction between 0 and 1, such as 0.12 for 12%")
        return rate

    @field_validator("partner_allow_list")
    @classmethod
    def _team_ids(cls, text: str, info: ValidationInfo) -> str:
        team_ids = allow_listed(text)
        for team_id in team_ids:
            if not TEAM_ID.match(team_id):
                raise ValueError(f"{team_id!r} is not a Slack workspace id such as T0123ABCD")
        if not team_ids and info.data.get("partner_signup") == "allow-list":
            raise ValueError("names no workspace, but PARTNER_SIGNUP is allow-list")
        return text

    @property
    def allowed_workspaces(self) -> frozenset[str]:
        """The workspaces that become partners at once under PARTNER_SIGNUP=allow-list."""
        return frozenset(allow_listed(self.partner_allow_list))

    @field_validator("plan_catalogue", "partner_center_ca_file", "incident_feed_ca_bundle")
    @classmethod
    def _readable_file(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"{path} is not a readable file")
        return path

    @field_validator("vendor_name")
    @classmethod
    def _vendor_named(cls, name: str) -> str:
        name = " ".join(name.split())
        if not name:
            raise ValueError("must name the vendor, e.g. Microsoft")
        if len(name) > 100:
            raise ValueError("must be at most 100 characters")
        return name

    @field_validator("default_time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        if not is_time_zone(name):
            raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Berlin")
        return name

    @property
    def base_url(self) -> str:
        """Returns where customers reach the bot's pages, without a trailing slash."""
        return (self.public_base_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def oauth_enabled(self) -> bool:
        """Tells whether the bot serves many workspaces through Slack's OAuth install flow
        (SLACK_CLIENT_ID or SLACK_CLIENT_SECRET is set) rather than one SLACK_BOT_TOKEN."""
        return bool((self.slack_client_id or "").strip() or secret_value(self.slack_client_secret))

    @property
    def slack_configured(self) -> bool:
        """Tells whether Slack credentials are present (they may still be wrong)."""
        credentials = self.oauth_enabled or secret_value(self.slack_bot_token)
        return bool(credentials and secret_value(self.slack_signing_secret))

    def require_for_serve(self) -> None:
        """Refuses to serve without the secrets `serve` needs, naming every one missing or
        malformed in one line."""
        if self.oauth_enabled and secret_value(self.slack_bot_token):
            raise SettingsError(
                "SLACK_BOT_TOKEN is set together with SLACK_CLIENT_ID/SLACK_CLIENT_SECRET: "
                "unset SLACK_BOT_TOKEN to serve many workspaces (OAuth), or the OAuth variables "
                "to serve one"
            )
        unset, placeholders = [], []
        for variable in OAUTH_SERVE_REQUIRES if self.oauth_enabled else SERVE_REQUIRES:
            value = getattr(self, variable.lower())
            value = secret_value(value) if isinstance(value, SecretStr | None) else value
            if value.strip().lower() in PLACEHOLDERS:
                (placeholders if value else unset).append(variable)
        problems = []
        if unset:
            problems.append(f"{listed(unset)} {'is' if len(unset) == 1 else 'are'} not set")
        if placeholders:
            problems.append(
                f"{listed(placeholders)} still {'holds' if len(placeholders) == 1 else 'hold'} "
                "a placeholder value"
            )
        if problems:
            several = len(unset) + len(placeholders) > 1
            problems[-1] += f"; set {'them' if several else 'it'} in the environment or in .env"
        problems += self.malformed_for_serve(skip=unset + placeholders)
        if problems:
            raise SettingsError("; ".join(problems))

    def malformed_for_serve(self, *, skip: list[str]) -> list[str]:
        """What is wrong with the secrets `serve` needs that are set (those in `skip` are not)."""
        problems = []
        if (
            self.oauth_enabled
            and "SLACK_CLIENT_ID" not in skip
            and not CLIENT_ID.match((self.slack_client_id or "").strip())
        ):
            problems.append(
                "SLACK_CLIENT_ID must look like 1234567890.1234567890 (the Client ID under "
                "Basic Information → App Credentials)"
            )
        token = secret_value(self.slack_bot_token)
        if (
            not self.oauth_enabled
            and "SLACK_BOT_TOKEN" not in skip
            and not token.startswith("xoxb-")
        ):
            problems.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        app_token = secret_value(self.slack_app_token)
        if app_token and not app_token.startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        secret_key = secret_value(self.secret_key).strip()
        if "SECRET_KEY" not in skip and len(secret_key) < MIN_SECRET_KEY_LENGTH:
            problems.append(
                f"SECRET_KEY is {len(secret_key)} characters long, too short to be a secret: use "
                f"at least {MIN_SECRET_KEY_LENGTH} random characters, e.g. the output of "
                '`python -c "import secrets; print(secrets.token_urlsafe(32))"`'
            )
        return problems


def listed(names: list[str]) -> str:
    """Lists names as a sentence does: "A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def allow_listed(text: str) -> list[str]:
    """Reads PARTNER_ALLOW_LIST: workspace ids separated by commas or spaces."""
    return [team_id.upper() for team_id in text.replace(",", " ").split()]


def secret_value(secret: SecretStr | None) -> str:
    """Returns a secret's text, or "" when it is unset."""
    return secret.get_secret_value() if secret is not None else ""


def async_database_url(url: str) -> str:
    """Maps plain SQLAlchemy URLs to the async drivers the bot runs on."""
    url = url.strip()
    if not url:
        raise ValueError("must not be empty")
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ValueError("must be a sqlite:// or postgresql:// URL")


def load_settings(**overrides: object) -> Settings:
    """Builds the settings, turning validation errors into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a rule across several variables names them itself
            raise SettingsError(message) from None
        raise SettingsError(f"{str(first['loc'][0]).upper()} {message}") from None
