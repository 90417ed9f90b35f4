"""The daily lag-warning run over a whole benchmark workspace, computation only (no Slack).

    python -m bench.jobs [--quick] [--end YYYY-MM-DD]

For each team, commands.jobs computes the notices the morning run would send; the queries
are counted with a SQLAlchemy `before_cursor_execute` listener. The target: the whole run
for 1,000 reps in 50 teams on 1M deals under 10 s, a bounded number of queries per team.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bench.generate import QUICK, Params, cached_sqlite
from commands import jobs
from domain import workdays
from storage import queries
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade


def run(engine: Engine, day: date) -> list[tuple[str, int, int, int, float]]:
    """Per team: name, reps, notices, queries, seconds."""
    counted = [0]

    def count(*_args: Any) -> None:
        counted[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    rows = []
    try:
        with session_scope(engine) as session:
            teams = list(queries.all_teams(session))
        for team in teams:
            counted[0] = 0
            started = time.perf_counter()
            with session_scope(engine) as session:
                reps = len(queries.team_members(session, team_id=team.id or 0, role="rep"))
                counted[0] -= 1  # the head count above is the bench's own query
                found = jobs.notices_for(session, team, "lag-warnings", day)
            rows.append((team.name, reps, len(found), counted[0], time.perf_counter() - started))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.jobs", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5 teams, 20,000 deals")
    parser.add_argument("--end", type=date.fromisoformat, help="last deal day (default today)")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else Params()
    end = args.end or datetime.now(UTC).date()
    params = Params(base.teams, base.reps_per_team, base.deals, end, base.seed)
    path, _summary = cached_sqlite(params)
    work = Path(tempfile.mkdtemp(prefix="pacer-bench-jobs-")) / path.name
    shutil.copy(path, work)  # the cache stays as generated
    engine = make_engine(f"sqlite:///{work}")
    upgrade(engine)
    day = end
    while not workdays.is_working_day(day):
        day -= timedelta(days=1)
    started = time.perf_counter()
    rows = run(engine, day)
    total = time.perf_counter() - started
    engine.dispose()
    shutil.rmtree(work.parent)
    per_team = [r[3] for r in rows]
    print(f"daily lag run on {day}, {params.deals:,} deals ({path.name})")
    head = ("teams", "reps", "notices", "queries/team", "ms/team", "total s")
    print(f"{head[0]:>6} {head[1]:>6} {head[2]:>8} {head[3]:>18} {head[4]:>16} {head[5]:>8}")
    ms = [r[4] * 1000 for r in rows]
    print(
        f"{len(rows):>6} {sum(r[1] for r in rows):>6} {sum(r[2] for r in rows):>8} "
        f"{min(per_team):>6}-{max(per_team):<3} avg {statistics.mean(per_team):>4.1f} "
        f"{statistics.median(ms):>7.1f} (max {max(ms):>3.0f}) {total:>8.2f}"
    )
    return 0 if total < 10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
