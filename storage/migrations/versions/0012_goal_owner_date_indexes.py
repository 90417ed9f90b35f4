"""Goals indexed by owner and dates, in place of the index by period label.

/progress, /goal and the leaderboards read one rep's goals, or one team's own goals and
its reps', in a date range: these indexes lead with the owner, so such a read never
touches the workspace's other goals. The old ix_goal_lookup led with the period label,
which no query filters by (goals are looked up by their dates).

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02 14:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ["workspace_id", "period", "scope", "team_id", "member_id"]
# A rep's goals by end date first: the ones not over yet (covering today, or from today
# on) are one range of the index, however many goals the rep had before.
MEMBER_DATES = ["workspace_id", "member_id", "ends_on", "starts_on"]
TEAM_DATES = ["workspace_id", "team_id", "scope", "starts_on", "ends_on"]


def upgrade() -> None:
    op.create_index("ix_goal_member_dates", "goal", MEMBER_DATES)
    op.create_index("ix_goal_team_dates", "goal", TEAM_DATES)
    op.drop_index("ix_goal_lookup", table_name="goal")


def downgrade() -> None:
    op.create_index("ix_goal_lookup", "goal", OLD)
    op.drop_index("ix_goal_team_dates", table_name="goal")
    op.drop_index("ix_goal_member_dates", table_name="goal")
