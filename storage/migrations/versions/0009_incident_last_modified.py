"""incident last modified: Graph's lastModifiedDateTime of the version stored

`incident.last_modified_at` is the vendor's `lastModifiedDateTime` of the body the incident was
last updated from: a body older than it (a replay, a retried delivery overtaken by a newer one)
changes nothing. NULL for incidents stored before this revision and for partner-declared ones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.add_column(
            sa.Column("last_modified_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("last_modified_at")
