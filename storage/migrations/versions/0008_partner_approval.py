"""partner approval: a workspace that set itself up waits for the operator

`partner.approved_at` is NULL while a workspace that set itself up with `/partnerbot setup`
(many workspaces, PARTNER_SIGNUP=approval) waits for `python -m bot partner approve`. Every partner
registered before this revision was registered by the operator or under open signup: approved
when it was created.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("partner") as batch:
        batch.add_column(
            sa.Column("approved_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE partner SET approved_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("partner") as batch:
        batch.drop_column("approved_at")
