"""The audit trail: a JSON snapshot of a row before and after each change, who and why."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert
from sqlmodel import Session, col, select

from storage.models import AuditEntry, Deal, Goal, Payment, utcnow
from storage.queries.flushed import table_of


def snapshot(row: Any) -> str:
    data = row.model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


AUDIT = table_of(AuditEntry)
# Core, built once: as an ORM object the entry cost a second flush (with every flush
# listener's upkeep) on each /deal, for a row nothing reads back in the same request.
_INSERT = insert(AUDIT).values(
    {c.name: bindparam(c.name, type_=c.type) for c in AUDIT.columns if c.name != "id"}
)


def save_audited(
    session: Session,
    *,
    row: Deal | Goal | Payment,
    entity: str,
    action: str,
    actor: str,
    before: str | None,
    reason: str | None = None,
    source: str | None = None,
) -> None:
    """Write a row with its audit entry: `before` is the snapshot taken ahead of the change
    (None for a new row), the row as written now is `after`."""
    session.add(row)
    session.flush()  # a new row gets its id here
    assert row.id is not None
    entry = {
        "workspace_id": row.workspace_id,
        "entity": entity,
        "entity_id": row.id,
        "action": action,
        "actor": actor,
        "at": utcnow(),
        "before": before,
        "after": snapshot(row),
        "reason": reason,
        "source": source,
    }
    session.connection().execute(_INSERT, entry)


def audit_trail(
    session: Session, *, workspace_id: str, entity: str, entity_id: int
) -> Sequence[AuditEntry]:
    return session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.workspace_id == workspace_id,
            AuditEntry.entity == entity,
            AuditEntry.entity_id == entity_id,
        )
        .order_by(col(AuditEntry.id))
    ).all()


def last_audit_id(session: Session, *, workspace_id: str, entity: str, entity_id: int) -> int:
    session.flush()
    found = session.exec(
        select(func.max(AuditEntry.id)).where(
            AuditEntry.workspace_id == workspace_id,
            AuditEntry.entity == entity,
            AuditEntry.entity_id == entity_id,
        )
    ).one()
    return int(found or 0)
