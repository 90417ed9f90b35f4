"""Funnel, trend, mix and why (issue 12): each request against its own SQL plus its chart.

For each command, as a user of team 1 asks it in the busy workspace:
- request to delivered: dispatch as the app makes it (one committed session), the PNG of
  its chart drawn (what the outbox uploads) and the CSV of a long /progress why written
  (after the acknowledgement, as an export is);
- its own SQL: the very statements the request sent (with their parameters), replayed on
  the driver's own cursor in one transaction, rolled back; plus the chart drawn alone
  from the spec. The target: delivered within 1.5x of that sum;
- its statements in the busy workspace and in the empty one (same teams, reps and goals,
  no deals): the same count, whatever the deals.
Medians over interleaved runs, all in this process.
"""

from __future__ import annotations

import gc
import io
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session

import charts
from bench.generate import EMPTY_ID, WORKSPACE_ID, Params
from bench.micro import Ask, interleaved, runner
from bench.table import Row, ms, ratio
from commands import export
from commands.types import Reply

ANALYSIS_FACTOR = 1.5
# The transaction's own statements: the replay runs in one transaction, rolled back.
FRAMING = ("BEGIN", "COMMIT", "ROLLBACK", "SET TRANSACTION")


@dataclass(frozen=True)
class Figure:
    label: str
    ask: Ask


def figures(rep: str) -> list[Figure]:
    return [
        Figure("/pacer funnel team (quarter)", Ask("/pacer", "funnel team Team 01 quarter", rep)),
        Figure("/pacer funnel rep (quarter)", Ask("/pacer", "funnel quarter", rep)),
        Figure("/pacer trend team, 12 months", Ask("/pacer", "trend team Team 01 months 12", rep)),
        Figure(
            "/pacer trend team new_customers, 6 months",
            Ask("/pacer", "trend team Team 03 new_customers", rep),
        ),
        Figure(
            "/pacer mix team by product (quarter)", Ask("/pacer", "mix team Team 01 quarter", rep)
        ),
        Figure(
            "/pacer mix team by customer (year)",
            Ask("/pacer", "mix team Team 01 year by customer", rep),
        ),
        Figure("/progress why (rep, month)", Ask("/progress", "why", rep)),
        Figure(
            "/progress why team (month, with its CSV)", Ask("/progress", "why team Team 01", rep)
        ),
    ]


@contextmanager
def recorded(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement the engine sends while the block runs, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def delivered(engine: Engine, workspace: str, ask: Ask, today: date) -> Callable[[], Reply]:
    run = runner(engine, workspace, ask, today)

    def deliver() -> Reply:
        reply = run()
        if reply.chart is not None:
            charts.render(reply.chart)
        if reply.file is not None:  # written after the acknowledgement, as the app does
            with Session(engine) as session:
                export.write_file(session, reply.file, io.BytesIO(), charts.render_report)
        return reply

    return deliver


def replay(engine: Engine, statements: list[tuple[str, Any]]) -> Callable[[], None]:
    """The statements replayed on a raw driver connection, in one transaction rolled back
    each time (a /progress why claims its delivery: an insert and an update)."""
    reads = [(sql, p) for sql, p in statements if not sql.lstrip().upper().startswith(FRAMING)]

    def run() -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for sql, params in reads:
                cursor.execute(sql, params)
                cursor.fetchall()
            cursor.close()
        finally:
            raw.rollback()
            raw.close()

    return run


def analysis_rows(engine: Engine, params: Params, runs: int, rep: str) -> list[Row]:
    rows: list[Row] = []
    today = params.end
    for fig in figures(rep):
        deliver = delivered(engine, WORKSPACE_ID, fig.ask, today)
        deliver()  # warm: catalogs, caches, code paths
        with recorded(engine) as sent:
            reply = deliver()
        # The request's own statements (a file written after it has a few of its own).
        with recorded(engine) as busy:
            runner(engine, WORKSPACE_ID, fig.ask, today)()
        with recorded(engine) as empty:
            runner(engine, EMPTY_ID, fig.ask, today)()
        sql = replay(engine, sent)
        spec = reply.chart
        fns: dict[str, Callable[[], Any]] = {
            "delivered": deliver,
            "ack": runner(engine, WORKSPACE_ID, fig.ask, today),
            "sql": sql,
        }
        if spec is not None:
            fns["chart"] = partial(charts.render, spec)
        medians = interleaved(fns, runs)
        alone = medians["sql"] + medians.get("chart", 0.0)
        share = medians["delivered"] / alone
        chart = ms(medians["chart"]) if "chart" in medians else "no chart"
        rows.append(
            Row(
                f"{fig.label}: delivered (its SQL + its chart)",
                f"{ms(medians['delivered'])} ({ms(medians['sql'])} + {chart})",
            )
        )
        rows.append(Row(f"{fig.label}: acknowledged (dispatch alone)", ms(medians["ack"])))
        judged = Row(f"{fig.label}: delivered / (SQL + chart)", ratio(share))
        rows.append(replace(judged, target=f"<= {ANALYSIS_FACTOR:g}x", ok=share <= ANALYSIS_FACTOR))
        rows.append(
            Row(
                f"{fig.label}: statements, busy (empty)",
                f"{len(busy)} ({len(empty)})",
                target="same",
                ok=len(busy) == len(empty),
            )
        )
    return rows


# --- the monthly report -------------------------------------------------------------------------

REPORT_SECONDS = 5.0
REPORT_MEMORY = 1.1  # RSS after the reports over RSS after the first one


def report_rows(engine: Engine, params: Params, runs: int, manager: str) -> list[Row]:
    """/pacer report for Team 01 (20 reps) built and drawn as the outbox does, one after
    another: the time of each (median) and this process's resident memory after the first
    and after them all."""
    ask = Ask("/pacer", "report month team Team 01", manager)
    reply = runner(engine, WORKSPACE_ID, ask, params.end)()
    file = reply.file
    if file is None:
        raise AssertionError(f"/pacer report gave no file: {reply.text}")

    def build() -> int:
        out = io.BytesIO()
        with Session(engine) as session:
            export.write_file(session, file, out, charts.render_report)
        return len(out.getvalue())

    size = build()
    gc.collect()
    before = _rss()
    times = []
    for _ in range(max(runs, 3)):
        started = time.perf_counter()
        build()
        times.append(time.perf_counter() - started)
    gc.collect()
    after = _rss()
    took = statistics.median(times)
    growth = after / before
    return [
        Row("/pacer report Team 01 (20 reps, month): PDF size", f"{size / 1024:.0f} KiB"),
        Row(
            "/pacer report built and drawn (median)",
            ms(took),
            f"< {REPORT_SECONDS:g} s",
            took < REPORT_SECONDS,
        ),
        Row(
            f"process RSS after {len(times) + 1} reports / after the first",
            f"{ratio(growth)} ({before / 2**20:.0f} → {after / 2**20:.0f} MB)",
            f"<= {REPORT_MEMORY}x",
            growth <= REPORT_MEMORY,
        ),
    ]


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
