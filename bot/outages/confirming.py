"""Which of a connected partner's customers an incident really hits: each candidate customer's
own service health is asked (bot/outages/tenant_health.py) whether it lists the issue, a few
tenants at a time; the answers are kept per incident and customer (asked once: a later update
of the incident does not ask again, except those Graph could not answer), and the partner's
alert is edited as they arrive. A tenant that refuses the partner's app counts as unknown and
the partner's managers are told once what to do."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime

import aiohttp
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.blocks import Message, escape, plural, section
from bot.catalogue import Catalogue
from bot.entra import AppCredentials
from bot.outages import messages as outage_messages
from bot.outages.fan_out import edit_of
from bot.outages.messages import incident_view
from bot.outages.narrowing import partner_impact
from bot.outages.rules import plans_with
from bot.outages.scope import scope_for
from bot.outages.tenant_health import TenantAsker
from bot.outages.tenant_scope import checked_impact, checks_apply
from bot.outbox.rows import post_message
from bot.partner_center.api import ssl_context
from bot.partner_center.sealing import SealingError, sealer, unseal
from bot.services import Services
from storage import outages as incident_rows
from storage import outbox, partners, tenant_checks
from storage import partner_center as connections
from storage.models import Incident, Partner

logger = logging.getLogger(__name__)

# Unknown answers worth asking again at the incident's next update (Graph could not answer);
# a refusal is not (it lasts until an admin acts), nor a customer without a tenant id.
ASK_AGAIN = ("throttled", "unavailable")
# How many answers are recorded at a time; the alert is edited with the counts so far at most
# every EDIT_EVERY seconds (a partner with thousands of customers would otherwise queue hundreds of
# edits of one message, past what Slack lets a workspace update), and once all have answered.
BATCH = 25
EDIT_EVERY = 10.0


@dataclass(frozen=True)
class ConfirmReport:
    partners: int  # connected partners whose customers were asked
    asked: int  # tenants asked


async def confirm_incident(services: Services, incident_id: int) -> ConfirmReport:
    """Asks the tenants of every connected partner alerted about an incident, OUTAGE_TENANT_PARTNERS
    partners at once; returns counts."""
    async with services.sessions() as session:
        incident = await incident_rows.get(session=session, incident_id=incident_id)
        alerts = await incident_rows.alerts_of(session=session, incident_id=incident_id)
        connected = await tenant_checks.connected_partner_ids(
            session=session, partner_ids=[a.partner_id for a in alerts]
        )
    if incident is None:
        return ConfirmReport(0, 0)
    limit = asyncio.Semaphore(services.settings.outage_tenant_partners)

    async def confirm(partner_id: int) -> int:
        async with limit:
            try:
                return await confirm_for_partner(services, incident, partner_id)
            except SealingError as problem:
                logger.warning("tenant checks of partner %s: %s", partner_id, problem)
            except Exception:  # one partner's trouble does not stop the others' checks
                logger.exception("tenant checks of partner %s failed", partner_id)
            return 0

    counts = await asyncio.gather(*(confirm(partner_id) for partner_id in sorted(connected)))
    return ConfirmReport(sum(count > 0 for count in counts), sum(counts))


async def confirm_for_partner(services: Services, incident: Incident, partner_id: int) -> int:
    """Asks one partner's candidate customers not asked yet; returns how many were asked."""
    async with services.sessions() as session:
        scope = await scope_for(session, incident, partner_id)
        if not checks_apply(incident, scope):
            return 0
        connection = await connections.get(session=session, partner_id=partner_id)
        candidates = await tenant_checks.candidates(
            session=session,
            partner_id=partner_id,
            plan_codes=plans_with(incident.service, services.catalogue),
        )
        known = await tenant_checks.results_of(
            session=session, incident_id=incident.id, partner_id=partner_id
        )
    to_ask = [
        (customer_id, tenant)
        for customer_id, tenant in candidates
        if customer_id not in known or known[customer_id][1] in ASK_AGAIN
    ]
    if not to_ask or connection is None:
        return 0
    settings = services.settings
    secret = unseal(sealer(settings.partner_center_key), connection.sealed_secret)
    app = AppCredentials(
        settings.partner_center_authority, connection.tenant_id, connection.client_id, secret
    )
    connector = aiohttp.TCPConnector(ssl=ssl_context(settings.partner_center_ca_file) or True)
    async with aiohttp.ClientSession(connector=connector) as http:
        asker = TenantAsker(
            http, services.app_tokens, app, settings.outage_tenant_graph_url,
            settings.outage_tenant_retry_budget, services.sleep,
        )  # fmt: skip
        limit = asyncio.Semaphore(settings.outage_tenant_concurrency)

        async def ask(customer_id: int, tenant: str | None) -> tuple[int, tuple[str, str]]:
            async with limit:
                return customer_id, await asker.ask(tenant, incident.external_id)

        # Every tenant is asked as soon as a place is free (not batch after batch, each waiting
        # for its slowest), and the answers are recorded BATCH at a time as they come.
        tasks = [asyncio.ensure_future(ask(c, t)) for c, t in to_ask]
        answers: dict = {}
        edited_at, answered = -EDIT_EVERY, 0
        try:
            for next_answer in asyncio.as_completed(tasks):
                customer_id, answer = await next_answer
                answers[customer_id] = answer
                answered += 1
                last = answered == len(tasks)
                if len(answers) >= BATCH or last:
                    edit = last or time.monotonic() - edited_at >= EDIT_EVERY
                    await record(services, incident, partner_id, answers, edit=edit)
                    answers = {}
                    if edit:
                        edited_at = time.monotonic()
        finally:
            for task in tasks:
                task.cancel()
    if asker.refusals:
        await tell_refusals(services, partner_id, asker.refusals)
    return len(to_ask)


async def record(
    services: Services, incident: Incident, partner_id: int, answers: dict, *, edit: bool = True
) -> None:
    """Stores answers and, with `edit`, edits the partner's alert with the counts so far, in one
    transaction."""
    now = services.clock()
    async with services.sessions() as session:
        await tenant_checks.save(
            session=session, incident_id=incident.id, partner_id=partner_id, results=answers,
            now=now,
        )  # fmt: skip
        if not edit:
            await session.commit()
            return
        fresh = await incident_rows.get(session=session, incident_id=incident.id)
        partner = await partners.get_by_id(session=session, partner_id=partner_id)
        row = await alert_edit(session, fresh, partner, services.catalogue, now)
        if row is not None:
            await outbox.add(session=session, rows=[row])
        await session.commit()
    services.wake_outbox()


async def alert_edit(
    session: AsyncSession, incident: Incident, partner: Partner, catalogue: Catalogue,
    now: datetime,
) -> dict | None:  # fmt: skip
    """The edit of a partner's alert with what its customers' service health said so far."""
    alert = next(
        (a for a in await incident_rows.alerts_of(session=session, incident_id=incident.id)
         if a.partner_id == partner.id),
        None,
    )  # fmt: skip
    if alert is None:
        return None
    scope = await scope_for(session, incident, partner.id)
    total = await partner_impact(session, incident, partner, scope, catalogue)
    impact = await checked_impact(session, incident, partner.id, catalogue, total)
    view = incident_view(incident, partner.timezone, now, scope)
    checks = impact.checks
    answered = checks.candidates - checks.pending if checks else 0
    key = f"{alert.root_key}:edit:checks:{answered}:{now.isoformat()}"
    return edit_of(alert, key, outage_messages.root_message(view, impact), now)


async def tell_refusals(services: Services, partner_id: int, refusals: dict[str, str]) -> None:
    """Tells the partner's managers, once for a set of refusing tenants, what to do."""
    tenants = sorted(refusals)
    digest = hashlib.sha256(",".join(tenants).encode()).hexdigest()[:16]
    now = services.clock()
    async with services.sessions() as session:
        partner = await partners.get_by_id(session=session, partner_id=partner_id)
        connection = await connections.get(session=session, partner_id=partner_id)
        message = refusal_message(tenants, refusals, connection.client_id if connection else "")
        row = post_message(
            key=f"tenant-access:{partner_id}:{digest}",
            channel=partner.manager_channel,
            message=message,
            partner_id=partner_id,
            now=now,
        )
        await outbox.add(session=session, rows=[row])
        await session.commit()
    services.wake_outbox()


def refusal_message(tenants: list[str], refusals: dict[str, str], client_id: str) -> Message:
    """The managers' notice: which tenants refused the app, and how to give it access."""
    shown = "\n".join(f"• `{escape(t)}`: {escape(refusals[t][:200])}" for t in tenants[:10])
    more = f"\n… and {len(tenants) - 10:,} more" if len(tenants) > 10 else ""
    text = (
        f":warning: *{plural(len(tenants), 'customer tenant')} refused to show partnerbot "
        f"its service health*, so outage alerts count those customers as *unknown* (they may "
        f"be affected):\n{shown}{more}\n"
        f"To fix it, an admin with GDAP access to each tenant (a role such as Cloud Application "
        f"Administrator, or Global Administrator) grants admin consent there to your app "
        f"`{escape(client_id)}` for Microsoft Graph's application permission "
        "*ServiceHealth.Read.All* (partnerbot's README, *Exact outage impact per customer*). "
        "The next incident asks again."
    )
    return Message("Customer tenants refused partnerbot's service health check", [section(text)])


def confirm_soon(services: Services, incident_id: int) -> None:
    """Starts the tenant checks of an incident in the background (the alert is out already)."""
    if not services.settings.outage_tenant_checks:
        return
    task = asyncio.get_running_loop().create_task(confirm_logged(services, incident_id))
    services.background.add(task)
    task.add_done_callback(services.background.discard)


async def confirm_logged(services: Services, incident_id: int) -> None:
    try:
        report = await confirm_incident(services, incident_id)
    except Exception:
        logger.exception("tenant checks of incident %s failed", incident_id)
        return
    if report.asked:
        logger.info(
            "incident %s: asked %d tenants of %d partners", incident_id, report.asked,
            report.partners,
        )  # fmt: skip
