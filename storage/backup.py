"""`pacer backup FILE` and `pacer restore FILE`: every row as JSON lines, into a database of
either kind (SQLite to PostgreSQL and back).

The file's first line is a header, `{"pacer_backup": 1, "revision": "0021", "workspaces":
[...], "secrets": false, "created_at": ...}`; then one line per row, `{"table": ...,
"row": {...}}`, the tables in foreign-key order (SQLModel.metadata.sorted_tables) and
each table's rows in the order of its primary key. Values are JSON-safe: dates ISO,
times ISO in UTC, integers exact.

One workspace (`workspace`) is the rows of the tables with a workspace_id, the
memberships of its teams and its Slack installation rows. The Slack installation tables
hold OAuth tokens, secrets that give the app's access to the workspace: they are left
out unless `secrets` (after a restore without them, install the app again, or keep
SLACK_BOT_TOKEN in the settings). OAuth states live ten minutes and are never backed up.
Integration tokens are kept only as their SHA-256 (storage/models.py): those rows are in.
The derived tables (customer, repday, teamday) are backed up and restored as rows.

A restore migrates the database, refuses one that holds any row (naming the table) and a
backup of another schema revision, loads everything in one transaction (all or nothing),
and on PostgreSQL moves each id sequence past the ids it loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Date, DateTime, Engine, Integer, Table, inspect, select, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (every table on the metadata)
from storage import slack_tables
from storage.migrate import alembic_config, current_revision, upgrade

FORMAT = 1
BATCH = 1000  # rows read, and inserted, at a time
SECRET_TABLES = (slack_tables.INSTALLATIONS, slack_tables.BOTS)
NEVER = (slack_tables.OAUTH_STATES,)


class BackupError(Exception):
    """A backup that cannot be restored here; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    workspaces: list[str]
    rows: dict[str, int]  # table -> rows written or loaded

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def head_revision(engine: Engine) -> str:
    """The schema revision this code's migrations end at."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def tables(*, secrets: bool) -> list[Table]:
    """The tables a backup holds, parents before children."""
    skip = set(NEVER) | (set() if secrets else set(SECRET_TABLES))
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in skip]


# --- backup -------------------------------------------------------------------------------------


def backup(
    engine: Engine,
    out: IO[str],
    *,
    workspace: str | None = None,
    secrets: bool = False,
    now: datetime | None = None,
) -> Summary:
    """Write every row (of `workspace`, else of all) to `out`, in one read transaction so
    the file is one moment of the database."""
    revision, head = current_revision(engine), head_revision(engine)
    if revision != head:
        raise BackupError(
            f"the database is at revision {revision or 'none'}, this Pacer at {head}: "
            "start Pacer once (it migrates), then back up"
        )
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # every table read at one moment
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        ids = _workspaces(conn, workspace)
        header = {
            "pacer_backup": FORMAT,
            "revision": revision,
            "workspaces": ids,
            "secrets": secrets,
            "created_at": _time(now or datetime.now(UTC)),
        }
        out.write(json.dumps(header) + "\n")
        for table in tables(secrets=secrets):
            n = 0
            for row in _rows(conn, table, workspace):
                out.write(json.dumps({"table": table.name, "row": row}, ensure_ascii=False))
                out.write("\n")
                n += 1
            counts[table.name] = n
        conn.rollback()
    return Summary(ids, counts)


def _workspaces(conn: Connection, workspace: str | None) -> list[str]:
    found = list(conn.execute(text("SELECT id FROM workspace ORDER BY id")).scalars())
    if workspace is None:
        return found
    if workspace not in found:
        raise BackupError(f"no workspace {workspace} in the database (it holds: {_list(found)})")
    return [workspace]


def _list(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "none"


def _rows(conn: Connection, table: Table, workspace: str | None) -> Iterator[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    if workspace is not None:
        if "workspace_id" in table.c:
            query = query.where(table.c.workspace_id == workspace)
        elif table.name == "membership":
            teams = SQLModel.metadata.tables["team"]
            mine = select(teams.c.id).where(teams.c.workspace_id == workspace)
            query = query.where(table.c.team_id.in_(mine))
        elif table.name in SECRET_TABLES:
            query = query.where(table.c.team_id == workspace)  # the Slack team id
        elif table.name == "workspace":
            query = query.where(table.c.id == workspace)
        else:
            raise BackupError(f"table {table.name}: no rule for one workspace's rows")
    result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
    for row in result.mappings():
        yield {key: _json(value) for key, value in row.items()}


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return _time(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _time(at: datetime) -> str:
    """Aware times in UTC; the Slack tables' naive times as they are stored."""
    return at.astimezone(UTC).isoformat() if at.tzinfo is not None else at.isoformat()


# --- restore ------------------------------------------------------------------------------------


def restore(engine: Engine, source: IO[str]) -> Summary:
    """Load a backup into an empty database (migrated first); all or nothing."""
    header = _header(source.readline(), head_revision(engine))
    with engine.connect() as conn:  # before migrating: a database in use is left as it is
        _check_empty(conn, set(inspect(conn).get_table_names()))
    upgrade(engine)
    by_name = {t.name: t for t in tables(secrets=True)}
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        _check_empty(conn)
        batch: list[dict[str, Any]] = []
        current: Table | None = None
        for number, line in enumerate(source, start=2):
            if not line.strip():
                continue
            name, row = _line(line, number)
            table = by_name.get(name)
            if table is None:
                raise BackupError(f"line {number}: no table {name!r} in this Pacer's schema")
            if table is not current or len(batch) >= BATCH:
                _insert(conn, current, batch)
                batch, current = [], table
            batch.append(_values(table, row))
            counts[name] = counts.get(name, 0) + 1
        _insert(conn, current, batch)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return Summary(list(header["workspaces"]), counts)


def _header(line: str, head: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("pacer_backup") != FORMAT:
        raise BackupError("not a Pacer backup: its first line is no pacer_backup header")
    revision = header.get("revision")
    if revision != head:
        raise BackupError(
            f"the backup is at schema revision {revision}, this Pacer at {head}: restore it "
            f"with the Pacer version whose migrations end at {revision}, then start this "
            "version, which migrates the database"
        )
    return header


def _check_empty(conn: Connection, existing: set[str] | None = None) -> None:
    for table in SQLModel.metadata.sorted_tables:
        if existing is not None and table.name not in existing:
            continue
        if conn.execute(select(text("1")).select_from(table).limit(1)).first() is not None:
            raise BackupError(
                f"the database is not empty: table {table.name} holds rows. "
                "Restore into a new, empty database"
            )


def _line(line: str, number: int) -> tuple[str, dict[str, Any]]:
    try:
        data = json.loads(line)
        return str(data["table"]), dict(data["row"])
    except (ValueError, KeyError, TypeError) as err:
        raise BackupError(f"line {number} is not a row of a backup ({err})") from None


def _values(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in row.items():
        column = table.c.get(key)
        if column is None:
            raise BackupError(f"table {table.name} has no column {key!r}")
        values[key] = _from_json(column.type, value)
    return values


def _from_json(kind: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    impl = getattr(kind, "impl", kind)  # UTCDateTime is a DateTime underneath
    if isinstance(impl, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(impl, Date):
        return date.fromisoformat(value)
    return value


def _insert(conn: Connection, table: Table | None, batch: list[dict[str, Any]]) -> None:
    if table is not None and batch:
        conn.execute(table.insert(), batch)


def _reset_sequences(conn: Connection) -> None:
    """Rows loaded with their ids leave each id sequence at 1: the next insert would take
    an id that exists. Each sequence moves to its table's largest id."""
    for table in SQLModel.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if not _serial(table, column.name):
                continue
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:t, :c), "
                    f"COALESCE(MAX({column.name}), 1), MAX({column.name}) IS NOT NULL) "
                    f"FROM {table.name}"
                ),
                {"t": table.name, "c": column.name},
            )


def _serial(table: Table, column: str) -> bool:
    """An integer id alone as the primary key: a serial column, with a sequence."""
    pk = list(table.primary_key.columns)
    return len(pk) == 1 and pk[0].name == column and isinstance(pk[0].type, Integer)
