"""The import flows: read a file, check every row, then write it whole in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.catalogue import BUILT_IN, Catalogue
from bot.errors import UnknownPartner, UserError
from bot.imports.changes import (
    UNCHANGED,
    Changes,
    FieldChange,
    RowOutcome,
    customer_changes,
    imported_seat_changes,
    subscription_changes,
)
from bot.imports.rules import parse_customers, parse_subscriptions
from bot.imports.table import ImportFailed, decode
from bot.zones import today_in
from storage import customers as stored_customers
from storage import imports as stored
from storage import partners as stored_partners
from storage import seat_changes
from storage.db import Sessions
from storage.models import Partner
from storage.partner_center import mark_imported


@dataclass(frozen=True)
class ImportReport:
    kind: str  # "customers" | "subscriptions"
    added: int
    updated: int
    unchanged: int
    outcomes: tuple[RowOutcome, ...] = field(default=(), compare=False)

    def describe(self) -> str:
        """Says what the import did, e.g. "120 customers: 5 added, 3 updated, 112 unchanged"."""
        total = self.added + self.updated + self.unchanged
        kind = self.kind if total != 1 else self.kind.removesuffix("s")
        return (
            f"{total:,} {kind}: {self.added:,} added, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged"
        )

    def details(self) -> list[str]:
        """One line per row added or changed (with each changed field, before and after), in
        the file's order; unchanged rows are only counted."""
        return [
            f"line {outcome.line}: {outcome.outcome} {outcome.what}"
            + "".join(f"; {shown_change(change)}" for change in outcome.fields)
            for outcome in self.outcomes
            if outcome.outcome != UNCHANGED
        ]


def shown_change(change: FieldChange) -> str:
    """A changed field as the file names it, e.g. "timezone Europe/Berlin → (blank)"."""
    if change.name == "partner_of_record_id":
        before, after = ("yes" if value else "no" for value in (change.before, change.after))
        return f"partner_of_record {before} → {after}"
    before, after = (
        "(blank)" if value in (None, "") else str(value) for value in (change.before, change.after)
    )
    return f"{change.name} {before} → {after}"


async def import_customers(sessions: Sessions, *, team_id: str, path: Path) -> ImportReport:
    """Loads or updates a partner's customers from a CSV file: every row, or none."""
    data = read_file(path)
    try:
        async with sessions() as session, session.begin():
            partner = await partner_of(session, team_id)
            parsed = parse_customers(decode(data, source=path.name))
            if parsed.problems:
                raise ImportFailed(path.name, parsed.problems)
            existing = await stored_customers.by_domain(session=session, partner_id=partner.id)
            changes = customer_changes(
                parsed.rows,
                existing,
                partner_id=partner.id,
                sets_timezone="timezone" in parsed.columns,
            )
            await stored.insert_customers(session=session, values=changes.new)
            await stored.update_customers(session=session, values=changes.changed)
    except IntegrityError:
        raise written_meanwhile(path) from None
    return report("customers", changes)


async def import_subscriptions(
    sessions: Sessions,
    *,
    team_id: str,
    path: Path,
    catalogue: Catalogue = BUILT_IN,
    today: date | None = None,
) -> ImportReport:
    """Loads or updates the subscriptions of a partner's customers from a CSV file: every row, or
    none. `today` (default: today in the partner's time zone) bounds the plausible dates, and is
    the day from which changed seats or prices count (the days before keep the stored ones)."""
    data = read_file(path)
    try:
        async with sessions() as session, session.begin():
            partner = await partner_of(session, team_id)
            customer_ids = await stored.customer_ids_by_domain(
                session=session, partner_id=partner.id
            )
            today = today or today_in(partner.timezone)
            parsed = parse_subscriptions(
                decode(data, source=path.name),
                customer_domains=customer_ids,
                catalogue=catalogue,
                today=today,
            )
            if parsed.problems:
                raise ImportFailed(path.name, parsed.problems)
            existing = await stored.subscriptions_by_key(session=session, partner_id=partner.id)
            changes = subscription_changes(
                parsed.rows, existing, partner_id=partner.id, customer_ids=customer_ids
            )
            # Read before the update, which refreshes the stored rows it changes.
            seat_history = imported_seat_changes(changes.changed, existing, on=today)
            await stored.insert_subscriptions(session=session, values=changes.new)
            await stored.update_subscriptions(session=session, values=changes.changed)
            await seat_changes.insert_rows(session=session, values=seat_history)
            await mark_imported(session=session, partner_id=partner.id, at=datetime.now(UTC))
    except IntegrityError:
        raise written_meanwhile(path) from None
    return report("subscriptions", changes)


def report(kind: str, changes: Changes) -> ImportReport:
    """What an import wrote, row by row."""
    # name_key follows name; showing it would say the same change twice.
    outcomes = tuple(
        replace(outcome, fields=tuple(f for f in outcome.fields if f.name != "name_key"))
        for outcome in changes.outcomes
    )
    return ImportReport(
        kind, len(changes.new), len(changes.changed), changes.unchanged, outcomes=outcomes
    )


def read_file(path: Path) -> bytes:
    """Reads the file to import, or says why it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise ImportFailed(path.name, [f"cannot read {path}: {error.strerror}"]) from None


async def partner_of(session: AsyncSession, team_id: str) -> Partner:
    """Returns the partner of a workspace, or refuses an unknown one."""
    partner = await stored_partners.get_by_team_id(session=session, team_id=team_id)
    if partner is None:
        raise UnknownPartner(team_id)
    return partner


def written_meanwhile(path: Path) -> UserError:
    """Explains a unique-key clash: another import added the same rows while this one ran."""
    return UserError(
        f"{path.name}: nothing imported; another import added the same rows at the same time. "
        "Run the import again."
    )
