"""SQLite's writers queue on a lock in the process, and reads take no write lock at all."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from storage.engine import make_engine, read_scope, session_scope


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
