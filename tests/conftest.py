"""Shared fixtures: a migrated database on SQLite and, where available, PostgreSQL.

`engine` runs each test on both back ends. PostgreSQL tests skip where no server answers,
unless PACER_REQUIRE_POSTGRES=1 (set by .ci/run), where they fail instead.

The migrations run once per test process (per pytest-xdist worker): SQLite tests get a
copy of a migrated template file, PostgreSQL tests share one migrated schema of their
process, emptied (TRUNCATE ... RESTART IDENTITY) before each test. Tests of the
migrations themselves build their own databases and run them for real.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from commands.router import dispatch, in_scope
from commands.types import Reply, Request
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.fakeslack import FakeSlack

PG_URL = os.environ.get("PACER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday
ADMIN = "UADMIN"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1, ... under pytest-xdist


def _postgres_engine() -> tuple[Engine, str]:
    """A fresh schema on the test server, so parallel or repeated runs never collide."""
    base = make_engine(PG_URL)
    schema = f"pacer_{WORKER}_{uuid.uuid4().hex[:10]}"
    try:
        with base.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as err:
        base.dispose()
        if os.environ.get("PACER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {PG_URL}: {err}")
        pytest.skip(f"no PostgreSQL at {PG_URL}")
    base.dispose()
    return _in_schema(schema), schema


def _in_schema(schema: str) -> Engine:
    # Commits need not wait for the WAL to reach the disk: a test database lost in a crash
    # loses nothing, and what each transaction sees stays the same.
    options = f"-csearch_path={schema} -csynchronous_commit=off"
    return make_engine(PG_URL, connect_args={"options": options})


def _drop(engine: Engine, schema: str) -> None:
    engine.dispose()
    base = make_engine(PG_URL)
    with base.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    base.dispose()


# --- migrated once per process ------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "pacer.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    eng.dispose()  # the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def migrated_sqlite_file(template: Path, path: Path) -> Engine:
    """A copy of the migrated template at `path`, as a file engine."""
    shutil.copyfile(template, path)
    return make_engine(f"sqlite:///{path}")


def migrated_sqlite_memory(template: Path) -> Engine:
    """An in-memory engine (one shared connection) holding a copy of the template."""
    eng = make_engine("sqlite://")
    restore_sqlite_memory(eng, template)
    return eng


def restore_sqlite_memory(eng: Engine, template: Path) -> None:
    """Replace the in-memory database of `eng` by a copy of the template (sqlite3 backup)."""
    source = sqlite3.connect(template)
    try:
        with eng.connect() as conn:
            raw: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
            if raw.in_transaction:  # left open by the test before
                raw.rollback()
            source.backup(raw)
    finally:
        source.close()


@pytest.fixture(scope="session")
def sqlite_memory(sqlite_template: Path) -> Iterator[Engine]:
    """This process's in-memory engine behind `engine`: kept from test to test, so that
    SQLAlchemy's statement cache (one per engine) stays warm; reset to the template
    before each test."""
    eng = make_engine("sqlite://")
    yield eng
    eng.dispose()


@dataclass
class PostgresSchema:
    """The one migrated schema of this test process, its engine (kept from test to test:
    warm server connections and statement cache) and the tables to empty between tests."""

    name: str
    tables: list[str]
    engine: Engine = field(repr=False)

    def empty(self) -> None:
        with self.engine.begin() as conn:
            # A connection left open in a transaction by a test would block TRUNCATE for
            # ever: fail loudly instead.
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            conn.execute(text(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[PostgresSchema]:
    eng, schema = _postgres_engine()
    try:
        upgrade(eng)
        with eng.connect() as conn:
            tables = conn.execute(
                text(
                    "SELECT quote_ident(tablename) FROM pg_tables"
                    " WHERE schemaname = :s AND tablename <> 'alembic_version' ORDER BY 1"
                ),
                {"s": schema},
            ).scalars()
            names = list(tables)
        yield PostgresSchema(schema, names, eng)
    finally:
        _drop(eng, schema)


@pytest.fixture(scope="session", autouse=True)
def _strict_reads() -> Iterator[None]:
    """A command declared read-only that writes fails its test, instead of being run
    again writing as in production (storage.engine.scoped)."""
    from storage import engine

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "STRICT_READS", True)
        yield


@pytest.fixture(scope="session", autouse=True)
def _own_scheduler_lock() -> Iterator[None]:
    """PostgreSQL advisory locks span the whole database, not a schema: each test process
    (xdist worker, or another checkout's run on the same server) takes its own key, so
    the Leader tests of one never see another's lock."""
    from bot import scheduler

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(scheduler, "LOCK_KEY", scheduler.LOCK_KEY + secrets.randbits(40))
        yield


@dataclass
class RetryWaits:
    """The waits slack_sdk's retry handlers asked for (Retry-After, backoff), not slept."""

    seconds: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture(autouse=True)
def retry_waits(monkeypatch: pytest.MonkeyPatch) -> RetryWaits:
    """Retries go at once: the fake answers 429 with Retry-After: 0, yet the SDK adds up
    to a second of jitter to it, and backs off half a second and more after a 5xx."""
    from slack_sdk.http_retry import builtin_handlers, handler

    waits = RetryWaits()
    monkeypatch.setattr(builtin_handlers, "time", waits)
    monkeypatch.setattr(handler, "time", waits)
    return waits


@pytest.fixture(scope="session", autouse=True)
def _socket_mode_closes_at_once() -> Iterator[None]:
    """slack_sdk's built-in Socket Mode connection reads a plain ws:// socket with a fixed
    3 s timeout while holding the lock that close() needs, so closing a handler waited out
    that read. Here, once the handshake is done, reads time out after 0.2 s (the loop
    simply reads again); the handshake itself keeps the 3 s."""
    from slack_sdk.socket_mode.builtin.connection import Connection

    original = Connection.connect

    def connect_then_short_reads(self: Connection) -> None:
        original(self)
        if self.sock is not None:
            self.sock.settimeout(0.2)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Connection, "connect", connect_then_short_reads)
        yield


# --- per test -----------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, sqlite_template: Path) -> Engine:
    """A migrated, empty database: in memory on SQLite, this process's schema on PostgreSQL."""
    if request.param == "sqlite":
        eng: Engine = request.getfixturevalue("sqlite_memory")
        restore_sqlite_memory(eng, sqlite_template)
        return eng
    schema: PostgresSchema = request.getfixturevalue("postgres_schema")
    schema.empty()
    return schema.engine


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fake Slack Web API on loopback that records every call."""
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def db(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A migrated SQLite file: waitress and Bolt work in many threads, each connecting."""
    eng = migrated_sqlite_file(sqlite_template, tmp_path / "pacer.db")
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_template: Path) -> Iterator[Engine]:
    eng = migrated_sqlite_memory(sqlite_template)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


Run = Callable[..., Reply]


@pytest.fixture
def run(engine: Engine) -> Run:
    """Run a command as a user, as the Slack and console adapters do, one session each."""

    def _run(
        user: str,
        command: str,
        text: str = "",
        *,
        now: datetime = NOW,
        locale: str = "en-US",
        workspace: str = "T1",
        key: str | None = None,
    ) -> Reply:
        req = Request(
            workspace_id=workspace,
            user_id=user,
            text=text,
            now=now,
            locale=locale,
            request_key=key,
            admin_ids=frozenset({ADMIN}),
        )
        # In the scope the adapters give it: a read-only command in a read scope.
        return in_scope(engine, command, text, lambda s: dispatch(command, req, s))

    return _run


@pytest.fixture
def team(run: Run) -> Run:
    """Workspace T1: team East (USD, New York) with reps alice and bob, manager mia."""
    run(ADMIN, "/pacer", "setup team create East <#CEAST|sales-east> tz:America/New_York")
    run(ADMIN, "/pacer", "setup team add East <@UALICE|alice> <@UBOB|bob>")
    run(ADMIN, "/pacer", "setup team add East <@UMIA|mia> as:manager")
    return run
