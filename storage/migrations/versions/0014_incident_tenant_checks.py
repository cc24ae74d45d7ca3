"""incident tenant checks: what each customer's own service health said of a vendor incident

One row per incident and customer of a connected partner: `confirmed` (its service health lists
the issue), `not_listed` (Graph answered 404 in its tenant) or `unknown` (with why: refused,
throttled, unavailable, no_tenant), and when it was asked.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_tenant_check",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("result", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("checked_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "customer_id"),
    )
    op.create_index(
        "ix_incident_tenant_check_partner_id", "incident_tenant_check", ["partner_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_incident_tenant_check_partner_id", table_name="incident_tenant_check")
    op.drop_table("incident_tenant_check")
