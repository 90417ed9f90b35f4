"""What /readyz asks the database: is it there, and is its schema the one this code needs."""

from __future__ import annotations

from functools import cache
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from storage.migrate import MIGRATIONS


@cache
def head_revision() -> str | None:
    """The newest migration shipped with this code (read once: it cannot change)."""
    return _scripts().get_current_head()


@cache
def known_revisions() -> frozenset[str]:
    """Every migration this code ships; a database at another one is newer than the code."""
    return frozenset(script.revision for script in _scripts().walk_revisions())


def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def ping(engine: Engine) -> None:
    """Raises unless the database answers (a raw connection: see schema_revision)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    finally:
        raw.close()


def schema_revision(engine: Engine) -> str | None:
    """The database's migration, None before the first one; raises if it is unreachable.

    On a raw DBAPI connection: the Connection-level BEGIN IMMEDIATE that SQLite writes need
    would make every probe take the write lock.
    """
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            return _revision(raw, cursor)
        finally:
            cursor.close()
            raw.rollback()  # end the read: PostgreSQL would keep its snapshot open
    finally:
        raw.close()


def _revision(raw: Any, cursor: Any) -> str | None:
    cursor.execute("SELECT 1")  # the database answers at all (else this raises)
    try:
        cursor.execute("SELECT version_num FROM alembic_version")
    except Exception:
        raw.rollback()  # no such table: never migrated (PostgreSQL aborted the transaction)
        return None
    row = cursor.fetchone()
    return str(row[0]) if row else None
