"""orders placed in Partner Center

A connected partner's confirmed order is placed in Partner Center: `customer_order.placement`
("" when the order took effect here only; pending, placed or refused), its stable request id (the
MS-RequestId of each call, so a retry is answered with the first result), the attempts, when the
next one is due and the last failure in words; and the Microsoft Customer Agreement as the
customer accepted it on the page (first and last name, phone, when; the email is the confirmer's).
`partner_center_connection.sealed_user_token`: a partner admin's refresh token (App+User, which
Partner Center's agreement API requires), sealed with PARTNER_CENTER_KEY like the secret.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXTS = (
    ("placement", 10),
    ("placement_request_id", 36),
    ("placement_problem", 500),
    ("mca_first_name", 100),
    ("mca_last_name", 100),
    ("mca_phone", 40),
)


def upgrade() -> None:
    with op.batch_alter_table("customer_order") as batch:
        for name, length in TEXTS:
            batch.add_column(
                sa.Column(name, sa.String(length=length), nullable=False, server_default="")
            )
        batch.add_column(
            sa.Column("placement_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        for name in ("placement_due_at", "mca_accepted_at"):
            batch.add_column(
                sa.Column(name, storage.models.UTCDateTime(timezone=True), nullable=True)
            )
        batch.create_index("ix_customer_order_placement_due_at", ["placement_due_at"])
    with op.batch_alter_table("partner_center_connection") as batch:
        batch.add_column(
            sa.Column("sealed_user_token", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("partner_center_connection") as batch:
        batch.drop_column("sealed_user_token")
    with op.batch_alter_table("customer_order") as batch:
        batch.drop_index("ix_customer_order_placement_due_at")
        for name in ("placement_due_at", "mca_accepted_at", "placement_attempts"):
            batch.drop_column(name)
        for name, _ in reversed(TEXTS):
            batch.drop_column(name)
