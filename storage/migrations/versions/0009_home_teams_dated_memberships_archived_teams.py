"""Members on several teams: a home team per member, memberships that end on a date instead
of vanishing (earlier leaderboards keep their rows), and archived teams.

Each member's home team becomes the team Pacer credited their deals to until now: their
first team as rep (by team id), else their first team.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (constant defaults): SQLite adds them in place, no table rebuild.
    op.add_column(
        "membership", sa.Column("home", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("membership", sa.Column("left_on", sa.Date(), nullable=True))
    op.add_column("team", sa.Column("archived_at", storage.types.UTCDateTime(), nullable=True))
    _mark_homes()


def _mark_homes() -> None:
    membership = sa.table(
        "membership",
        sa.column("team_id", sa.Integer()),
        sa.column("member_id", sa.Integer()),
        sa.column("role", sa.String()),
        sa.column("home", sa.Boolean()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(membership.c.member_id, membership.c.team_id, membership.c.role).order_by(
            membership.c.member_id, membership.c.team_id
        )
    ).all()
    first: dict[int, int] = {}
    first_as_rep: dict[int, int] = {}
    for member_id, team_id, role in rows:
        first.setdefault(member_id, team_id)
        if role == "rep":
            first_as_rep.setdefault(member_id, team_id)
    for member_id, team_id in {**first, **first_as_rep}.items():
        bind.execute(
            membership.update()
            .where(membership.c.member_id == member_id, membership.c.team_id == team_id)
            .values(home=True)
        )


def downgrade() -> None:
    op.drop_column("team", "archived_at")
    op.drop_column("membership", "left_on")
    op.drop_column("membership", "home")
