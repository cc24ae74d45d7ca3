"""`/partnerbot setup partner-center` (the connect form) and `/partnerbot sync`: who may, and what
each answers; and the connect form's submission."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.blocks import Message, section
from bot.errors import UserError
from bot.partner_center import messages
from bot.partner_center.connect import ConnectForm, ConnectProblem, connect
from bot.partner_center.messages import ConnectAction
from bot.partner_center.sealing import SealingError
from bot.partner_center.sync import sync_partner
from bot.partners.managers import is_manager
from bot.services import Services
from storage import partner_center as connections
from storage import partners
from storage.models import Partner

logger = logging.getLogger(__name__)

# A form's submission is answered within Slack's 3 seconds, token request included.
CONNECT_DEADLINE = 2.5
FIELDS = {
    "tenant": ConnectAction.TENANT,
    "client_id": ConnectAction.CLIENT_ID,
    "secret": ConnectAction.SECRET,
    "mpn_id": ConnectAction.MPN_ID,
}


@dataclass(frozen=True)
class ConnectOutcome:
    errors: dict[str, str] | None = None
    view: dict | None = None


async def managers_only(services: Services, partner: Partner, user_id: str, doing: str) -> str:
    """The refusal for someone who is not a manager; "" for a manager."""
    async with services.sessions() as session:
        if await is_manager(session, partner_id=partner.id, user_id=user_id):
            return ""
        managers = await partners.manager_ids(session=session, partner_id=partner.id)
    who = ", ".join(f"<@{m}>" for m in managers) or "nobody yet"
    return f"Only managers ({who}) can {doing}. Nothing was changed."


async def connect_form_answer(
    services: Services, *, partner: Partner, user_id: str
) -> tuple[list[Message], dict | None]:
    """`/partnerbot setup partner-center`: the connect form for a manager."""
    refusal = await managers_only(services, partner, user_id, "connect Partner Center")
    if refusal:
        return [Message(refusal, [section(refusal)])], None
    async with services.sessions() as session:
        connection = await connections.get(session=session, partner_id=partner.id)
    status = messages.status_text(connection, now=services.clock())
    return [Message(status, [section(status)])], messages.connect_form(connection)


async def sync_answer(services: Services, *, partner: Partner, user_id: str) -> list[Message]:
    """`/partnerbot sync`: a sync now, and how it went."""
    refusal = await managers_only(services, partner, user_id, "start a Partner Center sync")
    if refusal:
        return [Message(refusal, [section(refusal)])]
    try:
        outcome = await sync_partner(services, partner.id)
    except UserError as error:
        return [Message(str(error), [section(str(error))])]
    report = outcome.report.describe() if outcome.report else None
    return [messages.sync_answer(report, outcome.problem)]


def connect_form_of(values: dict[str, str]) -> ConnectForm:
    """Reads the connect form's inputs, by block id."""
    value = {block_id: (text or "").strip() for block_id, text in values.items()}
    return ConnectForm(
        tenant=value.get(ConnectAction.TENANT, ""),
        client_id=value.get(ConnectAction.CLIENT_ID, ""),
        secret=value.get(ConnectAction.SECRET, ""),
        mpn_id=value.get(ConnectAction.MPN_ID, ""),
    )


async def submit_connect(
    services: Services, *, partner: Partner | None, user_id: str, values: dict[str, str]
) -> ConnectOutcome:
    """Connects the partner with the form's details, or says beside a field what is wrong."""
    if partner is None:
        return ConnectOutcome(errors={ConnectAction.TENANT: "Set this workspace up first."})
    refusal = await managers_only(services, partner, user_id, "connect Partner Center")
    if refusal:
        return ConnectOutcome(errors={ConnectAction.TENANT: refusal})
    form = connect_form_of(values)
    try:
        connection = await asyncio.wait_for(
            connect(services, partner_id=partner.id, form=form, by=user_id), CONNECT_DEADLINE
        )
    except ConnectProblem as problem:
        return ConnectOutcome(errors={FIELDS[problem.field]: str(problem)})
    except SealingError as error:
        return ConnectOutcome(errors={ConnectAction.SECRET: str(error)})
    except TimeoutError:
        text = "Microsoft Entra took too long to answer; nothing was saved. Try again."
        return ConnectOutcome(errors={ConnectAction.SECRET: text})
    services.wake_outbox()
    return ConnectOutcome(view=messages.connected_view(connection))
