"""Generate a benchmark workspace: teams, reps, a year of goals and a year of won deals.

    python -m bench.generate [--quick] [--deals N] [--force] [--postgres URL]

The schema comes from the real migrations (`storage.migrate.upgrade`) and rows go into the
real models' tables with SQLAlchemy Core `insert()` executemany, in large batches inside one
transaction. SQLite files are cached under bench/out/, keyed by every parameter, so a re-run
reuses them; bump VERSION when the generated data changes.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import Engine, Table, create_engine, event, func, insert, select, text
from sqlmodel import Session

from domain import periods, workdays
from storage import queries
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Deal, Goal, Member, Membership, Team, Workspace

VERSION = 2  # 2: the customer table (migration 0013)
OUT = Path(__file__).parent / "out"
WORKSPACE_ID = "TBENCH"
CURRENCY = "USD"
PG_SCHEMA = "pacer_bench"
BATCH = 50_000

# Deal sizes: log-normal around $5,000, whole dollars, at least $1.
MEDIAN_DEAL_MINOR = 500_000
AMOUNT_SIGMA = 1.0
# Rep productivity: log-normal rates; sigma 0.9 gives the top fifth of reps about half the deals.
RATE_SIGMA = 0.9
PRODUCTS = ("Starter", "Pro", "Enterprise", "Services", "Support")
FIRST = ("Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy")
LAST = ("Smith", "Jones", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Clark", "Young")
CN_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵")
CN_GIVEN = ("芳", "伟", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军")


@dataclass(frozen=True)
class Params:
    teams: int = 50
    reps_per_team: int = 20
    deals: int = 1_000_000
    # Last close date; deals fall on the working days of the 365 days ending here.
    end: date = field(default_factory=lambda: datetime.now(UTC).date())
    seed: int = 20261125

    @property
    def reps(self) -> int:
        return self.teams * self.reps_per_team

    @property
    def start(self) -> date:
        return self.end - timedelta(days=364)

    def key(self) -> str:
        return (
            f"v{VERSION}-t{self.teams}-r{self.reps_per_team}-d{self.deals}"
            f"-{self.end.isoformat()}-s{self.seed}"
        )


QUICK = Params(teams=5, reps_per_team=20, deals=20_000)


@dataclass(frozen=True)
class Summary:
    where: str
    teams: int
    members: int
    goals: int
    deals: int
    seconds: float
    cached: bool = False


def rep_user_id(team: int, rep: int) -> str:
    """Slack user id of rep `rep` (0-based) in team `team` (0-based)."""
    return f"UB{team:03d}{rep:03d}"


def team_name(team: int) -> str:
    return f"Team {team + 1:02d}"


# --- SQLite, cached --------------------------------------------------------------------------


def cached_sqlite(params: Params, out: Path = OUT, force: bool = False) -> tuple[Path, Summary]:
    """The generated database file for `params`, built only when missing (or forced)."""
    path = out / f"pacer-bench-{params.key()}.db"
    if path.exists() and not force:
        return path, _count(sqlite_engine(path), str(path), cached=True)
    return path, build_sqlite(path, params)


def sqlite_engine(path: Path) -> Engine:
    return create_engine(f"sqlite:///{path}")


def build_sqlite(path: Path, params: Params) -> Summary:
    """Write a fresh database file; a half-written file never takes the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{tmp}")

    @event.listens_for(engine, "connect")
    def _bulk_pragmas(dbapi_conn: Any, _record: Any) -> None:
        # A throw-away file until renamed: no journal, no fsync while loading.
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=OFF")
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("PRAGMA cache_size=-262144")  # 256 MiB: index pages stay in memory
        cur.close()

    started = time.perf_counter()
    upgrade(engine)
    populate(engine, params)
    engine.dispose()
    _set_wal(tmp)
    os.replace(tmp, path)
    summary = _count(sqlite_engine(path), str(path))
    return Summary(**{**summary.__dict__, "seconds": time.perf_counter() - started})


def _set_wal(path: Path) -> None:
    """Leave the file in WAL mode, as the app's own engine would."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()


# --- PostgreSQL --------------------------------------------------------------------------------


def postgres_engine(url: str) -> Engine:
    return make_engine(url, connect_args={"options": f"-csearch_path={PG_SCHEMA}"})


def build_postgres(url: str, params: Params, force: bool = False) -> Summary:
    """The same data in schema pacer_bench; kept while its workspace carries the same key."""
    engine = postgres_engine(url)
    if not force and _pg_key(engine) == params.key():
        return _count(engine, f"{url} schema {PG_SCHEMA}", cached=True)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {PG_SCHEMA}")
    upgrade(engine)
    populate(engine, params)
    with engine.begin() as conn:
        # Ids were given explicitly: move the sequences past them for later inserts.
        for table in ("team", "member", "goal"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.exec_driver_sql("ANALYZE")  # autovacuum would do it soon after a bulk load
    summary = _count(engine, f"{url} schema {PG_SCHEMA}")
    return Summary(**{**summary.__dict__, "seconds": time.perf_counter() - started})


def _pg_key(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            ws = table(Workspace)
            row = conn.execute(select(ws.c.name).where(ws.c.id == WORKSPACE_ID)).first()
    except Exception:  # no schema or no table yet
        return None
    return None if row is None else str(row[0]).removeprefix("bench ")


# --- rows ----------------------------------------------------------------------------------------


def populate(engine: Engine, params: Params) -> None:
    """Insert every row into an empty, migrated schema in one transaction."""
    rng = np.random.default_rng(params.seed)
    created = datetime.combine(params.start, clock(8), tzinfo=UTC)
    rates = rng.lognormal(0.0, RATE_SIGMA, params.reps)
    counts = rng.multinomial(params.deals, rates / rates.sum())
    with engine.begin() as conn:
        conn.execute(insert(table(Workspace)), [_workspace_row(params, created)])
        conn.execute(insert(table(Team)), _team_rows(params, created))
        conn.execute(insert(table(Member)), _member_rows(params, created, rng))
        conn.execute(insert(table(Membership)), _membership_rows(params))
        for batch in _batches(_goal_rows(params, counts, rng), BATCH):
            conn.execute(insert(table(Goal)), batch)
        for batch in _deal_batches(params, counts, rng):
            conn.execute(insert(table(Deal)), batch)
    with Session(engine) as session, session.begin():  # Core inserts skip the upkeep
        queries.rebuild_customers(session, workspace_id=WORKSPACE_ID)


def table(model: Any) -> Table:
    return cast(Table, model.__table__)  # SQLModel classes do not declare __table__


def _workspace_row(params: Params, created: datetime) -> dict[str, Any]:
    name = f"bench {params.key()}"
    return {"id": WORKSPACE_ID, "name": name, "fiscal_start_month": 1, "created_at": created}


def _team_rows(params: Params, created: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": t + 1,
            "workspace_id": WORKSPACE_ID,
            "name": team_name(t),
            "channel_id": f"CB{t:07d}",
            # UTC everywhere: "today" for the app is the generator's last close date.
            "tz": "UTC",
            "currency": CURRENCY,
            "report_hour": "09:00",
            "big_deal_minor": 5_000_000,
            "behind_pct": 90,
            "created_at": created,
        }
        for t in range(params.teams)
    ]


def member_id(params: Params, team: int, rep: int) -> int:
    return team * params.reps_per_team + rep + 1


def _member_rows(
    params: Params, created: datetime, rng: np.random.Generator
) -> list[dict[str, Any]]:
    rows = []
    for t in range(params.teams):
        for r in range(params.reps_per_team):
            rows.append(
                {
                    "id": member_id(params, t, r),
                    "workspace_id": WORKSPACE_ID,
                    "user_id": rep_user_id(t, r),
                    "name": _name(rng),
                    "is_admin": False,
                    "active": True,
                    "created_at": created,
                }
            )
    return rows


def _name(rng: np.random.Generator) -> str:
    """About one name in five is Chinese, so charts draw CJK glyphs as in real teams."""
    if rng.random() < 0.2:
        return str(rng.choice(CN_SURNAMES)) + str(rng.choice(CN_GIVEN))
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _membership_rows(params: Params) -> list[dict[str, Any]]:
    return [
        {"team_id": t + 1, "member_id": member_id(params, t, r), "role": "rep"}
        for t in range(params.teams)
        for r in range(params.reps_per_team)
    ]


def _goal_rows(
    params: Params, counts: np.ndarray, rng: np.random.Generator
) -> Iterator[dict[str, Any]]:
    """Year, quarter and month revenue goals per rep, near what each rep's rate will reach.

    Each month's target is the rep's expected monthly revenue times 0.85-1.25, rounded to
    $100; quarters and the year are the sums, so attainment spreads around 100%.
    """
    fy = params.end.year
    mean_deal = MEDIAN_DEAL_MINOR * math.exp(AMOUNT_SIGMA**2 / 2)
    now = datetime.combine(date(fy, 1, 1), clock(9), tzinfo=UTC)
    next_id = 1
    for m_id in range(1, params.reps + 1):
        team_id = (m_id - 1) // params.reps_per_team + 1
        monthly = float(counts[m_id - 1]) / 12 * mean_deal
        factors = rng.uniform(0.85, 1.25, 12)
        months = [max(100_000, round(monthly * f / 10_000) * 10_000) for f in factors]
        year_id = next_id
        yield _goal(next_id, None, team_id, m_id, periods.year(fy), sum(months), now)
        next_id += 1
        for q in range(4):
            quarter_id = next_id
            target = sum(months[3 * q : 3 * q + 3])
            yield _goal(next_id, year_id, team_id, m_id, periods.quarter(fy, q + 1), target, now)
            next_id += 1
            for m in range(3 * q, 3 * q + 3):
                period = periods.month(fy, m + 1)
                yield _goal(next_id, quarter_id, team_id, m_id, period, months[m], now)
                next_id += 1


def _goal(
    goal_id: int,
    parent_id: int | None,
    team_id: int,
    m_id: int,
    period: periods.Period,
    target: int,
    now: datetime,
) -> dict[str, Any]:
    return {
        "id": goal_id,
        "number": goal_id,  # one workspace: its numbers are the ids
        "workspace_id": WORKSPACE_ID,
        "scope": "rep",
        "team_id": team_id,
        "member_id": m_id,
        "metric": "revenue",
        "period": period.label,
        "starts_on": period.start,
        "ends_on": period.end,
        "target": target,
        "parent_id": parent_id,
        "created_by": "UADMIN",
        "created_at": now,
        "updated_at": now,
    }


def _deal_batches(
    params: Params, counts: np.ndarray, rng: np.random.Generator
) -> Iterator[list[dict[str, Any]]]:
    """Won deals in close-date order (as they would have been logged), in batches."""
    days = list(workdays.working_days(params.start, params.end))
    logged = [datetime.combine(d, clock(17), tzinfo=UTC) for d in days]
    owners = np.repeat(np.arange(1, params.reps + 1), counts)
    day_idx = rng.integers(0, len(days), params.deals)
    order = np.argsort(day_idx, kind="stable")
    owners, day_idx = owners[order], day_idx[order]
    dollars = rng.lognormal(math.log(MEDIAN_DEAL_MINOR / 100), AMOUNT_SIGMA, params.deals)
    amounts = np.maximum(1, np.rint(dollars)).astype(np.int64) * 100
    customers = rng.integers(0, max(100, params.deals // 20), params.deals)
    products = rng.integers(0, len(PRODUCTS), params.deals)
    for lo in range(0, params.deals, BATCH):
        hi = min(lo + BATCH, params.deals)
        yield _deal_rows(
            params,
            lo + 1,
            owners[lo:hi].tolist(),
            [days[i] for i in day_idx[lo:hi].tolist()],
            [logged[i] for i in day_idx[lo:hi].tolist()],
            amounts[lo:hi].tolist(),
            customers[lo:hi].tolist(),
            products[lo:hi].tolist(),
        )


def _deal_rows(
    params: Params,
    first: int,  # the first row's deal number
    owners: Sequence[int],
    close: Sequence[date],
    logged: Sequence[datetime],
    amounts: Sequence[int],
    customers: Sequence[int],
    products: Sequence[int],
) -> list[dict[str, Any]]:
    per_team = params.reps_per_team
    return [
        {
            "number": first + i,
            "workspace_id": WORKSPACE_ID,
            "team_id": (owner - 1) // per_team + 1,
            "owner_id": owner,
            "logged_by": owner,
            "amount_minor": amount,
            "currency": CURRENCY,
            "customer": f"Customer {customer:06d}",
            "product": PRODUCTS[product],
            "stage": "won",
            "close_date": day,
            "source": "slash",
            "created_at": at,
            "updated_at": at,
        }
        for i, (owner, day, at, amount, customer, product) in enumerate(
            zip(owners, close, logged, amounts, customers, products, strict=True)
        )
    ]


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _count(engine: Engine, where: str, cached: bool = False) -> Summary:
    with engine.connect() as conn:

        def rows(model: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(table(model))).scalar_one())

        summary = Summary(
            where=where,
            teams=rows(Team),
            members=rows(Member),
            goals=rows(Goal),
            deals=rows(Deal),
            seconds=0.0,
            cached=cached,
        )
    engine.dispose()
    return summary


def foreign_key_problems(path: Path) -> int:
    """Rows whose foreign keys point nowhere (the bulk load runs with checks off)."""
    engine = sqlite_engine(path)
    with engine.connect() as conn:
        problems = len(conn.execute(text("PRAGMA foreign_key_check")).all())
    engine.dispose()
    return problems


# --- command line ------------------------------------------------------------------------------


def params_from(args: argparse.Namespace) -> Params:
    base = QUICK if args.quick else Params()
    deals = args.deals if args.deals is not None else base.deals
    return Params(teams=base.teams, reps_per_team=base.reps_per_team, deals=deals)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--deals", type=int, default=None, help="won deals (default 1000000)")
    parser.add_argument("--quick", action="store_true", help="5 teams, 100 reps, 20000 deals")
    parser.add_argument("--postgres", metavar="URL", help="load into PostgreSQL instead")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    params = params_from(args)
    if args.postgres:
        summary = build_postgres(args.postgres, params, force=args.force)
    else:
        summary = cached_sqlite(params, force=args.force)[1]
    how = "cached" if summary.cached else f"generated in {summary.seconds:.1f} s"
    print(
        f"{summary.where}: {summary.teams} teams, {summary.members} reps, "
        f"{summary.goals} goals, {summary.deals} deals ({how})"
    )


if __name__ == "__main__":
    main()
