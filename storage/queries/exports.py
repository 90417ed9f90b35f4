"""The rows an export writes, read in chunks off an index: a workspace's deals and goals
in the order of their numbers (ux_deal_number, ux_goal_number), its payments in the order
of their ids. Each chunk is a query of its own that starts after the last row of the one
before (keyset, never OFFSET), so a million deals are read in constant memory and in
time proportional to the rows.

Which rows: those of a team in `team_ids` (None: every team), or owned by `owner_id`; in
[start, end] by close date (deals), payment date (payments) or overlapping dates (goals);
the deleted ones only `with_deleted`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.models import Deal, Goal, Member, Payment, Team

CHUNK = 2000


@dataclass(frozen=True)
class Rows:
    """Which rows (commands.types.ExportQuery, as storage reads it)."""

    workspace_id: str
    start: date | None
    end: date | None
    team_ids: Sequence[int] | None
    owner_id: int | None
    with_deleted: bool


def member_names(session: Session, *, workspace_id: str) -> dict[int, tuple[str, str]]:
    """Every member of the workspace: id -> (name, Slack user id). A row per member, not per
    deal: a workspace has thousands of members at most."""
    rows = session.exec(
        select(Member.id, Member.name, Member.user_id).where(Member.workspace_id == workspace_id)
    ).all()
    return {int(i or 0): (name, user) for i, name, user in rows}


def team_rows(session: Session, *, workspace_id: str) -> dict[int, Team]:
    rows = session.exec(select(Team).where(Team.workspace_id == workspace_id)).all()
    return {int(t.id or 0): t for t in rows}


def _scope(team: Any, owner: Any, team_ids: Sequence[int] | None, owner_id: int | None) -> Any:
    if team_ids is None:
        return true()
    parts: list[ColumnElement[bool]] = []
    if team_ids:
        parts.append(col(team).in_(list(team_ids)))
    if owner_id is not None:
        parts.append(owner == owner_id)
    return or_(*parts) if parts else false()


def export_deals(
    session: Session,
    *,
    rows: Rows,
) -> Iterator[Deal]:
    """The deals, by number, a chunk at a time."""
    where = [
        Deal.workspace_id == rows.workspace_id,
        _scope(Deal.team_id, Deal.owner_id, rows.team_ids, rows.owner_id),
    ]
    if rows.start is not None:
        where.append(col(Deal.close_date) >= rows.start)
    if rows.end is not None:
        where.append(col(Deal.close_date) <= rows.end)
    if not rows.with_deleted:
        where.append(col(Deal.deleted_at).is_(None))
    last = -1
    while True:
        chunk = session.exec(
            select(Deal)
            .where(*where, col(Deal.number) > last)
            .order_by(col(Deal.number))
            .limit(CHUNK)
        ).all()
        for deal in chunk:
            yield deal
            session.expunge(deal)  # nothing kept in the session's identity map
        if len(chunk) < CHUNK:
            return
        last = chunk[-1].number


def export_goals(
    session: Session,
    *,
    rows: Rows,
) -> Iterator[tuple[Goal, int | None]]:
    """The goals, by number, each with its parent's number."""
    parent = aliased(Goal)
    where = [
        Goal.workspace_id == rows.workspace_id,
        _scope(Goal.team_id, Goal.member_id, rows.team_ids, rows.owner_id),
    ]
    if rows.start is not None:
        where.append(col(Goal.ends_on) >= rows.start)
    if rows.end is not None:
        where.append(col(Goal.starts_on) <= rows.end)
    if not rows.with_deleted:
        where.append(col(Goal.deleted_at).is_(None))
    last = -1
    while True:
        chunk = session.exec(
            select(Goal, parent.number)
            .outerjoin(parent, col(parent.id) == col(Goal.parent_id))
            .where(*where, col(Goal.number) > last)
            .order_by(col(Goal.number))
            .limit(CHUNK)
        ).all()
        for goal, parent_number in chunk:
            yield goal, parent_number
            session.expunge(goal)
        if len(chunk) < CHUNK:
            return
        last = chunk[-1][0].number


def export_payments(
    session: Session,
    *,
    rows: Rows,
) -> Iterator[tuple[Payment, Deal]]:
    """The payments, by id, each with its deal (a payment of a deleted deal counts as
    deleted: the collected sums leave it out)."""
    where = [
        Payment.workspace_id == rows.workspace_id,
        _scope(Payment.team_id, Payment.owner_id, rows.team_ids, rows.owner_id),
    ]
    if rows.start is not None:
        where.append(col(Payment.paid_on) >= rows.start)
    if rows.end is not None:
        where.append(col(Payment.paid_on) <= rows.end)
    if not rows.with_deleted:
        where.append(col(Payment.deleted_at).is_(None))
        where.append(col(Deal.deleted_at).is_(None))
    last = -1
    while True:
        chunk = session.exec(
            select(Payment, Deal)
            .join(Deal, col(Deal.id) == Payment.deal_id)
            .where(*where, col(Payment.id) > last)
            .order_by(col(Payment.id))
            .limit(CHUNK)
        ).all()
        for payment, deal in chunk:
            yield payment, deal
            session.expunge(payment)
            if deal in session:
                session.expunge(deal)
        if len(chunk) < CHUNK:
            return
        last = int(chunk[-1][0].id or 0)
