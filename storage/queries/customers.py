"""The customer table kept in step with the deals, and what reads it.

Every flush that adds, changes or deletes a deal updates the customers it touches: a new
deal is merged into its rep's row (one or two statements, whatever the customer's history),
any other write recomputes the customers of the names it had and has from their live
deals, on the deals' customer index. No write path can forget it. Rows written around the
ORM (bench/generate.py's Core inserts) are brought in with rebuild_customers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    insert,
    literal,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Session, col, select

from storage.models import Customer, Deal
from storage.queries.flushed import REFRESHERS, changed_deals, defer, history, table_of, upsert_for

DEALS, CUSTOMERS = table_of(Deal), table_of(Customer)
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
    """The customers of the deals this flush wrote, brought up to date in its transaction."""
    touched: dict[str, set[str]] = {}
    added: list[Deal] = []
    new = session.new  # built on each access: once per flush, not once per deal
    for deal in changed_deals(session, TRACKED):
        if deal in new and deal.deleted_at is None:
            added.append(deal)
        else:
            touched.setdefault(deal.workspace_id, set()).update(_names(deal))
    recomputed: dict[str, set[str]] = {}  # per workspace: the touched names' keys
    for deal in added:
        if defer(session, "customer", deal.workspace_id, [deal.customer]):
            continue  # a bulk write: recomputed at its end
        others = touched.get(deal.workspace_id)
        if others:
            keys = recomputed.get(deal.workspace_id)
            if keys is None:
                keys = recomputed[deal.workspace_id] = {_lowered(session, n) for n in others}
            if _lowered(session, deal.customer) in keys:
                continue  # recomputed below, from every deal: this one too
        _add(session.connection(), deal)
    for workspace_id, names in touched.items():
        if not defer(session, "customer", workspace_id, names):
            _refresh(session.connection(), workspace_id, names)


def _lowered(session: OrmSession, name: str) -> str:
    """The key of a name as SQL lowers it (SQLite lowers ASCII letters only)."""
    return str(session.connection().execute(sa.select(func.lower(literal(name)))).scalar())


def _add(conn: Connection, deal: Deal) -> None:
    """A new live deal merged into its rep's row of the customer: the last deal moves up to
    it, and a win dated on or before the customer's first win makes this rep's row a first
    win's (an earlier one takes the first win from the rows that had it)."""
    _lock(conn, deal.workspace_id, [deal.customer])
    values = {
        "ws": deal.workspace_id,
        "customer": deal.customer,
        "team": deal.team_id,
        "owner": deal.owner_id,
        "day": deal.close_date,
        "won": deal.stage == "won",
    }
    if deal.stage == "won":
        conn.execute(_later_firsts(), values)
    conn.execute(_merging(conn.dialect.name), values)


@cache
def _later_firsts() -> Any:
    """The first wins later than a new won deal's day: no longer the customer's first."""
    return (
        sa.update(CUSTOMERS)
        .where(
            CUSTOMERS.c.workspace_id == bindparam("ws"),
            CUSTOMERS.c.key == func.lower(bindparam("customer", type_=sa.String)),
            CUSTOMERS.c.first_won > bindparam("day", type_=sa.Date),
        )
        .values(first_won=None)
    )


@cache
def _merging(dialect: str) -> Any:
    """The upsert of a new deal's row, built once per dialect (both have ON CONFLICT)."""
    make = upsert_for(dialect)
    least, greatest = (
        (func.least, func.greatest)
        if dialect == "postgresql"
        else (func.min, func.max)  # SQLite's min and max of two are scalar
    )
    day = bindparam("day", type_=sa.Date)
    key = func.lower(bindparam("customer", type_=sa.String))
    first = (
        sa.select(func.min(CUSTOMERS.c.first_won))
        .where(CUSTOMERS.c.workspace_id == bindparam("ws"), CUSTOMERS.c.key == key)
        .scalar_subquery()
    )
    # After _later_firsts, the customer's first win is on or before the day, or there is
    # none: the deal is a first win if it is won and none is earlier.
    first_won = case(
        (and_(bindparam("won", type_=sa.Boolean), func.coalesce(first, day) >= day), day)
    )
    statement = make(CUSTOMERS).values(
        workspace_id=bindparam("ws"),
        key=key,
        team_id=bindparam("team"),
        owner_id=bindparam("owner"),
        name=bindparam("customer", type_=sa.String),
        first_won=first_won,
        last_deal=day,
    )
    new = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=list(CUSTOMERS.primary_key.columns),
        set_={
            "name": least(CUSTOMERS.c.name, new.name),
            "first_won": func.coalesce(new.first_won, CUSTOMERS.c.first_won),
            "last_deal": greatest(CUSTOMERS.c.last_deal, new.last_deal),
        },
    )


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


def new_customers_by_owner(
    session: Session, *, workspace_id: str, start: date, end: date, team_id: int
) -> dict[int, int]:
    """owner id -> new customers credited to them on the team in [start, end]: a customer
    won by two reps on its first day counts for both, as for each alone."""
    where = _credited(workspace_id, start, end, team_id, None)
    owner = col(Customer.owner_id)
    rows = session.exec(select(owner, NEW_CUSTOMERS).where(*where).group_by(owner)).all()
    return {int(o): int(n) for o, n in rows}


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


def new_customer_list(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    team_id: int | None = None,
    owner_ids: tuple[int, ...] | None = None,
) -> list[tuple[str, date]]:
    """The customers count_new_customers counts, each once: (name, first won day), in
    the order they were won."""
    where = _credited(workspace_id, start, end, team_id, owner_ids)
    first = func.min(Customer.first_won)
    rows = session.exec(
        select(func.min(Customer.name), first)
        .where(*where)
        .group_by(col(Customer.key))
        .order_by(first, func.min(Customer.name))
    ).all()
    return [(str(name), day) for name, day in rows if day is not None]
