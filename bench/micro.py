"""In-process timings, every ratio from figures taken in turn (A, B, A, B, ...) in this process.

The leaderboard's query (ORM against raw SQL), commands in the busy workspace against the
same commands in the empty one (bench/generate.py), and charts against an empty figure of
the same size.
"""

from __future__ import annotations

import itertools
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session

import charts
from bench import clock
from bench.generate import EMPTY_ID, WORKSPACE_ID
from charts.specs import ChartSpec
from commands.router import dispatch
from commands.types import Reply, Request
from domain import periods
from storage import queries
from storage.engine import READ_ONLY, session_scope

# The SQL that storage.queries.totals_by_owner sends, written by hand.
# The same query as queries.totals_by_owner, by hand: a team's won totals per rep off the
# per-day rollup (storage/queries/repdays.py), so the ratio is the ORM's own cost.
TOTALS_SQL = (
    "SELECT owner_id, sum(won_minor), sum(won_count) FROM repday"
    " WHERE workspace_id = {p} AND team_id = {p} AND day >= {p} AND day <= {p}"
    " GROUP BY team_id, owner_id"
)


def interleaved(fns: dict[str, Callable[[], Any]], runs: int) -> dict[str, float]:
    """Median seconds of each function, called in turn, the order reversed every other
    round: a burst of load from elsewhere lands on all sides of a ratio alike. One warm-up
    call each first (caches, catalogs, code paths)."""
    for fn in fns.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for i in range(runs):
        for name in names if i % 2 == 0 else names[::-1]:
            started = time.perf_counter()
            fns[name]()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(times) for name, times in samples.items()}


# --- the leaderboard query ---------------------------------------------------------------------


@dataclass(frozen=True)
class QueryTimes:
    orm: float  # median seconds per call
    core_sql: float  # conn.exec_driver_sql
    dbapi_sql: float  # the driver's own cursor
    rows: int


def time_totals_query(engine: Engine, team_id: int, today: date, runs: int) -> QueryTimes:
    """Median time of the leaderboard's totals query three ways, call by call in turn.

    Each way keeps one open read transaction, as the command does inside its session; read
    only (deferred BEGIN on SQLite), so the three never wait for each other's lock.
    """
    month = periods.current(periods.PeriodKind.MONTH, today)
    sqlite = engine.dialect.name == "sqlite"
    sql = TOTALS_SQL.format(p="?" if sqlite else "%s")
    # SQLite stores dates as ISO text; the raw query must bind what SQLAlchemy binds.
    start: Any = month.start.isoformat() if sqlite else month.start
    end: Any = month.end.isoformat() if sqlite else month.end
    args = (WORKSPACE_ID, team_id, start, end)
    reading = engine.execution_options(**{READ_ONLY: True})
    raw = engine.raw_connection()
    try:
        with Session(reading) as session, reading.connect() as conn:
            cursor = raw.cursor()

            def orm() -> dict[int, tuple[int, int]]:
                return queries.totals_by_owner(
                    session,
                    workspace_id=WORKSPACE_ID,
                    start=month.start,
                    end=month.end,
                    team_id=team_id,
                )

            def core() -> list[Any]:
                return list(conn.exec_driver_sql(sql, args).all())

            def dbapi() -> list[Any]:
                cursor.execute(sql, args)
                return list(cursor.fetchall())

            expected = orm()
            got = {int(o): (int(s), int(n)) for o, s, n in dbapi()}
            if got != expected or len(core()) != len(expected):
                raise AssertionError("raw SQL and the ORM query disagree")
            medians = interleaved({"orm": orm, "core": core, "dbapi": dbapi}, runs)
            cursor.close()
    finally:
        raw.rollback()
        raw.close()
    return QueryTimes(medians["orm"], medians["core"], medians["dbapi"], len(expected))


# --- commands in the busy and the empty workspace ----------------------------------------------


@dataclass(frozen=True)
class Ask:
    """One command as a user types it; `{n}` in the text is numbered per call."""

    command: str
    text: str = ""
    user_id: str = ""
    channel_id: str = "CB0000000"


_calls = itertools.count(1)
# Keys of this process alone: a database kept from an earlier run holds that run's keys, and
# a key met again would be answered with its recorded reply, not run.
_RUN = uuid.uuid4().hex[:8]


def runner(engine: Engine, workspace_id: str, ask: Ask, today: date) -> Callable[[], Reply]:
    """A call of dispatch as the app makes it: one committed session, a fresh delivery key."""

    def run() -> Reply:
        n = next(_calls)
        req = Request(
            workspace_id=workspace_id,
            user_id=ask.user_id,
            text=ask.text.format(n=n),
            now=clock.now(today),
            channel_id=ask.channel_id,
            request_key=f"bench-{_RUN}-{workspace_id}-{n}",
        )
        with session_scope(engine) as session:
            reply = dispatch(ask.command, req, session)
        if not reply.ok:
            raise AssertionError(f"{ask.command} {req.text}: {reply.text}")
        return reply

    return run


def busy_and_empty(
    engine: Engine, asks: dict[str, Ask], today: date, runs: int
) -> dict[str, tuple[float, float]]:
    """Per label: (busy median, empty median) of the same command by the same user id."""
    fns: dict[str, Callable[[], Any]] = {}
    for label, ask in asks.items():
        fns[f"busy {label}"] = runner(engine, WORKSPACE_ID, ask, today)
        fns[f"empty {label}"] = runner(engine, EMPTY_ID, ask, today)
    medians = interleaved(fns, runs)
    return {label: (medians[f"busy {label}"], medians[f"empty {label}"]) for label in asks}


@contextmanager
def threshold_on(engine: Engine, team_id: int, minor: int) -> Iterator[None]:
    """A big-deal threshold on one team for the length of the block (the default is none)."""
    sql = text("UPDATE team SET big_deal_minor = :v WHERE id = :id")
    with engine.begin() as conn:
        conn.execute(sql, {"v": minor, "id": team_id})
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(sql, {"v": None, "id": team_id})


def forget_deals(engine: Engine, workspace_id: str, after_id: int) -> None:
    """The deals the figures logged in a workspace, and what came with them, deleted: the
    empty workspace stays empty for the figures after."""
    ws = {"ws": workspace_id, "m": after_id}
    with engine.begin() as conn:
        conn.execute(
            text(
                "DELETE FROM auditentry WHERE workspace_id = :ws AND entity = 'deal'"
                " AND entity_id > :m"
            ),
            ws,
        )
        conn.execute(text("DELETE FROM stagechange WHERE workspace_id = :ws AND deal_id > :m"), ws)
        conn.execute(text("DELETE FROM deal WHERE workspace_id = :ws AND id > :m"), ws)


def spec_of(engine: Engine, ask: Ask, today: date) -> ChartSpec:
    reply = runner(engine, WORKSPACE_ID, ask, today)()
    if reply.chart is None:
        raise AssertionError(f"{ask.command} {ask.text} gave no chart: {reply.text!r}")
    return reply.chart


# --- charts --------------------------------------------------------------------------------------


def time_chart(spec: ChartSpec, runs: int) -> tuple[float, float]:
    """(chart median, empty figure median): the empty figure has the chart's own size."""
    medians = interleaved({"chart": lambda: charts.render(spec), "empty": empty_like(spec)}, runs)
    return medians["chart"], medians["empty"]


def empty_like(spec: ChartSpec) -> Callable[[], bytes]:
    """An empty figure of the size `spec` is drawn at, to PNG: the floor that chart pays."""
    from charts import draw

    # The figure plumbing of charts/draw.py itself, so size, dpi and rc settings match.
    height = draw.height_of(spec)

    def render() -> bytes:
        with draw._figure(height) as fig:
            return draw._png(fig)

    return render
