"""/subscription: what the command and a click on one of its customers answer."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import customers
from bot.arguments import whole_number
from bot.blocks import Message, section
from bot.catalogue import Catalogue
from bot.customers import Found, Lookup
from bot.subscriptions.freshness import freshness_words
from bot.subscriptions.messages import lookup_messages
from bot.subscriptions.rules import (
    EVERYTHING,
    FOR_EVERYONE,
    CommissionRule,
    MoneyShown,
    money_shown,
)
from bot.zones import today_in
from storage import partner_center, seat_changes
from storage import partners as partner_rows
from storage.models import Partner

GONE = Message(
    "That customer is no longer available",
    [
        section(
            "That customer is no longer among yours. "
            "Search again with `/subscription &lt;customer&gt;`."
        )
    ],
)


async def subscription_answer(
    session: AsyncSession,
    text: str,
    *,
    partner: Partner,
    catalogue: Catalogue,
    rule: CommissionRule,
    now: datetime,
    user_id: str = "",
    names: customers.NameIndex | None = None,
) -> list[Message]:
    """Answers `/subscription <text>` for the caller's partner (typo suggestions from `names`,
    the process's kept names of big partners, when given)."""
    lookup = await customers.look_up(session, partner_id=partner.id, text=text, names=names)
    return await answer_for(
        session, lookup, partner=partner, catalogue=catalogue, rule=rule, now=now, user_id=user_id
    )


async def picked_customer_answer(
    session: AsyncSession,
    value: str,
    *,
    partner: Partner,
    catalogue: Catalogue,
    rule: CommissionRule,
    now: datetime,
    user_id: str = "",
) -> list[Message]:
    """Answers a click on one of the customers offered (the button's or option's value is the
    customer's id): its subscriptions, or that it is no longer among the partner's."""
    found = None
    if whole_number(value):
        found = await customers.look_up_customer(
            session, partner_id=partner.id, customer_id=int(value)
        )
    if found is None:
        return [GONE]
    return await answer_for(
        session, found, partner=partner, catalogue=catalogue, rule=rule, now=now, user_id=user_id
    )


async def answer_for(
    session: AsyncSession,
    lookup: Lookup,
    *,
    partner: Partner,
    catalogue: Catalogue,
    rule: CommissionRule,
    now: datetime,
    user_id: str,
) -> list[Message]:
    """The messages about what was found: a found customer's subscriptions with their seat
    changes, and only the money the caller may see."""
    changes = {}
    if isinstance(lookup, customers.Found):
        changes = await seat_changes.of_subscriptions(
            session=session, subscription_ids=[s.id for s in lookup.subscriptions]
        )
    return lookup_messages(
        lookup,
        partner=partner,
        catalogue=catalogue,
        rule=rule,
        today=today_in(partner.timezone, now),
        changes=changes,
        shown=await money_shown_to(session, partner=partner, user_id=user_id),
        freshness=await freshness_of(session, lookup, partner=partner, now=now),
    )


async def money_shown_to(session: AsyncSession, *, partner: Partner, user_id: str) -> MoneyShown:
    """What money a member of the partner's workspace sees in /subscription."""
    if partner.money_for_managers_only == FOR_EVERYONE:
        return EVERYTHING
    managers = await partner_rows.manager_ids(session=session, partner_id=partner.id)
    return money_shown(partner.money_for_managers_only, is_manager=user_id in managers)


async def freshness_of(session, lookup: Lookup, *, partner: Partner, now: datetime) -> str:
    """Where the found customer's figures come from, and how fresh they are."""
    if not isinstance(lookup, Found) or not lookup.subscriptions:
        return ""
    connection = await partner_center.get(session=session, partner_id=partner.id)
    return freshness_words(
        {row.source for row in lookup.subscriptions},
        synced_at=connection.last_synced_at if connection else None,
        imported_at=partner.subscriptions_imported_at,
        sync_problem=connection.problem if connection else "",
        now=now,
    )
