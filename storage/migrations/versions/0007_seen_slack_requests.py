"""the Slack requests already acted on, so that a replay or a retry is acted on once

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_slack_request",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("seen_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    # The clean-up deletes by age.
    op.create_index("ix_seen_slack_request_seen_at", "seen_slack_request", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_slack_request_seen_at", table_name="seen_slack_request")
    op.drop_table("seen_slack_request")
