"""Members can turn Pacer's direct messages off; teams cap big-deal posts per day.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 23:58:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite adds a column with a constant default in place, without the
    # table rebuild a batch operation would do.
    op.add_column(
        "member", sa.Column("notify", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "team",
        sa.Column("celebrations_per_day", sa.Integer(), nullable=False, server_default="3"),
    )


def downgrade() -> None:
    op.drop_column("team", "celebrations_per_day")
    op.drop_column("member", "notify")
