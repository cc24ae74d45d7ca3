"""seat changes from the day they take effect, and who of a partner sees the money

`seat_change` keeps every change of a subscription's seats or price with the day it took effect,
so that the months before a change keep their value in commission and revenue. It is seeded from
the confirmed orders that changed an existing subscription's seats (their `previous_seats`),
effective on the day of the confirmation in the partner's time zone; changes imported before this
revision were not recorded and cannot be recovered.

`partner.money_for_managers_only`: `none` (everyone sees commission and prices in /subscription,
as before), `commission` or `all` (commission and prices).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 22:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("partner") as batch:
        batch.add_column(
            sa.Column(
                "money_for_managers_only",
                sa.String(length=12),
                nullable=False,
                server_default="none",
            )
        )
    op.create_table(
        "seat_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("seats_before", sa.Integer(), nullable=False),
        sa.Column("seats_after", sa.Integer(), nullable=False),
        sa.Column("unit_price_before", storage.models.Cents(), nullable=False),
        sa.Column("unit_price_after", storage.models.Cents(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["customer_order.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscription.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_seat_change_partner_effective", "seat_change", ["partner_id", "effective_on"]
    )
    op.create_index("ix_seat_change_subscription_id", "seat_change", ["subscription_id"])
    seed_from_confirmed_orders()


WHOLE_NUMBERS = (
    "partner_id",
    "subscription_id",
    "seats_before",
    "seats_after",
    "unit_price_before",
    "unit_price_after",
    "order_id",
)


def seed_from_confirmed_orders() -> None:
    """One change per confirmed order that changed an existing subscription's seats, on the day
    it was confirmed in the partner's time zone (a change on the start day changes no month)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT o.id, o.partner_id, o.subscription_id, o.previous_seats, o.seats, "
            "o.unit_price, o.decided_at, p.timezone, s.start_date "
            "FROM customer_order o JOIN partner p ON p.id = o.partner_id "
            "JOIN subscription s ON s.id = o.subscription_id "
            "WHERE o.state = 'confirmed' AND o.previous_seats IS NOT NULL "
            "AND o.decided_at IS NOT NULL ORDER BY o.decided_at, o.id"
        )
    ).all()
    now = datetime.now(UTC)
    changes = []
    for order_id, partner_id, subscription_id, before, after, price, decided, zone, start in rows:
        decided = decided if isinstance(decided, datetime) else datetime.fromisoformat(decided)
        decided = decided.replace(tzinfo=UTC) if decided.tzinfo is None else decided
        start = start if not isinstance(start, str) else datetime.fromisoformat(start).date()
        effective = decided.astimezone(ZoneInfo(zone or "UTC")).date()
        if effective <= start or before == after:
            continue
        changes.append(
            {
                "partner_id": partner_id,
                "subscription_id": subscription_id,
                "effective_on": effective,
                "seats_before": before,
                "seats_after": after,
                "unit_price_before": price,
                "unit_price_after": price,
                "order_id": order_id,
                "recorded_at": now,
            }
        )
    if changes:
        # Prices stay whole cents, as read; the other columns in their own types.
        table = sa.table(
            "seat_change",
            *(sa.column(name, sa.BigInteger()) for name in WHOLE_NUMBERS),
            sa.column("effective_on", sa.Date()),
            sa.column("recorded_at", storage.models.UTCDateTime()),
        )
        op.bulk_insert(table, changes)


def downgrade() -> None:
    op.drop_index("ix_seat_change_subscription_id", table_name="seat_change")
    op.drop_index("ix_seat_change_partner_effective", table_name="seat_change")
    op.drop_table("seat_change")
    with op.batch_alter_table("partner") as batch:
        batch.drop_column("money_for_managers_only")
