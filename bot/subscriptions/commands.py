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
from bot.subscriptions.rules import CommissionRule
from bot.zones import today_in
from storage import partner_center
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
) -> list[Message]:
    """Answers `/subscription <text>` for the caller's partner."""
    lookup = await customers.look_up(session, partner_id=partner.id, text=text)
    return lookup_messages(
        lookup,
        partner=partner,
        catalogue=catalogue,
        rule=rule,
        today=today_in(partner.timezone, now),
        freshness=await freshness_of(session, lookup, partner=partner, now=now),
    )


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


async def picked_customer_answer(
    session: AsyncSession,
    value: str,
    *,
    partner: Partner,
    catalogue: Catalogue,
    rule: CommissionRule,
    now: datetime,
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
    return lookup_messages(
        found,
        partner=partner,
        catalogue=catalogue,
        rule=rule,
        today=today_in(partner.timezone, now),
        freshness=await freshness_of(session, found, partner=partner, now=now),
    )
