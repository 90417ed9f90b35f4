"""Apply Alembic migrations programmatically (no alembic.ini needed at run time)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
# Instances that start at once on one PostgreSQL migrate in turn (an advisory lock per
# schema, as the scheduler's): the first applies what is missing, the others find it done.
MIGRATE_LOCK = 7_231_000_001
LOCK = "pg_advisory_lock(CAST(:k AS bigint) + hashtext(current_schema()))"
UNLOCK = "pg_advisory_unlock(CAST(:k AS bigint) + hashtext(current_schema()))"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`, logging only when there is something to apply."""
    cfg = alembic_config(engine)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if revision == "head" and current_revision(engine) == head:
        return  # the usual start: nothing to wait for
    with migrating(engine):
        current = current_revision(engine)  # another instance may have done it meanwhile
        if revision == "head" and current == head:
            return
        log.info("migrating database schema from %s to %s", current or "empty", head)
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def migrating(engine: Engine) -> Iterator[None]:
    """On PostgreSQL, hold the migration lock on a connection of its own (SQLite's own
    write lock already lets one migration run at a time)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text(f"SELECT {LOCK}"), {"k": MIGRATE_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text(f"SELECT {UNLOCK}"), {"k": MIGRATE_LOCK})
            conn.commit()


def downgrade(engine: Engine, revision: str) -> None:
    with migrating(engine):
        command.downgrade(alembic_config(engine), revision)
