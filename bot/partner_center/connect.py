"""Connecting a partner's Partner Center: the app's details checked, a token asked for with them
(so a wrong secret is refused now, not at the first sync), the secret sealed and stored."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.entra import PARTNER_CENTER_SCOPE, AppCredentials, TokenRefused
from bot.errors import UserError
from bot.partner_center.sealing import seal, sealer, unseal
from bot.services import Services
from storage import partner_center as connections
from storage.models import PartnerCenterConnection

logger = logging.getLogger(__name__)

GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
DOMAIN = re.compile(r"^(?=.{4,64}$)([a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}$")
MPN = re.compile(r"^[0-9]{4,20}$")


class ConnectProblem(UserError):
    """One of the details cannot be used; `field` names which one."""

    def __init__(self, field: str, text: str):
        super().__init__(text)
        self.field = field


@dataclass(frozen=True)
class ConnectForm:
    tenant: str
    client_id: str
    secret: str
    mpn_id: str = ""

    def __repr__(self) -> str:  # never print the secret
        return f"ConnectForm(tenant={self.tenant!r}, client_id={self.client_id!r})"


def form_problems(form: ConnectForm) -> dict[str, str]:
    """What is wrong with the details as typed, by field."""
    problems = {}
    if not (GUID.match(form.tenant) or DOMAIN.match(form.tenant)):
        problems["tenant"] = (
            "Type the Directory (tenant) ID, a GUID, or your tenant's domain such as "
            "contoso.onmicrosoft.com."
        )
    if not GUID.match(form.client_id):
        problems["client_id"] = "Type the Application (client) ID: a GUID such as 8d2a2f29-…."
    if not form.secret or any(character.isspace() for character in form.secret):
        problems["secret"] = "Paste the client secret's Value (no spaces)."
    if form.mpn_id and not MPN.match(form.mpn_id):
        problems["mpn_id"] = "The partner (MPN) ID is a number such as 4812345; or leave it empty."
    return problems


async def connect(
    services: Services, *, partner_id: int, form: ConnectForm, by: str
) -> PartnerCenterConnection:
    """Checks, seals and stores a partner's Partner Center app; its first sync is due at once."""
    problems = form_problems(form)
    if problems:
        field, text = next(iter(problems.items()))
        raise ConnectProblem(field, text)
    keys = sealer(services.settings.partner_center_key)  # refuses without PARTNER_CENTER_KEY
    app = AppCredentials(
        services.settings.partner_center_authority, form.tenant, form.client_id, form.secret
    )
    try:
        await services.app_tokens.token(app, PARTNER_CENTER_SCOPE)
    except TokenRefused as refused:
        raise ConnectProblem("secret", refused_words(refused)) from None
    now = services.clock()
    connection = PartnerCenterConnection(
        partner_id=partner_id,
        tenant_id=form.tenant.lower(),
        client_id=form.client_id.lower(),
        sealed_secret=seal(keys, form.secret),
        mpn_id=form.mpn_id,
        connected_by=by,
        connected_at=now,
        next_sync_at=now,
    )
    async with services.sessions() as session:
        await connections.save(session=session, connection=connection)
        await session.commit()
    logger.info(
        "partner %s connected Partner Center (tenant %s, app %s), by %s",
        partner_id, connection.tenant_id, connection.client_id, by,
    )  # fmt: skip
    return connection


def refused_words(refused: TokenRefused) -> str:
    """Why Microsoft Entra gave no token, and what to check."""
    if refused.error == "unreachable":
        return f"Microsoft Entra could not be reached ({refused.description}). Try again later."
    if refused.error == "invalid_client":
        return (
            f"Microsoft Entra refused the secret ({refused.description}). Paste the secret's "
            "Value (not its ID), and check that it has not expired."
        )
    return (
        f"Microsoft Entra gave no token ({refused.error}: {refused.description}). Check the "
        "tenant and application IDs."
    )


async def store_user_consent(services: Services, *, partner_id: int, refresh_token: str) -> None:
    """Checks a partner admin's refresh token for the connected app (Entra must give an
    App+User token for it now) and stores it sealed: the agreement API needs App+User."""
    keys = sealer(services.settings.partner_center_key)
    async with services.sessions() as session:
        connection = await connections.get(session=session, partner_id=partner_id)
    if connection is None:
        raise ConnectProblem("tenant", "Connect Partner Center first (partner connect).")
    app = AppCredentials(
        services.settings.partner_center_authority,
        connection.tenant_id,
        connection.client_id,
        unseal(keys, connection.sealed_secret),
    )
    try:
        _, refresh_token = await services.app_tokens.user_token(
            app, refresh_token, PARTNER_CENTER_SCOPE
        )
    except TokenRefused as refused:
        raise ConnectProblem(
            "refresh_token",
            f"Microsoft Entra gave no token for it ({refused.error}: {refused.description}). "
            "Sign in again for the connected app and use the new refresh token.",
        ) from None
    async with services.sessions() as session:
        connection = await connections.get(session=session, partner_id=partner_id)
        connection.sealed_user_token = seal(keys, refresh_token)
        session.add(connection)
        await session.commit()
    logger.info("partner %s: a Partner Center admin's consent stored", partner_id)
