"""Block Kit for /subscription: one customer's subscriptions, choices, suggestions, usage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.arguments import MAX_QUERY_LENGTH
from bot.blocks import (
    MAX_OPTIONS,
    Message,
    context,
    divider,
    escape,
    header,
    messages,
    pack,
    plural,
    section,
    shorten,
)
from bot.catalogue import Catalogue
from bot.customers import Choices, Found, Lookup, NoMatch, TooLong, Usage
from bot.picking import CustomerChoice, choice, pick_action_ids, pick_block
from bot.subscriptions.rules import (
    EVERYTHING,
    CommissionRule,
    MoneyShown,
)
from bot.subscriptions.seat_history import Change, periods_of
from bot.subscriptions.texts import SubscriptionView, subscription_text, totals_text
from storage.models import Customer, Partner, Subscription

# Up to this many subscriptions each get a section of their own; more are packed together.
SECTIONS_OF_THEIR_OWN = 10

EXAMPLES = (
    "`/subscription dental` — part of a customer's name",
    "`/subscription obriensonsplumbing.onmicrosoft.com` — a tenant domain",
    "`/subscription sons plumbing` — several words of a name (any letter case)",
)


class SubscriptionAction(StrEnum):
    """Action ids of the /subscription messages, shared by the builders and the registration."""

    PICK_CUSTOMER = "subscription_pick_customer"  # buttons add ":<n>" to stay unique in a block
    PICK_CUSTOMER_SELECT = "subscription_pick_customer_select"


PICK_ACTIONS = {
    "button_action": SubscriptionAction.PICK_CUSTOMER,
    "select_action": SubscriptionAction.PICK_CUSTOMER_SELECT,
}
# Every action id of a customer pick: the numbered buttons and the menu.
PICK_CUSTOMER_ACTIONS = pick_action_ids(**PICK_ACTIONS)


@dataclass(frozen=True)
class CustomerView:
    """What the answer shows about the customer itself (plain values, no database objects)."""

    name: str
    domain: str
    region: str
    contact_name: str
    contact_email: str


def customer_blocks(
    customer: CustomerView,
    subscriptions: list[SubscriptionView],
    *,
    partner_name: str,
    time_zone: str,
    catalogue: Catalogue,
    rule: CommissionRule,
    today: date,
    shown: MoneyShown = EVERYTHING,
    freshness: str = "",
) -> list[dict]:
    """The answer for one customer: who it is, its totals, then every subscription; without
    commission or prices for a reader who may not see them."""
    contact = customer.contact_name or ""
    if customer.contact_email:
        contact = f"{contact} <{customer.contact_email}>".strip()
    blocks: list[dict] = [
        header(customer.name),
        context(
            f"{escape(customer.domain)} · {escape(customer.region or 'region unknown')} · "
            f"contact: {escape(contact) or 'none'}"
            f" · customer of {escape(partner_name)}"
        ),
    ]
    if not subscriptions:
        blocks.append(section("This customer has no subscriptions on record."))
        return blocks
    blocks += [section(totals_text(subscriptions, rule=rule, today=today, shown=shown)), divider()]
    texts = [
        subscription_text(s, catalogue=catalogue, rule=rule, today=today, shown=shown)
        for s in subscriptions
    ]
    if len(texts) <= SECTIONS_OF_THEIR_OWN:
        blocks += [section(text) for text in texts]
    else:
        blocks += [section(chunk) for chunk in pack(texts)]
    described = f"{rule.describe()} " if shown.commission else ""
    blocks.append(
        context(f"{described}Dates are as of today, {today.isoformat()}, in {time_zone}.")
    )
    if freshness:
        blocks.append(context(escape(freshness)))
    return blocks


def customer_fallback(customer: CustomerView, count: int) -> str:
    """The notification text of a customer answer."""
    return shorten(f"{escape(customer.name)}: {plural(count, 'subscription')}", 150)


def choices_blocks(query: str, choices: list[CustomerChoice], total: int) -> list[dict]:
    """Several customers match: a short list to pick from."""
    blocks = [
        section(f"*{plural(total, 'customer')} match “{escape(query)}”* — pick one:"),
        pick_block("subscription_pick", choices, **PICK_ACTIONS),
    ]
    shown = min(len(choices), MAX_OPTIONS)
    if total > shown:
        blocks.append(
            context(
                f"Showing the first {shown:,} of {total:,}. Type more of the name or the "
                "whole domain to narrow it down."
            )
        )
    return blocks


def no_match_blocks(query: str, suggestions: list[CustomerChoice]) -> list[dict]:
    """Nothing matches: suggestions from fuzzy matching, and what to type instead."""
    blocks = [section(f"No customer of yours matches “{escape(query)}”.")]
    if suggestions:
        blocks.append(section("*Did you mean…*"))
        blocks.append(pick_block("subscription_suggestions", suggestions, **PICK_ACTIONS))
    # No example customer here: one that does not exist either would only send them round again.
    blocks.append(
        context("Check the spelling, or type less: one word of the name, or the tenant domain.")
    )
    return blocks


def usage_blocks() -> list[dict]:
    """How to use /subscription, with examples."""
    return [
        section(
            "*`/subscription &lt;customer&gt;`* shows a customer's subscriptions: plan, seats, "
            "price, monthly and annual value, dates, status, billing owner, partner of record and "
            "your commission.\nExamples:\n" + "\n".join(f"• {example}" for example in EXAMPLES)
        )
    ]


def too_long_blocks(length: int) -> list[dict]:
    """The search text cannot be a customer name or domain."""
    return [
        section(
            f"That search is {length:,} characters long; customer names and domains are at most "
            f"{MAX_QUERY_LENGTH} characters. Type part of the name, e.g. {EXAMPLES[0]}"
        )
    ]


def customer_view(customer: Customer) -> CustomerView:
    return CustomerView(
        name=customer.name,
        domain=customer.domain,
        region=customer.region,
        contact_name=customer.contact_name,
        contact_email=customer.contact_email,
    )


def subscription_view(
    row: Subscription, *, partner_id: int, partner_name: str, changes: Sequence[Change] = ()
) -> SubscriptionView:
    # Another partner's name is never shown to this partner.
    if row.partner_of_record_id is None:
        of_record = None
    elif row.partner_of_record_id == partner_id:
        of_record = partner_name
    else:
        of_record = "another partner"
    return SubscriptionView(
        plan_code=row.plan_code,
        seats=row.seats,
        unit_price=row.unit_price,
        billing_cycle=row.billing_cycle,
        start_date=row.start_date,
        renewal_date=row.renewal_date,
        status=row.status,
        billing_owner=row.billing_owner,
        partner_of_record=of_record,
        of_record_is_caller=row.partner_of_record_id == partner_id,
        periods=periods_of(
            start_date=row.start_date, seats=row.seats, unit_price=row.unit_price, changes=changes
        ),
        offer_name=row.offer_name,
    )


def lookup_messages(
    lookup: Lookup,
    *,
    partner: Partner,
    catalogue: Catalogue,
    rule: CommissionRule,
    today: date,
    changes: Mapping[int, Sequence[Change]] | None = None,
    shown: MoneyShown = EVERYTHING,
    freshness: str = "",
) -> list[Message]:
    """Turns what /subscription found into the messages the caller reads: `changes` are the
    found subscriptions' seat changes by id, `shown` what money the caller may see, `freshness`
    where the figures come from."""
    match lookup:
        case Usage():
            return messages("How to use /subscription", usage_blocks())
        case TooLong(length=length):
            return messages("That search is too long", too_long_blocks(length))
        case Choices(query=query, customers=found, total=total):
            text = f"{plural(total, 'customer')} match “{escape(query)}”"
            return messages(text, choices_blocks(query, [choice(c) for c in found], total))
        case NoMatch(query=query, suggestions=suggestions):
            text = f"No customer matches “{escape(query)}”"
            return messages(text, no_match_blocks(query, [choice(c) for c in suggestions]))
        case Found(customer=customer, subscriptions=rows):
            views = [
                subscription_view(
                    row,
                    partner_id=partner.id,
                    partner_name=partner.name,
                    changes=(changes or {}).get(row.id, ()),
                )
                for row in rows
            ]
            blocks = customer_blocks(
                customer_view(customer),
                views,
                partner_name=partner.name,
                time_zone=partner.timezone,
                catalogue=catalogue,
                rule=rule,
                today=today,
                shown=shown,
                freshness=freshness,
            )
            return messages(customer_fallback(customer_view(customer), len(views)), blocks)
    raise TypeError(f"unexpected lookup {lookup!r}")
