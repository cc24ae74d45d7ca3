"""An app registered in a local Entra, asking it for tokens as MSAL does (client credentials
with a secret), for the tests of the local stand-ins themselves."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class EntraClient:
    base_url: str  # of the local server the Entra is mounted on
    tenant: str
    client_id: str
    secret: str
    scope: str

    async def ask_token(
        self, http: aiohttp.ClientSession, tenant: str | None = None, **form: str | None
    ) -> tuple[int, dict]:
        """Entra's status and body for a token request; `form` changes (None: leaves out) fields."""
        body = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.secret,
            "scope": self.scope,
            **form,
        }
        url = f"{self.base_url}/{tenant or self.tenant}/oauth2/v2.0/token"
        fields = {name: value for name, value in body.items() if value is not None}
        async with http.post(url, data=fields) as response:
            return response.status, await response.json()
