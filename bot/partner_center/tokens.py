"""App-only access tokens from Microsoft Entra through MSAL's client credentials flow: one MSAL
application per app, whose own cache hands back a token until shortly before it expires. Nothing
here is specific to Partner Center; the scope says which API the token is for."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path

import msal
import requests

PARTNER_CENTER_SCOPE = "https://api.partnercenter.microsoft.com/.default"


@dataclass(frozen=True)
class AppCredentials:
    authority_host: str  # https://login.microsoftonline.com, or a local stand-in
    tenant: str  # the tenant the app is registered in (its id or a domain)
    client_id: str
    secret: str

    def __repr__(self) -> str:  # never print a secret, whoever logs the object
        return f"AppCredentials(tenant={self.tenant!r}, client_id={self.client_id!r})"


class TokenRefused(Exception):
    """Microsoft Entra gave no token; `error` is its code (e.g. invalid_client), `description`
    its own explanation with the AADSTS number."""

    def __init__(self, error: str, description: str = ""):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


class AppTokens:
    """Gets and caches app-only tokens, one MSAL application per app and secret."""

    def __init__(self, *, ca_file: Path | None = None):
        self._apps: dict[tuple[str, str, str, str], msal.ConfidentialClientApplication] = {}
        self._lock = threading.Lock()
        self._ca_file = ca_file

    async def token(self, app: AppCredentials, scope: str) -> str:
        """An access token for the scope; raises TokenRefused saying why there is none."""
        return await asyncio.to_thread(self._token, app, scope)

    def _token(self, app: AppCredentials, scope: str) -> str:
        try:
            result = self._application(app).acquire_token_for_client(scopes=[scope])
        except (ValueError, requests.RequestException) as error:
            # MSAL raises these when the authority cannot be reached or does not know the tenant.
            raise TokenRefused("unreachable", str(error).splitlines()[0][:300]) from None
        if "access_token" not in result:
            raise TokenRefused(
                str(result.get("error") or "no_token"),
                str(result.get("error_description") or "").splitlines()[0][:300]
                if result.get("error_description")
                else "",
            )
        return result["access_token"]

    def close(self) -> None:
        """Closes the connections MSAL keeps open to Microsoft Entra."""
        with self._lock:
            for application in self._apps.values():
                application.http_client.close()
            self._apps.clear()

    def _application(self, app: AppCredentials) -> msal.ConfidentialClientApplication:
        key = (app.authority_host, app.tenant, app.client_id, app.secret)
        with self._lock:
            found = self._apps.get(key)
            if found is None:
                found = self._apps[key] = self._build(app)
            return found

    def _build(self, app: AppCredentials) -> msal.ConfidentialClientApplication:
        http = requests.Session() if self._ca_file is None else TrustingSession(self._ca_file)
        try:
            return msal.ConfidentialClientApplication(
                app.client_id,
                client_credential=app.secret,
                authority=f"{app.authority_host.rstrip('/')}/{app.tenant}",
                # The authority is configured by the operator: no look-up of known clouds.
                instance_discovery=False,
                http_client=http,
            )
        except (ValueError, requests.RequestException) as error:
            raise TokenRefused("unreachable", str(error).splitlines()[0][:300]) from None


class TrustingSession(requests.Session):
    """A requests session that trusts the operator's certificates (PARTNER_CENTER_CA_FILE):
    given with every request, as requests lets REQUESTS_CA_BUNDLE outrank a session's own."""

    def __init__(self, ca_file: Path):
        super().__init__()
        self._ca_file = str(ca_file)

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs.setdefault("verify", self._ca_file)
        return super().request(method, url, **kwargs)
