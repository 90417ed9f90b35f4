"""Aggregates over deals and payments in a date range, summed and counted in SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Executable, Select, and_, bindparam, case, func
from sqlmodel import Session, col, select

from storage.models import OPEN_STAGES, Deal, Payment, RepDay
from storage.queries import customers, repdays  # noqa: F401  (repdays: upkeep on import)

WON_LIVE: tuple[ColumnElement[bool], ...] = (
    col(Deal.stage) == "won",
    col(Deal.deleted_at).is_(None),
)
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")  # a select keeps its row type as it narrows


@dataclass(frozen=True)
class Window:
    """What an aggregate reads: the deals (or payments) of a workspace, of one team and some
    owners where given, closed (or paid) in [start, end]."""

    workspace_id: str
    start: date
    end: date
    team_id: int | None = None
    owner_ids: tuple[int, ...] | None = None

    def params(self) -> dict[str, Any]:
        """The fields by name, as bound parameters: a shallow copy (dataclasses.asdict
        copies deeply, 18 µs of a 0.3 ms leaderboard query on this machine)."""
        return dict(self.__dict__)


def _window(
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None,
    owner_ids: Iterable[int] | None,
) -> Window:
    owners = None if owner_ids is None else tuple(owner_ids)
    return Window(workspace_id, start, end, team_id, owners)


def _in_scope(w: Window, table: type[Deal] | type[Payment]) -> list[ColumnElement[bool]]:
    """The window's team and owners, on deals or on payments (a payment carries both)."""
    where: list[ColumnElement[bool]] = []
    if w.team_id is not None:
        where.append(col(table.team_id) == w.team_id)
    if w.owner_ids is not None:
        where.append(col(table.owner_id).in_(w.owner_ids))
    return where


def _closing(w: Window, stage: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    """Live deals in scope at `stage`, closing in the window: ix_deal_team_close_cover."""
    return [
        col(Deal.workspace_id) == w.workspace_id,
        *_in_scope(w, Deal),
        col(Deal.close_date) >= w.start,
        col(Deal.close_date) <= w.end,
        stage,
        col(Deal.deleted_at).is_(None),
    ]


def _won(w: Window) -> list[ColumnElement[bool]]:
    return _closing(w, col(Deal.stage) == "won")


def _paid(query: Q, w: Window) -> Q:
    """The query over the payments in scope made in the window on live deals (a deleted
    deal's payments stop counting with it). Read off ix_payment_team_paid_cover alone: the
    deleted deals are a short list from ix_deal_deleted, not a deal row read per payment."""
    deleted = select(col(Deal.id)).where(
        col(Deal.workspace_id) == w.workspace_id, col(Deal.deleted_at).is_not(None)
    )
    return query.where(
        col(Payment.workspace_id) == w.workspace_id,
        *_in_scope(w, Payment),
        col(Payment.paid_on) >= w.start,
        col(Payment.paid_on) <= w.end,
        col(Payment.deleted_at).is_(None),
        col(Payment.deal_id).not_in(deleted),
    )


@cache
def _totals_statement(by_team: bool, by_owners: bool) -> Executable:
    """Built once per shape: the leaderboard runs it on every request. The parameters are
    named after Window's fields. Read off repday (storage/queries/repdays.py keeps it): a
    row per rep and day, on ix_repday_team_day for a team, ix_repday_owner_day for reps."""
    query = select(
        col(RepDay.owner_id), func.sum(RepDay.won_minor), func.sum(RepDay.won_count)
    ).where(*_days(by_team, by_owners))
    if by_team:
        # The team's one value first: grouped by owner alone, SQLite without statistics
        # takes ix_repday_owner_day for its order and reads the whole workspace.
        query = query.group_by(col(RepDay.team_id))
    return query.group_by(col(RepDay.owner_id))


def _days(by_team: bool, by_owners: bool) -> list[ColumnElement[bool]]:
    """The repday rows of a window, its fields as named parameters."""
    where = [
        col(RepDay.workspace_id) == bindparam("workspace_id"),
        col(RepDay.day) >= bindparam("start"),
        col(RepDay.day) <= bindparam("end"),
    ]
    if by_team:
        where.append(col(RepDay.team_id) == bindparam("team_id"))
    if by_owners:
        where.append(col(RepDay.owner_id).in_(bindparam("owner_ids", expanding=True)))
    return where


@cache
def _daily_statement(metric: str, by_team: bool, by_owners: bool) -> Executable:
    """Won amount or count per day off repday, built once per shape as the totals are."""
    measure = RepDay.won_minor if metric == "revenue" else RepDay.won_count
    day = col(RepDay.day)
    return select(day, func.sum(measure)).where(*_days(by_team, by_owners)).group_by(day)


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
    w = _window(workspace_id, start, end, team_id, owner_ids)
    statement = _totals_statement(w.team_id is not None, w.owner_ids is not None)
    rows = session.connection().execute(statement, w.params()).all()
    return {int(row[0]): (int(row[1] or 0), int(row[2])) for row in rows}


def totals_over(
    session: Session,
    *,
    workspace_id: str,
    spans: Sequence[tuple[date, date]],
    team_id: int | None = None,
    owner_ids: Iterable[int] | None = None,
) -> list[tuple[int, int]]:
    """(won amount in minor units, won deal count) in each [start, end] of `spans`, in one
    read of the repday rows that cover them all: /deal's standing sums a rep's month,
    quarter and year, each a statement of its own before."""
    if not spans:
        return []
    w = _window(
        workspace_id, min(s for s, _ in spans), max(e for _, e in spans), team_id, owner_ids
    )
    params = w.params()
    for i, (start, end) in enumerate(spans):
        params[f"s{i}"], params[f"e{i}"] = start, end
    statement = _spans_statement(len(spans), w.team_id is not None, w.owner_ids is not None)
    row = session.connection().execute(statement, params).one()
    return [(int(row[2 * i] or 0), int(row[2 * i + 1] or 0)) for i in range(len(spans))]


@cache
def _spans_statement(count: int, by_team: bool, by_owners: bool) -> Executable:
    """Built once per shape, as the totals are: a sum of amount and count per span."""
    day = col(RepDay.day)
    sums: list[Any] = []
    for i in range(count):
        inside = and_(day >= bindparam(f"s{i}"), day <= bindparam(f"e{i}"))
        sums.append(func.sum(case((inside, RepDay.won_minor), else_=0)))
        sums.append(func.sum(case((inside, RepDay.won_count), else_=0)))
    return select(*sums).where(*_days(by_team, by_owners))


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
    w = _window(workspace_id, start, end, team_id, owner_ids)
    if metric == "new_customers":
        return customers.daily_new_customers(session, **w.params())
    if metric == "collected":
        day = col(Payment.paid_on)
        query = _paid(select(day, func.sum(Payment.amount_minor)), w)
        return {on: int(value or 0) for on, value in session.exec(query.group_by(day)).all()}
    statement = _daily_statement(metric, w.team_id is not None, w.owner_ids is not None)
    rows = session.connection().execute(statement, w.params()).all()
    return {on: int(value or 0) for on, value in rows}


def new_customers(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None = None,
    owner_ids: Iterable[int] | None = None,
) -> int:
    """Customers whose first won deal in the workspace falls in [start, end] and is in scope
    (read from the customer table: storage/queries/customers.py)."""
    w = _window(workspace_id, start, end, team_id, owner_ids)
    return customers.count_new_customers(session, **w.params())


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
    w = _window(workspace_id, start, end, team_id, owner_ids)
    query = _pipeline_statement(w.team_id is not None, w.owner_ids is not None)
    rows = session.connection().execute(query, w.params())
    return {stage: int(total or 0) for stage, total in rows}


@cache
def _pipeline_statement(by_team: bool, by_owners: bool) -> Executable:
    """Built once per shape as the totals are (/progress and the Home tab ask on every
    request): live open deals closing in the window, on ix_deal_team_close_cover."""
    where = [
        col(Deal.workspace_id) == bindparam("workspace_id"),
        col(Deal.close_date) >= bindparam("start"),
        col(Deal.close_date) <= bindparam("end"),
        col(Deal.stage).in_(OPEN_STAGES),
        col(Deal.deleted_at).is_(None),
    ]
    if by_team:
        where.append(col(Deal.team_id) == bindparam("team_id"))
    if by_owners:
        where.append(col(Deal.owner_id).in_(bindparam("owner_ids", expanding=True)))
    return (
        select(col(Deal.stage), func.sum(Deal.amount_minor)).where(*where).group_by(col(Deal.stage))
    )


def collected(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None = None,
    owner_ids: Iterable[int] | None = None,
) -> int:
    """Minor units paid in [start, end] on live deals in scope."""
    w = _window(workspace_id, start, end, team_id, owner_ids)
    return int(session.exec(_paid(select(func.sum(Payment.amount_minor)), w)).one() or 0)


def payment_list(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None = None,
    owner_ids: Iterable[int] | None = None,
) -> list[tuple[date, int, int, str]]:
    """The payments `collected` adds up: (paid on, minor units, deal number, customer), in
    payment order."""
    w = _window(workspace_id, start, end, team_id, owner_ids)
    query = _paid(
        select(
            col(Payment.paid_on), col(Payment.amount_minor), col(Deal.number), col(Deal.customer)
        ).join(Deal, col(Deal.id) == col(Payment.deal_id)),
        w,
    ).order_by(col(Payment.paid_on), col(Payment.id))
    return [(d, int(a), int(n), str(c)) for d, a, n, c in session.exec(query).all()]


def by_owner(
    session: Session, *, metric: str, workspace_id: str, start: date, end: date, team_id: int
) -> dict[int, int]:
    """owner id -> the team's actual of `metric` in [start, end] (minor units or a count),
    every rep in one statement: a team's drill-down."""
    if metric == "new_customers":
        return customers.new_customers_by_owner(
            session, workspace_id=workspace_id, start=start, end=end, team_id=team_id
        )
    if metric == "collected":
        w = _window(workspace_id, start, end, team_id, None)
        owner = col(Payment.owner_id)
        query = _paid(select(owner, func.sum(Payment.amount_minor)), w).group_by(owner)
        return {int(o): int(v or 0) for o, v in session.exec(query).all()}
    totals = totals_by_owner(
        session, workspace_id=workspace_id, start=start, end=end, team_id=team_id
    )
    index = 1 if metric == "deals" else 0
    return {owner: values[index] for owner, values in totals.items()}


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
    w = _window(workspace_id, start, end, team_id, owner_ids)
    query = (
        select(Deal.owner_id, Deal.customer, Deal.amount_minor)
        .where(*_closing(w, col(Deal.stage).in_(OPEN_STAGES)))
        .order_by(col(Deal.owner_id), col(Deal.amount_minor).desc(), col(Deal.id))
    )
    found: dict[int, list[tuple[str, int]]] = {}
    for owner, customer, amount in session.exec(query).all():
        deals = found.setdefault(owner, [])
        if len(deals) < limit_per_owner:
            deals.append((customer, int(amount)))
    return found


def biggest_won_deal(
    session: Session, *, workspace_id: str, team_id: int, start: date, end: date
) -> Deal | None:
    return session.exec(
        select(Deal)
        .where(*_won(Window(workspace_id, start, end, team_id)))
        .order_by(col(Deal.amount_minor).desc(), col(Deal.close_date), col(Deal.id))
        .limit(1)
    ).first()
