"""Charts drawn once per picture (charts.cache) and in processes of their own (bot.work.Drawer).

Real rendering throughout: the draws counted are real matplotlib charts.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

import charts
from bot.app import build_app
from bot.http import wsgi_app
from bot.settings import cores, load
from bot.work import Drawer, Work, serving
from charts import LeaderboardChart, PngCache, ProgressChart, cache_key
from charts.cache import MB
from charts.specs import ChartSpec
from commands.i18n import t
from tests.conftest import ADMIN, Run
from tests.fakeslack import FakeSlack, SlackSender
from tests.test_charts import PNG_SIGNATURE, leaderboard, png_size, progress
from tests.test_cmd_leaderboard import chart_of
from tests.test_http_mode import SECRET, Server, block_texts, command, settings_for, setup_team


def counted(drawer: Drawer, monkeypatch: pytest.MonkeyPatch) -> list[ChartSpec]:
    """The specs `drawer` really draws (past its cache), in order."""
    drawn: list[ChartSpec] = []
    real = drawer.draw

    def draw(spec: ChartSpec) -> bytes:
        drawn.append(spec)
        return real(spec)

    monkeypatch.setattr(drawer, "draw", draw)
    return drawn


def wait_until(done: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.01)


# --- the key -----------------------------------------------------------------------------------


def test_equal_specs_are_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    drawer = Drawer(processes=0)
    drawn = counted(drawer, monkeypatch)

    first = drawer(leaderboard())
    again = drawer(leaderboard())  # an equal spec, built anew
    other = drawer(leaderboard(title="Another"))

    assert len(drawn) == 2
    assert first == again and first.startswith(PNG_SIGNATURE)
    assert other != first
    assert (drawer.cache.hits, drawer.cache.misses) == (1, 2)


def test_what_is_not_drawn_is_not_in_the_key() -> None:
    board = leaderboard(highlight=frozenset())
    # The alt text goes beside the PNG; a highlighted name off the board draws nothing.
    assert cache_key(replace(board, alt_text="Leaderboard chart")) == cache_key(board)
    assert cache_key(replace(board, highlight=frozenset({"mia"}))) == cache_key(board)
    assert cache_key(replace(board, highlight=frozenset({"Alice"}))) != cache_key(board)


def test_every_drawn_field_is_in_the_key() -> None:
    board, line = leaderboard(), progress()
    keys = {
        cache_key(board),
        cache_key(replace(board, values=[*board.values[:-1], board.values[-1] + 0.5])),
        cache_key(replace(board, notes=["x"] * len(board.names))),
        cache_key(replace(board, percent=False)),
        cache_key(replace(board, reference=50.0)),
        cache_key(replace(board, labels={"pace": "进度"})),
        cache_key(replace(board, value_prefix="¥")),
        cache_key(line),
        cache_key(replace(line, actual=line.actual[:-1])),
        cache_key(replace(line, target=line.target + 1)),
    }
    assert len(keys) == 10
    # Same numbers, other kind of chart: not the same picture.
    assert cache_key(ProgressChart("t", [], [], [], 0.0)) != cache_key(
        LeaderboardChart("t", [], [])
    )


def test_the_leaderboard_key_follows_locale_order_period_and_data(board: Run) -> None:
    def key(user: str, text: str = "", locale: str = "en-US") -> str:
        return cache_key(chart_of(board(user, "/leaderboard", text, locale=locale)))

    mia = key("UMIA")
    assert key("UMIA") == mia  # asked again: the same picture
    assert key(ADMIN, "team East") == mia  # another asker off the board shares it
    assert key("UALICE") != mia  # alice is on it, drawn in the accent colour
    assert key("UMIA", locale="zh-CN") != mia
    assert key("UMIA", "by revenue") != mia
    assert key("UMIA", "2026-Q4") != mia
    assert board("UALICE", "/deal", "1,000 Initech date:2026-11-23").ok
    assert key("UMIA") != mia  # a new deal: new numbers, a new key


@pytest.fixture
def board(team: Run) -> Run:
    """Team East: alice and bob with November targets and a deal each."""
    for who, target in (("ALICE|alice", "100k"), ("BOB|bob", "200k")):
        assert team("UMIA", "/goal", f"set <@U{who}> {target} 2026-11").ok
    assert team("UALICE", "/deal", "50,000 Acme date:2026-11-20").ok
    assert team("UBOB", "/deal", "60,000 Acme date:2026-11-20").ok
    return team


# --- single flight and the bound ---------------------------------------------------------------


def test_ten_asking_at_once_for_one_chart_draw_it_once() -> None:
    cache = PngCache(max_bytes=1_000_000)
    spec = leaderboard()
    drawn: list[ChartSpec] = []

    def draw() -> bytes:
        drawn.append(spec)
        wait_until(lambda: cache.hits == 9)  # the nine others have joined this drawing
        return charts.render(spec)

    start = threading.Barrier(10)
    got: list[bytes] = []

    def ask() -> None:
        start.wait()
        got.append(cache.get(cache_key(spec), draw))

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(drawn) == 1
    assert len(got) == 10 and len(set(got)) == 1 and got[0].startswith(PNG_SIGNATURE)


def test_a_failed_drawing_fails_its_waiters_and_is_not_kept() -> None:
    cache = PngCache(max_bytes=1_000_000)

    def fail() -> bytes:
        raise ValueError("no font")

    with pytest.raises(ValueError):
        cache.get("k", fail)
    assert "k" not in cache and cache.size == 0
    assert cache.get("k", lambda: b"png") == b"png"  # the next ask draws again


def test_the_least_recently_used_charts_leave_when_the_bytes_run_out() -> None:
    pngs = {name: charts.render(progress(title=name)) for name in ("a", "b", "c")}
    sizes = {name: len(png) for name, png in pngs.items()}
    cache = PngCache(max_bytes=sum(sizes.values()) - 1)  # two fit, three do not

    def put(name: str) -> bytes:
        return cache.get(name, lambda: pngs[name])

    put("a")
    put("b")
    put("a")  # a used again: b is now the oldest
    put("c")

    assert ("a" in cache, "b" in cache, "c" in cache) == (True, False, True)
    assert cache.size == sizes["a"] + sizes["c"]
    assert cache.get("a", lambda: b"never drawn") == pngs["a"]


def test_a_chart_bigger_than_the_whole_cache_is_drawn_but_not_kept() -> None:
    cache = PngCache(max_bytes=10)
    assert cache.get("big", lambda: b"x" * 11) == b"x" * 11
    assert "big" not in cache and cache.size == 0


# --- the drawing processes ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def two() -> Iterator[Drawer]:
    drawer = Drawer(processes=2)
    drawer.start()
    yield drawer
    drawer.close()


def test_two_processes_draw_the_same_png_as_this_one(two: Drawer) -> None:
    specs: list[ChartSpec] = [leaderboard(), progress(), leaderboard(names=[], values=[])]
    for spec in specs:
        there = two.draw(spec)
        assert png_size(there) == png_size(charts.render(spec))
        assert there == charts.render(spec)


def test_a_killed_drawing_process_is_replaced_and_the_chart_drawn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    drawer = Drawer(processes=1)
    try:
        first = drawer(progress())
        pid = drawer._running().submit(os.getpid).result(timeout=60)
        os.kill(pid, signal.SIGKILL)

        with caplog.at_level(logging.WARNING, logger="bot.work"):
            png = drawer(leaderboard())

        assert first.startswith(PNG_SIGNATURE) and png == charts.render(leaderboard())
        assert drawer._running().submit(os.getpid).result(timeout=60) != pid
        assert any("drawing process died" in r.getMessage() for r in caplog.records)
    finally:
        drawer.close()


def test_in_process_drawing_needs_no_process() -> None:
    drawer = Drawer(processes=0)
    assert drawer(progress()).startswith(PNG_SIGNATURE)
    assert drawer._pool is None
    drawer.close()


def test_a_server_draws_in_as_many_processes_as_the_settings_say(
    fake: FakeSlack, db: Engine
) -> None:
    settings = settings_for(fake, db, draw_processes=3, chart_cache_mb=4)
    work = serving(settings)
    assert isinstance(work.draw, Drawer)
    assert (work.draw.processes, work.draw.cache.max_bytes) == (3, 4 * MB)
    assert work.render.limit == 30  # three threads, one waiting on each process
    assert work.draw(progress()) == charts.render(progress())
    work.drain(timeout=30)
    assert work.draw._pool is None  # shut down with the server's work
    here = serving(replace(settings, draw_processes=0))
    assert isinstance(here.draw, Drawer) and here.draw.processes == 0
    here.drain(timeout=30)


def test_the_settings_size_the_pool_and_the_cache() -> None:
    assert load({}, dotenv_path=None).draw_processes == cores() >= 1
    assert load({}, dotenv_path=None).chart_cache_mb == 32
    custom = load({"PACER_DRAW_PROCESSES": "0", "PACER_CHART_CACHE_MB": "8"}, dotenv_path=None)
    assert (custom.draw_processes, custom.chart_cache_mb) == (0, 8)


# --- a chart that cannot be drawn --------------------------------------------------------------


def test_a_chart_that_cannot_be_drawn_leaves_the_text_reply(
    fake: FakeSlack, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(spec: ChartSpec) -> bytes:
        raise RuntimeError("the drawing processes are shut down")

    work = Work(draw=broken)
    server = Server(wsgi_app(build_app(settings_for(fake, db), db, work=work), db))
    slack = SlackSender(server.url, SECRET)
    setup_team(db)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.listeners"):
            answer = command(slack, fake, "/leaderboard", "")
            [note] = fake.wait_for("response")
            work.drain(timeout=30)
    finally:
        server.close()

    assert answer.status == 200
    assert "East" in block_texts(answer.json()["blocks"])  # the reply, in the ack
    assert note.params["text"] == t("en", "sends.chart_not_posted")
    assert fake.called("files.getUploadURLExternal") == []
    assert any("could not be drawn" in r.getMessage() for r in caplog.records)


SERVER_KILLED = """
import os, signal, sys
from bot.work import Drawer
from tests.test_charts import progress

drawer = Drawer(processes=1)
drawer(progress())
with open(sys.argv[1], "w") as out:
    out.write(str(drawer._running().submit(os.getpid).result(timeout=60)))
os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer ends a server: no shutdown
"""


def test_drawing_processes_end_when_their_server_is_killed(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    pid_file = tmp_path / "worker.pid"
    # No pipes to this test: the drawing process would hold them open.
    done = subprocess.run(
        [sys.executable, "-c", SERVER_KILLED, str(pid_file)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert done.returncode == -signal.SIGKILL
    worker = int(pid_file.read_text())

    def gone() -> bool:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return True
        return False

    wait_until(gone, timeout=30)
