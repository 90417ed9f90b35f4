"""A covering index for team sums by date, in place of the stage-first one.

With `stage` before `close_date` and without `deleted_at`, every leaderboard sum had to
read each deal's row; this index answers it from the index alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 23:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ["workspace_id", "team_id", "stage", "close_date", "owner_id", "amount_minor"]
NEW = ["workspace_id", "team_id", "close_date", "stage", "deleted_at", "owner_id", "amount_minor"]


def upgrade() -> None:
    op.drop_index("ix_deal_team_stage_close", table_name="deal")
    op.create_index("ix_deal_team_close_cover", "deal", NEW)


def downgrade() -> None:
    op.drop_index("ix_deal_team_close_cover", table_name="deal")
    op.create_index("ix_deal_team_stage_close", "deal", OLD)
