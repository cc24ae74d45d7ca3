"""A local Microsoft Entra token service, mounted by the local APIs whose callers sign in to it:
local_graph.py (the incident feed) and local_partner_center.py (the Partner Center sync).

It answers as Entra documents, refusals included: the OpenID configuration MSAL reads
(`/{tenant}/v2.0/.well-known/openid-configuration`, 400 `invalid_tenant` for a tenant it does not
know) and the client-credentials token endpoint (`/{tenant}/oauth2/v2.0/token`), which checks the
tenant, the client id, the secret or the signed client assertion (certificate thumbprint,
signature, audience, issuer, lifetime), the scope (the `/.default` of the API it is mounted on)
and the admin's consent, and answers Entra's errors (`error`, `error_description` with an AADSTS
code, `error_codes`, trace and correlation ids). Tenants and client ids match in any case, as on
Entra."""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
PARTNER_CENTER_SCOPE = "https://api.partnercenter.microsoft.com/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
READ_SERVICE_HEALTH = "ServiceHealth.Read.All"


@dataclass
class EntraApp:
    """An app registration: its secrets, its certificates' public parts, its granted roles, and
    whether its tenant's admin still consents to it (withdrawn: no token, and none honoured)."""

    tenant_id: str
    client_id: str
    secrets: set[str] = field(default_factory=set)
    certificates: list[x509.Certificate] = field(default_factory=list)
    roles: set[str] = field(default_factory=lambda: {READ_SERVICE_HEALTH})
    consented: bool = True
    # A multi-tenant app's service principals in other tenants (an admin's consent there, e.g.
    # a customer's tenant through the partner's GDAP access): the roles granted in each.
    consents: dict[str, set[str]] = field(default_factory=dict)

    def roles_in(self, tenant: str) -> set[str]:
        return self.roles if tenant == self.tenant_id else self.consents.get(tenant, set())


@dataclass
class Token:
    app: EntraApp
    expires_at: float
    tenant_id: str = ""  # the tenant it was issued in (its `tid`)
    roles: set[str] = field(default_factory=set)
    user: str = ""  # the signed-in user of an App+User token; "" for an app-only one


class EntraRefusal(Exception):
    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description


class LocalEntra:
    """App registrations (by client id, in lower case), the tokens handed out, and every token
    request (secrets masked). It gives tokens for one `scope`: that of the API mounting it."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.apps: dict[str, EntraApp] = {}
        self.tokens: dict[str, Token] = {}
        self.token_requests: list[dict] = []
        # Refresh tokens a user's consent gave an app (the Secure Application Model's one-time
        # sign-in), with the user they act for.
        self.refresh_tokens: dict[str, tuple[EntraApp, str]] = {}
        self.token_lifetime = 3599  # seconds, as Entra gives app tokens
        self.base_url = ""
        self.tenants: set[str] = set()  # tenants that exist without an app of their own here
        self._signing_key = secrets.token_bytes(32)

    def register(
        self,
        tenant_id: str,
        client_id: str,
        *,
        secret: str | None = None,
        certificate_pem: bytes | None = None,
        roles: set[str] | None = None,
    ) -> EntraApp:
        app = EntraApp(tenant_id.lower(), client_id.lower())
        if secret:
            app.secrets.add(secret)
        if certificate_pem:
            app.certificates.append(x509.load_pem_x509_certificate(certificate_pem))
        if roles is not None:
            app.roles = roles
        self.apps[app.client_id] = app
        return app

    def add_tenant(self, tenant_id: str) -> None:
        """A tenant that exists (a customer's) though no app is registered in it."""
        self.tenants.add(tenant_id.lower())

    def consent(self, client_id: str, tenant_id: str, roles: set[str] | None = None) -> None:
        """An admin of `tenant_id` consents to a multi-tenant app registered elsewhere, granting
        it these application roles (ServiceHealth.Read.All by default)."""
        app = self.apps[client_id.lower()]
        app.consents[tenant_id.lower()] = {READ_SERVICE_HEALTH} if roles is None else set(roles)
        self.add_tenant(tenant_id)

    def withdraw_consent(self, client_id: str, tenant_id: str) -> None:
        """The tenant's admin removes the app (its service principal): no token there any more."""
        self.apps[client_id.lower()].consents.pop(tenant_id.lower(), None)

    def consent_user(self, app: EntraApp, user: str) -> str:
        """A user of the app's tenant signs in once and consents: the refresh token it gets."""
        refresh_token = secrets.token_urlsafe(48)
        self.refresh_tokens[refresh_token] = (app, user)
        return refresh_token

    def revoke_tokens(self) -> None:
        """Every token handed out so far stops working."""
        self.tokens.clear()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self.openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.token)

    def known_tenant(self, tenant: str) -> bool:
        return tenant.lower() in self.tenants or any(
            app.tenant_id == tenant.lower() for app in self.apps.values()
        )

    async def openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if not self.known_tenant(tenant):
            refusal = EntraRefusal(
                400,
                "invalid_tenant",
                90002,
                f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the "
                "correct tenant ID and are signing into the correct cloud.",
            )
            return entra_error(refusal)
        base = f"{self.base_url}/{tenant}"
        return web.json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{self.base_url}/{tenant}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "token id_token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "tenant_region_scope": "EU",
            }
        )

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        masked = {
            k: ("***" if k in ("client_secret", "client_assertion", "refresh_token") else v)
            for k, v in form.items()
        }
        self.token_requests.append({**masked, "tenant": request.match_info["tenant"].lower()})
        try:
            tenant = request.match_info["tenant"]
            app = self.signed_in(tenant, form, f"{self.base_url}/{tenant}/oauth2/v2.0/token")
        except EntraRefusal as refusal:
            return entra_error(refusal)
        tenant = request.match_info["tenant"].lower()
        expires_at = time.time() + self.token_lifetime
        roles = app.roles_in(tenant)
        user = ""
        if form.get("grant_type") == "refresh_token":
            user = self.refresh_tokens[str(form.get("refresh_token"))][1]
        # Shaped as Entra's access tokens: a JWT whose `tid` names the tenant it was issued in.
        access_token = jwt.encode(
            {
                "aud": self.scope.removesuffix("/.default"),
                "iss": f"{self.base_url}/{tenant}/v2.0",
                "tid": tenant,
                "appid": app.client_id,
                "roles": sorted(roles),
                "exp": int(expires_at),
                "iat": int(time.time()),
                "uti": secrets.token_urlsafe(16),
                **({"upn": user} if user else {}),
            },
            self._signing_key,
            algorithm="HS256",
        )
        self.tokens[access_token] = Token(app, expires_at, tenant, roles, user)
        body = {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": access_token,
        }
        if user:
            # Entra hands out a new refresh token with each use; the old one stays valid too.
            body["refresh_token"] = self.consent_user(app, user)
        return web.json_response(body)

    def signed_in(self, tenant: str, form: dict, endpoint: str) -> EntraApp:
        """The app a client-credentials request signs in, or Entra's refusal."""
        if not self.known_tenant(tenant):
            raise EntraRefusal(
                400, "invalid_request", 90002, f"AADSTS90002: Tenant '{tenant}' not found."
            )
        grant = form.get("grant_type")
        if grant == "refresh_token" and str(form.get("refresh_token")) not in self.refresh_tokens:
            raise EntraRefusal(
                400,
                "invalid_grant",
                9002313,
                "AADSTS9002313: Invalid request. Request is malformed or invalid.",
            )
        if grant not in ("client_credentials", "refresh_token"):
            raise EntraRefusal(
                400,
                "unsupported_grant_type",
                70003,
                "AADSTS70003: The app requested an unsupported grant type "
                f"'{form.get('grant_type', '')}'.",
            )
        app = self.apps.get(str(form.get("client_id", "")).lower())
        if app is None or (app.tenant_id != tenant.lower() and tenant.lower() not in app.consents):
            raise EntraRefusal(
                400,
                "unauthorized_client",
                700016,
                f"AADSTS700016: Application with identifier '{form.get('client_id', '')}' was not "
                f"found in the directory '{tenant}'. This can happen if the application has not "
                "been installed by the administrator of the tenant or consented to by any user "
                "in the tenant.",
            )
        self.check_credential(app, form, endpoint)
        if grant == "refresh_token" and self.refresh_tokens[str(form["refresh_token"])][0] != app:
            raise EntraRefusal(
                400, "invalid_grant", 70000, "AADSTS70000: The refresh token is for another app."
            )
        # MSAL adds OpenID Connect's scopes to a user's request.
        asked = str(form.get("scope", "")).split()
        if grant == "refresh_token":
            asked = sorted(set(asked) - {"offline_access", "openid", "profile"})
        if asked != [self.scope]:
            raise EntraRefusal(
                400,
                "invalid_scope",
                1002012,
                f"AADSTS1002012: The provided value for scope {form.get('scope', '')} is not "
                "valid. Client credential flows must have a scope value with /.default suffixed "
                "to the resource identifier (application ID URI).",
            )
        if not app.consented and app.tenant_id == tenant.lower():
            raise EntraRefusal(
                400,
                "invalid_grant",
                65001,
                "AADSTS65001: The user or administrator has not consented to use the application "
                f"with ID '{app.client_id}'. Send an interactive authorization request for this "
                "user and resource.",
            )
        return app

    def check_credential(self, app: EntraApp, form: dict, endpoint: str) -> None:
        secret, assertion = form.get("client_secret"), form.get("client_assertion")
        if secret:
            if not any(secrets.compare_digest(str(secret), known) for known in app.secrets):
                raise EntraRefusal(
                    401,
                    "invalid_client",
                    7000215,
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                    "in the request is the client secret value, not the client secret ID, for a "
                    f"secret added to app '{app.client_id}'.",
                )
            return
        if assertion and form.get("client_assertion_type") == ASSERTION_TYPE:
            check_assertion(app, str(assertion), endpoint)
            return
        raise EntraRefusal(
            401,
            "invalid_client",
            7000218,
            "AADSTS7000218: The request body must contain the following parameter: "
            "'client_assertion' or 'client_secret'.",
        )


def check_assertion(app: EntraApp, assertion: str, endpoint: str) -> None:
    """Checks a client assertion as Entra does: signed by a certificate registered on the app
    (named by its x5t or x5t#S256 thumbprint), for this token endpoint, by this app, in time."""
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.InvalidTokenError:
        raise EntraRefusal(
            401, "invalid_client", 700025, "AADSTS700025: Client assertion is not a valid JWT."
        ) from None
    certificate = registered_certificate(app, header)
    try:
        claims = jwt.decode(
            assertion,
            certificate.public_key(),
            algorithms=["RS256", "PS256"],
            audience=endpoint,
            issuer=app.client_id,
            # MSAL sends no nbf (its iat says when), and Entra signs it in.
            options={"require": ["exp", "aud", "iss", "sub", "jti"]},
        )
    except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
        raise EntraRefusal(
            401,
            "invalid_client",
            700024,
            "AADSTS700024: Client assertion is not within its valid time range.",
        ) from None
    except jwt.InvalidTokenError as problem:
        raise EntraRefusal(
            401,
            "invalid_client",
            7000274,
            f"AADSTS7000274: Client assertion failed signature or claims validation: {problem}",
        ) from None
    if claims["sub"] != app.client_id:
        raise EntraRefusal(
            401,
            "invalid_client",
            700021,
            "AADSTS700021: Client assertion application identifier doesn't match "
            "'client_id' parameter.",
        )


def registered_certificate(app: EntraApp, header: dict) -> x509.Certificate:
    for certificate in app.certificates:
        sha1 = b64url(certificate.fingerprint(hashes.SHA1()))
        sha256 = b64url(certificate.fingerprint(hashes.SHA256()))
        # MSAL pads its x5t with "=", as base64url allows; Entra takes either.
        named = (
            str(header.get("x5t", "")).rstrip("="),
            str(header.get("x5t#S256", "")).rstrip("="),
        )
        if named[0] == sha1 or named[1] == sha256:
            return certificate
    raise EntraRefusal(
        401,
        "invalid_client",
        700027,
        "AADSTS700027: The certificate with identifier used to sign the client assertion is not "
        f"registered on application. [Reason - The key was not found., Thumbprint of key used "
        f"by client: '{header.get('x5t') or header.get('x5t#S256')}']",
    )


def b64url(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def entra_error(refusal: EntraRefusal) -> web.Response:
    """An error as Entra's token service writes it."""
    trace, correlation = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return web.json_response(
        {
            "error": refusal.error,
            "error_description": f"{refusal.description}\r\nTrace ID: {trace}\r\n"
            f"Correlation ID: {correlation}\r\nTimestamp: {now}",
            "error_codes": [refusal.code],
            "timestamp": now,
            "trace_id": str(trace),
            "correlation_id": str(correlation),
            "error_uri": f"https://login.microsoftonline.com/error?code={refusal.code}",
        },
        status=refusal.status,
    )


def thumbprint_of(certificate_pem: bytes) -> str:
    """A certificate's SHA-1 thumbprint as Entra shows it (40 upper-case hex digits)."""
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    return certificate.fingerprint(hashes.SHA1()).hex().upper()
