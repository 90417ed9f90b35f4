"""Integration tokens for the CRM webhook (POST /integrations/deals): only the token's
SHA-256 is kept, and a live name is unique per workspace (ux_integration_live_name)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.models import Integration
from storage.queries.directory import get_workspace, inserted

# last_used_at is refreshed at most this often: a CRM sending every second is not a write
# a second, and a delivery sent again writes nothing at all within it.
TOUCH_EVERY = timedelta(minutes=1)


def live_integration(session: Session, *, workspace_id: str, name: str) -> Integration | None:
    """The workspace's unrevoked integration of that name (names compare exactly)."""
    return session.exec(
        select(Integration).where(
            Integration.workspace_id == workspace_id,
            Integration.name == name,
            col(Integration.revoked_at).is_(None),
        )
    ).first()


def integration_by_hash(session: Session, *, token_hash: str) -> Integration | None:
    """The integration whose token has this SHA-256 (hex), revoked or not."""
    return session.exec(select(Integration).where(Integration.token_hash == token_hash)).first()


def live_integrations(session: Session, *, workspace_id: str) -> Sequence[Integration]:
    return session.exec(
        select(Integration)
        .where(Integration.workspace_id == workspace_id, col(Integration.revoked_at).is_(None))
        .order_by(col(Integration.name))
    ).all()


def add_integration(session: Session, *, integration: Integration) -> bool:
    """Insert it; False when a live integration of the name was made meanwhile."""
    get_workspace(session, workspace_id=integration.workspace_id)
    return inserted(session, integration)


def revoke_integration(session: Session, *, integration: Integration, at: datetime) -> None:
    integration.revoked_at = at
    session.add(integration)
    session.flush()


def touch_integration(session: Session, *, integration: Integration, at: datetime) -> bool:
    """Record a use (at most once per TOUCH_EVERY); True if it wrote."""
    last = integration.last_used_at
    if last is not None and at - last < TOUCH_EVERY:
        return False
    integration.last_used_at = at
    session.add(integration)
    session.flush()
    return True
