"""The incident feed's settings (INCIDENT_FEED_*), which bot.settings.Settings inherits, and their
checks: a Microsoft Entra app needs a tenant, a client id and one credential, and a
half-configured one is refused naming every variable."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

if TYPE_CHECKING:
    from bot.settings import Settings

GRAPH_ISSUES_URL = "https://graph.microsoft.com/v1.0/admin/serviceAnnouncement/issues"
# A tenant is a GUID or a verified domain such as contoso.onmicrosoft.com.
TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")
THUMBPRINT = re.compile(r"^[0-9A-F]{40}$")


class FeedSettings(BaseSettings):
    """The incident feed's settings, with their checks (bot.settings.Settings holds them)."""

    incident_feed_url: str | None = None
    incident_feed_token: SecretStr | None = None
    incident_feed_interval: int = 60
    # The feed signs in as a Microsoft Entra app (OAuth2 client credentials) with these.
    incident_feed_tenant_id: str | None = None
    incident_feed_client_id: str | None = None
    incident_feed_client_secret: SecretStr | None = None
    incident_feed_certificate: Path | None = None
    incident_feed_certificate_thumbprint: str | None = None
    incident_feed_authority_host: str = "https://login.microsoftonline.com"
    incident_feed_ca_bundle: Path | None = None

    @field_validator("incident_feed_interval")
    @classmethod
    def _feed_interval(cls, seconds: int) -> int:
        if seconds < 5:
            raise ValueError("must be at least 5 seconds")
        return seconds

    @field_validator("incident_feed_tenant_id")
    @classmethod
    def _tenant(cls, tenant: str | None) -> str | None:
        if tenant is not None and not TENANT.match(tenant.strip()):
            raise ValueError(
                "must be the directory (tenant) id, a GUID, or its domain such as "
                "contoso.onmicrosoft.com"
            )
        return tenant.strip() if tenant else None

    @field_validator("incident_feed_client_id")
    @classmethod
    def _entra_client_id(cls, client_id: str | None) -> str | None:
        if client_id is None:
            return None
        try:
            return str(uuid.UUID(client_id.strip()))
        except ValueError:
            raise ValueError(
                "must be the app's Application (client) ID, a GUID such as "
                "00000000-0000-0000-0000-000000000000"
            ) from None

    @field_validator("incident_feed_certificate_thumbprint")
    @classmethod
    def _thumbprint(cls, thumbprint: str | None) -> str | None:
        if thumbprint is None:
            return None
        hex_digits = re.sub(r"[\s:]", "", thumbprint).upper()
        if not THUMBPRINT.match(hex_digits):
            raise ValueError(
                "must be the certificate's thumbprint as Microsoft Entra shows it: 40 hex digits"
            )
        return hex_digits

    @field_validator("incident_feed_certificate")
    @classmethod
    def _private_key(cls, path: Path | None) -> Path | None:
        if path is not None and not pem_private_key(path):
            raise ValueError(
                f"{path} is not a readable file holding an unencrypted PEM private key"
            )
        return path

    @field_validator("incident_feed_authority_host")
    @classmethod
    def _https_host(cls, url: str) -> str:
        if not url.startswith("https://"):
            raise ValueError(
                "must start with https:// (Microsoft's library signs in over TLS only)"
            )
        return url.rstrip("/")

    @model_validator(mode="after")
    def _feed_sign_in(self) -> Settings:
        problem = feed_sign_in_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def feed_signs_in(self) -> bool:
        """Tells whether the feed signs in to Microsoft Entra (any of its credentials is set;
        validation has made sure all are)."""
        return any(value is not None for value in feed_credentials(self).values())

    @property
    def feed_url(self) -> str | None:
        """The issue list the feed polls: INCIDENT_FEED_URL, else Microsoft Graph's own when the
        feed signs in to Entra; None when there is no feed."""
        if self.incident_feed_url:
            return self.incident_feed_url
        return GRAPH_ISSUES_URL if self.feed_signs_in else None


def feed_credentials(settings: Settings) -> dict[str, object]:
    """The feed's Entra settings by variable name (None when unset)."""
    return {
        "INCIDENT_FEED_TENANT_ID": settings.incident_feed_tenant_id,
        "INCIDENT_FEED_CLIENT_ID": settings.incident_feed_client_id,
        "INCIDENT_FEED_CLIENT_SECRET": settings.incident_feed_client_secret,
        "INCIDENT_FEED_CERTIFICATE": settings.incident_feed_certificate,
        "INCIDENT_FEED_CERTIFICATE_THUMBPRINT": settings.incident_feed_certificate_thumbprint,
    }


def feed_sign_in_problem(settings: Settings) -> str:
    """What is wrong with the feed's Entra settings, naming every variable concerned ("" when
    they are complete, or all unset)."""
    given = {name for name, value in feed_credentials(settings).items() if value is not None}
    if not given:
        return ""
    if settings.incident_feed_token is not None:
        return (
            "INCIDENT_FEED_TOKEN is set together with the feed's Microsoft Entra app ("
            + ", ".join(sorted(given))
            + "): unset INCIDENT_FEED_TOKEN, the feed gets its tokens from Entra"
        )
    secret = "INCIDENT_FEED_CLIENT_SECRET" in given
    certificate = given & {"INCIDENT_FEED_CERTIFICATE", "INCIDENT_FEED_CERTIFICATE_THUMBPRINT"}
    if secret and certificate:
        return (
            "INCIDENT_FEED_CLIENT_SECRET and INCIDENT_FEED_CERTIFICATE are both set: the feed "
            "signs in with a client secret or with a certificate, set one of them"
        )
    missing = [
        name for name in ("INCIDENT_FEED_TENANT_ID", "INCIDENT_FEED_CLIENT_ID") if name not in given
    ]
    if certificate:
        missing += sorted(
            {"INCIDENT_FEED_CERTIFICATE", "INCIDENT_FEED_CERTIFICATE_THUMBPRINT"} - given
        )
    elif not secret:
        missing.append(
            "INCIDENT_FEED_CLIENT_SECRET (or INCIDENT_FEED_CERTIFICATE with "
            "INCIDENT_FEED_CERTIFICATE_THUMBPRINT)"
        )
    if not missing:
        if settings.incident_feed_url and not settings.incident_feed_url.startswith("https://"):
            return "INCIDENT_FEED_URL must start with https:// when the feed signs in to Entra"
        return ""
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"{', '.join(missing)} {verb} not set, but {', '.join(sorted(given))} "
        f"{'is' if len(given) == 1 else 'are'}: the feed signs in to Microsoft Entra with a "
        "tenant id, a client id and a client secret or certificate"
    )


def pem_private_key(path: Path) -> bool:
    """Tells whether a file holds an unencrypted PEM private key MSAL can sign with."""
    try:
        load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    return True
