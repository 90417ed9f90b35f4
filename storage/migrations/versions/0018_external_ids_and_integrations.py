"""Deals that come from a CRM: the CRM's record id on the deal (unique per workspace, so a
file imported twice or a webhook sent twice writes the deal once), where an audit entry's
change came from, and the integration tokens a CRM's webhook authenticates with.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_EXTERNAL = sa.text("external_id IS NOT NULL")
LIVE = sa.text("revoked_at IS NULL")


def upgrade() -> None:
    # Plain ALTER TABLE on both databases: a batch copy of `deal` would lose its expression
    # index on lower(customer), which SQLAlchemy cannot reflect.
    op.add_column("deal", sa.Column("external_id", sa.String(length=120), nullable=True))
    op.create_index(
        "ux_deal_external",
        "deal",
        ["workspace_id", "external_id"],
        unique=True,
        sqlite_where=HAS_EXTERNAL,
        postgresql_where=HAS_EXTERNAL,
    )
    op.add_column("auditentry", sa.Column("source", sa.String(length=16), nullable=True))
    op.create_table(
        "integration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        "ux_integration_live_name",
        "integration",
        ["workspace_id", "name"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    op.drop_table("integration")
    op.drop_column("auditentry", "source")
    op.drop_index("ux_deal_external", "deal")
    op.drop_column("deal", "external_id")
