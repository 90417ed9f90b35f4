"""Deliveries: each request Slack delivered, claimed before it runs, with its reply."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Delivery
from storage.queries.directory import get_workspace, inserted


def get_delivery(session: Session, *, workspace_id: str, request_key: str) -> Delivery | None:
    return session.exec(
        select(Delivery).where(
            Delivery.workspace_id == workspace_id, Delivery.request_key == request_key
        )
    ).first()


def claim_delivery(session: Session, *, workspace_id: str, request_key: str) -> Delivery | None:
    """Record a delivery before it runs; None when it is recorded already. On PostgreSQL a
    concurrent delivery of the same key waits here until the first one commits (then None)
    or rolls back (then this one runs)."""
    get_workspace(session, workspace_id=workspace_id)
    row = Delivery(workspace_id=workspace_id, request_key=request_key)
    return row if inserted(session, row) else None
