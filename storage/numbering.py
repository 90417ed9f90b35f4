"""Per-workspace numbers for the rows users see as `#N` (deals, goals, feedback).

The primary key is one global sequence: shown to users it would tell one workspace how busy
the others are. Each numbered row gets the next number of its workspace instead, from a
counter row bumped in the inserting transaction by one upsert (INSERT ... ON CONFLICT DO
UPDATE ... RETURNING). On PostgreSQL the upsert locks the counter row until commit, so two
transactions of one workspace never get the same number under READ COMMITTED; SQLite
serialises writers anyway (BEGIN IMMEDIATE). A missing counter row starts after the highest
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

COUNTER = sa.table(
    "counter", sa.column("workspace_id"), sa.column("kind"), sa.column("last", sa.Integer)
)


def next_number(conn: Connection, kind: str, workspace_id: str) -> int:
    """The next number of `kind` (a numbered table's name) in the workspace."""
    upsert = _upsert(conn.dialect.name, kind)
    return int(conn.execute(upsert, {"ws": workspace_id, "ws_rows": workspace_id}).scalar_one())


@cache
def _upsert(dialect: str, kind: str) -> Any:
    """Built once per table: building and compiling it per row cost more than running it.
    Two parameters for one value, as PostgreSQL types each occurrence on its own."""
    rows = sa.table(kind, sa.column("workspace_id"), sa.column("number", sa.Integer))
    highest = (
        sa.select(sa.func.coalesce(sa.func.max(rows.c.number), 0) + 1)
        .where(rows.c.workspace_id == sa.bindparam("ws_rows"))
        .scalar_subquery()
    )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(COUNTER)
        .values(workspace_id=sa.bindparam("ws"), kind=kind, last=highest)
        .on_conflict_do_update(
            index_elements=["workspace_id", "kind"], set_={"last": COUNTER.c.last + 1}
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
