"""A partner's sync from Partner Center: everything is read first, then written in one
transaction, changing only what changed. A sync that cannot read everything changes nothing,
records why, and tells the partner's managers once; the next success clears it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy.exc import IntegrityError

from bot.blocks import Message
from bot.entra import PARTNER_CENTER_SCOPE, AppCredentials, TokenRefused
from bot.errors import UserError
from bot.outbox.rows import post_message
from bot.partner_center import messages
from bot.partner_center.api import (
    Pace,
    PartnerCenterApi,
    PartnerCenterFailed,
    RetryBudget,
    ssl_context,
)
from bot.partner_center.offers import BadRecord, RemoteCustomer, read_customer, read_subscription
from bot.partner_center.sealing import SealingError, sealer, unseal
from bot.partner_center.writing import SyncReport, write_sync
from bot.services import Services
from storage import outbox, partners
from storage import partner_center as connections
from storage.models import PartnerCenterConnection

logger = logging.getLogger(__name__)

# Customers whose subscriptions are read at once, within the partner's calls a minute.
CONCURRENCY = 8
# Due partners listed at a time by the schedule (as many are synced at once as settings say),
# and how many of them write at once (each write holds a database connection for its transaction;
# the engine's pool has 10, and the bot's other work needs some).
DUE_LIMIT = 10_000
WRITES_AT_ONCE = 4
FAILURES = (PartnerCenterFailed, TokenRefused, SealingError, BadRecord)


class NotConnected(UserError):
    def __init__(self) -> None:
        super().__init__(
            "Partner Center is not connected for this workspace: a manager connects it with "
            "`/partnerbot setup partner-center`."
        )


@dataclass(frozen=True)
class SyncOutcome:
    report: SyncReport | None  # None when the sync failed
    problem: str | None  # in words for the partner's admins; None when it worked


@dataclass(frozen=True)
class Fetched:
    customers: list[RemoteCustomer]
    subscriptions: dict[str, list[dict]]  # by Partner Center customer id, as sent


async def sync_partner(
    services: Services, partner_id: int, *, writes: asyncio.Semaphore | None = None
) -> SyncOutcome:
    """Syncs one partner: all of it, or nothing and a problem recorded. With `writes`, its
    transaction waits for a place there (the schedule's many syncs at once share the database's
    few connections; reading Partner Center is what takes long, and it needs none)."""
    async with services.sessions() as session:
        connection = await connections.get(session=session, partner_id=partner_id)
    if connection is None:
        raise NotConnected()
    try:
        fetched = await fetch(services, connection)
        async with writes or contextlib.nullcontext(), services.sessions() as session:
            await connections.lock_partner(session=session, partner_id=partner_id)
            report = await write_sync(
                session,
                partner_id=partner_id,
                own_mpn_id=connection.mpn_id,
                customers=fetched.customers,
                subscriptions={
                    customer_id: [read_subscription(item, services.catalogue) for item in items]
                    for customer_id, items in fetched.subscriptions.items()
                },
                catalogue=services.catalogue,
            )
            await record_success(session, partner_id=partner_id, now=services.clock())
            await session.commit()
    except IntegrityError:
        # Another process synced the same partner at this moment and wrote first: its result
        # stands, and this one changed nothing.
        return SyncOutcome(None, "Another sync of this partner ran at the same time; try again.")
    except FAILURES as failure:
        problem = problem_words(failure)
        logger.warning("Partner Center sync of partner %s failed: %s", partner_id, failure)
        await record_problem(services, partner_id=partner_id, problem=problem)
        services.wake_outbox()
        return SyncOutcome(None, problem)
    logger.info("Partner Center sync of partner %s: %s", partner_id, report.describe())
    services.wake_outbox()
    return SyncOutcome(report, None)


async def fetch(services: Services, connection: PartnerCenterConnection) -> Fetched:
    """Reads every customer and every customer's subscriptions, or raises why it could not."""
    settings = services.settings
    secret = unseal(sealer(settings.partner_center_key), connection.sealed_secret)
    app = AppCredentials(
        settings.partner_center_authority, connection.tenant_id, connection.client_id, secret
    )
    token = await services.app_tokens.token(app, PARTNER_CENTER_SCOPE)
    connector = aiohttp.TCPConnector(ssl=ssl_context(settings.partner_center_ca_file) or True)
    async with aiohttp.ClientSession(connector=connector) as http:
        api = PartnerCenterApi(
            http,
            base_url=settings.partner_center_api_url,
            token=token,
            budget=RetryBudget(settings.partner_center_retry_budget),
            pace=Pace(settings.partner_center_calls_per_minute),
        )
        customers = [read_customer(item) for item in await api.customers()]
        limit = asyncio.Semaphore(CONCURRENCY)

        async def subscriptions_of(customer_id: str) -> list[dict]:
            async with limit:
                return await api.subscriptions(customer_id)

        try:
            async with asyncio.TaskGroup() as group:
                tasks = {c.id: group.create_task(subscriptions_of(c.id)) for c in customers}
        except ExceptionGroup as failures:
            raise failures.exceptions[0] from None
    return Fetched(customers, {customer_id: task.result() for customer_id, task in tasks.items()})


async def record_success(session, *, partner_id: int, now: datetime) -> None:
    """Dates the sync and clears a problem, telling the managers it works again."""
    connection = await connections.get(session=session, partner_id=partner_id)
    if connection.problem_since is not None:
        await tell_managers(
            session,
            partner_id=partner_id,
            key=f"partner-center:{partner_id}:recovered:{connection.problem_since.isoformat()}",
            message=messages.recovered_message(),
            now=now,
        )
    connection.last_synced_at = now
    connection.problem, connection.problem_since = "", None
    session.add(connection)


async def record_problem(services: Services, *, partner_id: int, problem: str) -> None:
    """Records why the sync failed; the managers hear of it when a problem begins, not again."""
    now = services.clock()
    async with services.sessions() as session:
        connection = await connections.get(session=session, partner_id=partner_id)
        if connection is None:
            return
        if connection.problem_since is None:
            connection.problem_since = now
            await tell_managers(
                session,
                partner_id=partner_id,
                key=f"partner-center:{partner_id}:problem:{now.isoformat()}",
                message=messages.problem_message(
                    problem, last_synced_at=connection.last_synced_at, now=now
                ),
                now=now,
            )
        connection.problem = problem[:500]
        session.add(connection)
        await session.commit()


async def tell_managers(
    session, *, partner_id: int, key: str, message: Message, now: datetime
) -> None:
    """Queues one message to the partner's managers' channel, once under `key`."""
    partner = await partners.get_by_id(session=session, partner_id=partner_id)
    row = post_message(
        key=key, channel=partner.manager_channel, message=message, partner_id=partner_id, now=now
    )
    await outbox.add(session=session, rows=[row])


def problem_words(failure: Exception) -> str:
    """What went wrong and what to do, for the partner's admins."""
    match failure:
        case TokenRefused(error="unreachable"):
            return (
                "Microsoft Entra could not be reached to sign the app in; partnerbot tries again "
                "at the next sync. If it lasts, ask the bot's operator to check "
                "PARTNER_CENTER_AUTHORITY and the network."
            )
        case TokenRefused(error="invalid_client", description=description):
            return (
                f"Microsoft Entra refused the app's client secret ({description}). It may have "
                "expired or been deleted: create a new client secret for the app in Microsoft "
                "Entra (App registrations → the app → Certificates & secrets) and connect again "
                "with `/partnerbot setup partner-center`."
            )
        case TokenRefused(error=error, description=description):
            return (
                f"Microsoft Entra gave the app no token ({error}: {description}). Check the "
                "tenant and application IDs and connect again with "
                "`/partnerbot setup partner-center`."
            )
        case PartnerCenterFailed(reason="consent", detail=detail):
            return (
                f"Partner Center refused the app ({detail}): its access has been removed or its "
                "consent has expired. A global admin of your Partner Center account checks that "
                "the app is still listed under Account settings → App management, and grants "
                "admin consent for its Microsoft Partner Center permission in Microsoft Entra; "
                "then type `/partnerbot sync`."
            )
        case PartnerCenterFailed(reason="throttled", detail=detail):
            return (
                f"Partner Center kept asking partnerbot to slow down ({detail}). Nothing needs "
                "doing: the next scheduled sync tries again (or `/partnerbot sync` later)."
            )
        case PartnerCenterFailed(reason="unavailable", detail=detail):
            return (
                f"Partner Center did not answer ({detail}). Nothing needs doing: the next "
                "scheduled sync tries again (or `/partnerbot sync` later)."
            )
        case PartnerCenterFailed(detail=detail) | BadRecord(args=(detail,)):
            return (
                f"Partner Center sent an answer partnerbot cannot use ({detail}). Tell the bot's "
                "operator; the next sync tries again."
            )
    return str(failure)


async def sync_due_partners(services: Services) -> int:
    """The schedule: syncs every partner whose time has come, PARTNER_CENTER_SYNC_CONCURRENCY at
    once (the next one starting as soon as one ends, the biggest first), each claimed first so
    that one process syncs it; returns how many synced without a problem. It goes on until none
    is due, so a round of thousands of partners is not held to one batch a run."""
    settings = services.settings
    interval = timedelta(minutes=settings.partner_center_sync_minutes)
    places = asyncio.Semaphore(settings.partner_center_sync_concurrency)
    writes = asyncio.Semaphore(WRITES_AT_ONCE)
    tried: set[int] = set()
    synced = 0

    async def claim_and_sync(partner_id: int, seen_at: datetime) -> None:
        nonlocal synced
        try:
            now = services.clock()
            async with services.sessions() as session:
                claimed = await connections.claim(
                    session=session, partner_id=partner_id, seen_due_at=seen_at,
                    next_at=now + interval,
                )  # fmt: skip
                await session.commit()
            if claimed:
                outcome = await sync_partner(services, partner_id, writes=writes)
                synced += outcome.problem is None
        except Exception:  # one partner's trouble does not stop the others' syncs
            logger.exception("Partner Center sync of partner %s failed", partner_id)
        finally:
            places.release()

    while True:
        now = services.clock()
        async with services.sessions() as session:
            due = await connections.due(session=session, now=now, limit=DUE_LIMIT + len(tried))
        due = [partner_id for partner_id in due if partner_id not in tried]
        if not due:
            return synced
        async with asyncio.TaskGroup() as group:
            for partner_id in due:
                await places.acquire()
                tried.add(partner_id)
                group.create_task(claim_and_sync(partner_id, now))
