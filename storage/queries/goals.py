"""Goals and their hierarchy; goals are soft-deleted, every change audited."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import cache

from sqlalchemy import ColumnElement, and_, bindparam, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from domain.periods import Period
from storage.models import Goal, utcnow
from storage.queries.audit import save_audited, snapshot


def new_goal(
    *,
    workspace_id: str,
    scope: str,
    metric: str,
    period: Period,
    target: int,
    created_by: str,
    team_id: int | None = None,
    member_id: int | None = None,
    parent_id: int | None = None,
    origin: str = "set",
) -> Goal:
    """A goal not yet saved (save_goal writes it with its audit entry). It keeps the period's
    own dates, not just its label: a label's dates move with the fiscal calendar."""
    return Goal(
        workspace_id=workspace_id,
        scope=scope,
        team_id=team_id,
        member_id=member_id,
        metric=metric,
        period=period.label,
        starts_on=period.start,
        ends_on=period.end,
        target=target,
        parent_id=parent_id,
        origin=origin,
        created_by=created_by,
    )


def live_goals(
    session: Session,
    *,
    workspace_id: str,
    period: Period | None = None,
    scope: str | None = None,
    team_id: int | None = None,
    member_ids: Iterable[int] | None = None,
    covering: date | None = None,
    ending_from: date | None = None,
) -> Sequence[Goal]:
    params: dict[str, object] = {"ws": workspace_id, "scope": scope, "team": team_id}
    params |= {"covering": covering, "ending_from": ending_from}
    if period is not None:
        params |= {"start": period.start, "end": period.end}
    if member_ids is not None:
        params["members"] = list(member_ids)
    shape = (period is not None, scope, team_id is not None, member_ids is not None)
    statement = _live_goals(*shape, covering is not None, ending_from is not None)
    return session.exec(statement, params=params).all()


@cache
def _live_goals(
    by_period: bool,
    scope: str | None,
    by_team: bool,
    by_members: bool,
    covering: bool,
    ending: bool,
) -> SelectOfScalar[Goal]:
    """The live goals query of one shape, built once with its values as bound parameters
    (built per call, the statement cost as much as running it: /deal reads goals each time)."""
    query = select(Goal).where(Goal.workspace_id == bindparam("ws"), col(Goal.deleted_at).is_(None))
    if by_period:  # by dates: a label's meaning changes with the fiscal calendar
        query = query.where(Goal.starts_on == bindparam("start"), Goal.ends_on == bindparam("end"))
    if scope is not None:
        query = query.where(Goal.scope == bindparam("scope"))
    if by_team:
        query = query.where(Goal.team_id == bindparam("team"))
    elif scope == "team":  # every team's goals: their own index (ux_goal_live_team)
        query = query.where(col(Goal.team_id).is_not(None), col(Goal.member_id).is_(None))
    if by_members:
        query = query.where(col(Goal.member_id).in_(bindparam("members", expanding=True)))
    if covering:
        query = query.where(
            col(Goal.starts_on) <= bindparam("covering"), col(Goal.ends_on) >= bindparam("covering")
        )
    if ending:  # not over yet: the owner's past goals are never read
        query = query.where(col(Goal.ends_on) >= bindparam("ending_from"))
    return query.order_by(col(Goal.starts_on), col(Goal.id))


def get_goal(
    session: Session, *, workspace_id: str, number: int, deleted_too: bool = False
) -> Goal | None:
    """The workspace's live goal `#number` (the number users see, not the primary key); with
    `deleted_too` also a soft-deleted one (its history stays readable)."""
    query = select(Goal).where(Goal.workspace_id == workspace_id, Goal.number == number)
    if not deleted_too:
        query = query.where(col(Goal.deleted_at).is_(None))
    return session.exec(query).first()


def save_goal(
    session: Session, *, goal: Goal, actor: str, before: str | None, reason: str | None = None
) -> Goal:
    goal.updated_at = utcnow()
    action = "create" if before is None else "update"
    save_audited(
        session, row=goal, entity="goal", action=action, actor=actor, before=before, reason=reason
    )
    return goal


def add_goal(session: Session, *, goal: Goal, actor: str, reason: str | None = None) -> bool:
    """Write a new goal; False when a live one of the same subject, metric and dates was
    written meanwhile by another request (the unique index ux_goal_live)."""
    try:
        with session.begin_nested():
            save_goal(session, goal=goal, actor=actor, before=None, reason=reason)
    except IntegrityError:
        return False
    return True


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
    before = snapshot(goal)
    goal.deleted_at = utcnow()
    goal.updated_at = goal.deleted_at
    save_audited(
        session, row=goal, entity="goal", action="delete", actor=actor, before=before, reason=reason
    )


def keep_goal(session: Session, *, goal: Goal, actor: str, reason: str) -> None:
    """An audit entry saying a goal was left as it was on purpose (a split kept it)."""
    save_audited(
        session,
        row=goal,
        entity="goal",
        action="keep",
        actor=actor,
        before=snapshot(goal),
        reason=reason,
    )


# --- reads bounded by the owners shown (issue 10: /progress reads only the goals it shows) ---


LIVE = col(Goal.deleted_at).is_(None)


def _is(column: object, value: int | None) -> ColumnElement[bool]:
    """`column = value`, or IS NULL for None (a team goal has no member, a workspace goal
    no team)."""
    c = col(column)
    return c.is_(None) if value is None else c == value


def owner_goals_inside(
    session: Session,
    *,
    workspace_id: str,
    scope: str,
    team_id: int | None,
    member_id: int | None,
    metric: str,
    start: date,
    end: date,
) -> Sequence[Goal]:
    """One owner's live goals of one metric whose whole period lies in [start, end]: a
    goal and its possible parts over time. Leads with ix_goal_member_dates for a rep,
    ix_goal_team_dates for a team or the workspace."""
    return session.exec(
        select(Goal)
        .where(
            Goal.workspace_id == workspace_id,
            _is(Goal.member_id, member_id),
            _is(Goal.team_id, team_id),
            Goal.scope == scope,
            Goal.metric == metric,
            col(Goal.starts_on) >= start,
            col(Goal.ends_on) <= end,
            LIVE,
        )
        .order_by(col(Goal.starts_on), col(Goal.id))
    ).all()


def scope_part_sums(
    session: Session,
    *,
    workspace_id: str,
    scope: str,
    start: date,
    end: date,
    team_id: int | None = None,
    member_ids: Iterable[int] | None = None,
) -> dict[str, tuple[int, int]]:
    """{metric: (how many, summed target)} of the live goals of `scope` with exactly these
    dates, on `team_id` (any team when None) and of `member_ids` where given: a team
    goal's reps (or a workspace goal's teams) summed by the database, not loaded."""
    query = select(Goal.metric, func.count(), func.sum(Goal.target)).where(
        Goal.workspace_id == workspace_id,
        Goal.scope == scope,
        Goal.starts_on == start,
        Goal.ends_on == end,
        LIVE,
    )
    if team_id is not None:
        query = query.where(Goal.team_id == team_id)
    elif scope == "team":  # every team's goals: their own index (ux_goal_live_team)
        query = query.where(col(Goal.team_id).is_not(None), col(Goal.member_id).is_(None))
    if member_ids is not None:
        query = query.where(col(Goal.member_id).in_(list(member_ids)))
    rows = session.exec(query.group_by(Goal.metric).order_by(Goal.metric)).all()
    return {metric: (int(n), int(total)) for metric, n, total in rows}


def rep_targets(
    session: Session, *, workspace_id: str, team_id: int, start: date, end: date, metric: str
) -> dict[int, int]:
    """{member id: target} of the team's live rep goals of `metric` with exactly these
    dates: a leaderboard's targets in one query, without building goal objects."""
    rows = session.exec(
        select(Goal.member_id, Goal.target)
        .where(
            Goal.workspace_id == workspace_id,
            Goal.team_id == team_id,
            Goal.scope == "rep",
            Goal.starts_on == start,
            Goal.ends_on == end,
            Goal.metric == metric,
            col(Goal.member_id).is_not(None),
            LIVE,
        )
        .order_by(col(Goal.starts_on), col(Goal.id))
    ).all()
    return {member_id: target for member_id, target in rows if member_id is not None}


def team_goals_within(
    session: Session, *, workspace_id: str, team_id: int, start: date, end: date
) -> Sequence[Goal]:
    """The live goals of one team (its own and its reps') and of the workspace whose whole
    period lies in [start, end]: what /goal tree shows of a team."""
    return session.exec(
        select(Goal)
        .where(
            Goal.workspace_id == workspace_id,
            # A workspace goal has no team: both sides lead with ix_goal_team_dates.
            or_(
                and_(col(Goal.team_id).is_(None), col(Goal.scope) == "workspace"),
                col(Goal.team_id) == team_id,
            ),
            col(Goal.starts_on) >= start,
            col(Goal.ends_on) <= end,
            LIVE,
        )
        .order_by(col(Goal.starts_on), col(Goal.id))
    ).all()


def month_targets(
    session: Session,
    *,
    workspace_id: str,
    team_id: int,
    member_id: int | None,
    metric: str,
    start: date,
    end: date,
) -> dict[date, int]:
    """{first day: target} of the calendar months in [start, end] with a live goal of
    `metric`: the rep's own (`member_id`), else the team's; a month without a team goal has
    the sum of its reps' goals on the team for it. One statement, on ix_goal_team_dates."""
    query = select(
        col(Goal.starts_on), col(Goal.ends_on), col(Goal.scope), func.sum(Goal.target)
    ).where(
        Goal.workspace_id == workspace_id,
        Goal.team_id == team_id,
        Goal.metric == metric,
        col(Goal.starts_on) >= start,
        col(Goal.ends_on) <= end,
        LIVE,
    )
    if member_id is not None:
        query = query.where(Goal.member_id == member_id, Goal.scope == "rep")
    else:
        query = query.where(col(Goal.scope).in_(("team", "rep")))
    rows = session.exec(
        query.group_by(col(Goal.starts_on), col(Goal.ends_on), col(Goal.scope))
    ).all()
    found: dict[date, int] = {}
    for first, last, _scope, total in sorted(rows, key=lambda r: r[2] == "team"):
        if first.day == 1 and (last + timedelta(days=1)).day == 1 and last.month == first.month:
            found[first] = int(total)  # a team goal, sorted last, wins over its reps' sum
    return found
