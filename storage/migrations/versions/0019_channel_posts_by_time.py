"""A channel's posts by time: the day's celebrations are counted against the cap from the
channel's notices of the day, not from every deal the channel's teams logged that day.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_sentmessage_channel_created",
        "sentmessage",
        ["workspace_id", "channel_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_sentmessage_channel_created", "sentmessage")
