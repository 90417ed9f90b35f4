"""Engine and sessions. SQLite gets WAL, a busy timeout, FULL sync and BEGIN IMMEDIATE."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

DEFAULT_URL = "sqlite:///pacer.db"
SQLITE_POOL = 4


def make_engine(url: str = DEFAULT_URL, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if url in ("sqlite://", "sqlite:///:memory:"):
        kwargs.setdefault("poolclass", StaticPool)
    else:
        # SQLite runs one writer at a time and reads in well under a millisecond: more
        # connections add nothing but another page cache each (2 MB) to resident memory.
        kwargs.setdefault("pool_size", SQLITE_POOL)
        kwargs.setdefault("max_overflow", 0)
    engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
    _tune_sqlite(engine, in_memory=url in ("sqlite://", "sqlite:///:memory:"))
    return engine


def _tune_sqlite(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA synchronous=FULL")  # a logged deal survives power loss
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-then-write transaction that starts deferred fails at once with
        # SQLITE_BUSY under contention, ignoring busy_timeout; IMMEDIATE waits instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One session per request or job: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
