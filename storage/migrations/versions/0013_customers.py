"""Customers kept from the deals: one row per customer, team and rep with its first won
day (where that rep won it) and its last deal, so new customers and quiet customers read a
few rows instead of every deal of the workspace. Filled from the existing deals.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST_WON_INDEXES = [
    ("ix_customer_first_won", ["workspace_id", "first_won", "team_id", "owner_id", "key"]),
    ("ix_customer_team_first_won", ["workspace_id", "team_id", "first_won", "owner_id", "key"]),
]
OWNER_LAST = ["workspace_id", "team_id", "owner_id", "last_deal", "name"]
# As storage/queries/customers.py computes it, for every workspace at once.
BACKFILL = """
INSERT INTO customer (workspace_id, key, team_id, owner_id, name, first_won, last_deal)
SELECT d.workspace_id, lower(d.customer), d.team_id, d.owner_id, min(d.customer),
       max(CASE WHEN d.stage = 'won' AND d.close_date = f.day THEN d.close_date END),
       max(d.close_date)
FROM deal d
LEFT JOIN (
    SELECT workspace_id, lower(customer) AS key, min(close_date) AS day
    FROM deal WHERE stage = 'won' AND deleted_at IS NULL
    GROUP BY workspace_id, lower(customer)
) f ON f.workspace_id = d.workspace_id AND f.key = lower(d.customer)
WHERE d.deleted_at IS NULL
GROUP BY d.workspace_id, lower(d.customer), d.team_id, d.owner_id
"""


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("first_won", sa.Date(), nullable=True),
        sa.Column("last_deal", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "key", "team_id", "owner_id"),
    )
    first_won = sa.text("first_won IS NOT NULL")
    for name, columns in FIRST_WON_INDEXES:
        op.create_index(
            name, "customer", columns, sqlite_where=first_won, postgresql_where=first_won
        )
    op.create_index("ix_customer_owner_last", "customer", OWNER_LAST)
    op.create_index("ix_deal_customer", "deal", ["workspace_id", sa.text("lower(customer)")])
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_index("ix_deal_customer", table_name="deal")
    op.drop_table("customer")
