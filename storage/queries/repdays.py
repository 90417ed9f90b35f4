"""The repday table kept in step with the deals: per team, rep and close date, the amount and
count of the won live deals, so a period's sums read a row per rep and day, not every deal.

Every flush that adds, changes or deletes a deal updates the (team, rep, day) keys it
touches: a new won deal adds its amount to its day's row (one upsert, whatever the number
of deals that day already has), any other write recomputes the keys it had and has from
their deals, on ix_deal_owner_cover. No write path can forget it. Rows written around the
ORM (bench/generate.py's Core inserts) are brought in with rebuild_repdays.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Table, and_, bindparam, delete, event, func, insert, or_
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Session

from storage.models import Deal, RepDay
from storage.queries.flushed import REFRESHERS, changed_deals, defer, history, table_of, upsert_for

Key = tuple[int, int, date]  # team, owner, day


DEALS, REPDAYS = table_of(Deal), table_of(RepDay)
# A change to any of these can move a won deal's amount from one row to another.
TRACKED = ("amount_minor", "stage", "close_date", "deleted_at", "team_id", "owner_id")
KEYED = ("team_id", "owner_id", "close_date")
COLUMNS = ["workspace_id", "team_id", "owner_id", "day", "won_minor", "won_count"]
CHUNK = 200  # keys per statement: a team move can touch hundreds


def rebuild_repdays(session: Session, *, workspace_id: str) -> None:
    """Recompute every row of the workspace from its deals (after a bulk load)."""
    conn = session.connection()
    conn.execute(delete(REPDAYS).where(REPDAYS.c.workspace_id == workspace_id))
    conn.execute(insert(REPDAYS).from_select(COLUMNS, _sums(DEALS.c.workspace_id == workspace_id)))


def _refresh(conn: Connection, workspace_id: str, keys: Collection[Key]) -> None:
    """Replace the rows of these keys by what their deals say now."""
    ordered = sorted(keys)
    _lock(conn, workspace_id, ordered)
    for start in range(0, len(ordered), CHUNK):
        part = ordered[start : start + CHUNK]
        conn.execute(delete(REPDAYS).where(or_(*(_is(REPDAYS, workspace_id, k) for k in part))))
        deals = or_(*(_is(DEALS, workspace_id, k) for k in part))
        conn.execute(insert(REPDAYS).from_select(COLUMNS, _sums(deals)))


def _is(table: Table, workspace_id: str, key: Key) -> ColumnElement[bool]:
    """One key, every column of it in each term: each reads its own stretch of the index
    (ix_deal_owner_cover on the deals, the primary key on repday)."""
    team, owner, day = key
    on = table.c.close_date if table is DEALS else table.c.day
    return and_(
        table.c.workspace_id == workspace_id,
        table.c.owner_id == owner,
        on == day,
        table.c.team_id == team,
    )


def _sums(where: ColumnElement[bool]) -> Any:
    """One row per team, rep and day of the won live deals in `where`, as totals_by_owner
    summed them from the deals."""
    return (
        sa.select(
            DEALS.c.workspace_id,
            DEALS.c.team_id,
            DEALS.c.owner_id,
            DEALS.c.close_date,
            func.sum(DEALS.c.amount_minor),
            func.count(),
        )
        .where(where, DEALS.c.stage == "won", DEALS.c.deleted_at.is_(None))
        .group_by(DEALS.c.workspace_id, DEALS.c.team_id, DEALS.c.owner_id, DEALS.c.close_date)
    )


def _lock(conn: Connection, workspace_id: str, keys: list[Key]) -> None:
    """On PostgreSQL, one writer of a key at a time, until it commits: two deals of one rep
    and day logged at once would each recompute the row without the other's deal (and
    insert it twice). The second waits, then reads the first's deal. Sorted, so two writers
    of the same keys take them in one order. SQLite has one writer."""
    if conn.dialect.name != "postgresql":
        return
    for team, owner, day in keys:
        conn.execute(LOCK, {"key": f"{workspace_id}:{team}:{owner}:{day.isoformat()}"})


LOCK = sa.text(
    "SELECT pg_advisory_xact_lock(hashtext('repday:' || current_schema()),"
    " hashtext(CAST(:key AS text)))"
)


@event.listens_for(OrmSession, "after_flush")
def _deals_flushed(session: OrmSession, _flush: UOWTransaction) -> None:
    """The rows of the deals this flush wrote, brought up to date in its transaction."""
    touched: dict[str, set[Key]] = {}
    added: list[Deal] = []
    new = session.new  # built on each access: once per flush, not once per deal
    for deal in changed_deals(session, TRACKED):
        if deal in new:
            added.append(deal)
        else:
            touched.setdefault(deal.workspace_id, set()).update(_keys(deal))
    for deal in added:
        keys = touched.get(deal.workspace_id, set())
        key = cast(Key, (deal.team_id, deal.owner_id, deal.close_date))
        if key in keys or defer(session, "repday", deal.workspace_id, [key]):
            continue  # recomputed below (from every deal, this one too), or at the end
        if deal.stage == "won" and deal.deleted_at is None:
            _add(session.connection(), deal, key)
    for workspace_id, keys in touched.items():
        if not defer(session, "repday", workspace_id, keys):
            _refresh(session.connection(), workspace_id, keys)


def _add(conn: Connection, deal: Deal, key: Key) -> None:
    """A new won deal counted in its day's row, created at the day's first deal."""
    _lock(conn, deal.workspace_id, [key])
    conn.execute(
        _adding(conn.dialect.name),
        {
            "ws": deal.workspace_id,
            "team": deal.team_id,
            "owner": deal.owner_id,
            "day": deal.close_date,
            "amount": deal.amount_minor,
        },
    )


@cache
def _adding(dialect: str) -> Any:
    """INSERT .. ON CONFLICT DO UPDATE adding one deal, built once per dialect: both
    SQLite and PostgreSQL have it, and a prebuilt statement skips building and caching the
    SQL on every deal."""
    make = upsert_for(dialect)
    statement = make(REPDAYS).values(
        workspace_id=bindparam("ws"),
        team_id=bindparam("team"),
        owner_id=bindparam("owner"),
        day=bindparam("day", type_=REPDAYS.c.day.type),
        won_minor=bindparam("amount", type_=REPDAYS.c.won_minor.type),
        won_count=1,
    )
    return statement.on_conflict_do_update(
        index_elements=list(REPDAYS.primary_key.columns),
        set_={
            "won_minor": REPDAYS.c.won_minor + statement.excluded.won_minor,
            "won_count": REPDAYS.c.won_count + 1,
        },
    )


def _refresh_spans(conn: Connection, workspace_id: str, keys: Collection[Key]) -> None:
    """At the end of a bulk write (flushed.deferred_upkeep): per team and rep, every day
    from the first key to the last, in two statements, whatever the number of days. Days
    between that no deal of the write touched are recomputed to what they already were."""
    ordered = sorted(keys)
    _lock(conn, workspace_id, ordered)
    spans: dict[tuple[int, int], tuple[date, date]] = {}
    for team, owner, day in ordered:
        first, _last = spans.get((team, owner), (day, day))
        spans[(team, owner)] = (first, day)
    for (team, owner), (first, last) in spans.items():
        conn.execute(delete(REPDAYS).where(*_span(REPDAYS, workspace_id, team, owner, first, last)))
        deals = and_(*_span(DEALS, workspace_id, team, owner, first, last))
        conn.execute(insert(REPDAYS).from_select(COLUMNS, _sums(deals)))


def _span(
    table: Table, workspace_id: str, team: int, owner: int, first: date, last: date
) -> list[ColumnElement[bool]]:
    on = table.c.close_date if table is DEALS else table.c.day
    return [
        table.c.workspace_id == workspace_id,
        table.c.owner_id == owner,
        on.between(first, last),
        table.c.team_id == team,
    ]


REFRESHERS["repday"] = _refresh_spans


def _keys(deal: Deal) -> set[Key]:
    """The key a deal had before this flush and the one it has now."""
    now = tuple(getattr(deal, name) for name in KEYED)
    before = tuple(_before(deal, name) for name in KEYED)
    return {cast(Key, now), cast(Key, before)}


def _before(deal: Deal, name: str) -> Any:
    old = history(deal, name).deleted
    return old[0] if old and old[0] is not None else getattr(deal, name)
