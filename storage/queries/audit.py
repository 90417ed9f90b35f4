"""The audit trail: a JSON snapshot of a row before and after each change, who and why."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import AuditEntry


def snapshot(row: Any) -> str:
    data = row.model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def audit(
    session: Session,
    *,
    workspace_id: str,
    entity: str,
    entity_id: int,
    action: str,
    actor: str,
    before: str | None,
    after: str | None,
    reason: str | None = None,
) -> None:
    session.add(
        AuditEntry(
            workspace_id=workspace_id,
            entity=entity,
            entity_id=entity_id,
            action=action,
            actor=actor,
            before=before,
            after=after,
            reason=reason,
        )
    )


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
