"""Pacer as a process: killed under load, or stopped with SIGTERM, loses no acknowledged
deal. The server is the real `python -m bot` in HTTP mode, on SQLite and PostgreSQL, with
the fake Slack on loopback; requests are signed as Slack signs them.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from storage.engine import make_engine
from tests.conftest import PG_URL
from tests.fakeslack import FakeSlack, SlackSender, slash_body
from tests.test_http_mode import ADMIN, ALICE, CHANNEL, SECRET, TEAM, TOKEN, setup_team

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
LOADERS = 6


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Process:
    """`python -m bot` in HTTP mode, its log in a file."""

    database_url: str
    fake: FakeSlack
    log: Path
    port: int = field(default_factory=free_port)
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PACER_"))}
        env = {
            **inherited,
            "DATABASE_URL": self.database_url,
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.fake.api_url,
            "PACER_ADMINS": ADMIN,
            "PORT": str(self.port),
            "PYTHONPATH": str(ROOT),
        }
        out = self.log.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=self.log.parent, env=env, stdout=out, stderr=out
        )
        self._wait_healthy()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.popen is not None and self.popen.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"no healthy server within {START_TIMEOUT} s")

    def signal(self, sig: int) -> int:
        assert self.popen is not None
        self.popen.send_signal(sig)
        return self.popen.wait(timeout=40)


@dataclass
class Load:
    """Threads logging deals as fast as the server answers, until told to stop or refused."""

    sender: SlackSender
    fake: FakeSlack
    acked: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Load:
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(LOADERS)]
        for thread in self._threads:
            thread.start()
        return self

    def _run(self, loader: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            customer = f"Load {loader}-{n}"
            body = slash_body(
                command="/deal",
                text=f"{100 + n} {customer}",
                team_id=TEAM,
                user_id=ALICE,
                channel_id=CHANNEL,
                trigger_id=f"t-{uuid.uuid4().hex}",
                response_url=self.fake.response_url(f"load-{loader}"),
            )
            try:
                answer = self.sender.post(body)
            except OSError:  # the server is gone: what it acknowledged is what counts
                return
            if answer.status == 200 and "Logged deal" in answer.body:
                with self._lock:
                    self.acked.append(customer)

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            assert time.monotonic() < deadline, f"only {len(self.acked)} deals acknowledged"
            time.sleep(0.02)

    def join(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """An empty database the server migrates itself: a SQLite file, or a fresh schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pacer.db'}"
        yield url, make_engine(url)
        return
    from tests.conftest import _drop, _postgres_engine

    eng, schema = _postgres_engine()
    yield f"{PG_URL}?options=-csearch_path%3D{schema}", eng
    _drop(eng, schema)


def customers(db: Engine) -> list[str]:
    with db.connect() as conn:
        rows = conn.execute(text("SELECT customer FROM deal WHERE customer LIKE 'Load %'"))
        return [str(r[0]) for r in rows]


def started(database: tuple[str, Engine], fake: FakeSlack, tmp_path: Path) -> Process:
    return Process(database[0], fake, tmp_path / "server.log").start()


def test_kill_9_under_load_loses_no_acknowledged_deal(
    database: tuple[str, Engine], fake: FakeSlack, tmp_path: Path
) -> None:
    url, db = database
    server = started(database, fake, tmp_path)
    setup_team(db)
    load = Load(SlackSender(server.url, SECRET), fake).start()
    load.wait_for(60)

    server.signal(signal.SIGKILL)
    load.join()

    Process(url, fake, tmp_path / "server.log").start().signal(signal.SIGTERM)  # restarts
    written = customers(db)
    assert len(load.acked) >= 60
    assert sorted(set(load.acked) - set(written)) == []  # none lost
    assert len(written) == len(set(written))  # none doubled
    if url.startswith("sqlite"):
        with sqlite3.connect(tmp_path / "pacer.db") as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.dispose()


def test_sigterm_drains_requests_and_deliveries_then_exits(
    database: tuple[str, Engine], fake: FakeSlack, tmp_path: Path
) -> None:
    db = database[1]
    server = started(database, fake, tmp_path)
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"))
    sender = SlackSender(server.url, SECRET)
    load = Load(sender, fake).start()
    load.wait_for(30)
    fake.slow("files.getUploadURLExternal", 2.0)  # a chart upload in flight at the signal
    chart = slash_body(
        command="/progress",
        text="",
        team_id=TEAM,
        user_id=ALICE,
        channel_id=CHANNEL,
        trigger_id="t-chart",
        response_url=fake.response_url("chart"),
    )
    assert sender.post(chart).status == 200
    fake.wait_for("files.getUploadURLExternal")

    code = server.signal(signal.SIGTERM)
    load.join()

    assert code == 0
    assert fake.called("files.completeUploadExternal")  # drained, not cut off
    written = customers(db)
    assert sorted(set(load.acked) - set(written)) == []
    assert len(written) == len(set(written))
    log = (tmp_path / "server.log").read_text()
    assert "SIGTERM: stopping after the work in flight" in log
    assert "stopped: requests and deliveries drained" in log
    assert "Traceback" not in log
    db.dispose()
