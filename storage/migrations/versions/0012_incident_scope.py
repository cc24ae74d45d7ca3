"""incident scope: a partner's narrowing of a vendor incident that names no regions

`incident_scope` holds, per incident and partner, the regions that partner says the incident hit
(Graph's serviceHealthIssue carries none). `incident.declared_by` keeps who declared a partner's
own outage, out of the impact text that customers read.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_scope",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("regions", sa.String(length=500), nullable=False),
        sa.Column("set_by", sa.String(length=32), nullable=False),
        sa.Column("set_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "partner_id"),
    )
    with op.batch_alter_table("incident") as batch:
        batch.add_column(
            sa.Column("declared_by", sa.String(length=32), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("declared_by")
    op.drop_table("incident_scope")
