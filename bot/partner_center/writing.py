"""What a sync writes: a partner's customers and subscriptions brought to what Partner Center
says, changing only what differs. Customers are matched by Partner Center's id, else by tenant
domain (an imported customer is adopted); subscriptions by Partner Center's id, else an imported
one of the same customer, plan and start date is adopted. A synced subscription Partner Center
no longer lists is cancelled; nothing is deleted."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import fold
from bot.catalogue import Catalogue
from bot.partner_center.offers import RemoteCustomer, RemoteSubscription
from storage import partner_center as store
from storage.imports import subscriptions_by_key
from storage.models import Customer, Subscription

SOURCE = "partner_center"
# Compared with what is stored; anything else of a row (its price, its billing owner) stays.
SYNCED_FIELDS = (
    "customer_id",
    "plan_code",
    "offer_name",
    "seats",
    "billing_cycle",
    "term",
    "start_date",
    "renewal_date",
    "commitment_end_date",
    "auto_renew",
    "status",
    "reseller_id",
    "partner_of_record_id",
    "source",
)


@dataclass
class SyncReport:
    customers_added: int = 0
    customers_changed: int = 0
    added: int = 0
    changed: int = 0
    cancelled: int = 0
    unchanged: int = 0

    def describe(self) -> str:
        return (
            f"{self.customers_added:,} customers added, {self.customers_changed:,} changed; "
            f"subscriptions: {self.added:,} added, {self.changed:,} changed, "
            f"{self.cancelled:,} cancelled, {self.unchanged:,} unchanged"
        )


async def write_sync(
    session: AsyncSession,
    *,
    partner_id: int,
    own_mpn_id: str,
    customers: list[RemoteCustomer],
    subscriptions: dict[str, list[RemoteSubscription]],
    catalogue: Catalogue,
) -> SyncReport:
    """Brings the partner's rows to what Partner Center says; the caller commits."""
    report = SyncReport()
    now = datetime.now(UTC)
    local = await match_customers(session, partner_id, customers, report, now)
    of_record = await store.partner_ids_by_mpn(session=session)
    stored = await store.synced_subscriptions(session=session, partner_id=partner_id)
    by_id = {row.external_id: row for row in stored}
    imported = await imported_by_key(session, partner_id)
    seen: set[str] = set()
    for customer_id, remote_rows in subscriptions.items():
        for remote in remote_rows:
            seen.add(remote.id)
            values = synced_values(
                remote,
                customer_id=local[customer_id].id,
                partner_of_record_id=partner_of_record(
                    remote.reseller_id,
                    partner_id=partner_id,
                    own_mpn_id=own_mpn_id,
                    known=of_record,
                ),
            )
            row = by_id.get(remote.id) or imported.pop(
                (values["customer_id"], remote.plan_code, remote.start_date), None
            )
            if row is None:
                session.add(new_subscription(remote, values, partner_id, catalogue, now))
                report.added += 1
            elif apply(row, {**values, "external_id": remote.id}, now):
                session.add(row)
                report.changed += 1
            else:
                report.unchanged += 1
    for row in stored:
        if row.external_id not in seen and row.status != "cancelled":
            row.status, row.updated_at = "cancelled", now
            session.add(row)
            report.cancelled += 1
    await session.flush()
    return report


async def match_customers(
    session: AsyncSession,
    partner_id: int,
    customers: list[RemoteCustomer],
    report: SyncReport,
    now: datetime,
) -> dict[str, Customer]:
    """Finds or adds each of Partner Center's customers; returns them by Partner Center id."""
    rows = await store.customers(session=session, partner_id=partner_id)
    by_external = {row.external_id: row for row in rows if row.external_id}
    by_domain = {row.domain: row for row in rows}
    found: dict[str, Customer] = {}
    for remote in customers:
        row = by_external.get(remote.id)
        if row is None:
            candidate = by_domain.get(remote.domain)
            if candidate is not None and candidate.external_id is None:
                row = candidate
        if row is None:
            # Two tenants never share a domain in Partner Center; a domain taken here anyway
            # (a clash with an imported customer that is another tenant) gets the id beside it.
            domain = remote.domain
            if domain in by_domain:
                domain = f"{domain[:200]}#{remote.id}"
            row = Customer(
                partner_id=partner_id, name=remote.name, name_key=fold(remote.name),
                domain=domain, region="", external_id=remote.id, created_at=now, updated_at=now,
            )  # fmt: skip
            by_domain[domain] = row
            report.customers_added += 1
        elif row.external_id != remote.id or row.name != remote.name:
            row.external_id, row.name, row.name_key = remote.id, remote.name, fold(remote.name)
            row.updated_at = now
            report.customers_changed += 1
        session.add(row)
        by_external[remote.id] = row
        found[remote.id] = row
    await session.flush()  # gives the new customers their ids
    return found


async def imported_by_key(session: AsyncSession, partner_id: int) -> dict[tuple, Subscription]:
    """The partner's imported subscriptions (no Partner Center id) by customer, plan, start."""
    rows = await subscriptions_by_key(session=session, partner_id=partner_id)
    return {key: row for key, row in rows.items() if row.external_id is None}


def partner_of_record(
    reseller_id: str, *, partner_id: int, own_mpn_id: str, known: dict[str, int]
) -> int | None:
    """Who earns the commission: the connected partner when it sold the subscription itself
    (no reseller, or its own MPN id), another connected partner when that one is the indirect
    reseller of record, nobody here for a reseller the bot does not know."""
    if not reseller_id or reseller_id == own_mpn_id:
        return partner_id
    return known.get(reseller_id)


def synced_values(
    remote: RemoteSubscription, *, customer_id: int, partner_of_record_id: int | None
) -> dict:
    values = {f.name: getattr(remote, f.name) for f in fields(remote) if f.name != "id"}
    return {
        **values,
        "customer_id": customer_id,
        "partner_of_record_id": partner_of_record_id,
        "source": SOURCE,
    }


def apply(row: Subscription, values: dict, now: datetime) -> bool:
    """Sets what differs; tells whether anything did."""
    changed = False
    for name in (*SYNCED_FIELDS, "external_id"):
        if getattr(row, name) != values[name]:
            setattr(row, name, values[name])
            changed = True
    if changed:
        row.updated_at = now
    return changed


def new_subscription(
    remote: RemoteSubscription, values: dict, partner_id: int, catalogue: Catalogue, now: datetime
) -> Subscription:
    # Partner Center's subscriptions carry no price: the catalogue's list price, or 0.00 for an
    # offer that is not in the catalogue (shown by its name).
    plan = catalogue.get(remote.plan_code)
    return Subscription(
        partner_id=partner_id,
        external_id=remote.id,
        unit_price=plan.list_price if plan else Decimal("0.00"),
        billing_owner="partner",
        created_at=now,
        updated_at=now,
        **values,
    )
