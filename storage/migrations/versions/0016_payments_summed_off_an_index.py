"""Collected payments summed off an index: the payment index covers what the sums read, and
the few deleted deals have an index of their own, so no payment or deal row is read.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYMENT_COVER = ["workspace_id", "team_id", "paid_on", "deleted_at", "owner_id", "deal_id"]
DELETED = sa.text("deleted_at IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_payment_team_paid_cover", "payment", [*PAYMENT_COVER, "amount_minor"])
    op.drop_index("ix_payment_team_paid", "payment")
    op.create_index(
        "ix_deal_deleted",
        "deal",
        ["workspace_id", "deleted_at", "id"],
        sqlite_where=DELETED,
        postgresql_where=DELETED,
    )


def downgrade() -> None:
    op.drop_index("ix_deal_deleted", "deal")
    op.create_index("ix_payment_team_paid", "payment", ["workspace_id", "team_id", "paid_on"])
    op.drop_index("ix_payment_team_paid_cover", "payment")
