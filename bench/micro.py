"""In-process timings: the leaderboard's query (ORM against raw SQL) and its chart alone."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

import charts
from bench.generate import WORKSPACE_ID
from charts.specs import ChartSpec
from commands.router import dispatch
from commands.types import Request
from domain import periods
from storage import queries
from storage.engine import session_scope

# The SQL that storage.queries.totals_by_owner sends, written by hand.
TOTALS_SQL = (
    "SELECT owner_id, sum(amount_minor), count(*) FROM deal"
    " WHERE workspace_id = {p} AND stage = 'won' AND close_date >= {p} AND close_date <= {p}"
    " AND deleted_at IS NULL AND team_id = {p} GROUP BY owner_id"
)
ROUNDS = 5


@dataclass(frozen=True)
class QueryTimes:
    orm: float  # median seconds per call
    core_sql: float  # conn.exec_driver_sql
    dbapi_sql: float  # the driver's own cursor
    rows: int


def median_time(fn: Callable[[], Any], runs: int) -> float:
    return statistics.median(_times(fn, runs))


def current_month(today: date) -> periods.Period:
    return periods.current(periods.PeriodKind.MONTH, today)


def time_totals_query(engine: Engine, team_id: int, today: date, runs: int) -> QueryTimes:
    """Median time of the leaderboard's totals query three ways, in alternating blocks.

    Each block keeps one open transaction or connection, as the command does inside its
    session. Blocks, not single calls, alternate: on SQLite every session starts with
    BEGIN IMMEDIATE, so two ways cannot hold transactions at the same time.
    """
    month = current_month(today)
    sqlite = engine.dialect.name == "sqlite"
    sql = TOTALS_SQL.format(p="?" if sqlite else "%s")
    # SQLite stores dates as ISO text; the raw query must bind what SQLAlchemy binds.
    start: Any = month.start.isoformat() if sqlite else month.start
    end: Any = month.end.isoformat() if sqlite else month.end
    args = (WORKSPACE_ID, start, end, team_id)
    samples: dict[str, list[float]] = {"orm": [], "core": [], "dbapi": []}
    expected: dict[int, tuple[int, int]] = {}
    block = max(1, runs // ROUNDS)
    for _ in range(ROUNDS):
        with Session(engine) as session:

            def orm() -> dict[int, tuple[int, int]]:
                return queries.totals_by_owner(
                    session,
                    workspace_id=WORKSPACE_ID,
                    start=month.start,
                    end=month.end,
                    team_id=team_id,
                )

            expected = orm()
            samples["orm"] += _times(orm, block)
        with engine.connect() as conn:
            core = conn.exec_driver_sql(sql, args).all()
            samples["core"] += _times(lambda: conn.exec_driver_sql(sql, args).all(), block)
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql, args)
            got = {int(o): (int(s), int(n)) for o, s, n in cursor.fetchall()}

            def dbapi() -> list[Any]:
                cursor.execute(sql, args)  # noqa: B023  (called only inside this block)
                return list(cursor.fetchall())  # noqa: B023

            samples["dbapi"] += _times(dbapi, block)
            cursor.close()
            raw.rollback()
        finally:
            raw.close()
        if got != expected or len(core) != len(expected):
            raise AssertionError("raw SQL and the ORM query disagree")
    return QueryTimes(
        orm=statistics.median(samples["orm"]),
        core_sql=statistics.median(samples["core"]),
        dbapi_sql=statistics.median(samples["dbapi"]),
        rows=len(expected),
    )


def _times(fn: Callable[[], Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def leaderboard_spec(engine: Engine, user_id: str) -> tuple[ChartSpec, float]:
    """The chart spec /leaderboard builds for `user_id`, and the dispatch time (warm)."""
    req = Request(workspace_id=WORKSPACE_ID, user_id=user_id, text="", now=datetime.now(UTC))
    elapsed = 0.0
    for _ in range(2):  # the first run loads caches (i18n catalogs, Babel data)
        started = time.perf_counter()
        with session_scope(engine) as session:
            reply = dispatch("/leaderboard", req, session)
        elapsed = time.perf_counter() - started
    if reply.chart is None:
        raise AssertionError(f"/leaderboard gave no chart: {reply.text!r}")
    return reply.chart, elapsed


def time_charts(spec: ChartSpec, runs: int) -> tuple[str, float, float]:
    """(empty renderer's name, chart median, empty median), in alternating blocks.

    Alternating blocks keep a burst of load from elsewhere on the machine from landing
    on one side of the ratio only.
    """
    name, render_empty = empty_renderer()
    charts.render(spec)  # warm-up: fonts and code paths
    render_empty()
    chart: list[float] = []
    empty: list[float] = []
    block = max(1, runs // ROUNDS)
    for _ in range(ROUNDS):
        chart += _times(lambda: charts.render(spec), block)
        empty += _times(render_empty, block)
    return name, statistics.median(chart), statistics.median(empty)


def empty_renderer() -> tuple[str, Callable[[], bytes]]:
    """An empty figure of the charts' size, drawn to PNG: the floor any chart pays."""
    from charts.draw import render_empty

    return "charts.draw.render_empty", render_empty
