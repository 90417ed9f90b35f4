"""Won deals summed per rep, team and day: a period's team or rep sums read a row per rep
and day instead of every deal. Filled from the existing deals.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEAM_DAY = ["workspace_id", "team_id", "day", "owner_id", "won_minor", "won_count"]
OWNER_DAY = ["workspace_id", "owner_id", "day", "team_id", "won_minor", "won_count"]
# As storage/queries/repdays.py computes it, for every workspace at once.
BACKFILL = """
INSERT INTO repday (workspace_id, team_id, owner_id, day, won_minor, won_count)
SELECT workspace_id, team_id, owner_id, close_date, sum(amount_minor), count(*)
FROM deal
WHERE stage = 'won' AND deleted_at IS NULL
GROUP BY workspace_id, team_id, owner_id, close_date
"""


def upgrade() -> None:
    op.create_table(
        "repday",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("won_minor", sa.BigInteger(), nullable=False),
        sa.Column("won_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "team_id", "owner_id", "day"),
    )
    op.execute(BACKFILL)  # before the indexes: built once over the filled table
    op.create_index("ix_repday_team_day", "repday", TEAM_DAY)
    op.create_index("ix_repday_owner_day", "repday", OWNER_DAY)


def downgrade() -> None:
    op.drop_table("repday")
