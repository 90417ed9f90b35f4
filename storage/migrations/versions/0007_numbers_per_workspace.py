"""Deals, goals and feedback are numbered per workspace (`#1`, `#2` in each).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NUMBERED = ("deal", "goal", "feedback")


def upgrade() -> None:
    op.create_table(
        "counter",
        sa.Column("workspace_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"]),
        sa.PrimaryKeyConstraint("workspace_id", "kind"),
    )
    for table in NUMBERED:
        # Plain ADD COLUMN with a constant default: no table rebuild on SQLite.
        op.add_column(table, sa.Column("number", sa.Integer(), nullable=False, server_default="0"))
        _number_existing(table)
        op.create_index(f"ux_{table}_number", table, ["workspace_id", "number"], unique=True)


def _number_existing(table: str) -> None:
    """Existing rows get 1, 2, ... per workspace in the order they were written (id order),
    and the workspace's counter continues from the last."""
    bind = op.get_bind()
    rows = sa.table(table, sa.column("id"), sa.column("workspace_id"), sa.column("number"))
    position = (
        sa.select(
            rows.c.id,
            sa.func.row_number()
            .over(partition_by=rows.c.workspace_id, order_by=rows.c.id)
            .label("n"),
        )
    ).subquery()
    bind.execute(sa.update(rows).where(rows.c.id == position.c.id).values(number=position.c.n))
    counter = sa.table("counter", sa.column("workspace_id"), sa.column("kind"), sa.column("last"))
    bind.execute(
        sa.insert(counter).from_select(
            ["workspace_id", "kind", "last"],
            sa.select(rows.c.workspace_id, sa.literal(table), sa.func.max(rows.c.number)).group_by(
                rows.c.workspace_id
            ),
        )
    )


def downgrade() -> None:
    for table in NUMBERED:
        op.drop_index(f"ux_{table}_number", table)
        op.drop_column(table, "number")
    op.drop_table("counter")
