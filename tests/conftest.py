"""Shared fixtures: a migrated database on SQLite and, where available, PostgreSQL.

`db` runs each test on both back ends. PostgreSQL tests skip where no server answers,
unless PACER_REQUIRE_POSTGRES=1 (set by .ci/run), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from commands.router import dispatch
from commands.types import Reply, Request
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from tests.fakeslack import FakeSlack

PG_URL = os.environ.get("PACER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday
ADMIN = "UADMIN"


def _postgres_engine() -> tuple[Engine, str]:
    """A fresh schema on the test server, so parallel or repeated runs never collide."""
    base = make_engine(PG_URL)
    schema = f"pacer_{uuid.uuid4().hex[:10]}"
    try:
        with base.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as err:
        base.dispose()
        if os.environ.get("PACER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {PG_URL}: {err}")
        pytest.skip(f"no PostgreSQL at {PG_URL}")
    base.dispose()
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    return engine, schema


def _drop(engine: Engine, schema: str) -> None:
    engine.dispose()
    base = make_engine(PG_URL)
    with base.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    base.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = make_engine("sqlite://")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    eng, schema = _postgres_engine()
    upgrade(eng)
    yield eng
    _drop(eng, schema)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fake Slack Web API on loopback that records every call."""
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file: waitress and Bolt work in many threads, each connecting."""
    eng = make_engine(f"sqlite:///{tmp_path / 'pacer.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine() -> Iterator[Engine]:
    eng = make_engine("sqlite://")
    upgrade(eng)
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
        with session_scope(engine) as s:
            return dispatch(command, req, s)

    return _run


@pytest.fixture
def team(run: Run) -> Run:
    """Workspace T1: team East (USD, New York) with reps alice and bob, manager mia."""
    run(ADMIN, "/pacer", "setup team create East <#CEAST|sales-east> tz:America/New_York")
    run(ADMIN, "/pacer", "setup team add East <@UALICE|alice> <@UBOB|bob>")
    run(ADMIN, "/pacer", "setup team add East <@UMIA|mia> as:manager")
    return run
