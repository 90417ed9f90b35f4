"""Each deal's stage history: the funnel counts the stages a deal ever reached, and the
cycle time runs from its first stage to its win. Existing deals get one row, their stage
now at their creation time (the history before this revision was not kept).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
INSERT INTO stagechange (workspace_id, deal_id, stage, changed_at)
SELECT workspace_id, id, stage, created_at FROM deal
"""


def upgrade() -> None:
    op.create_table(
        "stagechange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("changed_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deal.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(BACKFILL)  # before the index: built once over the filled table
    op.create_index(
        "ix_stagechange_deal", "stagechange", ["workspace_id", "deal_id", "changed_at", "stage"]
    )


def downgrade() -> None:
    op.drop_table("stagechange")
