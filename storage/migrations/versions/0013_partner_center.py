"""partner center: live subscriptions from a partner's Partner Center

`partner_center_connection` holds each connected partner's app (tenant, client id, the client
secret sealed with PARTNER_CENTER_KEY), the schedule's claim and the last sync's outcome.
Subscriptions say where they come from (`source`: import | partner_center) and carry what Partner
Center says of them (its id, offer name, term, commitment end, auto-renew, the indirect reseller
of record); customers carry Partner Center's customer id. The CSV key (customer, plan, start
date) now holds only for rows without a Partner Center id: Partner Center may list the same plan
twice from one day. `partner.subscriptions_imported_at` dates the last CSV import.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_EXTERNAL_ID = sa.text("external_id IS NULL")


def upgrade() -> None:
    op.create_table(
        "partner_center_connection",
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sealed_secret", sa.Text(), nullable=False),
        sa.Column("mpn_id", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("connected_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("connected_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_sync_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_synced_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("problem", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("problem_since", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("partner_id"),
    )
    op.create_index(
        "ix_partner_center_connection_next_sync_at",
        "partner_center_connection",
        ["next_sync_at"],
        unique=False,
    )
    with op.batch_alter_table("partner") as batch:
        batch.add_column(
            sa.Column(
                "subscriptions_imported_at",
                storage.models.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("customer") as batch:
        batch.add_column(
            sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.create_index(
            "uq_customer_partner_external", ["partner_id", "external_id"], unique=True
        )
    with op.batch_alter_table("subscription") as batch:
        batch.drop_constraint("uq_subscription_customer_plan_start", type_="unique")
        batch.add_column(
            sa.Column("source", sa.String(16), nullable=False, server_default="import")
        )
        batch.add_column(
            sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(sa.Column("offer_name", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("term", sa.String(8), nullable=False, server_default=""))
        batch.add_column(sa.Column("commitment_end_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("auto_renew", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("reseller_id", sa.String(20), nullable=False, server_default=""))
    op.create_index(
        "uq_subscription_customer_plan_start",
        "subscription",
        ["customer_id", "plan_code", "start_date"],
        unique=True,
        sqlite_where=NO_EXTERNAL_ID,
        postgresql_where=NO_EXTERNAL_ID,
    )
    op.create_index(
        "uq_subscription_partner_external",
        "subscription",
        ["partner_id", "external_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_subscription_partner_external", table_name="subscription")
    op.drop_index("uq_subscription_customer_plan_start", table_name="subscription")
    op.execute("DELETE FROM subscription WHERE external_id IS NOT NULL")
    with op.batch_alter_table("subscription") as batch:
        for column in (
            "reseller_id", "auto_renew", "commitment_end_date", "term", "offer_name",
            "external_id", "source",
        ):  # fmt: skip
            batch.drop_column(column)
        batch.create_unique_constraint(
            "uq_subscription_customer_plan_start", ["customer_id", "plan_code", "start_date"]
        )
    with op.batch_alter_table("customer") as batch:
        batch.drop_index("uq_customer_partner_external")
        batch.drop_column("external_id")
    with op.batch_alter_table("partner") as batch:
        batch.drop_column("subscriptions_imported_at")
    op.drop_index("ix_partner_center_connection_next_sync_at", "partner_center_connection")
    op.drop_table("partner_center_connection")
