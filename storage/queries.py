"""Small keyword-only queries that take a session. Aggregation happens in SQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal,
    or_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.periods import Period
from storage.models import (
    OPEN_STAGES,
    AuditEntry,
    Deal,
    Feedback,
    Goal,
    Holiday,
    Member,
    Membership,
    Payment,
    SentMessage,
    Team,
    Workspace,
    utcnow,
)

# --- workspace, members, teams -------------------------------------------------------------


def get_workspace(session: Session, *, workspace_id: str) -> Workspace:
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        ws = Workspace(id=workspace_id)
        session.add(ws)
        session.flush()
    return ws


def get_member(session: Session, *, workspace_id: str, user_id: str) -> Member | None:
    return session.exec(
        select(Member).where(Member.workspace_id == workspace_id, Member.user_id == user_id)
    ).first()


def ensure_member(
    session: Session,
    *,
    workspace_id: str,
    user_id: str,
    name: str = "",
    admin: bool = False,
) -> Member:
    """The member for a Slack user, created on first sight; names are refreshed when known."""
    get_workspace(session, workspace_id=workspace_id)
    member = get_member(session, workspace_id=workspace_id, user_id=user_id)
    if member is None:
        member = Member(workspace_id=workspace_id, user_id=user_id, name=name or user_id)
        session.add(member)
    elif name and member.name != name and (not member.name or member.name == user_id):
        member.name = name
    if admin and not member.is_admin:
        member.is_admin = True
    session.flush()
    return member


def find_team(session: Session, *, workspace_id: str, name: str) -> Team | None:
    return session.exec(
        select(Team).where(
            Team.workspace_id == workspace_id, func.lower(Team.name) == name.strip().lower()
        )
    ).first()


def list_teams(session: Session, *, workspace_id: str) -> Sequence[Team]:
    return session.exec(
        select(Team).where(Team.workspace_id == workspace_id).order_by(col(Team.name))
    ).all()


def memberships_of(session: Session, *, member_id: int) -> list[tuple[Team, str]]:
    rows = session.exec(
        select(Team, Membership.role)
        .join(Membership, col(Membership.team_id) == col(Team.id))
        .where(Membership.member_id == member_id)
        .order_by(col(Team.id))
    ).all()
    return [(team, role) for team, role in rows]


def team_of(session: Session, *, member_id: int) -> Team | None:
    """The team a member sells for (first as rep, else first managed)."""
    teams = memberships_of(session, member_id=member_id)
    for team, role in teams:
        if role == "rep":
            return team
    return teams[0][0] if teams else None


def team_members(session: Session, *, team_id: int, role: str | None = None) -> list[Member]:
    query = (
        select(Member)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Membership.team_id == team_id, Member.active == True)  # noqa: E712
    )
    if role:
        query = query.where(Membership.role == role)
    return list(session.exec(query.order_by(col(Member.name))).all())


def set_membership(session: Session, *, team_id: int, member_id: int, role: str) -> None:
    row = session.get(Membership, (team_id, member_id))
    if row is None:
        session.add(Membership(team_id=team_id, member_id=member_id, role=role))
    else:
        row.role = role
    session.flush()


def remove_membership(session: Session, *, team_id: int, member_id: int) -> bool:
    row = session.get(Membership, (team_id, member_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def manages(session: Session, *, member_id: int, team_id: int) -> bool:
    row = session.get(Membership, (team_id, member_id))
    return row is not None and row.role == "manager"


def holidays(session: Session, *, workspace_id: str, team_id: int | None) -> frozenset[date]:
    rows = session.exec(
        select(col(Holiday.day)).where(
            Holiday.workspace_id == workspace_id,
            or_(col(Holiday.team_id).is_(None), col(Holiday.team_id) == team_id),
        )
    ).all()
    return frozenset(rows)


# --- audit ----------------------------------------------------------------------------------


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


# --- deals ----------------------------------------------------------------------------------


def get_deal(
    session: Session, *, workspace_id: str, deal_id: int, include_deleted: bool = False
) -> Deal | None:
    deal = session.get(Deal, deal_id)
    if deal is None or deal.workspace_id != workspace_id:
        return None
    if deal.deleted_at is not None and not include_deleted:
        return None
    return deal


def deal_by_request(session: Session, *, workspace_id: str, request_key: str) -> Deal | None:
    return session.exec(
        select(Deal).where(Deal.workspace_id == workspace_id, Deal.request_key == request_key)
    ).first()


def add_audited(session: Session, *, row: Deal | Payment, entity: str, actor: str) -> None:
    """Insert a row with its "create" audit entry."""
    session.add(row)
    session.flush()
    assert row.id is not None
    audit(
        session,
        workspace_id=row.workspace_id,
        entity=entity,
        entity_id=row.id,
        action="create",
        actor=actor,
        before=None,
        after=snapshot(row),
    )


def add_deal(session: Session, *, deal: Deal, actor: str) -> Deal:
    add_audited(session, row=deal, entity="deal", actor=actor)
    return deal


def change_deal(
    session: Session, *, deal: Deal, actor: str, action: str, changes: dict[str, Any]
) -> Deal:
    assert deal.id is not None
    before = snapshot(deal)
    for key, value in changes.items():
        setattr(deal, key, value)
    deal.updated_at = utcnow()
    session.add(deal)
    session.flush()
    audit(
        session,
        workspace_id=deal.workspace_id,
        entity="deal",
        entity_id=deal.id,
        action=action,
        actor=actor,
        before=before,
        after=snapshot(deal),
    )
    return deal


def team_has_deals(session: Session, *, team_id: int) -> bool:
    return session.exec(select(Deal.id).where(Deal.team_id == team_id).limit(1)).first() is not None


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


WON_LIVE: tuple[ColumnElement[bool], ...] = (
    col(Deal.stage) == "won",
    col(Deal.deleted_at).is_(None),
)


def _live_won(workspace_id: str, start: date, end: date) -> list[ColumnElement[bool]]:
    return [
        col(Deal.workspace_id) == workspace_id,
        *WON_LIVE,
        col(Deal.close_date) >= start,
        col(Deal.close_date) <= end,
    ]


def _scope(team_id: int | None, owner_ids: Iterable[int] | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if team_id is not None:
        where.append(col(Deal.team_id) == team_id)
    if owner_ids is not None:
        where.append(col(Deal.owner_id).in_(list(owner_ids)))
    return where


@cache
def _totals_statement(by_team: bool, by_owners: bool) -> Executable:
    """Built once per shape: the leaderboard runs it on every request."""
    query = select(col(Deal.owner_id), func.sum(Deal.amount_minor), func.count()).where(
        col(Deal.workspace_id) == bindparam("workspace_id"),
        *WON_LIVE,
        col(Deal.close_date) >= bindparam("start"),
        col(Deal.close_date) <= bindparam("end"),
    )
    if by_team:
        query = query.where(col(Deal.team_id) == bindparam("team_id"))
    if by_owners:
        query = query.where(col(Deal.owner_id).in_(bindparam("owner_ids", expanding=True)))
    return query.group_by(col(Deal.owner_id))


def totals_by_owner(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None = None,
    owner_ids: Iterable[int] | None = None,
) -> dict[int, tuple[int, int]]:
    """owner id -> (won amount in minor units, won deal count) in [start, end]."""
    owners = None if owner_ids is None else list(owner_ids)
    statement = _totals_statement(team_id is not None, owners is not None)
    params = {
        "workspace_id": workspace_id,
        "start": start,
        "end": end,
        "team_id": team_id,
        "owner_ids": owners,
    }
    rows = session.connection().execute(statement, params).all()
    return {int(row[0]): (int(row[1] or 0), int(row[2])) for row in rows}


def daily_totals(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    metric: str = "revenue",
    team_id: int | None = None,
    owner_ids: Iterable[int] | None = None,
) -> dict[date, int]:
    """Per day: won amount (minor units), won deals, payments collected or new customers,
    for progress charts."""
    if metric == "collected":
        return _daily_collected(session, workspace_id, start, end, team_id, owner_ids)
    if metric == "new_customers":
        return _daily_new_customers(session, workspace_id, start, end, team_id, owner_ids)
    measure = func.sum(Deal.amount_minor) if metric == "revenue" else func.count()
    query = (
        select(col(Deal.close_date), measure)
        .where(*_live_won(workspace_id, start, end), *_scope(team_id, owner_ids))
        .group_by(col(Deal.close_date))
    )
    return {day: int(value or 0) for day, value in session.exec(query).all()}


def new_customers(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None = None,
    owner_ids: Iterable[int] | None = None,
) -> int:
    """Customers whose first won deal in the workspace falls in [start, end] and is in scope."""
    customer = func.lower(Deal.customer)
    live_won = (col(Deal.workspace_id) == workspace_id, *WON_LIVE)
    first = (
        select(customer.label("customer"), func.min(Deal.close_date).label("first_day"))
        .where(*live_won)
        .group_by(customer)
        .subquery()
    )
    query = (
        select(func.count(func.distinct(customer)))
        .join(first, and_(customer == first.c.customer, col(Deal.close_date) == first.c.first_day))
        .where(*live_won, first.c.first_day >= start, first.c.first_day <= end)
        .where(*_scope(team_id, owner_ids))
    )
    return int(session.exec(query).one())


def open_pipeline(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None = None,
    owner_ids: Iterable[int] | None = None,
) -> dict[str, int]:
    """stage -> open amount (minor units) expected to close in [start, end]."""
    query = (
        select(Deal.stage, func.sum(Deal.amount_minor))
        .where(
            Deal.workspace_id == workspace_id,
            col(Deal.stage).in_(OPEN_STAGES),
            col(Deal.close_date) >= start,
            col(Deal.close_date) <= end,
            col(Deal.deleted_at).is_(None),
            *_scope(team_id, owner_ids),
        )
        .group_by(col(Deal.stage))
    )
    return {stage: int(total or 0) for stage, total in session.exec(query).all()}


# --- goals ----------------------------------------------------------------------------------


def live_goals(
    session: Session,
    *,
    workspace_id: str,
    period: Period | None = None,
    scope: str | None = None,
    team_id: int | None = None,
    member_ids: Iterable[int] | None = None,
    covering: date | None = None,
) -> Sequence[Goal]:
    query = select(Goal).where(Goal.workspace_id == workspace_id, col(Goal.deleted_at).is_(None))
    if period is not None:  # by dates: a label's meaning changes with the fiscal calendar
        query = query.where(Goal.starts_on == period.start, Goal.ends_on == period.end)
    if scope is not None:
        query = query.where(Goal.scope == scope)
    if team_id is not None:
        query = query.where(Goal.team_id == team_id)
    if member_ids is not None:
        query = query.where(col(Goal.member_id).in_(list(member_ids)))
    if covering is not None:
        query = query.where(col(Goal.starts_on) <= covering, col(Goal.ends_on) >= covering)
    return session.exec(query.order_by(col(Goal.starts_on), col(Goal.id))).all()


def get_goal(session: Session, *, workspace_id: str, goal_id: int) -> Goal | None:
    goal = session.get(Goal, goal_id)
    if goal is None or goal.workspace_id != workspace_id or goal.deleted_at is not None:
        return None
    return goal


def save_goal(
    session: Session, *, goal: Goal, actor: str, before: str | None, reason: str | None = None
) -> Goal:
    goal.updated_at = utcnow()
    session.add(goal)
    session.flush()
    assert goal.id is not None
    audit(
        session,
        workspace_id=goal.workspace_id,
        entity="goal",
        entity_id=goal.id,
        action="create" if before is None else "update",
        actor=actor,
        before=before,
        after=snapshot(goal),
        reason=reason,
    )
    return goal


# --- feedback and sent messages ------------------------------------------------------------


def get_feedback(session: Session, *, workspace_id: str, feedback_id: int) -> Feedback | None:
    row = session.get(Feedback, feedback_id)
    return row if row is not None and row.workspace_id == workspace_id else None


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
        goals = select(Goal.id).where(col(Goal.team_id).in_(list(team_ids)))
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


def workspace_admins(session: Session, *, workspace_id: str) -> list[Member]:
    return list(
        session.exec(
            select(Member)
            .where(
                Member.workspace_id == workspace_id,
                Member.is_admin == True,  # noqa: E712
                Member.active == True,  # noqa: E712
            )
            .order_by(col(Member.id))
        ).all()
    )


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


def claim_message(session: Session, *, workspace_id: str, key: str) -> SentMessage | None:
    """Record a message before it is sent; None when the key was already recorded."""
    get_workspace(session, workspace_id=workspace_id)
    row = SentMessage(workspace_id=workspace_id, key=key, attempts=1)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def sent_message(session: Session, *, workspace_id: str, key: str) -> SentMessage | None:
    return session.exec(
        select(SentMessage).where(SentMessage.workspace_id == workspace_id, SentMessage.key == key)
    ).first()


def mark_message(
    session: Session,
    *,
    message_id: int,
    status: str,
    channel_id: str | None = None,
    ts: str | None = None,
) -> None:
    row = session.get(SentMessage, message_id)
    if row is None:
        return
    row.status = status
    if channel_id is not None:
        row.channel_id = channel_id
    if ts is not None:
        row.ts = ts
    if status == "sent":
        row.sent_at = utcnow()
    session.add(row)
    session.flush()


# --- goal hierarchy and payments -----------------------------------------------------------


def goals_within(session: Session, *, workspace_id: str, start: date, end: date) -> Sequence[Goal]:
    """Live goals whose whole period lies in [start, end]: a goal and its possible parts."""
    return session.exec(
        select(Goal)
        .where(
            Goal.workspace_id == workspace_id,
            col(Goal.deleted_at).is_(None),
            col(Goal.starts_on) >= start,
            col(Goal.ends_on) <= end,
        )
        .order_by(col(Goal.starts_on), col(Goal.id))
    ).all()


def live_children(session: Session, *, workspace_id: str, parent_id: int) -> Sequence[Goal]:
    return session.exec(
        select(Goal)
        .where(
            Goal.workspace_id == workspace_id,
            Goal.parent_id == parent_id,
            col(Goal.deleted_at).is_(None),
        )
        .order_by(col(Goal.id))
    ).all()


def delete_goal(session: Session, *, goal: Goal, actor: str, reason: str) -> None:
    """Soft-delete a goal, with an audit entry saying why."""
    assert goal.id is not None
    before = snapshot(goal)
    goal.deleted_at = utcnow()
    goal.updated_at = goal.deleted_at
    session.add(goal)
    session.flush()
    audit(
        session,
        workspace_id=goal.workspace_id,
        entity="goal",
        entity_id=goal.id,
        action="delete",
        actor=actor,
        before=before,
        after=snapshot(goal),
        reason=reason,
    )


def paid_on_deal(session: Session, *, deal_id: int) -> int:
    """Minor units collected so far on a deal."""
    total = session.exec(
        select(func.sum(Payment.amount_minor)).where(
            Payment.deal_id == deal_id, col(Payment.deleted_at).is_(None)
        )
    ).one()
    return int(total or 0)


def add_payment(session: Session, *, payment: Payment, actor: str) -> Payment:
    add_audited(session, row=payment, entity="payment", actor=actor)
    return payment


def collected(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None = None,
    owner_ids: Iterable[int] | None = None,
) -> int:
    """Minor units paid in [start, end] on live deals in scope (a deleted deal's payments
    stop counting with it)."""
    query = (
        select(func.sum(Payment.amount_minor))
        .join(Deal, col(Deal.id) == col(Payment.deal_id))
        .where(
            Payment.workspace_id == workspace_id,
            col(Payment.deleted_at).is_(None),
            col(Deal.deleted_at).is_(None),
            col(Payment.paid_on) >= start,
            col(Payment.paid_on) <= end,
        )
    )
    if team_id is not None:
        query = query.where(col(Payment.team_id) == team_id)
    if owner_ids is not None:
        query = query.where(col(Payment.owner_id).in_(list(owner_ids)))
    return int(session.exec(query).one() or 0)


def _daily_collected(
    session: Session,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None,
    owner_ids: Iterable[int] | None,
) -> dict[date, int]:
    query = (
        select(col(Payment.paid_on), func.sum(Payment.amount_minor))
        .join(Deal, col(Deal.id) == col(Payment.deal_id))
        .where(
            Payment.workspace_id == workspace_id,
            col(Payment.deleted_at).is_(None),
            col(Deal.deleted_at).is_(None),
            col(Payment.paid_on) >= start,
            col(Payment.paid_on) <= end,
        )
        .group_by(col(Payment.paid_on))
    )
    if team_id is not None:
        query = query.where(col(Payment.team_id) == team_id)
    if owner_ids is not None:
        query = query.where(col(Payment.owner_id).in_(list(owner_ids)))
    return {day: int(total or 0) for day, total in session.exec(query).all()}


def _daily_new_customers(
    session: Session,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None,
    owner_ids: Iterable[int] | None,
) -> dict[date, int]:
    """Per day, the customers whose first won deal in the workspace is that day's, in scope."""
    customer = func.lower(Deal.customer)
    live_won = (col(Deal.workspace_id) == workspace_id, *WON_LIVE)
    first = (
        select(customer.label("customer"), func.min(Deal.close_date).label("first_day"))
        .where(*live_won)
        .group_by(customer)
        .subquery()
    )
    query = (
        select(first.c.first_day, func.count(func.distinct(customer)))
        .join(first, and_(customer == first.c.customer, col(Deal.close_date) == first.c.first_day))
        .where(*live_won, first.c.first_day >= start, first.c.first_day <= end)
        .where(*_scope(team_id, owner_ids))
        .group_by(first.c.first_day)
    )
    return {day: int(n) for day, n in session.exec(query).all()}


# --- scheduled jobs ---------------------------------------------------------------------------
# Each aggregates for a whole team at once, so a daily run costs a few queries per team.


def all_teams(session: Session) -> Sequence[Team]:
    """Every team of every workspace: the scheduler runs them all."""
    return session.exec(select(Team).order_by(col(Team.workspace_id), col(Team.id))).all()


def team_roster(session: Session, *, team_id: int) -> list[tuple[Member, str]]:
    """Active members of a team with their role, by name."""
    query = (
        select(Member, Membership.role)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Membership.team_id == team_id, Member.active == True)  # noqa: E712
        .order_by(col(Member.name), col(Member.id))
    )
    return [(member, role) for member, role in session.exec(query).all()]


def open_deals_of_team(
    session: Session,
    *,
    workspace_id: str,
    team_id: int,
    owner_ids: Iterable[int],
    start: date,
    end: date,
    limit_per_owner: int = 3,
) -> dict[int, list[tuple[str, int]]]:
    """owner id -> their biggest open deals closing in [start, end], as (customer, amount in
    minor units). The date range keeps the read on the team's close-date index."""
    query = (
        select(Deal.owner_id, Deal.customer, Deal.amount_minor)
        .where(
            Deal.workspace_id == workspace_id,
            Deal.team_id == team_id,
            col(Deal.close_date) >= start,
            col(Deal.close_date) <= end,
            col(Deal.stage).in_(OPEN_STAGES),
            col(Deal.deleted_at).is_(None),
            col(Deal.owner_id).in_(list(owner_ids)),
        )
        .order_by(col(Deal.owner_id), col(Deal.amount_minor).desc(), col(Deal.id))
    )
    found: dict[int, list[tuple[str, int]]] = {}
    for owner, customer, amount in session.exec(query).all():
        deals = found.setdefault(owner, [])
        if len(deals) < limit_per_owner:
            deals.append((customer, int(amount)))
    return found


def quiet_customers_of_team(
    session: Session, *, workspace_id: str, team_id: int, since: date, before: date
) -> dict[int, list[tuple[str, date]]]:
    """owner id -> customers they won from since `since` but have had no deal with after
    `before`, as (customer, last close date), longest quiet first."""
    last = func.max(Deal.close_date)
    query = (
        select(Deal.owner_id, func.min(Deal.customer), last)
        .where(
            Deal.workspace_id == workspace_id,
            Deal.team_id == team_id,
            col(Deal.deleted_at).is_(None),
            col(Deal.close_date) >= since,
        )
        .group_by(col(Deal.owner_id), func.lower(Deal.customer))
        .having(last < before)
        .order_by(col(Deal.owner_id), last)
    )
    found: dict[int, list[tuple[str, date]]] = {}
    for owner, customer, day in session.exec(query).all():
        found.setdefault(int(owner), []).append((str(customer), day))
    return found


def biggest_won_deal(
    session: Session, *, workspace_id: str, team_id: int, start: date, end: date
) -> Deal | None:
    return session.exec(
        select(Deal)
        .where(*_live_won(workspace_id, start, end), col(Deal.team_id) == team_id)
        .order_by(col(Deal.amount_minor).desc(), col(Deal.close_date), col(Deal.id))
        .limit(1)
    ).first()


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


# --- celebrations ---------------------------------------------------------------------------

LIVE_NOTICE = ("pending", "sent")  # a notice claimed or out; "failed"/"retracted" are not


def _celebrate_key() -> ColumnElement[str]:
    """The key of a deal's celebration notice, "celebrate:{id}", built in SQL for a join."""
    return literal("celebrate:", String) + cast(Deal.id, String)


def twice_median_won(
    session: Session, *, team_id: int, start: date, end: date, exclude_id: int, least: int
) -> int | None:
    """Twice the median live won deal closed in [start, end], the deal `exclude_id` left out;
    None with fewer than `least` deals. Two bounded queries: a count, then the middle rows."""
    where: list[ColumnElement[bool]] = [
        col(Deal.team_id) == team_id,
        col(Deal.stage) == "won",
        col(Deal.deleted_at).is_(None),
        col(Deal.close_date) >= start,
        col(Deal.close_date) <= end,
        col(Deal.id) != exclude_id,
    ]
    count = session.exec(select(func.count()).select_from(Deal).where(*where)).one()
    n = int(count or 0)
    if n < max(least, 1):
        return None
    middle = session.exec(
        select(Deal.amount_minor)
        .where(*where)
        .order_by(col(Deal.amount_minor))
        .offset((n - 1) // 2)
        .limit(2 - n % 2)
    ).all()
    return 2 * middle[0] if n % 2 else middle[0] + middle[1]


def celebrated_between(
    session: Session, *, workspace_id: str, channel_id: str, since: datetime, until: datetime
) -> int:
    """How many deals logged in [since, until) by teams posting to `channel_id` have a live
    celebration notice: the day's count against the cap."""
    found = session.exec(
        select(func.count())
        .select_from(Deal)
        .join(Team, col(Team.id) == Deal.team_id)
        .join(
            SentMessage,
            and_(
                col(SentMessage.workspace_id) == col(Deal.workspace_id),
                col(SentMessage.key) == _celebrate_key(),
            ),
        )
        .where(
            Deal.workspace_id == workspace_id,
            Team.channel_id == channel_id,
            col(SentMessage.status).in_(LIVE_NOTICE),
            Deal.created_at >= since,
            Deal.created_at < until,
        )
    ).one()
    return int(found or 0)


def uncelebrated_big_deals(
    session: Session, *, team_id: int, least: int, since: datetime, until: datetime
) -> Sequence[Deal]:
    """The team's live won deals of at least `least`, logged in [since, until), that have no
    live celebration of their own (the day's digest), biggest first."""
    return session.exec(
        select(Deal)
        .outerjoin(
            SentMessage,
            and_(
                col(SentMessage.workspace_id) == col(Deal.workspace_id),
                col(SentMessage.key) == _celebrate_key(),
                col(SentMessage.status).in_(LIVE_NOTICE),
            ),
        )
        .where(
            Deal.team_id == team_id,
            Deal.stage == "won",
            col(Deal.deleted_at).is_(None),
            Deal.amount_minor >= least,
            Deal.created_at >= since,
            Deal.created_at < until,
            col(SentMessage.id).is_(None),
        )
        .order_by(col(Deal.amount_minor).desc(), col(Deal.id))
        .limit(50)
    ).all()


def reopen_message(session: Session, *, workspace_id: str, key: str) -> SentMessage | None:
    """Claim again a notice that was retracted (a restored deal): one caller wins the row."""
    result = session.execute(
        update(SentMessage)
        .where(
            col(SentMessage.workspace_id) == workspace_id,
            col(SentMessage.key) == key,
            col(SentMessage.status) == "retracted",
        )
        .values(status="pending", channel_id=None, ts=None, attempts=SentMessage.attempts + 1)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    row = sent_message(session, workspace_id=workspace_id, key=key)
    if row is not None:
        session.refresh(row)
    return row


# --- retries -----------------------------------------------------------------------------------


def unsent_messages(
    session: Session, *, stale_before: datetime, max_attempts: int
) -> list[tuple[int, int]]:
    """(id, attempts) of notices worth sending again: failed ones, and pending ones whose
    last try began before `stale_before` (the sender died mid-send). Only rows that carry
    their payload can be resent."""
    last_try = or_(
        and_(col(SentMessage.sent_at).is_(None), col(SentMessage.created_at) < stale_before),
        col(SentMessage.sent_at) < stale_before,
    )
    rows = session.exec(
        select(SentMessage.id, SentMessage.attempts)
        .where(
            col(SentMessage.payload).is_not(None),
            col(SentMessage.attempts) < max_attempts,
            or_(
                col(SentMessage.status) == "failed",
                and_(col(SentMessage.status) == "pending", last_try),
            ),
        )
        .order_by(col(SentMessage.id))
    ).all()
    return [(message_id, attempts) for message_id, attempts in rows if message_id is not None]


def claim_retry(
    session: Session, *, message_id: int, seen: int, now: datetime
) -> SentMessage | None:
    """Take one unsent notice for a retry: the UPDATE matches only while attempts is still
    what the caller saw, so of two instances retrying at once exactly one wins the row."""
    result = session.execute(
        update(SentMessage)
        .where(
            col(SentMessage.id) == message_id,
            col(SentMessage.attempts) == seen,
            col(SentMessage.status).in_(("failed", "pending")),
        )
        .values(status="pending", attempts=SentMessage.attempts + 1, sent_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    row = session.get(SentMessage, message_id)
    if row is not None:
        session.refresh(row)
    return row
