"""The incident feed's sign-in settings, checked together: a Microsoft Entra app needs a tenant,
a client id and one credential, and a half-configured one is refused naming every variable."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.serialization import load_pem_private_key

if TYPE_CHECKING:
    from bot.settings import Settings


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
