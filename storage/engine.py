"""Engine and sessions. SQLite gets WAL, a busy timeout, FULL sync and BEGIN IMMEDIATE,
and its write transactions one connection of their own (see `_pin_writer`).

Requests that only read run in `read_scope` (a deferred transaction on SQLite, a READ ONLY
one on PostgreSQL): they never take SQLite's one write lock, so they answer while a writer
holds it. `scoped` picks the scope and, when a read turns out to write, runs it again in
a write transaction.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

DEFAULT_URL = "sqlite:///pacer.db"
SQLITE_POOL = 16
# PostgreSQL: every request at the database (bot/work.py admits 8), the deal-number bump on
# a connection of its own beside each, and the pools' outbox writes, without one waiting
# for a connection (QueuePool's default of 5 made requests queue behind each other).
POSTGRES_POOL = 24
POSTGRES_OVERFLOW = 8
READ_ONLY = "pacer_read_only"  # an execution option: see read_scope
WRITING = "pacer_writing"  # on a connection's info while it holds the writer lock
WRITER_WAIT = 10.0  # as busy_timeout: past it, SQLite's own wait takes over
# Statements that change the database: refused on a read scope's connection.
WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})
# Tests set this: a read scope that writes raises instead of being run again writing.
STRICT_READS = False

log = logging.getLogger(__name__)
T = TypeVar("T")


class WriteInReadScope(RuntimeError):
    """A statement that writes, sent in a read scope (nothing was sent to the database)."""


class NeedsWrite(Exception):
    """A read that has to write first, as expected now and then (the first request of a
    user creates their member row): `scoped` runs it again writing, without a warning."""


def make_engine(url: str = DEFAULT_URL, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        kwargs.setdefault("pool_size", POSTGRES_POOL)
        kwargs.setdefault("max_overflow", POSTGRES_OVERFLOW)
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        _refuse_writes_in_reads(engine)
        return engine
    if url in ("sqlite://", "sqlite:///:memory:"):
        kwargs.setdefault("poolclass", StaticPool)
    else:
        # Enough connections that reads (which never wait in WAL mode) do not queue behind
        # the writers for a connection; each costs a page cache (2 MB) once used. Last in,
        # first out: one request at a time keeps using one (warm) connection, and the pool
        # warms a cache only for as many requests as have run at once.
        kwargs.setdefault("pool_size", SQLITE_POOL)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_use_lifo", True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    done_writing = _tune_sqlite(engine, in_memory=in_memory)
    _refuse_writes_in_reads(engine)
    if not in_memory and "poolclass" not in kwargs:
        _pin_writer(engine, url, done_writing)
    return engine


# The engine that runs each SQLite engine's write transactions (session_scope).
_WRITERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _pin_writer(engine: Engine, url: str, done_writing: Callable[[Any], None]) -> None:
    """Every write transaction on one connection. SQLite empties a connection's page cache
    when its next transaction finds the database changed by another connection: with writes
    spread over the pool, each began cold and read every index page it touched again (at
    5M deals a sixth of a /deal's CPU). Only this connection writes, so its cache holds.
    Writers queue for it as they queue for the writer lock, which they still take."""
    pinned = create_engine(
        url,
        connect_args={"check_same_thread": False},
        pool_size=1,
        max_overflow=0,
        pool_timeout=2 * WRITER_WAIT,  # the writer lock's wait, then SQLite's busy timeout
    )
    # The engine's listeners hear the pinned connection too (the writer lock, the read
    # check, anyone counting statements): the join SQLAlchemy makes for an engine's
    # execution_options() copy. The pool's "connect" is not joined: the pragmas again.
    pinned.dispatch = pinned.dispatch._join(engine.dispatch)
    pinned._has_events = True
    _set_pragmas(pinned, in_memory=False)
    _after_ending(pinned, done_writing)
    _WRITERS[engine] = pinned
    event.listen(engine, "engine_disposed", partial(_dispose_writer, engine, pinned))


def _dispose_writer(engine: Engine, pinned: Engine, disposed: Engine) -> None:
    if disposed is engine:  # the pinned one's own disposal is heard here too
        pinned.dispose()


def writer_of(engine: Engine) -> Engine:
    """The engine write transactions run on: SQLite's pinned writer, else the engine."""
    return _WRITERS.get(engine, engine)


def _refuse_writes_in_reads(engine: Engine) -> None:
    """A read scope's statement that would write raises before it is sent: on SQLite it
    would wait for the write lock the read scope exists to avoid."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY) and _writes(statement):
            raise WriteInReadScope(statement.split("\n", 1)[0][:120])


def _writes(statement: str) -> bool:
    words = statement.lstrip(" \n(").split(None, 1)
    return bool(words) and words[0].upper() in WRITE_VERBS


def _set_pragmas(engine: Engine, *, in_memory: bool) -> None:
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


def _tune_sqlite(engine: Engine, *, in_memory: bool) -> Callable[[Any], None]:
    """The pragmas, BEGIN IMMEDIATE and the writer lock; returns what lets the lock go."""
    _set_pragmas(engine, in_memory=in_memory)
    writer = threading.Lock()

    # SQLite has one writer. Left to its busy handler, writers waiting for it poll with
    # sleeps of up to 100 ms, and under load one can lose for seconds; in this process
    # they queue on a lock instead and go in turn the moment the writer before commits.
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read-then-write transaction that starts deferred fails at once with
        # SQLITE_BUSY under contention, ignoring busy_timeout; IMMEDIATE waits instead.
        # A read-only one (read_scope) starts deferred: in WAL mode it neither waits for
        # the writer nor holds it up.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        queued = not in_memory and writer.acquire(timeout=WRITER_WAIT)
        conn.info[WRITING] = queued
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _done_writing(conn)
            raise

    def _done_writing(conn: Any) -> None:
        if _info(conn).pop(WRITING, False):
            writer.release()

    _after_ending(engine, _done_writing)
    return _done_writing


def _info(conn: Any) -> dict[Any, Any]:
    """A pooled connection's info; none for the raw one the dialect probes on first connect."""
    try:
        return conn.info
    except (AttributeError, NotImplementedError):
        return {}


def _after_ending(engine: Engine, done: Callable[[Any], None]) -> None:
    """Call `done` with the pooled connection once SQLite has committed or rolled back.
    The engine's "commit" and "rollback" events fire before the DBAPI call: a lock let go
    there hands the next writer a transaction still open, and its BEGIN IMMEDIATE drops
    into SQLite's busy handler (sleeps of 1, 2, 5, 10… ms) while this one finishes. The
    pool's reset of a connection returned mid-transaction rolls back through here too."""
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(conn: Any) -> None:
        try:
            commit(conn)
        finally:
            done(conn)

    def do_rollback(conn: Any) -> None:
        try:
            rollback(conn)
        finally:
            done(conn)

    # The dialect is this engine's own instance: no other engine is touched.
    dialect.do_commit = do_commit  # type: ignore[method-assign,assignment]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign,assignment]


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One session per request or job: commit on success, roll back on any error."""
    with Session(writer_of(engine), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A session that only reads: on SQLite it takes no write lock, so a lookup on the
    acknowledgement path never queues behind a writer; on PostgreSQL its transaction is
    READ ONLY. A write in it raises WriteInReadScope, a change left unflushed too (at the
    end, rather than being dropped unseen)."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    with Session(engine.execution_options(**options), expire_on_commit=False) as s:
        s.info[READ_ONLY] = True
        try:
            yield s
            s.flush()
        finally:
            s.rollback()


def reads_only(session: Session) -> bool:
    """Whether the session is a read scope's (so it records nothing, not even a delivery)."""
    return bool(session.info.get(READ_ONLY))


def scoped(engine: Engine, run: Callable[[Session], T], *, writes: bool = True) -> T:
    """`run` in a write transaction, or for what only reads in a read scope; a read that
    writes after all is run again in a write transaction (a warning, unless expected)."""
    if not writes:
        try:
            with read_scope(engine) as session:
                return run(session)
        except NeedsWrite as why:
            log.debug("a read writes first (%s): run again, writing", why)
        except WriteInReadScope as err:
            if STRICT_READS:
                raise
            log.warning("a read-only request wrote (%s): run again, writing", err)
    with session_scope(engine) as session:
        return run(session)
