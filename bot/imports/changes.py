"""What importing a file changes in the stored rows: each row new, changed (which fields, before
and after) or unchanged, as column values ready for the database; and the seat changes an import
records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.imports.rules import CustomerRow, SubscriptionRow

# The stored customer columns a re-import may change; the domain identifies the customer.
CUSTOMER_FIELDS = ("name", "name_key", "region")


@dataclass(frozen=True)
class FieldChange:
    """One stored value a re-import changes."""

    name: str  # the stored column
    before: Any
    after: Any


@dataclass(frozen=True)
class RowOutcome:
    """What an import does with one row of its file, for the report it prints."""

    line: int
    what: str  # "customer contoso.onmicrosoft.com", "EXO of contoso.onmicrosoft.com from …"
    outcome: str  # ADDED | CHANGED | UNCHANGED
    fields: tuple[FieldChange, ...] = ()


ADDED = "added"


CHANGED = "changed"


UNCHANGED = "unchanged"


@dataclass
class Changes:
    """What writing a file means for the stored rows, as column values ready for the database."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)  # each with the stored row's id
    unchanged: int = 0
    outcomes: list[RowOutcome] = field(default_factory=list)

    def add(
        self,
        existing: Any,
        values: dict[str, Any],
        *,
        identity: dict[str, Any],
        line: int = 0,
        what: str = "",
        keep: frozenset[str] = frozenset(),
    ) -> None:
        """Counts one row of the file: new (written with its identity), changed (by the stored
        row's id) or unchanged. For a stored row the columns in `keep` (blank in the file)
        stay as they are."""
        if existing is None:
            self.new.append({**values, **identity})
            self.outcomes.append(RowOutcome(line, what, ADDED))
            return
        values = {name: value for name, value in values.items() if name not in keep}
        fields = tuple(
            FieldChange(name, getattr(existing, name), value)
            for name, value in values.items()
            if getattr(existing, name) != value
        )
        if fields:
            self.changed.append({"id": existing.id, **values})
            self.outcomes.append(RowOutcome(line, what, CHANGED, fields))
        else:
            self.unchanged += 1
            self.outcomes.append(RowOutcome(line, what, UNCHANGED))


def customer_changes(
    rows: list[CustomerRow], stored: Mapping[str, Any], *, partner_id: int, sets_timezone: bool
) -> Changes:
    """Sorts a file's customers into new, changed and unchanged against the stored ones by domain;
    without a timezone column (sets_timezone false) the stored time zones are kept, and so is
    every optional value left blank."""
    fields = CUSTOMER_FIELDS + ("contact_name", "contact_email")
    fields += ("timezone",) if sets_timezone else ()
    changes = Changes()
    for row in rows:
        values = {name: getattr(row, name) for name in fields}
        identity = {"partner_id": partner_id, "domain": row.domain, "timezone": row.timezone}
        changes.add(
            stored.get(row.domain), values, identity=identity, line=row.line,
            what=f"customer {row.domain}", keep=row.keep,
        )  # fmt: skip
    return changes


def subscription_changes(
    rows: list[SubscriptionRow],
    stored: Mapping[tuple[int, str, date], Any],
    *,
    partner_id: int,
    customer_ids: Mapping[str, int],
) -> Changes:
    """Sorts a file's subscriptions into new, changed and unchanged against the stored ones by
    (customer id, plan code, start date)."""
    changes = Changes()
    for row in rows:
        customer_id = customer_ids[row.customer_domain]
        # Customer, plan and start date identify the subscription; the rest may change.
        values = {
            "seats": row.seats,
            "unit_price": row.unit_price,
            "billing_cycle": row.billing_cycle,
            "renewal_date": row.renewal_date,
            "status": row.status,
            "billing_owner": row.billing_owner,
            "partner_of_record_id": partner_id if row.partner_of_record else None,
        }
        identity = {
            "partner_id": partner_id,
            "customer_id": customer_id,
            "plan_code": row.plan_code,
            "start_date": row.start_date,
        }
        changes.add(
            stored.get((customer_id, row.plan_code, row.start_date)), values, identity=identity,
            line=row.line, keep=row.keep,
            what=f"{row.plan_code} of {row.customer_domain} from {row.start_date}",
        )  # fmt: skip
    return changes


def imported_seat_changes(
    changed: list[dict[str, Any]], stored: Mapping[tuple[int, str, date], Any], *, on: date
) -> list[dict[str, Any]]:
    """The seat changes an import makes: each changed subscription whose seats or price differ
    from the stored ones changes from the import day on (nothing for one that starts later)."""
    by_id = {subscription.id: subscription for subscription in stored.values()}
    found = []
    for values in changed:
        old = by_id[values["id"]]
        # A blank optional cell keeps the stored value: the row then carries no value for it.
        seats = values.get("seats", old.seats)
        unit_price = values.get("unit_price", old.unit_price)
        if (seats, unit_price) == (old.seats, old.unit_price):
            continue
        if on <= old.start_date:
            continue
        found.append(
            {
                "partner_id": old.partner_id,
                "subscription_id": old.id,
                "effective_on": on,
                "seats_before": old.seats,
                "seats_after": seats,
                "unit_price_before": old.unit_price,
                "unit_price_after": unit_price,
            }
        )
    return found
