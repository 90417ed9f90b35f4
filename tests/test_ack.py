"""The acknowledgement never waits on Slack: through the real WSGI app under waitress.

Slack shows the user a failure when the ack takes over 3 s, then retries; a late ack of
a written deal is how a rep ends up typing it twice.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.app import build_app
from bot.http import wsgi_app
from bot.work import Pool, Work
from tests.fakeslack import Answer, FakeSlack, SlackSender
from tests.test_http_mode import (
    ADMIN,
    ALICE,
    SECRET,
    Server,
    block_texts,
    command,
    deals,
    settings_for,
    setup_team,
)

SLACK_DEADLINE = 3.0


def timed(send: Any) -> tuple[Answer, float]:
    start = time.monotonic()
    answer = send()
    return answer, time.monotonic() - start


def at_once(count: int, send: Any) -> list[tuple[Answer, float]]:
    """`send(i)` for i in range(count), all at once; each answer with its duration."""
    results: list[tuple[Answer, float]] = [None] * count  # type: ignore[list-item]

    def one(i: int) -> None:
        results[i] = timed(lambda: send(i))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def served(fake: FakeSlack, db: Engine) -> Iterator[tuple[SlackSender, Work]]:
    work = Work()
    app = build_app(settings_for(fake, db), db, work=work)
    server = Server(wsgi_app(app, db))
    yield SlackSender(server.url, SECRET), work
    server.close()
    work.drain(timeout=30)


def test_ten_deals_are_acked_in_time_while_uploads_and_replies_hang(
    served: tuple[SlackSender, Work], fake: FakeSlack, db: Engine
) -> None:
    slack, _ = served
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"))
    command(slack, fake, "/deal", "100 Warm Up", trigger="warm")  # alice's profile cached
    fake.slow("files.getUploadURLExternal", 8.0)  # a chart upload held up by Slack
    fake.slow("response", 4.0)  # and response URLs slow to answer

    charts = at_once(5, lambda i: command(slack, fake, "/progress", "", trigger=f"p{i}"))
    fake.wait_for("files.getUploadURLExternal", count=5)  # five uploads now waiting on Slack
    logged = at_once(
        10, lambda i: command(slack, fake, "/deal", f"{1000 + i} Customer {i}", trigger=f"d{i}")
    )

    for answer, seconds in logged:
        assert answer.status == 200 and seconds < SLACK_DEADLINE, (answer, seconds)
        assert "Logged deal" in block_texts(answer.json()["blocks"])
    for answer, seconds in charts:
        assert answer.status == 200 and seconds < SLACK_DEADLINE
    written = sorted(d.customer for d in deals(db) if d.customer != "Warm Up")
    assert written == sorted(f"Customer {i}" for i in range(10))  # each once


@pytest.fixture
def two_slots(fake: FakeSlack, db: Engine) -> Iterator[SlackSender]:
    """The real app with two database slots, behind enough waitress threads for a burst."""
    work = Work(writers=2)
    server = Server(wsgi_app(build_app(settings_for(fake, db), db, work=work), db), threads=32)
    yield SlackSender(server.url, SECRET)
    server.close()
    work.drain(timeout=30)


def burst(slack: SlackSender, fake: FakeSlack, users: list[str]) -> list[tuple[Answer, float]]:
    return at_once(
        len(users),
        lambda i: command(
            slack, fake, "/deal", f"{1000 + i} Burst {i}", trigger=f"b{i}", user=users[i]
        ),
    )


def test_a_burst_on_a_locked_database_is_acked_in_time_or_turned_away_clearly(
    two_slots: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    command(two_slots, fake, "/deal", "100 Warm Up", trigger="warm")  # alice's profile cached
    assert db.url.database
    with sqlite3.connect(db.url.database, isolation_level=None, check_same_thread=False) as other:
        other.execute("BEGIN IMMEDIATE")  # a long writer: the two admitted requests wait on it
        threading.Timer(2.0, other.rollback).start()
        results = burst(two_slots, fake, [ALICE] * 24)

    texts = [a.json()["text"] for a, _ in results]
    busy = [t for t in texts if t.startswith("Pacer is busy right now and nothing was saved")]
    logged = [t for t in texts if "Logged deal" in t]
    assert all(a.status == 200 and s < SLACK_DEADLINE for a, s in results), results
    assert busy and logged and len(busy) + len(logged) == 24, set(texts)
    written = [d for d in deals(db) if d.customer.startswith("Burst")]
    assert len(written) == len(logged)  # the turned-away wrote nothing


def test_new_users_slow_to_look_up_do_not_hold_the_database_slots(
    two_slots: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    newcomers = [f"UNEW{i}" for i in range(24)]  # on the team, never looked up in Slack
    setup_team(db, *[(ADMIN, "/pacer", f"setup team add East <@{u}>") for u in newcomers])
    fake.slow("users.info", 5.0)

    results = burst(two_slots, fake, newcomers)

    assert all(a.status == 200 and s < SLACK_DEADLINE for a, s in results), results
    assert all("Logged deal" in a.json()["text"] for a, _ in results)  # in English, in time
    assert len([d for d in deals(db) if d.customer.startswith("Burst")]) == 24


def test_a_full_pool_refuses_work_instead_of_queueing_it() -> None:
    pool = Pool("test", workers=1, limit=2)
    release = threading.Event()
    assert pool.submit(release.wait) and pool.submit(release.wait)
    assert pool.depth == 2 and pool.full

    assert pool.submit(release.wait) is False  # refused: nothing queued

    release.set()
    assert pool.drain(timeout=5) and pool.depth == 0
    assert pool.submit(lambda: None)


def test_asking_again_while_a_lookup_runs_joins_it_and_waits_only_what_is_left() -> None:
    """One user's commands during a slow users.info: one lookup, and only the first
    command's wait (the others once waited 0.4 s each, behind the same lookup)."""
    pool = Pool("test", workers=4, limit=10)
    calls: list[int] = []
    release = threading.Event()

    def lookup() -> str:
        calls.append(1)
        release.wait(5)
        return "alice"

    assert pool.ask(0.05, "alice", lookup) is None  # late: still running
    started = time.monotonic()
    assert pool.ask(5.0, "alice", lookup) is None  # the same lookup, its wait already spent
    assert time.monotonic() - started < 0.05
    assert calls == [1]
    release.set()
    assert pool.drain(timeout=5)
    assert pool.ask(5.0, "alice", lookup) == "alice" and calls == [1, 1]  # done: asked anew


def test_asks_at_once_share_the_first_ones_wait() -> None:
    pool = Pool("test", workers=4, limit=10)
    release = threading.Event()
    answers: list[str | None] = []

    def lookup() -> str:
        release.wait(5)
        return "bob"

    first = threading.Thread(target=lambda: answers.append(pool.ask(2.0, "bob", lookup)))
    first.start()
    time.sleep(0.05)
    threading.Timer(0.1, release.set).start()
    assert pool.ask(2.0, "bob", lookup) == "bob"  # within the first's 2 s: the answer
    first.join(5)
    assert answers == ["bob"]


def test_ask_returns_none_when_the_answer_is_late() -> None:
    pool = Pool("test", workers=1, limit=5)
    finished = threading.Event()

    def slow() -> str:
        time.sleep(0.3)
        finished.set()
        return "late"

    assert pool.ask(0.05, "slow", slow) is None
    assert (
        pool.ask(5.0, "soon", lambda: "soon") == "soon"
    )  # queued behind the slow one, yet in time
    assert finished.is_set()
