"""Aggregates over deals and payments in a date range, summed and counted in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache

from sqlalchemy import ColumnElement, Executable, and_, bindparam, func
from sqlmodel import Session, col, select

from storage.models import OPEN_STAGES, Deal, Payment

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


# --- per team, for the scheduled posts -------------------------------------------------------
# Each aggregates for a whole team at once, so a daily run costs a few queries per team.


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
