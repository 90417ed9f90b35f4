"""SQLite's writers queue on a lock in the process, and reads take no write lock at all."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.pool import QueuePool

from storage.engine import make_engine, read_scope, session_scope, writer_of


@pytest.fixture
def file_db(tmp_path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with session_scope(eng) as s:
        s.connection().exec_driver_sql("CREATE TABLE t (n INTEGER)")
    return eng


def count(eng: Engine) -> int:
    with read_scope(eng) as s:
        return int(s.connection().exec_driver_sql("SELECT count(*) FROM t").scalar_one())


def test_many_writers_at_once_all_get_their_turn(file_db: Engine) -> None:
    def write(k: int) -> None:
        for i in range(10):
            with session_scope(file_db) as s:
                s.connection().execute(text("INSERT INTO t VALUES (:n)"), {"n": k * 100 + i})

    threads = [threading.Thread(target=write, args=(k,)) for k in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert count(file_db) == 120


def test_the_writer_lock_is_released_by_commit_rollback_and_close(file_db: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(file_db) as s:
        s.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
        raise RuntimeError("rolled back")
    with file_db.connect() as conn:  # closed without a commit
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")

    started = time.monotonic()
    with session_scope(file_db) as s:
        s.connection().exec_driver_sql("INSERT INTO t VALUES (3)")
    assert time.monotonic() - started < 1  # not waiting out a lock left behind
    assert count(file_db) == 1


def test_a_read_does_not_wait_for_a_writer(file_db: Engine) -> None:
    with session_scope(file_db) as writing:
        writing.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
        seen: list[int] = []
        reader = threading.Thread(target=lambda: seen.append(count(file_db)))
        reader.start()
        reader.join(timeout=5)
        assert seen == [0]  # read at once, before the writer committed
    assert count(file_db) == 1


def test_the_next_writer_waits_until_the_commit_is_on_disk(file_db: Engine) -> None:
    """The writer lock passes on after SQLite's COMMIT, not when SQLAlchemy announces it:
    let go earlier, the next writer's BEGIN IMMEDIATE meets the open transaction and drops
    into SQLite's busy handler, which sleeps 1, 2, 5, 10… ms (a queue of writers each lost
    milliseconds per turn, the whole cost of a cheap write)."""
    committing = threading.Event()

    @event.listens_for(file_db, "commit")  # heard on the pinned writer too
    def _slow(_conn: object) -> None:  # runs before the DBAPI commit, as every listener
        if threading.current_thread().name == "first":
            committing.set()
            time.sleep(0.3)

    errors: list[BaseException] = []

    def first() -> None:
        with session_scope(file_db) as s:
            s.connection().exec_driver_sql("INSERT INTO t VALUES (1)")

    def second() -> None:
        committing.wait(5)
        try:
            with file_db.connect() as conn:
                # No busy wait at all: BEGIN IMMEDIATE fails at once if the first is open.
                conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
                with conn.begin():
                    conn.exec_driver_sql("INSERT INTO t VALUES (2)")
                conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=10000")  # type: ignore[union-attr]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=first, name="first"), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert committing.is_set()  # the slow commit did run first
    assert errors == []
    assert count(file_db) == 2


def test_every_write_transaction_runs_on_one_connection(file_db: Engine) -> None:
    """SQLite empties a connection's page cache when another connection has written since
    its last transaction: writes spread over the pool each started cold. On one connection,
    from whichever thread, the cache holds (and reads still go to the others)."""
    used: list[int] = []
    ready = threading.Barrier(6)

    def write(k: int) -> None:
        ready.wait(5)
        for i in range(5):
            with session_scope(file_db) as s:
                conn = s.connection()
                conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": k * 10 + i})
                used.append(id(conn.connection.dbapi_connection))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(used) == 30 and len(set(used)) == 1
    with read_scope(file_db) as s:
        assert id(s.connection().connection.dbapi_connection) not in used
        assert s.connection().exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 30


def test_reads_one_after_another_reuse_one_connection(file_db: Engine) -> None:
    """Each read connection that has served a read keeps a page cache (up to 2 MB): taken
    in turn (the pool's default order), commands one at a time warmed all 16 of them, and
    the server grew by their caches. The last one returned serves the next read."""
    with read_scope(file_db) as a, read_scope(file_db) as b, read_scope(file_db) as c:
        for s in (a, b, c):  # three at once, as a burst leaves them in the pool
            s.connection().exec_driver_sql("SELECT 1").scalar_one()
    used = set()
    for _ in range(40):
        with read_scope(file_db) as s:
            s.connection().exec_driver_sql("SELECT count(*) FROM t").scalar_one()
            used.add(id(s.connection().connection.dbapi_connection))
    assert len(used) == 1


def test_disposing_the_engine_closes_its_writer(file_db: Engine) -> None:
    with session_scope(file_db) as s:
        s.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
    pool = writer_of(file_db).pool
    assert isinstance(pool, QueuePool) and pool.checkedin() == 1
    file_db.dispose()
    assert pool.checkedin() == 0
