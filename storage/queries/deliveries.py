"""Deliveries: each request Slack delivered, claimed before it runs, with its reply."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, col, select

from storage.models import Delivery, utcnow
from storage.queries.directory import get_workspace
from storage.queries.flushed import table_of, upsert_for


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
    conn = session.connection()
    values = {"ws": workspace_id, "key": request_key, "at": utcnow()}
    found = conn.execute(_claiming(conn.dialect.name), values).scalar()
    return int(found) if found is not None else None


DELIVERIES = table_of(Delivery)


@cache
def _claiming(dialect: str) -> Any:
    """The claim, built once per dialect: Core on the table, with bound parameters, so a
    request neither builds its SQL again nor goes through the ORM's bulk insert."""
    return (
        upsert_for(dialect)(DELIVERIES)
        .values(
            workspace_id=bindparam("ws"),
            request_key=bindparam("key"),
            created_at=bindparam("at", type_=DELIVERIES.c.created_at.type),
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "request_key"])
        .returning(DELIVERIES.c.id)
    )


_ANSWER = (
    update(DELIVERIES)
    .where(DELIVERIES.c.id == bindparam("delivery"))
    .values(reply=bindparam("reply", type_=DELIVERIES.c.reply.type))
)


def answer_delivery(session: Session, *, delivery_id: int, reply: str) -> None:
    """Keep the reply a retry of the delivery is answered with."""
    session.connection().execute(_ANSWER, {"delivery": delivery_id, "reply": reply})


def drop_delivery(session: Session, *, delivery_id: int) -> None:
    """Forget the claim (a form was opened: its submission is the answer)."""
    session.execute(delete(Delivery).where(col(Delivery.id) == delivery_id))
