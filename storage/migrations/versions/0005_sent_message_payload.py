"""Sent messages keep their content, so a failed or interrupted send can be retried.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): SQLite adds it in place; a batch operation
    # would rebuild the table, which breaks databases that hold data.
    op.add_column("sentmessage", sa.Column("payload", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("sentmessage", "payload")
