"""Run the benchmark and print one table: figure, value, target, PASS/FAIL.

    python -m bench.run [--deals 1000000] [--quick] [--postgres URL] [--skip-http]

Order: the dataset (cached), the in-process figures (query, chart), then the real HTTP
endpoint in a server subprocess with the fake Slack. See bench/README.md for what each
figure means.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text

from bench import endpoint, micro
from bench.generate import (
    OUT,
    Params,
    Summary,
    add_arguments,
    build_postgres,
    cached_sqlite,
    params_from,
    postgres_engine,
    rep_user_id,
)
from bench.table import Row, failures, format_table, mb, ms, ratio
from storage.engine import make_engine

ACK_P99_MS = 100.0
DELIVERED_FACTOR = 1.5
ORM_FACTOR = 1.5
CHART_FACTOR = 10.0
MEMORY_FACTOR = 1.1
PEAK_MB = 300


@dataclass(frozen=True)
class Plan:
    """How many of each measurement; --quick shrinks them all."""

    query_runs: int = 500
    chart_runs: int = 40
    warm: int = 10
    ack: int = 300
    delivered: int = 30
    replies: int = 1000


QUICK_PLAN = Plan(query_runs=50, chart_runs=10, warm=10, ack=30, delivered=5, replies=100)
MIX = ("/deal", "/progress", "/leaderboard")


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * pct / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# --- the dataset -------------------------------------------------------------------------------


def sqlite_dataset(params: Params, force: bool = False) -> tuple[str, Summary]:
    """A fresh working copy of the cached file: the run's /deal commands write to it."""
    path, summary = cached_sqlite(params, force=force)
    work = OUT / "work.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(path, work)
    return f"sqlite:///{work}", summary


def dataset_rows(summary: Summary) -> list[Row]:
    how = "cached" if summary.cached else f"generated in {summary.seconds:.1f} s"
    value = f"{summary.deals:,} deals, {summary.members:,} reps, {summary.goals:,} goals"
    return [Row("dataset", f"{value} ({how})")]


# --- in-process figures -----------------------------------------------------------------------


@dataclass(frozen=True)
class Local:
    query: micro.QueryTimes
    dispatch: float
    chart: float
    empty: float
    empty_name: str


def measure_local(engine: Engine, plan: Plan) -> Local:
    today = datetime.now(UTC).date()
    query = micro.time_totals_query(engine, team_id=1, today=today, runs=plan.query_runs)
    spec, dispatch = micro.leaderboard_spec(engine, rep_user_id(0, 0))
    empty_name, chart, empty = micro.time_charts(spec, plan.chart_runs)
    return Local(query, dispatch, chart, empty, empty_name)


def local_rows(local: Local) -> list[Row]:
    q = local.query
    orm_ratio = q.orm / q.dbapi_sql
    chart_ratio = local.chart / local.empty
    return [
        Row(f"leaderboard query, ORM (totals_by_owner, {q.rows} reps)", ms(q.orm)),
        Row("leaderboard query, raw SQL (DB-API cursor)", ms(q.dbapi_sql)),
        Row("leaderboard query, raw SQL (conn.exec_driver_sql)", ms(q.core_sql)),
        Row("ORM / raw SQL", ratio(orm_ratio), f"<= {ORM_FACTOR}x", orm_ratio <= ORM_FACTOR),
        Row("/leaderboard dispatch in-process (no chart)", ms(local.dispatch)),
        Row("leaderboard chart alone (charts.render)", ms(local.chart)),
        Row(f"empty figure alone ({local.empty_name})", ms(local.empty)),
        Row(
            "chart / empty figure",
            ratio(chart_ratio),
            f"<= {CHART_FACTOR:g}x",
            chart_ratio <= CHART_FACTOR,
        ),
    ]


# --- the HTTP endpoint ----------------------------------------------------------------------


@dataclass
class Remote:
    startup: float
    acks: list[float]
    delivered: dict[str, list[float]]
    rss_warm: int
    rss_mid: int  # after 10 x warm replies, or after the ack and delivery runs if later
    mid_replies: int  # how many replies rss_mid was read after
    rss_end: int
    peak: int
    replies: int
    failed: list[str]


def users(params: Params, count: int) -> list[str]:
    """A few active reps in different teams; the first is the one the local figures use."""
    return [rep_user_id(i % params.teams, i % params.reps_per_team) for i in range(count)]


def command_text(command: str, n: int) -> str:
    return f"{1000 + (n * 37) % 9000} Bench Customer {n}" if command == "/deal" else ""


def measure_http(database_url: str, params: Params, plan: Plan) -> Remote:
    started = time.perf_counter()
    with endpoint.running(database_url, OUT / "server.log") as (server, client):
        startup = time.perf_counter() - started
        active = users(params, plan.warm)
        n = 0

        def mixed(count: int) -> list[float]:
            nonlocal n
            acks = []
            for _ in range(count):
                command = MIX[n % len(MIX)]
                ack, _ = client.run(command, command_text(command, n), active[n % len(active)])
                acks.append(ack)
                n += 1
            return acks

        mixed(plan.warm)  # every active user's profile is cached after this
        rss_warm = server.memory()["VmRSS"]
        acks = mixed(plan.ack)
        delivered: dict[str, list[float]] = {c: [] for c in endpoint.CHART_COMMANDS}
        for _ in range(plan.delivered):
            for command in endpoint.CHART_COMMANDS:
                delivered[command].append(client.run(command, "", active[0])[1])
        mid = 10 * plan.warm
        mixed(max(0, mid - client.sent))
        rss_mid, mid_replies = server.memory()["VmRSS"], client.sent
        mixed(max(0, plan.replies - client.sent))
        memory = server.memory()
    return Remote(
        startup=startup,
        acks=acks,
        delivered=delivered,
        rss_warm=rss_warm,
        rss_mid=rss_mid,
        mid_replies=mid_replies,
        rss_end=memory["VmRSS"],
        peak=memory["VmHWM"],
        replies=client.sent,
        failed=client.failed,
    )


def http_rows(remote: Remote, local: Local, plan: Plan) -> list[Row]:
    acks = remote.acks
    p99 = percentile(acks, 99)
    board = statistics.median(remote.delivered["/leaderboard"])
    budget = DELIVERED_FACTOR * (local.query.dbapi_sql + local.chart)
    growth = remote.rss_end / remote.rss_warm
    # The label says when the reading was taken: with the full plan the ack and delivery
    # runs alone are 370 replies, past the 100 the mid reading aims at.
    mid_count = remote.mid_replies
    mid = [Row(f"server RSS after {mid_count} replies", mb(remote.rss_mid))]
    mid = mid if mid_count < remote.replies else []
    return [
        Row("server start-up (to listening)", ms(remote.startup)),
        Row(f"ack p50 ({len(acks)} mixed /deal /progress /leaderboard)", ms(percentile(acks, 50))),
        Row("ack p95", ms(percentile(acks, 95))),
        Row("ack p99", ms(p99), f"< {ACK_P99_MS:g} ms", p99 * 1000 < ACK_P99_MS),
        Row(
            f"/progress request-to-delivered p50 ({plan.delivered} runs)",
            ms(statistics.median(remote.delivered["/progress"])),
        ),
        Row(
            f"/leaderboard request-to-delivered p50 ({plan.delivered} runs)",
            ms(board),
            f"<= {DELIVERED_FACTOR}x (raw SQL + chart) = {ms(budget)}",
            board <= budget,
        ),
        Row(
            "replies that were the failure notice",
            str(len(remote.failed)),
            "0",
            not remote.failed,
        ),
        Row(f"server RSS after {plan.warm} replies", mb(remote.rss_warm)),
        *mid,
        Row(f"server RSS after {remote.replies} replies", mb(remote.rss_end)),
        Row(
            f"RSS after {remote.replies} / after {plan.warm}",
            ratio(growth),
            f"<= {MEMORY_FACTOR}x",
            growth <= MEMORY_FACTOR,
        ),
        Row(
            "server peak RSS (VmHWM)",
            mb(remote.peak),
            f"< {PEAK_MB} MB",
            remote.peak < PEAK_MB * 2**20,
        ),
    ]


# --- main ----------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace, params: Params) -> tuple[str, Engine, Summary]:
    if args.postgres:
        summary = build_postgres(args.postgres, params, force=args.force)
        sep = "&" if "?" in args.postgres else "?"
        url = f"{args.postgres}{sep}options=-csearch_path%3Dpacer_bench"
        return url, postgres_engine(args.postgres), summary
    url, summary = sqlite_dataset(params, force=args.force)
    return url, make_engine(url), summary


def clean_postgres(engine: Engine, max_deal: int) -> None:
    """Remove what this run's commands wrote, so the loaded data stays as generated."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM auditentry"))
        conn.execute(text("DELETE FROM deal WHERE id > :m"), {"m": max_deal})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--skip-http", action="store_true", help="only the in-process figures")
    args = parser.parse_args(argv)
    params = params_from(args)
    plan = QUICK_PLAN if args.quick else Plan()
    url, engine, summary = prepare(args, params)
    with engine.connect() as conn:
        max_deal = int(conn.execute(text("SELECT max(id) FROM deal")).scalar_one())
    rows = dataset_rows(summary)
    load_before = os.getloadavg()[0]
    local = measure_local(engine, plan)
    rows += local_rows(local)
    if not args.skip_http:
        rows += http_rows(measure_http(url, params, plan), local, plan)
    if args.postgres:
        clean_postgres(engine, max_deal)
    engine.dispose()
    load = f"{load_before:.2f} at start, {os.getloadavg()[0]:.2f} at end ({os.cpu_count()} CPUs)"
    rows.append(Row("machine load (1-minute average)", load))
    print(format_table(rows))
    return 1 if failures(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
