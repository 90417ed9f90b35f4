"""Generate the benchmark data: a busy workspace and an empty one of the same shape.

    python -m bench.generate [--scale 100k|1m|5m] [--quick] [--deals N] [--force] [--postgres URL]

Workspace TBENCH is a team with the app's default settings (no big-deal thresholds), a
year of won deals, open pipeline deals, payments, holidays, and two years of rep and team
goals (revenue, new_customers and collected), two teams in CNY. Workspace TEMPTY has the
same teams, reps, holidays and goals and no deals: the baseline every figure is compared
with, in the same database. "Today" is fixed (TODAY), so no figure depends on the day the
bench runs; bench/clock.py gives the app the same date.

The schema comes from the real migrations (`storage.migrate.upgrade`) and rows go into the
real models' tables with SQLAlchemy Core `insert()` executemany, in batches inside one
transaction; deals are drawn day by day, so memory stays bounded at 5M deals. SQLite files
are cached under bench/out/, keyed by every parameter; bump VERSION when the data changes.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Iterator
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
from storage.models import (
    OPEN_STAGES,
    Deal,
    Goal,
    Holiday,
    Member,
    Membership,
    Payment,
    StageChange,
    Team,
    Workspace,
)

# 5: open deals logged before today. 6: each deal's stage history. Tables added since come
# from migrations.
VERSION = 6
OUT = Path(__file__).parent / "out"
WORKSPACE_ID = "TBENCH"
EMPTY_ID = "TEMPTY"  # same teams, reps and goals, no deals: the baseline
TODAY = date(2026, 11, 18)  # a Wednesday in mid-month, mid-quarter
PG_SCHEMA = "pacer_bench"
BATCH = 50_000
SCALES = {"100k": 100_000, "1m": 1_000_000, "5m": 5_000_000}

# Deal sizes: log-normal around $5,000, whole units, at least 1.
MEDIAN_DEAL_MINOR = 500_000
AMOUNT_SIGMA = 1.0
CNY_PER_USD = 7  # a CNY team's deals and goals are this many times larger in number
CNY_TEAMS = (4, 9)  # 0-based: Team 05 and Team 10
# Rep productivity: log-normal rates; sigma 0.9 gives the top fifth of reps about half the deals.
RATE_SIGMA = 0.9
OPEN_SHARE = 0.05  # of all deals: open pipeline (lead..negotiation), closing in the future
OPEN_DAYS = 90  # open deals close within this many days after today
PAID_SHARE = 0.6  # won deals with a payment, paid 0-45 days after closing (never after today)
PAID_DAYS = 45
FRESH_SHARE = 0.06  # deals with a customer never seen before; the rest from a fixed pool
NEW_CUSTOMER_SHARE = 0.05  # a team's new_customers target: this share of its deals
COLLECTED_SHARE = 0.6  # a team's collected target: this share of its revenue target
PRODUCTS = ("Starter", "Pro", "Enterprise", "Services", "Support")
FIRST = ("Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy")
LAST = ("Smith", "Jones", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Clark", "Young")
CN_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵")
CN_GIVEN = ("芳", "伟", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军")


@dataclass(frozen=True)
class Params:
    teams: int = 50
    reps_per_team: int = 20
    deals: int = 1_000_000  # won and open
    # Today for the app; won deals fall on the working days of the 365 days ending here.
    end: date = TODAY
    seed: int = 20261125

    @property
    def reps(self) -> int:
        return self.teams * self.reps_per_team

    @property
    def start(self) -> date:
        return self.end - timedelta(days=364)

    @property
    def open_deals(self) -> int:
        return round(self.deals * OPEN_SHARE)

    @property
    def won_deals(self) -> int:
        return self.deals - self.open_deals

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
    payments: int = 0
    holidays: int = 0


@dataclass(frozen=True)
class Shape:
    """Where one workspace's rows go: its id and the offsets of its explicit row ids."""

    workspace_id: str
    index: int  # 0: the busy workspace, 1: the empty one

    def team_id(self, params: Params, team: int) -> int:
        return self.index * params.teams + team + 1

    def member_id(self, params: Params, team: int, rep: int) -> int:
        """Reps 0..n-1 of each team, then one manager per team (rep index n)."""
        per_team = params.reps_per_team + 1
        return self.index * params.teams * per_team + team * per_team + rep + 1


BUSY = Shape(WORKSPACE_ID, 0)
EMPTY = Shape(EMPTY_ID, 1)


def rep_user_id(team: int, rep: int) -> str:
    """Slack user id of rep `rep` (0-based) in team `team` (0-based), in either workspace."""
    return f"UB{team:03d}{rep:03d}"


def manager_user_id(team: int) -> str:
    return f"UM{team:03d}"


def team_name(team: int) -> str:
    return f"Team {team + 1:02d}"


def currency(team: int) -> str:
    return "CNY" if team in CNY_TEAMS else "USD"


def team_metric(team: int) -> str:
    """The metric of a team's own goals: most teams revenue, some new customers or money
    collected, so /progress team NAME reads each metric's figures."""
    return {2: "new_customers", 3: "collected"}.get(team % 5, "revenue")


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
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")  # as a long-running database has statistics
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

SERIAL_TABLES = ("team", "member", "goal", "deal", "holiday", "payment")


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
        move_sequences(conn)
    # As autovacuum leaves a table soon after a bulk load: statistics, and the visibility map
    # without which PostgreSQL's index-only scans (the covering indexes) read every heap page.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
    summary = _count(engine, f"{url} schema {PG_SCHEMA}")
    return Summary(**{**summary.__dict__, "seconds": time.perf_counter() - started})


def move_sequences(conn: Any) -> None:
    """Ids were given explicitly: move the sequences past them for later inserts."""
    for name in SERIAL_TABLES:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"
        )


def _pg_key(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            ws = table(Workspace)
            row = conn.execute(select(ws.c.name).where(ws.c.id == WORKSPACE_ID)).first()
    except Exception:  # no schema or no table yet
        return None
    return None if row is None else str(row[0]).removeprefix("bench ")


# --- rows ----------------------------------------------------------------------------------------


def populate(engine: Engine, params: Params, empty_workspace: bool = True) -> None:
    """Insert every row into an empty, migrated schema in one transaction; then the
    customer table where the app has one."""
    rng = np.random.default_rng(params.seed)
    created = datetime.combine(params.start - timedelta(days=400), clock(8), tzinfo=UTC)
    rates = rng.lognormal(0.0, RATE_SIGMA, params.reps)
    shares = rates / rates.sum()
    names = [_name(rng) for _ in range(params.reps)]
    hols = holiday_days(params)
    shapes = [BUSY, EMPTY] if empty_workspace else [BUSY]
    with engine.begin() as conn:
        for shape in shapes:
            conn.execute(insert(table(Workspace)), [_workspace_row(shape, params, created)])
            conn.execute(insert(table(Team)), _team_rows(shape, params, created))
            conn.execute(insert(table(Member)), _member_rows(shape, params, created, names))
            conn.execute(insert(table(Membership)), _membership_rows(shape, params))
            conn.execute(insert(table(Holiday)), _holiday_rows(shape, params, hols))
            goals = _goal_rows(shape, params, shares, np.random.default_rng(params.seed + 1))
            for batch in _batches(goals, BATCH):
                conn.execute(insert(table(Goal)), batch)
        for deals, payments, changes in _deal_batches(params, shares, hols, rng):
            conn.execute(insert(table(Deal)), deals)
            if payments:
                conn.execute(insert(table(Payment)), payments)
            conn.execute(insert(table(StageChange)), changes)
    with Session(engine) as session, session.begin():  # Core inserts skip the upkeep
        for shape in shapes:
            queries.rebuild_customers(session, workspace_id=shape.workspace_id)
            queries.rebuild_repdays(session, workspace_id=shape.workspace_id)


def table(model: Any) -> Table:
    return cast(Table, model.__table__)  # SQLModel classes do not declare __table__


def _workspace_row(shape: Shape, params: Params, created: datetime) -> dict[str, Any]:
    name = f"bench {params.key()}" if shape is BUSY else "bench empty"
    return {"id": shape.workspace_id, "name": name, "fiscal_start_month": 1, "created_at": created}


def _team_rows(shape: Shape, params: Params, created: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": shape.team_id(params, t),
            "workspace_id": shape.workspace_id,
            "name": team_name(t),
            "channel_id": f"CB{t:07d}",
            "tz": "UTC",
            "currency": currency(t),
            "report_hour": "09:00",
            "big_deal_minor": None,  # the default: twice the median won deal
            "behind_pct": 90,
            "celebrations_per_day": 3,
            "created_at": created,
        }
        for t in range(params.teams)
    ]


def _member_rows(
    shape: Shape, params: Params, created: datetime, names: list[str]
) -> list[dict[str, Any]]:
    def row(team: int, rep: int, user_id: str, name: str) -> dict[str, Any]:
        return {
            "id": shape.member_id(params, team, rep),
            "workspace_id": shape.workspace_id,
            "user_id": user_id,
            "name": name,
            "is_admin": False,
            "active": True,
            "notify": True,
            "created_at": created,
        }

    rows = []
    for t in range(params.teams):
        for r in range(params.reps_per_team):
            rows.append(row(t, r, rep_user_id(t, r), names[t * params.reps_per_team + r]))
        rows.append(row(t, params.reps_per_team, manager_user_id(t), f"Manager {t + 1:02d}"))
    return rows


def _name(rng: np.random.Generator) -> str:
    """About one name in five is Chinese, so charts draw CJK glyphs as in real teams."""
    if rng.random() < 0.2:
        return str(rng.choice(CN_SURNAMES)) + str(rng.choice(CN_GIVEN))
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _membership_rows(shape: Shape, params: Params) -> list[dict[str, Any]]:
    rows = []
    for t in range(params.teams):
        for r in range(params.reps_per_team + 1):
            role = "rep" if r < params.reps_per_team else "manager"
            rows.append(
                {
                    "team_id": shape.team_id(params, t),
                    "member_id": shape.member_id(params, t, r),
                    "role": role,
                    "home": True,
                    "left_on": None,
                }
            )
    return rows


def holiday_days(params: Params) -> list[list[date]]:
    """Per team: two past working days of the deal year and one working day ahead."""
    days = list(workdays.working_days(params.start, params.end))
    ahead = list(workdays.working_days(params.end + timedelta(days=1), params.end + timedelta(60)))
    found = []
    for t in range(params.teams):
        # Spread over the year, never the first or last day (they bound the data).
        past = {days[1 + (t * 13 + k * 97) % (len(days) - 2)] for k in (1, 2)}
        found.append(sorted(past | {ahead[(t * 7) % len(ahead)]}))
    return found


def _holiday_rows(shape: Shape, params: Params, hols: list[list[date]]) -> list[dict[str, Any]]:
    return [
        {
            "id": shape.index * params.teams * 3 + t * 3 + k + 1,
            "workspace_id": shape.workspace_id,
            "team_id": shape.team_id(params, t),
            "day": day,
            "name": f"Holiday {k + 1}",
        }
        for t, days in enumerate(hols)
        for k, day in enumerate(days)
    ]


def _goal_rows(
    shape: Shape, params: Params, shares: np.ndarray, rng: np.random.Generator
) -> Iterator[dict[str, Any]]:
    """Two years of year, quarter and month goals: revenue per rep, and per team in the
    team's own metric (team_metric), near what the deals will reach.

    A rep's month target is their expected monthly revenue times 0.85-1.25, rounded to 100
    units; quarters and the year are the sums, so attainment spreads around 100%.
    """
    mean_deal = MEDIAN_DEAL_MINOR * math.exp(AMOUNT_SIGMA**2 / 2)
    next_id = [shape.index * _goals_per_workspace(params) + 1]
    for fy in (params.end.year - 1, params.end.year):
        now = datetime.combine(date(fy, 1, 1), clock(9), tzinfo=UTC)
        for t in range(params.teams):
            team_months = np.zeros(12)
            team_deals = 0.0
            for r in range(params.reps_per_team):
                i = t * params.reps_per_team + r
                expected = float(shares[i]) * params.won_deals / 12
                factors = rng.uniform(0.85, 1.25, 12)
                unit = mean_deal * (CNY_PER_USD if currency(t) == "CNY" else 1)
                months = [
                    max(100_000, round(expected * unit * f / 10_000) * 10_000) for f in factors
                ]
                team_months += months
                team_deals += expected
                subject = {"scope": "rep", "member_id": shape.member_id(params, t, r)}
                yield from _year_of_goals(
                    shape, params, t, subject, "revenue", fy, months, now, next_id
                )
            metric = team_metric(t)
            if metric == "new_customers":
                targets = [max(1, round(team_deals * NEW_CUSTOMER_SHARE))] * 12
            elif metric == "collected":
                targets = [round(m * COLLECTED_SHARE / 10_000) * 10_000 for m in team_months]
            else:
                targets = [int(m) for m in team_months]
            subject = {"scope": "team", "member_id": None}
            yield from _year_of_goals(shape, params, t, subject, metric, fy, targets, now, next_id)


def _goals_per_workspace(params: Params) -> int:
    return 2 * 17 * params.teams * (params.reps_per_team + 1)


def _year_of_goals(
    shape: Shape,
    params: Params,
    team: int,
    subject: dict[str, Any],
    metric: str,
    fy: int,
    months: list[int],
    now: datetime,
    next_id: list[int],
) -> Iterator[dict[str, Any]]:
    """The year, its quarters and months; quarters and the year are sums of their months."""

    def goal(period: periods.Period, target: int, parent: int | None) -> dict[str, Any]:
        goal_id = next_id[0]
        next_id[0] += 1
        return {
            "id": goal_id,
            "number": goal_id - shape.index * _goals_per_workspace(params),
            "workspace_id": shape.workspace_id,
            "team_id": shape.team_id(params, team),
            "metric": metric,
            "period": period.label,
            "starts_on": period.start,
            "ends_on": period.end,
            "target": target,
            "parent_id": parent,
            "origin": "set" if parent is None else "split",
            "created_by": manager_user_id(team),
            "created_at": now,
            "updated_at": now,
            **subject,
        }

    year = goal(periods.year(fy), sum(months), None)
    yield year
    for q in range(4):
        quarter = goal(periods.quarter(fy, q + 1), sum(months[3 * q : 3 * q + 3]), year["id"])
        yield quarter
        for m in range(3 * q, 3 * q + 3):
            yield goal(periods.month(fy, m + 1), months[m], quarter["id"])


def _deal_batches(
    params: Params, shares: np.ndarray, hols: list[list[date]], rng: np.random.Generator
) -> Rows:
    """Won deals day by day in close-date order (as they would have been logged), none on
    a team's holiday, then the open pipeline; each batch with its payments. Drawn a day at
    a time, so memory does not grow with the number of deals."""
    days = list(workdays.working_days(params.start, params.end))
    per_day = rng.multinomial(params.won_deals, np.full(len(days), 1 / len(days)))
    off = [{d for d in team_days} for team_days in hols]
    team_of = np.arange(params.reps) // params.reps_per_team
    batch = Batch(params, rng, off)
    carried = 0  # deals of a day off for every team (one team alone): the next day's
    for day, count in zip(days, per_day.tolist(), strict=True):
        p = shares.copy()
        for t, team_days in enumerate(off):
            if day in team_days:
                p[team_of == t] = 0.0
        if p.sum() == 0:
            carried += count
            continue
        owners = rng.choice(params.reps, size=count + carried, p=p / p.sum())
        carried = 0
        yield from batch.add(owners, [day] * len(owners), "won")
    for lo in range(0, params.open_deals, BATCH):
        count = min(BATCH, params.open_deals - lo)
        owners = rng.choice(params.reps, size=count, p=shares)
        ahead = rng.integers(1, OPEN_DAYS + 1, count).tolist()
        yield from batch.add(owners, [params.end + timedelta(days=a) for a in ahead], "open")
    yield from batch.flush()


# Deals, their payments and their stage history, a batch at a time.
Rows = Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]]
# Days a won deal spent in the pipeline before it was won (its first row, at lead).
CYCLE_DAYS = 45


@dataclass
class Batch:
    """Deal and payment rows gathered until BATCH deals; ids and numbers run on."""

    params: Params
    rng: np.random.Generator
    holidays: list[set[date]]  # per team
    deals: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1
    _payment_id: int = 1

    def add(self, owners: np.ndarray, close: list[date], kind: str) -> Rows:
        n = len(owners)
        rng, params = self.rng, self.params
        dollars = rng.lognormal(math.log(MEDIAN_DEAL_MINOR / 100), AMOUNT_SIGMA, n)
        units = np.maximum(1, np.rint(dollars)).astype(np.int64)
        customers = rng.integers(0, max(100, params.deals // 20), n).tolist()
        products = rng.integers(0, len(PRODUCTS), n).tolist()
        stages = rng.integers(0, len(OPEN_STAGES), n).tolist()
        paid = (rng.random(n) < PAID_SHARE).tolist()
        fresh = (rng.random(n) < FRESH_SHARE).tolist()
        paid_after = rng.integers(0, PAID_DAYS + 1, n).tolist()
        for i, owner in enumerate(owners.tolist()):
            team = owner // params.reps_per_team
            rep = owner % params.reps_per_team
            m_id = BUSY.member_id(params, team, rep)
            cur = currency(team)
            minor = int(units[i]) * 100 * (CNY_PER_USD if cur == "CNY" else 1)
            day = close[i]
            if day in self.holidays[team]:  # an open deal expected on a day off: the next
                day += timedelta(days=1)
            # A won deal is logged the day it closes; an open one (closing later) was logged
            # on one of the 60 days before today, not all of them today (the day's deals are
            # what the celebration cap counts).
            before = timedelta(days=1 + self.next_id % 60)
            logged = day if day <= params.end else params.end - before
            at = datetime.combine(logged, clock(17), tzinfo=UTC)
            deal_id = self.next_id
            self.next_id += 1
            self.deals.append(
                {
                    "id": deal_id,
                    "number": deal_id,
                    "workspace_id": WORKSPACE_ID,
                    "team_id": BUSY.team_id(params, team),
                    "owner_id": m_id,
                    "logged_by": m_id,
                    "amount_minor": minor,
                    "currency": cur,
                    "customer": f"New {deal_id:07d}"
                    if fresh[i]
                    else f"Customer {customers[i]:06d}",
                    "product": PRODUCTS[products[i]],
                    "stage": "won" if kind == "won" else OPEN_STAGES[stages[i]],
                    "close_date": day,
                    "source": "slash",
                    "created_at": at,
                    "updated_at": at,
                }
            )
            self._history(deal_id, self.deals[-1]["stage"], at)
            if kind == "won" and paid[i]:
                on = min(day + timedelta(days=paid_after[i]), params.end)
                self.payments.append(
                    {
                        "id": len(self.payments) + 1,  # renumbered on flush
                        "workspace_id": WORKSPACE_ID,
                        "deal_id": deal_id,
                        "team_id": BUSY.team_id(params, team),
                        "owner_id": m_id,
                        "amount_minor": minor,
                        "paid_on": on,
                        "logged_by": m_id,
                        "created_at": datetime.combine(on, clock(12), tzinfo=UTC),
                    }
                )
            if len(self.deals) >= BATCH:
                yield from self.flush()

    def flush(self) -> Rows:
        if not self.deals:
            return
        for row in self.payments:
            row["id"] = self._payment_id
            self._payment_id += 1
        yield self.deals, self.payments, self.changes
        self.deals, self.payments, self.changes = [], [], []

    def _history(self, deal_id: int, stage: str, at: datetime) -> None:
        """What the app's stage history holds for the deal: a won deal entered at lead
        some days before it was won; an open one logged at lead, moved on a day later."""
        if stage == "won":
            began = at - timedelta(days=1 + deal_id % CYCLE_DAYS)
            steps = [("lead", began), ("won", at)]
        else:
            steps = [("lead", at)] + ([(stage, at + timedelta(days=1))] if stage != "lead" else [])
        for name, when in steps:
            self.changes.append(
                {
                    "workspace_id": WORKSPACE_ID,
                    "deal_id": deal_id,
                    "stage": name,
                    "changed_at": when,
                }
            )


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
            t = table(model)
            sql = select(func.count()).select_from(t).where(t.c.workspace_id == WORKSPACE_ID)
            return int(conn.execute(sql).scalar_one())

        summary = Summary(
            where=where,
            teams=rows(Team),
            members=rows(Member),
            goals=rows(Goal),
            deals=rows(Deal),
            seconds=0.0,
            cached=cached,
            payments=rows(Payment),
            holidays=rows(Holiday),
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
    base = QUICK if args.quick else Params(deals=SCALES[args.scale])
    deals = args.deals if args.deals is not None else base.deals
    return Params(teams=base.teams, reps_per_team=base.reps_per_team, deals=deals)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scale", choices=sorted(SCALES), default="1m", help="deals: 100k, 1m (default) or 5m"
    )
    parser.add_argument("--deals", type=int, default=None, help="another number of deals")
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
        f"{summary.where}: {summary.teams} teams, {summary.members} members, "
        f"{summary.goals} goals, {summary.deals} deals, {summary.payments} payments ({how})"
    )


if __name__ == "__main__":
    main()
