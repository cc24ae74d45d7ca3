"""Access tokens for Microsoft Graph, as a Microsoft Entra app gets them: OAuth2 client
credentials (a secret or a certificate), fetched, cached and renewed before they run out by
Microsoft's MSAL. MSAL is synchronous, so every call to it runs in a worker thread."""

from __future__ import annotations

import asyncio
import functools
import logging

import msal
import requests
from requests.exceptions import RequestException

from bot.settings import Settings, secret_value

logger = logging.getLogger(__name__)

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
HTTP_TIMEOUT = 15  # seconds, for each call MSAL makes to Entra


class SignInFailed(Exception):
    """Entra refused the app's sign-in, or could not be reached; the message says why."""


class EntraTokens:
    """The feed's tokens: one MSAL app per process, whose cache hands the same token out until
    it is about to expire (MSAL renews it five minutes before)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._app: msal.ConfidentialClientApplication | None = None
        self._http = http_client(settings)

    @property
    def who(self) -> str:
        """The app and tenant, as a log line names them."""
        settings = self._settings
        return (
            f"app {settings.incident_feed_client_id} in tenant {settings.incident_feed_tenant_id}"
        )

    async def token(self) -> str:
        """Returns a valid access token for Graph; raises SignInFailed saying why there is none."""
        try:
            return await asyncio.to_thread(self._acquire)
        except (ValueError, OSError, RequestException) as error:
            # MSAL raises ValueError when the authority cannot be discovered (unknown tenant,
            # wrong INCIDENT_FEED_AUTHORITY_HOST), requests' errors when Entra is unreachable, and
            # OSError when the certificate's key file has gone.
            raise SignInFailed(f"{self.who}: {first_line(str(error))}") from None

    async def forget(self) -> None:
        """Drops the cached token (Graph refused it), so the next call fetches a new one."""
        if self._app is not None:
            await asyncio.to_thread(self._app.remove_tokens_for_client)

    def _acquire(self) -> str:
        try:
            if self._app is None:
                self._app = self._build()
            result = self._app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
        finally:
            # A token lasts an hour: no connection to Entra is kept open in between.
            self._http.close()
        if "access_token" in result:
            return result["access_token"]
        raise SignInFailed(
            f"Microsoft Entra refused the sign-in of {self.who}: {result.get('error', 'error')}: "
            f"{first_line(result.get('error_description', ''))}"
        )

    def _build(self) -> msal.ConfidentialClientApplication:
        settings = self._settings
        return msal.ConfidentialClientApplication(
            settings.incident_feed_client_id,
            client_credential=client_credential(settings),
            authority=f"{settings.incident_feed_authority_host}/{settings.incident_feed_tenant_id}",
            # The operator names the authority host: no look-up of it at Microsoft first.
            instance_discovery=False,
            http_client=self._http,
        )


def client_credential(settings: Settings) -> str | dict[str, str]:
    """The app's credential as MSAL takes it: the secret's value, or the certificate's PEM
    private key with its SHA-1 thumbprint (as Entra shows it)."""
    secret = secret_value(settings.incident_feed_client_secret)
    if secret:
        return secret
    key_file = settings.incident_feed_certificate
    assert key_file is not None  # settings validation: a secret or a certificate
    return {
        "private_key": key_file.read_text("utf-8"),
        "thumbprint": settings.incident_feed_certificate_thumbprint or "",
    }


def http_client(settings: Settings) -> requests.Session:
    """The HTTP client MSAL calls Entra with. Trusted CAs go with each request: requests lets
    REQUESTS_CA_BUNDLE in the environment override a session's own `verify`, so MSAL's `verify`
    option alone would not make INCIDENT_FEED_CA_BUNDLE count."""
    bundle = settings.incident_feed_ca_bundle
    session = requests.Session()
    session.request = functools.partial(  # type: ignore[method-assign]
        session.request, timeout=HTTP_TIMEOUT, verify=str(bundle) if bundle else True
    )
    return session


def first_line(text: str) -> str:
    """The first line: Entra puts trace and correlation ids on the lines after it."""
    return (text.strip().splitlines() or [""])[0][:300]
