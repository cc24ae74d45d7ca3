"""outbox indexes for claiming in order at scale

The claim walks pending rows in id order and stops after a batch, instead of sorting every due
row on each claim (11,000 pending rows during a fan-out); the check that a thread's earlier
messages have gone looks up (parent_key, state, id) instead of every row of the thread.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 03:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_outbox_message_due", table_name="outbox_message")
    op.drop_index("ix_outbox_message_parent_key", table_name="outbox_message")
    op.create_index("ix_outbox_message_state_id", "outbox_message", ["state", "id"])
    op.create_index(
        "ix_outbox_message_parent_state", "outbox_message", ["parent_key", "state", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_message_parent_state", table_name="outbox_message")
    op.drop_index("ix_outbox_message_state_id", table_name="outbox_message")
    op.create_index("ix_outbox_message_parent_key", "outbox_message", ["parent_key"])
    op.create_index("ix_outbox_message_due", "outbox_message", ["state", "next_attempt_at"])
