"""Goals say how their target came about (set, split, copy), so a re-split replaces only
the parts a split made and never a goal someone set directly.

Existing goals: a goal with a parent whose creation was audited with a reason (a split's
or a copy's) came from a split; every other goal was set directly. A goal set directly
that an earlier split adopted as its part has a parent but a creation without a reason,
so it counts as set directly, which is what it was.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN with a constant default: no table rebuild on SQLite.
    op.add_column(
        "goal", sa.Column("origin", sa.String(length=8), nullable=False, server_default="set")
    )
    op.execute(
        "UPDATE goal SET origin = 'split' WHERE parent_id IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM auditentry a WHERE a.entity = 'goal' AND a.entity_id = goal.id"
        " AND a.action = 'create' AND a.reason IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_column("goal", "origin")
