"""The customer table kept in step with the deals, and what reads it.

Every flush that adds, changes or deletes a deal recomputes the customers it touches (the
name it had and the name it has) from their live deals, on the deals' customer index: no
write path can forget it. Rows written around the ORM (bench/generate.py's Core inserts)
are brought in with rebuild_customers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Table, and_, case, delete, event, func, insert, literal
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Session, col, select

from storage.models import Customer, Deal
from storage.queries.flushed import REFRESHERS, changed_deals, defer, history


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)  # SQLModel classes do not declare __table__


DEALS, CUSTOMERS = _table(Deal), _table(Customer)
KEY = func.lower(DEALS.c.customer)  # as ix_deal_customer indexes it
# A change to any of these can move a customer's first win or last deal.
TRACKED = ("customer", "stage", "close_date", "deleted_at", "team_id", "owner_id")


def rebuild_customers(session: Session, *, workspace_id: str) -> None:
    """Recompute every customer of the workspace from its deals (after a bulk load)."""
    _refresh(session.connection(), workspace_id, None)


def _refresh(conn: Connection, workspace_id: str, names: Collection[str] | None) -> None:
    """Replace the rows of the customers these deal names belong to (every customer of
    the workspace for None) by what their live deals say now."""
    mine: list[ColumnElement[bool]] = [DEALS.c.workspace_id == workspace_id]
    gone: list[ColumnElement[bool]] = [CUSTOMERS.c.workspace_id == workspace_id]
    if names is not None:
        _lock(conn, workspace_id, names)
        keys = [func.lower(literal(name)) for name in sorted(names)]  # lowered as SQL does
        mine.append(KEY.in_(keys))
        gone.append(CUSTOMERS.c.key.in_(keys))
    conn.execute(delete(CUSTOMERS).where(*gone))
    columns = ["workspace_id", "key", "team_id", "owner_id", "name", "first_won", "last_deal"]
    rows = _rows(mine) if names is None else _rows_of(conn, mine)
    conn.execute(insert(CUSTOMERS).from_select(columns, rows))


def _lock(conn: Connection, workspace_id: str, names: Collection[str]) -> None:
    """On PostgreSQL, one writer of a customer at a time, until it commits: two deals of
    one customer logged at once would each recompute it without the other's deal (and
    insert the same row twice). The second waits, then reads the first's deal. Sorted, so
    two writers of the same customers take them in one order. SQLite has one writer."""
    if conn.dialect.name != "postgresql":
        return
    for name in sorted(names):
        conn.execute(LOCK, {"ws": workspace_id, "name": name})


LOCK = sa.text(
    "SELECT pg_advisory_xact_lock(hashtext('customer:' || current_schema()),"
    " hashtext(CAST(:ws AS text) || ':' || lower(CAST(:name AS text))))"
)


LIVE = DEALS.c.deleted_at.is_(None)
WON = DEALS.c.stage == "won"


def _rows(mine: list[ColumnElement[bool]]) -> Any:
    """One row per customer, team and rep of the live deals in `mine`: the first won day
    where that rep won a deal from it on the customer's first won day in the workspace
    (ties count for each, as a new customer always has), and their last deal. For a whole
    workspace (a rebuild): the first won days joined in."""
    first = (
        sa.select(KEY.label("key"), func.min(DEALS.c.close_date).label("day"))
        .where(*mine, LIVE, WON)
        .group_by(KEY)
        .subquery()
    )
    first_win = and_(WON, DEALS.c.close_date == first.c.day)
    return _grouped(mine, first_win).select_from(DEALS.outerjoin(first, first.c.key == KEY))


def _rows_of(conn: Connection, mine: list[ColumnElement[bool]]) -> Any:
    """As _rows for a few customers, their first won days read first. Joined in, PostgreSQL
    without fresh statistics (right after an import) reads the customer's deals again for
    each of its deals: 1.5 s a write for a customer with 1,200 deals."""
    firsts = conn.execute(
        sa.select(KEY, func.min(DEALS.c.close_date)).where(*mine, LIVE, WON).group_by(KEY)
    ).all()
    first_win = sa.tuple_(KEY, DEALS.c.close_date).in_([tuple(row) for row in firsts])
    return _grouped(mine, and_(WON, first_win))


def _grouped(mine: list[ColumnElement[bool]], first_win: ColumnElement[bool]) -> Any:
    return (
        sa.select(
            DEALS.c.workspace_id,
            KEY,
            DEALS.c.team_id,
            DEALS.c.owner_id,
            func.min(DEALS.c.customer),
            func.max(case((first_win, DEALS.c.close_date))),
            func.max(DEALS.c.close_date),
        )
        .where(*mine, LIVE)
        .group_by(DEALS.c.workspace_id, KEY, DEALS.c.team_id, DEALS.c.owner_id)
    )


@event.listens_for(OrmSession, "after_flush")
def _deals_flushed(session: OrmSession, _flush: UOWTransaction) -> None:
    """The customers of the deals this flush wrote, recomputed in its transaction."""
    touched: dict[str, set[str]] = {}
    for deal in changed_deals(session, TRACKED):
        touched.setdefault(deal.workspace_id, set()).update(_names(deal))
    for workspace_id, names in touched.items():
        if not defer(session, "customer", workspace_id, names):
            _refresh(session.connection(), workspace_id, names)


REFRESHERS["customer"] = _refresh  # at the end of a bulk write (flushed.deferred_upkeep)


def _names(deal: Deal) -> set[str]:
    """The customer names a deal had before this flush and has now."""
    before = history(deal, "customer")
    return {deal.customer, *(str(name) for name in before.deleted if name is not None)}


# --- reads -----------------------------------------------------------------------------------


def _credited(
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None,
    owner_ids: tuple[int, ...] | None,
) -> list[ColumnElement[bool]]:
    """Customers first won in [start, end], on the rows of the reps in scope that won
    them that day: ix_customer_first_won, or ix_customer_team_first_won for a team."""
    where = [
        col(Customer.workspace_id) == workspace_id,
        col(Customer.first_won) >= start,
        col(Customer.first_won) <= end,
    ]
    if team_id is not None:
        where.append(col(Customer.team_id) == team_id)
    if owner_ids is not None:
        where.append(col(Customer.owner_id).in_(owner_ids))
    return where


NEW_CUSTOMERS = func.count(func.distinct(Customer.key))


def count_new_customers(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None = None,
    owner_ids: tuple[int, ...] | None = None,
) -> int:
    where = _credited(workspace_id, start, end, team_id, owner_ids)
    return int(session.exec(select(NEW_CUSTOMERS).where(*where)).one())


def daily_new_customers(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None = None,
    owner_ids: tuple[int, ...] | None = None,
) -> dict[date, int]:
    day = col(Customer.first_won)
    where = _credited(workspace_id, start, end, team_id, owner_ids)
    query = select(day, NEW_CUSTOMERS).where(*where).group_by(day)
    return {on: int(n) for on, n in session.exec(query).all() if on is not None}


def quiet_customers_of_team(
    session: Session,
    *,
    workspace_id: str,
    team_id: int,
    owner_ids: Iterable[int],
    since: date,
    before: date,
    limit_per_owner: int = 3,
) -> dict[int, list[tuple[str, date]]]:
    """owner id -> up to `limit_per_owner` customers the rep dealt with (on this team) since
    `since` but has had no deal with from `before` on, as (customer, last close date),
    longest quiet first. One query; each rep's part reads only its few rows off
    ix_customer_owner_last, however many customers the rep has."""
    parts = [
        _quiet_of_owner(workspace_id, team_id, owner, since, before, limit_per_owner)
        for owner in sorted(set(owner_ids))
    ]
    if not parts:
        return {}
    found: dict[int, list[tuple[str, date]]] = {}
    for owner, name, day in session.connection().execute(sa.union_all(*parts)).all():
        found.setdefault(int(owner), []).append((str(name), day))
    for customers in found.values():
        customers.sort(key=lambda row: (row[1], row[0]))
    return found


def _quiet_of_owner(
    workspace_id: str, team_id: int, owner_id: int, since: date, before: date, limit: int
) -> sa.Select[Any]:
    last = CUSTOMERS.c.last_deal
    rows = (
        sa.select(CUSTOMERS.c.owner_id, CUSTOMERS.c.name, last)
        .where(
            CUSTOMERS.c.workspace_id == workspace_id,
            CUSTOMERS.c.team_id == team_id,
            CUSTOMERS.c.owner_id == owner_id,
            last >= since,
            last < before,
        )
        .order_by(last, CUSTOMERS.c.name)
        .limit(limit)
        .subquery()
    )
    return sa.select(*rows.c)  # a subquery: a part of a UNION may not be ordered itself
