"""App-only access tokens from Microsoft Entra (OAuth2 client credentials, with a client secret
or a certificate) through Microsoft's MSAL: one MSAL application per app, whose cache hands a
token back until shortly before it expires (MSAL renews it five minutes before). MSAL is
synchronous, so every call to it runs in a worker thread of its own pool (the event loop's
default pool has a handful of threads, and the outage checks ask thousands of tenants for a
token each), over one HTTP session whose connections to Entra are kept alive. Used by the
incident feed (Microsoft Graph), the Partner Center sync and the outage checks (a token per
customer tenant); the scope says which API a token is for."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import msal
import requests

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
PARTNER_CENTER_SCOPE = "https://api.partnercenter.microsoft.com/.default"
HTTP_TIMEOUT = 15  # seconds, for each call MSAL makes to Entra
MOST_APPS = 10_000  # MSAL applications (with their cached tokens) kept per process
THREADS = 64  # calls to Entra at once; each waits on the network, not the processor


@dataclass(frozen=True)
class AppCredentials:
    """An app registered in Microsoft Entra and its credential: a client secret, or a
    certificate (its PEM private key file and its SHA-1 thumbprint, as Entra shows it)."""

    authority_host: str  # https://login.microsoftonline.com, or a local stand-in
    tenant: str  # the tenant the app is registered in (its id or a domain)
    client_id: str
    secret: str = ""
    certificate: Path | None = None
    thumbprint: str = ""

    def __repr__(self) -> str:  # never print a secret, whoever logs the object
        return f"AppCredentials(tenant={self.tenant!r}, client_id={self.client_id!r})"

    @property
    def who(self) -> str:
        """The app and tenant, as a log line names them."""
        return f"app {self.client_id} in tenant {self.tenant}"

    def msal_credential(self) -> str | dict[str, str]:
        """The credential as MSAL takes it: the secret, or the certificate's key and thumbprint."""
        if self.secret or self.certificate is None:
            return self.secret
        return {
            "private_key": self.certificate.read_text("utf-8"),
            "thumbprint": self.thumbprint,
        }


class TokenRefused(Exception):
    """Microsoft Entra gave no token: `error` is its code (e.g. invalid_client), or
    "unreachable" when it could not be asked; `description` the first line of its explanation
    (with the AADSTS number; trace and correlation ids are on the lines after it)."""

    def __init__(self, error: str, description: str = ""):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


class AppTokens:
    """Gets and caches app-only tokens, one MSAL application per app and credential. With
    `ca_file`, Entra's certificate must be signed by one of its certificates."""

    def __init__(
        self,
        *,
        ca_file: Path | None = None,
        timeout: float = HTTP_TIMEOUT,
        most: int = MOST_APPS,
        threads: int = THREADS,
    ):
        # Least recently used first: an app per customer tenant (outage checks) would otherwise
        # keep one MSAL application for every tenant ever asked.
        self._apps: OrderedDict[AppCredentials, msal.ConfidentialClientApplication] = OrderedDict()
        self._most = most
        self._lock = threading.Lock()
        self._threads = threads
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        # One session for every app: MSAL asks Entra twice for a new tenant's first token (its
        # OpenID configuration, then the token), and a new TLS connection each time would cost
        # more than the calls.
        self._http = EntraSession(ca_file, timeout, pool=threads)

    async def _in_thread(self, call, *args):
        with self._executor_lock:  # not self._lock: a worker may hold that one for a while
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="entra")
            executor = self._executor
        return await asyncio.get_running_loop().run_in_executor(
            executor, functools.partial(call, *args)
        )

    async def token(self, app: AppCredentials, scope: str) -> str:
        """An access token for the scope; raises TokenRefused saying why there is none."""
        return await self._in_thread(self._token, app, scope)

    async def forget(self, app: AppCredentials) -> None:
        """Drops the app's cached tokens (an API refused one), so the next call fetches anew."""
        with self._lock:
            application = self._apps.get(app)
        if application is not None:
            await self._in_thread(application.remove_tokens_for_client)

    def close(self) -> None:
        """Closes the connections to Microsoft Entra, stops the threads and forgets every app
        (it may be used again: it opens them anew)."""
        with self._lock:
            self._apps.clear()
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)
        self._http.close()

    async def user_token(
        self, app: AppCredentials, refresh_token: str, scope: str
    ) -> tuple[str, str]:
        """An App+User access token for the scope from a user's refresh token (the Secure
        Application Model), with the refresh token to keep: Entra's newer one when it sent one
        (each use extends its life), else the same; raises TokenRefused saying why there is
        none."""
        result = await self._in_thread(self._result, app, scope, refresh_token)
        return result["access_token"], result.get("refresh_token") or refresh_token

    def _token(self, app: AppCredentials, scope: str) -> str:
        return self._result(app, scope)["access_token"]

    def _result(self, app: AppCredentials, scope: str, refresh_token: str = "") -> dict:
        try:
            application = self._application(app)
            if refresh_token:
                result = application.acquire_token_by_refresh_token(refresh_token, scopes=[scope])
            else:
                result = application.acquire_token_for_client(scopes=[scope])
        except (ValueError, OSError, requests.RequestException) as error:
            # MSAL raises ValueError when the authority cannot be discovered (unknown tenant,
            # wrong authority host), requests' errors when Entra is unreachable, and OSError
            # when the certificate's key file has gone.
            raise TokenRefused("unreachable", first_line(str(error))) from None
        if "access_token" not in result:
            raise TokenRefused(
                str(result.get("error") or "no_token"),
                first_line(str(result.get("error_description") or "")),
            )
        return result

    def _application(self, app: AppCredentials) -> msal.ConfidentialClientApplication:
        with self._lock:
            found = self._apps.get(app)
            if found is not None:
                self._apps.move_to_end(app)
                return found
        # Built outside the lock: MSAL asks Entra for the tenant's OpenID configuration as it
        # builds an application, and other tenants' calls need not wait for that.
        built = self._build(app)
        with self._lock:
            found = self._apps.setdefault(app, built)
            self._apps.move_to_end(app)
            while len(self._apps) > self._most:
                self._apps.popitem(last=False)
            return found

    def _build(self, app: AppCredentials) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            app.client_id,
            client_credential=app.msal_credential(),
            authority=f"{app.authority_host.rstrip('/')}/{app.tenant}",
            # The operator names the authority host: no look-up of it at Microsoft first.
            instance_discovery=False,
            http_client=self._http,
        )


class EntraSession(requests.Session):
    """The HTTP client MSAL calls Entra with: a timeout, and the operator's trusted
    certificates given with every request, since requests lets REQUESTS_CA_BUNDLE in the
    environment outrank a session's own `verify` (MSAL's `verify` option alone would not count).
    Shared by the apps of every tenant, so it keeps no cookies (one tenant's sign-in cookies are
    nothing to send to another's) and as many connections per host as calls run at once."""

    def __init__(self, ca_file: Path | None, timeout: float, *, pool: int = 10):
        super().__init__()
        self._verify = str(ca_file) if ca_file else True
        self._timeout = timeout
        self.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs.setdefault("verify", self._verify)
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, **kwargs)


def first_line(text: str) -> str:
    """The first line, at most 300 characters: Entra puts trace and correlation ids after it."""
    return (text.strip().splitlines() or [""])[0][:300]
