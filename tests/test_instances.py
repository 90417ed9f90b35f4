"""Two Pacer processes (`python -m bot`, HTTP mode) on one PostgreSQL schema and one fake
Slack: the scheduler's lock holder is killed with SIGKILL in the middle of the day's run;
the other process takes the lock within a minute and sends what is left; no message goes
out twice and none is lost.

The day is real (the processes read the real clock): each team's hour is set half an hour
before the present in a zone where today is a working day, so the day's run is due at
start. The holder is caught mid-run by the fake Slack, which holds its first
conversations.open for East's manager (the digest, the last of East's messages) until the
holder is dead. That notice was claimed but never posted: the standby sends it again once
its claim is older than the retry window (outbox RETRY_AFTER, 5 minutes); the test moves
the claim's time back by ten minutes instead of waiting.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text
from sqlmodel import select

from bot.outbox import RETRY_AFTER
from bot.scheduler import LEAD_SECONDS, STALE_AFTER
from commands import jobs
from commands.router import dispatch
from commands.types import Notice, Request
from storage.engine import session_scope
from storage.models import SentMessage, Team
from tests.conftest import PG_URL, PostgresSchema
from tests.fakeslack import Call, FakeSlack

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ADMIN = "UADMIN"
HELD = "UMGREAST"  # East's manager: the holder's digest to them hangs
TAKEOVER = 60  # seconds: the "another takes over within a minute"


@dataclass
class HoldingSlack(FakeSlack):
    """Holds the first conversations.open for HELD until `let_go` is set."""

    holding: threading.Event = field(default_factory=threading.Event)
    let_go: threading.Event = field(default_factory=threading.Event)

    def answer(self, call: Call) -> tuple[int, dict[str, str], Any]:
        held = call.method == "conversations.open" and call.params.get("users") == HELD
        if held and not self.holding.is_set():
            self.holding.set()
            self.let_go.wait(timeout=120)  # the holder is killed meanwhile: its socket closes
        return super().answer(call)


def working_zone(now: datetime) -> str | None:
    """A fixed-offset zone where it is a working day at least 40 minutes after midnight and
    before 23:00, nearest to UTC first; None on the 22 weekend hours no zone has that."""
    for hours in sorted(range(-12, 15), key=abs):
        local = now + timedelta(hours=hours)
        minutes = local.hour * 60 + local.minute
        if local.weekday() < 5 and 40 <= minutes <= 23 * 60:
            # Etc/GMT signs are inverted: Etc/GMT-3 is UTC+3.
            return "Etc/GMT" if hours == 0 else f"Etc/GMT{-hours:+d}"
    return None


def run(engine: Engine, command: str, text_: str) -> None:
    req = Request(
        workspace_id="T1",
        user_id=ADMIN,
        text=text_,
        now=datetime.now(UTC),
        locale="en-US",
        admin_ids=frozenset({ADMIN}),
    )
    with session_scope(engine) as session:
        reply = dispatch(command, req, session)
    assert reply.ok, reply.text


def two_teams_behind(engine: Engine, zone: str, now: datetime) -> date:
    """East and West, each with two reps who have a goal this month and nothing won (so
    both are behind pace) and a manager; their hour half an hour ago in `zone`."""
    local = now.astimezone(ZoneInfo(zone))
    month = f"{local:%Y-%m}"
    for name, manager in (("East", HELD), ("West", "UMGRWEST")):
        reps = [f"U{name.upper()}{i}" for i in (1, 2)]
        run(engine, "/pacer", f"setup team create {name} <#C{name.upper()}|{name.lower()}>")
        run(engine, "/pacer", f"setup team add {name} " + " ".join(f"<@{r}|{r}>" for r in reps))
        run(engine, "/pacer", f"setup team add {name} <@{manager}|{manager}> as:manager")
        for rep in reps:
            run(engine, "/goal", f"set <@{rep}|{rep}> 50000 {month}")
    with session_scope(engine) as session:
        for team in session.exec(select(Team)).all():
            team.tz = zone
            team.report_hour = f"{local - timedelta(minutes=30):%H:%M}"
    return local.date()


def day_notices(engine: Engine, day: date) -> list[Notice]:
    """What the day's runs send (Mondays and first working days add channel charts)."""
    with session_scope(engine) as session:
        teams = session.exec(select(Team)).all()
        return [
            n for t in teams for kind in jobs.KINDS for n in jobs.notices_for(session, t, kind, day)
        ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pacer:
    """`python -m bot` in HTTP mode, its log in a file."""

    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, name: str, tmp: Path, fake: FakeSlack, schema: str) -> Pacer:
        empty = tmp / "empty.env"  # no developer .env is read
        empty.touch()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PACER_"))}
        env.update(
            {
                "DATABASE_URL": f"{PG_URL}?options=-csearch_path%3D{schema}",
                "SLACK_BOT_TOKEN": "xoxb-instances",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url,
                "PORT": str(free_port()),
                "LOG_LEVEL": "INFO",
                "PYTHONPATH": str(ROOT),
            }
        )
        log = tmp / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "--env-file", str(empty)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(process, log)

    def says(self, words: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while words not in self.log.read_text(encoding="utf-8", errors="replace"):
            assert self.process.poll() is None, self.tail()
            assert time.monotonic() < deadline, f"no {words!r} in:\n{self.tail()}"
            time.sleep(0.1)

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def schema(postgres_schema: PostgresSchema) -> PostgresSchema:
    postgres_schema.empty()
    return postgres_schema


@pytest.fixture
def slack() -> Iterator[HoldingSlack]:
    fake = HoldingSlack()
    with fake:
        yield fake
    fake.let_go.set()


def deliveries(fake: FakeSlack) -> list[tuple[str, str]]:
    """(channel, text) of every message and chart Slack received."""
    posted = [
        (str(c.params["channel"]), str(c.params["text"])) for c in fake.called("chat.postMessage")
    ]
    shared = [
        (str(c.params.get("channel_id")), str(c.params.get("initial_comment", "")))
        for c in fake.called("files.completeUploadExternal")
    ]
    return posted + shared


def test_killing_the_scheduler_holder_hands_the_day_to_the_other_instance(
    schema: PostgresSchema, slack: HoldingSlack, tmp_path: Path
) -> None:
    assert LEAD_SECONDS * 2 < TAKEOVER and timedelta(minutes=30) < STALE_AFTER
    now = datetime.now(UTC)
    zone = working_zone(now)
    if zone is None:
        pytest.skip("no zone has a working day now (Saturday noon to Sunday 10:00 UTC)")
    engine = schema.engine
    day = two_teams_behind(engine, zone, now)
    notices = day_notices(engine, day)
    expected, charts = len(notices), sum(n.chart is not None for n in notices)
    assert expected - charts == 6  # per team: two warnings and the manager's digest

    holder = Pacer.start("holder", tmp_path, slack, schema.name)
    standby: Pacer | None = None
    try:
        # The holder took the lock at start and is sending the day: East's two warnings
        # went out, and it is stuck on the third, East's digest.
        assert slack.holding.wait(timeout=90), holder.tail()
        assert len(slack.called("chat.postMessage")) == 2
        standby = Pacer.start("standby", tmp_path, slack, schema.name)
        standby.says("scheduler started", timeout=90)
        time.sleep(2)  # its first try of the lock: taken, so it sends nothing
        assert len(deliveries(slack)) == 2

        with engine.begin() as conn:  # the digest's claim, older than the retry window
            moved = conn.execute(
                text(
                    "UPDATE sentmessage SET created_at = created_at - :d WHERE status = 'pending'"
                ),
                {"d": RETRY_AFTER * 2},
            ).rowcount
        assert moved == 1
        holder.process.kill()  # SIGKILL: no clean-up, no unlock
        holder.process.wait()
        killed = time.monotonic()
        slack.let_go.set()

        slack.wait_for("chat.postMessage", expected - charts, timeout=TAKEOVER + 15)
        slack.wait_for("files.completeUploadExternal", charts, timeout=15)
        took = time.monotonic() - killed
        time.sleep(LEAD_SECONDS + 2)  # its next try changes nothing

        sent = deliveries(slack)
        assert len(sent) == len(set(sent)) == expected, sent
        assert took < TAKEOVER, f"took over after {took:.1f} s"
        with session_scope(engine) as session:
            statuses = list(session.exec(select(SentMessage.status)).all())
        assert statuses == ["sent"] * expected
        standby.says("this instance runs the scheduled jobs now", timeout=1)
        print(f"standby took over and finished the day {took:.1f} s after the kill")
    finally:
        holder.stop()
        if standby is not None:
            standby.stop()
