"""Deliveries (one reply per Slack delivery) and one live goal per subject and dates.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:45:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "deleted_at IS NULL AND "
# One per kind of subject (NULLs never count as equal): name, subject columns, condition.
INDEXES: tuple[tuple[str, list[str], str], ...] = (
    ("ux_goal_live_rep", ["team_id", "member_id"], "member_id IS NOT NULL"),
    ("ux_goal_live_team", ["team_id"], "team_id IS NOT NULL AND member_id IS NULL"),
    ("ux_goal_live_workspace", [], "team_id IS NULL AND member_id IS NULL"),
)


def upgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("request_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "request_key"),
    )
    _retire_duplicate_goals()
    for name, subject, where in INDEXES:
        columns = ["workspace_id", "scope", *subject, "metric", "starts_on", "ends_on"]
        live = sa.text(LIVE + where)
        op.create_index(
            name, "goal", columns, unique=True, sqlite_where=live, postgresql_where=live
        )


def _retire_duplicate_goals() -> None:
    """Goals set twice at once before this revision: the first stays, the others are
    soft-deleted (the index below would refuse them)."""
    goal = sa.table(
        "goal",
        *(sa.column(name) for name in ("id", "workspace_id", "scope", "team_id", "member_id")),
        *(sa.column(name) for name in ("metric", "starts_on", "ends_on")),
        sa.column("deleted_at", storage.types.UTCDateTime()),
    )
    older = goal.alias("older")
    same = [older.c[name] == goal.c[name] for name in ("workspace_id", "scope", "metric")]
    same += [older.c[name] == goal.c[name] for name in ("starts_on", "ends_on")]
    same += [
        sa.func.coalesce(older.c[name], 0) == sa.func.coalesce(goal.c[name], 0)
        for name in ("team_id", "member_id")
    ]
    first_exists = sa.exists().where(older.c.deleted_at.is_(None), older.c.id < goal.c.id, *same)
    op.get_bind().execute(
        sa.update(goal)
        .where(goal.c.deleted_at.is_(None), first_exists)
        .values(deleted_at=datetime.now(UTC))
    )


def downgrade() -> None:
    for name, _, _ in INDEXES:
        op.drop_index(name, "goal")
    op.drop_table("delivery")
