"""A rep's feedback on a target and a manager's answer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.models import Feedback, Goal, Member, utcnow


def get_feedback(session: Session, *, workspace_id: str, number: int) -> Feedback | None:
    """The workspace's feedback `#number` (the number users see, not the primary key)."""
    return session.exec(
        select(Feedback).where(Feedback.workspace_id == workspace_id, Feedback.number == number)
    ).first()


def feedback_list(
    session: Session,
    *,
    workspace_id: str,
    status: str | None = None,
    member_id: int | None = None,
    team_ids: Iterable[int] | None = None,
    limit: int = 20,
) -> Sequence[Feedback]:
    """Newest first; `team_ids` keeps feedback on those teams' goals."""
    query = select(Feedback).where(Feedback.workspace_id == workspace_id)
    if status is not None:
        query = query.where(Feedback.status == status)
    if member_id is not None:
        query = query.where(Feedback.member_id == member_id)
    if team_ids is not None:
        goals = select(Goal.id).where(
            Goal.workspace_id == workspace_id, col(Goal.team_id).in_(list(team_ids))
        )
        query = query.where(col(Feedback.goal_id).in_(goals))
    return session.exec(query.order_by(col(Feedback.id).desc()).limit(limit)).all()


def settle_feedback(
    session: Session,
    *,
    workspace_id: str,
    feedback_id: int,
    status: str,
    answered_by: str,
    answer: str | None,
    new_target: int | None,
) -> bool:
    """Close open feedback in one conditional UPDATE: True for the one caller that did it.

    Two managers answering at once both run this; the row lock (PostgreSQL) or the write
    lock (SQLite, BEGIN IMMEDIATE) makes the second see status != 'open' and change nothing.
    """
    result = session.connection().execute(
        update(Feedback)
        .where(
            col(Feedback.id) == feedback_id,
            col(Feedback.workspace_id) == workspace_id,
            col(Feedback.status) == "open",
        )
        .values(
            status=status,
            answered_by=answered_by,
            answered_at=utcnow(),
            answer=answer,
            new_target=new_target,
        )
    )
    won = result.rowcount == 1
    row = session.get(Feedback, feedback_id)
    if row is not None:
        session.refresh(row)  # the identity map still holds the row as it was
    return won


def open_feedback_of_team(
    session: Session, *, workspace_id: str, team_id: int, created_before: datetime
) -> list[tuple[Feedback, Goal, Member]]:
    """Unanswered feedback on the team's goals written before a moment, with goal and rep."""
    query = (
        select(Feedback, Goal, Member)
        .join(Goal, col(Goal.id) == col(Feedback.goal_id))
        .join(Member, col(Member.id) == col(Feedback.member_id))
        .where(
            Feedback.workspace_id == workspace_id,
            Feedback.status == "open",
            Goal.team_id == team_id,
            col(Goal.deleted_at).is_(None),
            col(Feedback.created_at) < created_before,
        )
        .order_by(col(Feedback.id))
    )
    return [(f, g, m) for f, g, m in session.exec(query).all()]
