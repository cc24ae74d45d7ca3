"""Test data built through the product's own functions and tables."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from bot.arguments import fold
from bot.partners.flows import add_partner, registration
from storage.db import Sessions
from storage.models import Customer, Partner, Subscription

_numbers = itertools.count(1)

# The built-in catalogue's plan codes in its order, typed out: the contract's five, then today's
# Microsoft 365 plans.
EVERY_PLAN_CODE = (
    "BPOS-S", "EXO", "SPO", "OCO", "OLM",
    "EXO-P1", "M365-BB", "M365-BS", "M365-BP", "O365-E3", "M365-E3", "M365-E5",
)  # fmt: skip


async def make_partner(
    sessions: Sessions, *, name: str = "Northwind Cloud", team_id: str | None = None,
    timezone: str = "Europe/Berlin", managers: str | None = None,
) -> Partner:  # fmt: skip
    number = next(_numbers)
    return await add_partner(
        sessions,
        registration(
            name=name,
            team_id=team_id or f"T0TEST{number:03d}",
            alert_channel=f"C0ALERT{number:03d}",
            manager_channel=f"C0MGR{number:03d}",
            orders_channel=None,
            timezone=timezone,
            managers=managers,
        ),
    )


async def make_customer(
    sessions: Sessions, partner: Partner, *, name: str, domain: str | None = None,
    region: str = "Europe", contact_name: str = "Jane Doe", contact_email: str = "jane@example.com",
) -> Customer:  # fmt: skip
    domain = domain or f"customer{next(_numbers)}.onmicrosoft.com"
    customer = Customer(
        partner_id=partner.id,
        name=name,
        name_key=fold(name),
        domain=domain.lower(),
        region=region,
        contact_name=contact_name,
        contact_email=contact_email,
    )
    async with sessions() as session:
        session.add(customer)
        await session.commit()
    return customer


async def make_subscription(
    sessions: Sessions, customer: Customer, *, plan_code: str = "EXO", seats: int = 10,
    unit_price: str = "5.00", billing_cycle: str = "annual", start_date: date,
    renewal_date: date, status: str = "active", billing_owner: str = "partner",
    of_record: bool = True,
) -> Subscription:  # fmt: skip
    subscription = Subscription(
        partner_id=customer.partner_id,
        customer_id=customer.id,
        plan_code=plan_code,
        seats=seats,
        unit_price=Decimal(unit_price),
        billing_cycle=billing_cycle,
        start_date=start_date,
        renewal_date=renewal_date,
        status=status,
        billing_owner=billing_owner,
        partner_of_record_id=customer.partner_id if of_record else None,
    )
    async with sessions() as session:
        session.add(subscription)
        await session.commit()
    return subscription
