"""Deals and the payments collected on them, each change with its audit entry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import Deal, Payment, utcnow
from storage.queries.audit import save_audited, snapshot
from storage.queries.directory import workspace_of_team


def get_deal(
    session: Session, *, workspace_id: str, number: int, include_deleted: bool = False
) -> Deal | None:
    """The workspace's deal `#number` (the number users see, not the primary key)."""
    deal = session.exec(
        select(Deal).where(Deal.workspace_id == workspace_id, Deal.number == number)
    ).first()
    if deal is None or (deal.deleted_at is not None and not include_deleted):
        return None
    return deal


def add_deal(
    session: Session,
    *,
    deal: Deal,
    actor: str,
    source: str | None = None,
    reason: str | None = None,
) -> Deal:
    save_audited(
        session,
        row=deal,
        entity="deal",
        action="create",
        actor=actor,
        before=None,
        source=source,
        reason=reason,
    )
    return deal


def change_deal(
    session: Session,
    *,
    deal: Deal,
    actor: str,
    action: str,
    changes: dict[str, Any],
    source: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Deal:
    """`now`: the request's clock, so the stage history dates a change as its request."""
    before = snapshot(deal)
    for key, value in changes.items():
        setattr(deal, key, value)
    deal.updated_at = now or utcnow()
    save_audited(
        session,
        row=deal,
        entity="deal",
        action=action,
        actor=actor,
        before=before,
        source=source,
        reason=reason,
    )
    return deal


def team_has_deals(session: Session, *, team_id: int) -> bool:
    query = select(Deal.id).where(
        Deal.workspace_id == workspace_of_team(team_id), Deal.team_id == team_id
    )
    return session.exec(query.limit(1)).first() is not None


def recent_deals(
    session: Session, *, workspace_id: str, owner_id: int, limit: int = 10
) -> Sequence[Deal]:
    return session.exec(
        select(Deal)
        .where(
            Deal.workspace_id == workspace_id,
            Deal.owner_id == owner_id,
            col(Deal.deleted_at).is_(None),
        )
        .order_by(col(Deal.close_date).desc(), col(Deal.id).desc())
        .limit(limit)
    ).all()


def paid_on_deal(session: Session, *, deal_id: int) -> int:
    """Minor units collected so far on a deal."""
    total = session.exec(
        select(func.sum(Payment.amount_minor)).where(
            Payment.deal_id == deal_id, col(Payment.deleted_at).is_(None)
        )
    ).one()
    return int(total or 0)


def add_payment(session: Session, *, payment: Payment, actor: str) -> Payment:
    save_audited(session, row=payment, entity="payment", action="create", actor=actor, before=None)
    return payment
