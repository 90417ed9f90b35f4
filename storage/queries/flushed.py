"""What a flush wrote to deals: the shared start of the tables kept from them (customers,
repdays), each recomputing the rows the written deals touch, before and after."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import attributes

from storage.models import Deal


def changed_deals(session: OrmSession, tracked: Iterable[str]) -> Iterable[Deal]:
    """The deals this flush added or deleted, and those with a change to a `tracked` field."""
    names = tuple(tracked)
    for row in (*session.new, *session.deleted):
        if isinstance(row, Deal):
            yield row
    for row in session.dirty:
        if isinstance(row, Deal) and any(history(row, name).has_changes() for name in names):
            yield row


def table_of(model: Any) -> Table:
    """A model's Core table, for statements built once (SQLModel declares no __table__)."""
    return cast(Table, model.__table__)


def upsert_for(dialect: str) -> Any:
    """The INSERT construct with ON CONFLICT of the dialect (SQLite and PostgreSQL have it)."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def history(deal: Deal, name: str) -> attributes.History:
    """The field's values before and after the flush, loading nothing that was not loaded."""
    return attributes.get_history(deal, name, passive=attributes.PASSIVE_NO_INITIALIZE)


# --- upkeep deferred to the end of a bulk write ------------------------------------------------

# On a session's info while deferred: {table: {workspace id: keys}}, the keys each kept
# table's flushes touched, refreshed once at the end instead of at every flush.
DEFERRED = "pacer_upkeep_deferred"
Refresh = Callable[[Connection, str, set[Any]], None]
REFRESHERS: dict[str, Refresh] = {}  # table -> how its keys are recomputed (set at import)
DEFERRED_CHUNK = 400  # keys per refresh, under SQLite's bound-parameter limit


def defer(session: OrmSession, table: str, workspace_id: str, keys: Iterable[Any]) -> bool:
    """Keep the keys for the end of the bulk write, if one is under way (True)."""
    pending = session.info.get(DEFERRED)
    if pending is None:
        return False
    pending.setdefault(table, {}).setdefault(workspace_id, set()).update(keys)
    return True


@contextmanager
def deferred_upkeep(session: OrmSession) -> Iterator[None]:
    """A bulk write (an import of 100,000 deals in batches): the kept tables' keys are
    gathered over its flushes and each recomputed once at the end, in the same transaction,
    from the deals as they are then. A key a thousand deals touch is one refresh, not one
    per batch. Reads of those tables in between see them as before the write began."""
    if DEFERRED in session.info:  # already deferred by an outer bulk write
        yield
        return
    session.info[DEFERRED] = {}
    try:
        yield
        session.flush()
        pending = session.info[DEFERRED]
    finally:
        session.info.pop(DEFERRED, None)
    conn = session.connection()
    for table, by_workspace in sorted(pending.items()):
        for workspace_id, keys in sorted(by_workspace.items()):
            ordered = sorted(keys)
            for start in range(0, len(ordered), DEFERRED_CHUNK):  # bound parameters
                REFRESHERS[table](conn, workspace_id, set(ordered[start : start + DEFERRED_CHUNK]))
