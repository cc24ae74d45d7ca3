"""incident feed mark: how far each incident feed has been read

One row per feed (its URL and tenant, hashed): the newest `lastModifiedDateTime` of the issues
read in full. The next poll asks Microsoft Graph only for issues changed since then (with a
small overlap); no row means the feed has never been read and the whole list is asked for.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_feed_mark",
        sa.Column("feed", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("last_modified_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("feed"),
    )


def downgrade() -> None:
    op.drop_table("incident_feed_mark")
