"""Slack's installation and OAuth state tables under the migrations; uninstalled workspaces.

Until now the OAuth mode created slack_installations, slack_bots and slack_oauth_states at
start (the stores' create_tables()): a database that has them keeps them as they are.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sa.String


def _installations() -> None:
    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", S(32), nullable=False),
        sa.Column("app_id", S(32), nullable=False),
        sa.Column("enterprise_id", S(32), nullable=True),
        sa.Column("enterprise_name", S(200), nullable=True),
        sa.Column("enterprise_url", S(200), nullable=True),
        sa.Column("team_id", S(32), nullable=True),
        sa.Column("team_name", S(200), nullable=True),
        sa.Column("bot_token", S(200), nullable=True),
        sa.Column("bot_id", S(32), nullable=True),
        sa.Column("bot_user_id", S(32), nullable=True),
        sa.Column("bot_scopes", S(1000), nullable=True),
        sa.Column("bot_refresh_token", S(200), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("user_id", S(32), nullable=False),
        sa.Column("user_token", S(200), nullable=True),
        sa.Column("user_scopes", S(1000), nullable=True),
        sa.Column("user_refresh_token", S(200), nullable=True),
        sa.Column("user_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("incoming_webhook_url", S(200), nullable=True),
        sa.Column("incoming_webhook_channel", S(200), nullable=True),
        sa.Column("incoming_webhook_channel_id", S(200), nullable=True),
        sa.Column("incoming_webhook_configuration_url", S(200), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("token_type", S(32), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )


def _bots() -> None:
    op.create_table(
        "slack_bots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", S(32), nullable=False),
        sa.Column("app_id", S(32), nullable=False),
        sa.Column("enterprise_id", S(32), nullable=True),
        sa.Column("enterprise_name", S(200), nullable=True),
        sa.Column("team_id", S(32), nullable=True),
        sa.Column("team_name", S(200), nullable=True),
        sa.Column("bot_token", S(200), nullable=True),
        sa.Column("bot_id", S(32), nullable=True),
        sa.Column("bot_user_id", S(32), nullable=True),
        sa.Column("bot_scopes", S(1000), nullable=True),
        sa.Column("bot_refresh_token", S(200), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"]
    )


def _states() -> None:
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state", S(200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in (
        ("slack_installations", _installations),
        ("slack_bots", _bots),
        ("slack_oauth_states", _states),
    ):
        if name not in existing:
            create()
    # Plain ADD COLUMN (nullable, no default): SQLite adds it in place.
    op.add_column(
        "workspace", sa.Column("uninstalled_at", storage.types.UTCDateTime(), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("workspace", "uninstalled_at")
    # The Slack tables stay: an OAuth install made before 0008 had them too, and dropping
    # them would uninstall every workspace.
