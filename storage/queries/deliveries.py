"""Deliveries: each request Slack delivered, claimed before it runs, with its reply."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.models import Delivery, utcnow
from storage.queries.directory import get_workspace


def get_delivery(session: Session, *, workspace_id: str, request_key: str) -> Delivery | None:
    return session.exec(
        select(Delivery).where(
            Delivery.workspace_id == workspace_id, Delivery.request_key == request_key
        )
    ).first()


def claim_delivery(session: Session, *, workspace_id: str, request_key: str) -> int | None:
    """Record a delivery before it runs: its row id, or None when it is recorded already.
    One statement (INSERT ... ON CONFLICT DO NOTHING), no savepoint: on PostgreSQL a
    concurrent delivery of the same key waits in it until the first one commits (then
    None) or rolls back (then this one runs)."""
    get_workspace(session, workspace_id=workspace_id)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Delivery)
        .values(workspace_id=workspace_id, request_key=request_key, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["workspace_id", "request_key"])
        .returning(col(Delivery.id))
    )
    found = session.execute(statement).scalar()
    return int(found) if found is not None else None


def answer_delivery(session: Session, *, delivery_id: int, reply: str) -> None:
    """Keep the reply a retry of the delivery is answered with."""
    session.execute(update(Delivery).where(col(Delivery.id) == delivery_id).values(reply=reply))


def drop_delivery(session: Session, *, delivery_id: int) -> None:
    """Forget the claim (a form was opened: its submission is the answer)."""
    session.execute(delete(Delivery).where(col(Delivery.id) == delivery_id))
