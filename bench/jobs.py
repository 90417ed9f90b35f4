"""The daily lag-warning job over a whole benchmark workspace.

    python -m bench.jobs [--scale 100k|1m|5m] [--quick]

First the computation alone: for each team, commands.jobs computes the notices the morning
run would send (queries counted with a `before_cursor_execute` listener). Then the job as
the scheduler runs it (bot.scheduler.run_team, every team) sending to the fake Slack, and
once more: everything is already sent then, so the second run sends nothing. Targets: the
computation under 5 s and the re-run under 1 s for 1,000 reps at 5M deals.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bench.generate import WORKSPACE_ID, cached_sqlite, params_from
from bench.generate import add_arguments as add_data_arguments
from commands import jobs
from storage import queries
from storage.engine import make_engine, session_scope
from storage.models import Team

COMPUTE_TARGET = 5.0
RERUN_TARGET = 1.0


@dataclass(frozen=True)
class LagFigures:
    teams: int
    notices: int
    queries_per_team: tuple[int, int]  # fewest, most
    compute: float  # seconds, every team
    first: float  # the run that sends
    sent: int
    rerun: float  # the run after it, with everything sent
    resent: int


def team_ids(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        teams = queries.all_teams(session)
        return sorted(t.id for t in teams if t.workspace_id == WORKSPACE_ID and t.id is not None)


def compute(engine: Engine, day: date) -> tuple[float, int, list[int]]:
    """(seconds, notices, queries per team) of computing the lag warnings of every team."""
    counted = [0]

    def count(*_args: Any) -> None:
        counted[0] += 1

    ids = team_ids(engine)
    notices, per_team = 0, []
    event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    try:
        for team_id in ids:
            counted[0] = 0
            with session_scope(engine) as session:
                team = session.get(Team, team_id)
                assert team is not None
                notices += len(jobs.notices_for(session, team, "lag-warnings", day))
            per_team.append(counted[0] - 1)  # the team lookup above is the bench's own
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return time.perf_counter() - started, notices, per_team


def scheduled_run(engine: Engine, client: Any, day: date) -> tuple[float, int]:
    """(seconds, notices sent) of the job as the scheduler runs it, every team in turn."""
    from bot.scheduler import run_team

    now = datetime.combine(day, clock(9, 5), tzinfo=UTC)
    started = time.perf_counter()
    sent = 0
    for team_id in team_ids(engine):
        sent += run_team(engine, client, team_id, now, ["lag-warnings"], day=day).sent
    return time.perf_counter() - started, sent


def measure(engine: Engine, day: date) -> LagFigures:
    from bot.app import web_client
    from bot.settings import Settings
    from tests.fakeslack import FakeSlack

    seconds, notices, per_team = compute(engine, day)
    with FakeSlack() as fake:
        client = web_client(Settings(api_url=fake.api_url), "xoxb-bench-0000")
        first, sent = scheduled_run(engine, client, day)
        rerun, resent = scheduled_run(engine, client, day)
    return LagFigures(
        teams=len(per_team),
        notices=notices,
        queries_per_team=(min(per_team), max(per_team)),
        compute=seconds,
        first=first,
        sent=sent,
        rerun=rerun,
        resent=resent,
    )


def forget_sent(engine: Engine) -> None:
    """The notices the job recorded, deleted (a PostgreSQL dataset is kept between runs)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DELETE FROM sentmessage WHERE workspace_id = '{WORKSPACE_ID}'")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.jobs", description=__doc__)
    add_data_arguments(parser)
    args = parser.parse_args(argv)
    params = params_from(args)
    path, _summary = cached_sqlite(params)
    work = Path(tempfile.mkdtemp(prefix="pacer-bench-jobs-")) / path.name
    shutil.copy(path, work)  # the cache stays as generated
    engine = make_engine(f"sqlite:///{work}")
    try:
        with session_scope(engine) as session:
            queries.all_teams(session)  # connect and warm the pool before timing
        f = measure(engine, params.end)
    finally:
        engine.dispose()
        shutil.rmtree(work.parent)
    print(f"daily lag job on {params.end}, {params.deals:,} deals, {f.teams} teams")
    print(
        f"  computation: {f.compute:.2f} s, {f.notices} notices, queries/team {f.queries_per_team}"
    )
    print(f"  first run: {f.first:.2f} s, {f.sent} sent; re-run: {f.rerun:.2f} s, {f.resent} sent")
    return 0 if f.compute < COMPUTE_TARGET and f.rerun < RERUN_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
