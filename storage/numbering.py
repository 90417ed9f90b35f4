"""Per-workspace numbers for the rows users see as `#N` (deals, goals, feedback).

The primary key is one global sequence: shown to users it would tell one workspace how busy
the others are. Each numbered row gets the next number of its workspace instead, from a
counter row bumped by one upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING). On
PostgreSQL the upsert runs in a short transaction of its own: the row lock it takes makes
two bumps of one workspace wait for each other under READ COMMITTED, for the length of the
statement only; a number taken by a transaction that then rolls back is not used again
(a gap, as with a sequence). SQLite serialises writers anyway (BEGIN IMMEDIATE), and bumps
in the inserting transaction: no gaps there. A missing counter row starts after the highest
number already stored, so rows written in bulk (bench/generate.py) are never numbered twice.
Internal foreign keys stay on the primary key. SQLite needs 3.35 or later (RETURNING).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

IN_TRANSACTION = "pacer_numbers_in_transaction"  # on a connection's info: see next_number
OWN_LOCK_WAIT = "2s"
COUNTER = sa.table(
    "counter", sa.column("workspace_id"), sa.column("kind"), sa.column("last", sa.Integer)
)


def next_number(conn: Connection, kind: str, workspace_id: str, count: int = 1) -> int:
    """The next number of `kind` (a numbered table's name) in the workspace; with `count`,
    the last of the next `count` numbers, all taken at once (a batch of imported rows)."""
    upsert = _upsert(conn.dialect.name, kind)
    values = {"ws": workspace_id, "ws_rows": workspace_id, "step": count, "step_rows": count}
    if conn.dialect.name != "postgresql":
        return int(conn.execute(upsert, values).scalar_one())
    # In a transaction of its own: bumped in the inserting one, the counter row stayed
    # locked until that transaction committed, and every deal of the workspace queued
    # behind the whole of the one before (a third of the acknowledgement under load).
    if conn.info.get(IN_TRANSACTION) is not conn.get_transaction():
        try:
            with conn.engine.connect() as own:
                own.execute(sa.text(f"SET LOCAL lock_timeout = '{OWN_LOCK_WAIT}'"))
                number = int(own.execute(upsert, values).scalar_one())
                own.commit()
            return number
        except sa.exc.DBAPIError:
            # The workspace was made in this very transaction (its row is not seen there),
            # or the counter row is locked by it: bump here for the rest of the transaction.
            conn.info[IN_TRANSACTION] = conn.get_transaction()
    return int(conn.execute(upsert, values).scalar_one())


@cache
def _upsert(dialect: str, kind: str) -> Any:
    """Built once per table: building and compiling it per row cost more than running it.
    Two parameters for one value, as PostgreSQL types each occurrence on its own."""
    rows = sa.table(kind, sa.column("workspace_id"), sa.column("number", sa.Integer))
    highest = (
        sa.select(
            sa.func.coalesce(sa.func.max(rows.c.number), 0)
            + sa.bindparam("step_rows", type_=sa.Integer)
        )
        .where(rows.c.workspace_id == sa.bindparam("ws_rows"))
        .scalar_subquery()
    )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(COUNTER)
        .values(workspace_id=sa.bindparam("ws"), kind=kind, last=highest)
        .on_conflict_do_update(
            index_elements=["workspace_id", "kind"],
            set_={"last": COUNTER.c.last + sa.bindparam("step", type_=sa.Integer)},
        )
        .returning(COUNTER.c.last)
    )


def _number_on_insert(_mapper: Any, conn: Connection, row: Any) -> None:
    if not row.number:  # bulk loaders may bring their own
        row.number = next_number(conn, row.__tablename__, row.workspace_id)


def number_on_insert(*models: type[Any]) -> None:
    """Give every new row of these models its workspace's next number."""
    for model in models:
        event.listen(model, "before_insert", _number_on_insert)
