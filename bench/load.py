"""Load: many users logging deals at once against HTTP mode, with a normal and a slow Slack.

    python -m bench.load [--seconds 60] [--users 20] [--postgres URL] [--db sqlite|postgresql]
                         [--slack normal|slow] [--delay 1.5] [--think 0.1]

Each run starts the real server (bench.serve, as `pacer` starts HTTP mode) on a fresh
database, SQLite file or PostgreSQL schema, with a small generated workspace, and points it
at a fake Slack in this process: tests/fakeslack.py as is, or bench/slowslack.py (every
answer 1.5 s late, chart uploads rate-limited). Every user posts signed `/deal AMOUNT Load
TAG` commands, each with its own trigger id and response_url, one after the other; one
command in ten is a `/progress` (a chart upload, which the slow Slack holds back); about one
`/deal` in twenty is delivered again a moment later with `X-Slack-Retry-Num: 1`, as Slack
does when an ack is slow. After the load the server is left to drain, then the deal table
is counted. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import secrets
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, text

from bench import clock
from bench.endpoint import EVENTS_PATH, Server, sign, slash_body
from bench.generate import (
    OUT,
    TODAY,
    WORKSPACE_ID,
    Params,
    move_sequences,
    populate,
    rep_user_id,
)
from bench.slowslack import SlowSlack
from bench.table import Row, failures, format_table, ms, percentile
from commands import i18n
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.fakeslack import FakeSlack

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
ACK_DEADLINE = 3.0  # Slack shows the user an error when the ack takes longer
ACK_P99_TARGET = 1.0
CLIENT_TIMEOUT = 10.0  # past this a request counts as unanswered
REPS_PER_TEAM = 10
HISTORY_PER_REP = 50  # generated won deals per rep: the big-deal median has data
TAG_PREFIX = "Load "  # the customer of every load deal: "Load u03n00017"
# Users start within this many seconds of each other and pause think x 0.5-1.5 (mean:
# think): people do not type in step. Started together with equal pauses, all of them
# posted at the same instants for the whole run, a burst of N every round.
RAMP = 1.0


@dataclass(frozen=True)
class Load:
    users: int = 20
    seconds: float = 60.0
    think: float = 0.1  # pause between a user's ack and their next command
    retry_share: float = 0.05  # /deal commands delivered a second time
    retry_gap: float = 0.5  # mean seconds from a delivery's answer to its retry (0 to 2x)
    chart_every: int = 10  # one command in N of a user is /progress; 0: none
    drain: float = 180.0  # longest wait for the replies after the load
    quiet: float = 15.0  # ...or until the fake has heard nothing for this long
    settle: float = 2.0  # silence after the last reply that means the server is done
    seed: int = 8
    reps_per_team: int = REPS_PER_TEAM  # of the workspace the users are reps of


@dataclass(frozen=True)
class Shot:
    """One HTTP post of a command: its tag (customer and response name), how it was answered."""

    tag: str
    command: str
    retry: bool
    status: int  # 0: no answer within CLIENT_TIMEOUT
    seconds: float
    reply: str = ""  # the reply's text when it came in the ack itself

    @property
    def in_time(self) -> bool:
        return self.status == 200 and self.seconds <= ACK_DEADLINE

    @property
    def turned_away(self) -> bool:
        return self.in_time and self.reply in refusals()

    @property
    def acked(self) -> bool:
        """Answered in time, and not with "busy, nothing was saved" or "something went wrong"."""
        return self.in_time and self.reply not in refusals()


@cache
def refusals() -> frozenset[str]:
    """The replies that tell the user their command did not go through."""
    texts = {i18n.t("en", "error.internal")}
    with suppress(KeyError):  # "busy" comes with the bounded worker pools of issue 8
        texts.add(i18n.t("en", "error.busy"))
    return frozenset(texts)


@dataclass(frozen=True)
class Tally:
    sent: int  # /deal commands (first deliveries)
    retries: int
    charts: int  # /progress commands
    acknowledged: int  # /deal commands with a delivery answered 200 within 3 s, not refused
    turned_away: int  # posts answered in time that they were not taken (busy, or failed)
    late: int  # posts answered 200 after 3 s
    failed: int  # posts answered otherwise, or not at all
    unanswered: int  # of those, posts without an answer within CLIENT_TIMEOUT
    written: int  # live deal rows of this run's commands
    doubled: int  # commands with more than one deal row
    lost: int  # acknowledged commands without a deal row
    unacked_written: int  # written although no delivery was acknowledged
    p50: float
    p95: float
    p99: float
    p99_by_kind: dict[str, float]  # "/deal", "/progress", "retry": where the tail comes from
    per_second: float  # acknowledged first deliveries (all commands) per second of load


def by_kind(shots: Sequence[Shot]) -> dict[str, float]:
    """Ack p99 of first /deal deliveries, /progress and Slack's retries, each on its own."""
    kinds: dict[str, list[float]] = {}
    for shot in shots:
        kinds.setdefault("retry" if shot.retry else shot.command, []).append(shot.seconds)
    return {kind: percentile(times, 99) for kind, times in sorted(kinds.items())}


def tally(shots: Sequence[Shot], rows: dict[str, int], seconds: float) -> Tally:
    """The counts of one run from its posts and the deal rows per tag (pure: tested alone)."""
    deals = {s.tag for s in shots if s.command == "/deal"}
    acked = {s.tag for s in shots if s.command == "/deal" and s.acked}
    written = {tag for tag in deals if rows.get(tag, 0) > 0}
    times = [s.seconds for s in shots] or [0.0]
    return Tally(
        sent=len(deals),
        retries=sum(s.retry for s in shots),
        charts=sum(s.command == "/progress" for s in shots),
        acknowledged=len(acked),
        turned_away=sum(s.turned_away for s in shots),
        late=sum(s.status == 200 and not s.in_time for s in shots),
        failed=sum(s.status != 200 for s in shots),
        unanswered=sum(s.status == 0 for s in shots),
        written=sum(rows.get(tag, 0) for tag in deals),
        doubled=sum(rows.get(tag, 0) > 1 for tag in deals),
        lost=len(acked - written),
        unacked_written=len(written - acked),
        p50=percentile(times, 50),
        p95=percentile(times, 95),
        p99=percentile(times, 99),
        p99_by_kind=by_kind(shots),
        per_second=sum(s.acked and not s.retry for s in shots) / seconds,
    )


# --- the database ----------------------------------------------------------------------------


def params_for(load: Load) -> Params:
    teams = math.ceil(load.users / REPS_PER_TEAM)
    deals = teams * REPS_PER_TEAM * HISTORY_PER_REP
    return Params(teams=teams, reps_per_team=REPS_PER_TEAM, deals=deals)


@contextmanager
def sqlite_database(load: Load, out: Path) -> Iterator[tuple[str, Engine]]:
    """A fresh migrated file with the workspace: (the server's URL, an engine to count with)."""
    path = out / "load.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        populate(engine, params_for(load), empty_workspace=False)
        yield url, engine
    finally:
        engine.dispose()


@contextmanager
def postgres_database(load: Load, base_url: str) -> Iterator[tuple[str, Engine]]:
    """A fresh schema of its own, dropped again afterwards."""
    schema = f"pacer_load_{secrets.token_hex(4)}"
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = make_engine(base_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        populate(engine, params_for(load), empty_workspace=False)
        with engine.begin() as conn:
            move_sequences(conn)  # populate() gives ids explicitly
        sep = "&" if "?" in base_url else "?"
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}", engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def deal_rows(engine: Engine, after_id: int = 0) -> dict[str, int]:
    """Live deal rows per tag of this run's commands (the tag is the customer's name); on
    a generated workspace only rows after `after_id`, its last generated deal."""
    sql = text(
        "SELECT customer, count(*) FROM deal WHERE id > :after AND workspace_id = :ws"
        " AND deleted_at IS NULL AND customer LIKE :prefix GROUP BY customer"
    )
    values = {"after": after_id, "ws": WORKSPACE_ID, "prefix": TAG_PREFIX + "%"}
    with engine.connect() as conn:
        found = conn.execute(sql, values).all()
    return {str(customer).removeprefix(TAG_PREFIX): int(n) for customer, n in found}


def doubled_keys(engine: Engine) -> int:
    """Delivery keys (trigger ids) with more than one deal row. The schema makes the key
    unique (ux_deal_request), so this stays 0 even where a command is doubled under another
    key: the tally counts doubles by tag, which does not rely on the key."""
    sql = text(
        "SELECT count(*) FROM (SELECT request_key FROM deal WHERE request_key IS NOT NULL"
        " GROUP BY workspace_id, request_key HAVING count(*) > 1) AS doubled"
    )
    with engine.connect() as conn:
        return int(conn.execute(sql).scalar_one())


# --- the users -----------------------------------------------------------------------------------


@dataclass
class Target:
    """Where and how to post: the server's port and secret, the fake's response URLs."""

    port: int
    secret: str
    fake: FakeSlack
    shots: list[Shot] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, tag: str, command: str, body: str, *, retry: bool = False) -> Shot:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(self.secret, timestamp, body),
        }
        if retry:
            headers |= {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        started = time.perf_counter()
        status, reply = 0, ""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT)
        try:
            conn.request("POST", EVENTS_PATH, body=body.encode(), headers=headers)
            response = conn.getresponse()
            reply = reply_text(response.read())
            status = response.status
        except OSError:  # refused, reset or timed out: no answer
            pass
        finally:
            conn.close()
        shot = Shot(tag, command, retry, status, time.perf_counter() - started, reply)
        with self._lock:
            self.shots.append(shot)
        return shot


def reply_text(body: bytes) -> str:
    """The text of a reply given in the ack ({"text": ...}); "" for an empty ack."""
    try:
        answer = json.loads(body) if body else {}
    except ValueError:
        return ""
    return str(answer.get("text") or "") if isinstance(answer, dict) else ""


def amount(rng: random.Random) -> str:
    """Mostly everyday deals; one in twenty is big enough to be celebrated in the channel."""
    return "60000" if rng.random() < 0.05 else str(rng.randrange(500, 9000, 50))


def one_user(
    target: Target, load: Load, index: int, until: float, retries: list[threading.Thread]
) -> None:
    """Commands one after another until `until` (time.monotonic()), as one person types them."""
    rng = random.Random(load.seed * 1000 + index)
    team, rep = divmod(index, load.reps_per_team)
    user_id, channel = rep_user_id(team, rep), f"CB{team:07d}"
    n = 0
    time.sleep(rng.uniform(0, RAMP))
    while time.monotonic() < until:
        n += 1
        tag = f"u{index:02d}n{n:05d}"
        # The 3rd command and every chart_every-th after it: even a user whose acks are
        # slow (a few commands a minute) asks for a chart.
        chart = load.chart_every > 0 and n % load.chart_every == 3 % load.chart_every
        deal = f"{amount(rng)} {TAG_PREFIX}{tag}"
        command, words = ("/progress", "") if chart else ("/deal", deal)
        body = slash_body(
            command,
            words,
            user_id=user_id,
            channel_id=channel,
            response_url=target.fake.response_url(tag),
            trigger_id=f"{index}{n:05d}.{secrets.token_hex(6)}",
        )
        target.post(tag, command, body)
        if not chart and rng.random() < load.retry_share:
            # Sometimes while the first delivery's work still runs, sometimes after.
            gap = rng.uniform(0, 2 * load.retry_gap)
            again = threading.Timer(gap, target.post, (tag, command, body), {"retry": True})
            again.start()
            retries.append(again)
        time.sleep(load.think * rng.uniform(0.5, 1.5))


def drive(targets: Sequence[Target], load: Load) -> float:
    """All users for load.seconds, spread over the servers in turn; returns how long the
    load really lasted."""
    retries: list[threading.Thread] = []
    started = time.monotonic()
    until = started + load.seconds
    users = [
        threading.Thread(target=one_user, args=(targets[i % len(targets)], load, i, until, retries))
        for i in range(load.users)
    ]
    for t in users:
        t.start()
    for t in users:
        t.join()
    for t in list(retries):
        t.join()
    return time.monotonic() - started


def drain(fake: FakeSlack, waiting: set[str], load: Load) -> float:
    """Wait until every tag in `waiting` has a reply and the fake has then heard nothing
    for load.settle seconds (channel posts, uploads), or until it has been quiet for
    load.quiet."""
    started = last_change = time.monotonic()
    heard = len(fake.calls)
    while time.monotonic() - started < load.drain:
        if len(fake.calls) != heard:
            heard, last_change = len(fake.calls), time.monotonic()
        silent = time.monotonic() - last_change
        replied = {c.path.rsplit("/", 1)[-1] for c in fake.responses()}
        if (waiting <= replied and silent > load.settle) or silent > load.quiet:
            break
        time.sleep(0.25)
    return time.monotonic() - started


# --- one run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    name: str
    tally: Tally
    doubled_keys: int
    replied: int  # commands (all kinds) replied to, in the ack or at the response_url
    failure_notices: int  # replies that were the app's "something went wrong"
    seconds: float
    drained: float


def server_env(fake: FakeSlack, url: str, secret: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-bench-0000",
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": url,
        "PORT": "0",
        "LOG_LEVEL": "WARNING",
        clock.ENV: TODAY.isoformat(),  # the generated data's today
    }


@contextmanager
def servers(
    fake: FakeSlack, url: str, log_path: Path, count: int = 1, env: dict[str, str] | None = None
) -> Iterator[list[Target]]:
    """`count` server processes on one database, each a Target of its own."""
    secret = secrets.token_hex(16)
    started: list[Server] = []
    try:
        for i in range(count):
            log = log_path if count == 1 else log_path.with_suffix(f".{i + 1}.log")
            server = Server(env={**server_env(fake, url, secret), **(env or {})}, log_path=log)
            started.append(server)
            server.start()
        shots: list[Shot] = []
        lock = threading.Lock()
        yield [Target(s.port, secret, fake, shots, lock) for s in started]
    finally:
        for server in started:
            server.stop()


def run_once(
    name: str,
    database: tuple[str, Engine],
    fake: FakeSlack,
    load: Load,
    log_path: Path,
    processes: int = 1,
    after_id: int = 0,
) -> Result:
    url, engine = database
    with servers(fake, url, log_path, processes) as targets:
        seconds = drive(targets, load)
        shots = targets[0].shots  # shared by the targets
        # Every command not answered in its ack, acknowledged or not: Bolt may still run
        # one it gave up acking.
        answered = {s.tag for s in shots if s.reply}
        drained = drain(fake, {s.tag for s in shots} - answered, load)
        rows = deal_rows(engine, after_id)
        keys = doubled_keys(engine)
    notice = i18n.t("en", "error.internal")
    texts = [(c.path.rsplit("/", 1)[-1], c.params.get("text")) for c in fake.responses()]
    texts += [(s.tag, s.reply) for s in shots if s.reply]
    return Result(
        name=name,
        tally=tally(shots, rows, seconds),
        doubled_keys=keys,
        replied=len({tag for tag, _ in texts}),
        failure_notices=sum(text == notice for _, text in texts),
        seconds=seconds,
        drained=drained,
    )


def result_rows(result: Result) -> list[Row]:
    t = result.tally
    return [
        Row(
            "/deal sent",
            f"{t.sent:,} (+ {t.retries} Slack retries, {t.charts} /progress)",
        ),
        Row("acknowledged (200 within 3 s)", f"{t.acknowledged:,}"),
        Row("turned away in time (busy, or failed)", f"{t.turned_away:,}"),
        Row("late acks (200 after 3 s)", f"{t.late:,}"),
        Row(
            "failures (other answer, or none in 10 s)",
            f"{t.failed:,} ({t.unanswered:,} unanswered)",
        ),
        Row("written (deal rows, after the drain)", f"{t.written:,}"),
        Row("doubled (commands with 2+ deal rows)", str(t.doubled), "0", t.doubled == 0),
        Row("lost (acknowledged, not written)", str(t.lost), "0", t.lost == 0),
        Row("written though not acknowledged", f"{t.unacked_written:,}"),
        Row("delivery keys with 2+ deal rows", str(result.doubled_keys)),
        Row("commands replied to (in the ack or response_url)", f"{result.replied:,}"),
        Row("replies that were the failure notice", str(result.failure_notices)),
        Row("ack p50 (every post)", ms(t.p50)),
        Row("ack p95", ms(t.p95)),
        Row("ack p99", ms(t.p99), f"< {ACK_P99_TARGET * 1000:g} ms", t.p99 < ACK_P99_TARGET),
        *[Row(f"ack p99 of {kind}", ms(p99)) for kind, p99 in t.p99_by_kind.items()],
        Row("sustained commands/s (acknowledged)", f"{t.per_second:.1f}"),
        Row("drain after the load", f"{result.drained:.1f} s"),
    ]


# --- charts under load ----------------------------------------------------------------------

CHART_WAIT = 30.0  # a client waits this long at most for its chart


@dataclass(frozen=True)
class ChartLoad:
    asked: int
    acks: list[float]  # seconds to every HTTP answer
    refused: int  # answered otherwise than 200 in time, or with a refusal in the ack
    delivered: int  # charts uploaded (files.completeUploadExternal) during the window
    seconds: float

    @property
    def per_second(self) -> float:
        return self.delivered / self.seconds


def chart_load(
    target: Target, users: Sequence[str], ask: tuple[str, str], seconds: float
) -> ChartLoad:
    """Each user asks `ask` (command, text), waits for its ack and then for its chart (the
    charts go out in turn: until as many have arrived as were acknowledged up to its own),
    and asks again, for `seconds`. Charts per second: those uploaded until the last user's chart
    came, over that time."""
    fake = target.fake
    lock = threading.Lock()
    asked, acked = [0], [0]
    before = len(fake.called("files.completeUploadExternal"))
    until = time.monotonic() + seconds

    def uploads() -> int:
        return len(fake.called("files.completeUploadExternal")) - before

    def user(index: int, user_id: str) -> None:
        n = 0
        while time.monotonic() < until:
            n += 1
            with lock:
                asked[0] += 1
            tag = f"c{index:02d}n{n:05d}"
            body = slash_body(
                ask[0],
                ask[1],
                user_id=user_id,
                channel_id="CB0000000",
                response_url=fake.response_url(tag),
                trigger_id=f"{index}{n:05d}.{secrets.token_hex(6)}",
            )
            if not target.post(tag, ask[0], body).acked:
                continue  # refused or timed out: no chart to wait for; the user asks again
            with lock:
                acked[0] += 1
                mine = acked[0]
            deadline = time.monotonic() + CHART_WAIT
            while uploads() < mine and time.monotonic() < deadline:
                time.sleep(0.01)

    started = time.monotonic()
    threads = [threading.Thread(target=user, args=(i, u)) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shots = [s for s in target.shots if s.command == ask[0]]
    delivered = uploads()
    return ChartLoad(
        asked=asked[0],
        acks=[s.seconds for s in shots],
        refused=sum(not s.acked for s in shots),
        delivered=delivered,
        seconds=time.monotonic() - started,  # the window and the last charts' wait
    )


# --- main ------------------------------------------------------------------------------------


def quiet_broken_pipes(fake: FakeSlack) -> None:
    """The server's Slack client gives up on slow answers and is stopped with calls in
    flight: the fake's "Broken pipe" tracebacks would bury the tables."""
    server = fake._server
    assert server is not None
    server.handle_error = lambda request, address: None  # type: ignore[method-assign,assignment]


def make_fake(kind: str, delay: float) -> FakeSlack:
    return SlowSlack(delay=delay) if kind == "slow" else FakeSlack()


@contextmanager
def database(kind: str, load: Load, postgres: str, out: Path) -> Iterator[tuple[str, Engine]]:
    if kind == "postgresql":
        with postgres_database(load, postgres) as db:
            yield db
    else:
        with sqlite_database(load, out) as db:
            yield db


def run_named(db_kind: str, slack: str, args: argparse.Namespace, load: Load, out: Path) -> Result:
    label = "SQLite" if db_kind == "sqlite" else "PostgreSQL"
    how = f"slow Slack ({args.delay:g} s, upload 429s)" if slack == "slow" else "normal Slack"
    with database(db_kind, load, args.postgres, out) as db, make_fake(slack, args.delay) as fake:
        quiet_broken_pipes(fake)
        return run_once(f"{label}, {how}", db, fake, load, out / f"load-{db_kind}-{slack}.log")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=Load.seconds)
    parser.add_argument("--users", type=int, default=Load.users)
    parser.add_argument("--postgres", default=PG_URL, help=f"server and database ({PG_URL})")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--slack", choices=("normal", "slow"), action="append")
    parser.add_argument("--delay", type=float, default=1.5, help="slow Slack's delay (s)")
    parser.add_argument(
        "--think", type=float, default=Load.think, help="a user's pause after each answer (s)"
    )
    args = parser.parse_args(argv)
    load = Load(users=args.users, seconds=args.seconds, think=args.think)
    OUT.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{load.users} users, {load.seconds:g} s per run, {load.think:g} s pauses, {started}")
    all_rows: list[Row] = []
    for db_kind in args.db or ["sqlite", "postgresql"]:
        for slack in args.slack or ["normal", "slow"]:
            before = os.getloadavg()[0]
            result = run_named(db_kind, slack, args, load, OUT)
            rows = result_rows(result)
            after = os.getloadavg()[0]
            rows.append(Row("machine load (1-minute average)", f"{before:.2f} -> {after:.2f}"))
            print(f"\n{result.name}\n{format_table(rows)}", flush=True)
            all_rows += rows
    return 1 if failures(all_rows) else 0


if __name__ == "__main__":
    sys.exit(main())
