"""Reads never take SQLite's write lock (issue 10): commands declared read-only run in a
read scope, through the real Slack edge, and answer while another connection holds the
lock; what writes still writes, once; a read-only command that writes is caught."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import Engine, event
from sqlalchemy import text as sql
from sqlmodel import select

from bot.app import build_app, installation_store
from bot.http import wsgi_app
from bot.listeners import Pacer
from bot.work import Work
from commands import router
from commands.router import checked_read, dispatch, in_scope, writes
from commands.types import Notice, Reply, Request
from storage import engine as engine_module
from storage.engine import WriteInReadScope, read_scope, scoped, session_scope
from storage.models import Deal, Delivery, Member, Workspace
from tests.fakeslack import FakeSlack, SlackSender
from tests.test_http_mode import (
    ADMIN,
    ALICE,
    SECRET,
    TEAM,
    Server,
    block_texts,
    command,
    settings_for,
    setup_team,
)

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


@pytest.fixture
def served(fake: FakeSlack, db: Engine) -> Iterator[tuple[SlackSender, Work]]:
    work = Work()
    server = Server(wsgi_app(build_app(settings_for(fake, db), db, work=work), db))
    yield SlackSender(server.url, SECRET), work
    server.close()
    work.drain(timeout=30)


@contextmanager
def lock_held(db: Engine) -> Iterator[sqlite3.Connection]:
    """Another connection holding SQLite's one write lock (BEGIN IMMEDIATE) meanwhile."""
    assert db.url.database
    other = sqlite3.connect(db.url.database, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
    finally:
        if other.in_transaction:
            other.rollback()
        other.close()


@contextmanager
def statements(db: Engine) -> Iterator[list[str]]:
    """Every statement the engine sends meanwhile (BEGIN and BEGIN IMMEDIATE too)."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(db, "before_cursor_execute", seen)


def immediate(sent: list[str]) -> int:
    return sum(s.startswith("BEGIN IMMEDIATE") for s in sent)


def deliveries(db: Engine) -> set[str]:
    with read_scope(db) as session:
        return set(session.exec(select(Delivery.request_key)).all())


def request(user: str, text: str = "", key: str | None = None) -> Request:
    return Request(
        workspace_id="T1",
        user_id=user,
        text=text,
        now=NOW,
        locale="en-US",
        request_key=key,
        admin_ids=frozenset({"UADMIN"}),
    )


def run_as(engine: Engine, user: str, command_: str, text: str, key: str | None = None) -> Reply:
    req = request(user, text, key)
    return in_scope(engine, command_, text, lambda s: dispatch(command_, req, s))


# --- through the Slack edge, on a file database in WAL mode ---------------------------------------


def test_progress_and_leaderboard_answer_while_a_writer_holds_the_lock(
    served: tuple[SlackSender, Work], fake: FakeSlack, db: Engine
) -> None:
    slack, _ = served
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"))
    command(slack, fake, "/deal", "12,500 Acme Corp", trigger="t1")  # alice's profile kept

    with lock_held(db):  # before: each waited out busy_timeout (10 s), then failed
        progress = command(slack, fake, "/progress", "", trigger="t2").json()
        board = command(slack, fake, "/leaderboard", "", trigger="t3").json()

    assert "$12,500 of $120,000" in block_texts(progress["blocks"])
    assert board["response_type"] == "in_channel"
    assert "$12,500" in block_texts(board["blocks"]) and "East" in block_texts(board["blocks"])
    assert deliveries(db) == {"t1"}  # a read is answered again when retried: no record


def test_a_known_users_progress_takes_no_write_transaction(
    served: tuple[SlackSender, Work], fake: FakeSlack, db: Engine
) -> None:
    slack, _ = served
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"))
    command(slack, fake, "/deal", "12,500 Acme Corp", trigger="t1")  # alice's profile kept
    fake.calls.clear()

    with statements(db) as sent:
        answer = command(slack, fake, "/progress", "", trigger="t2").json()
        fake.wait_for("files.completeUploadExternal")  # the chart, after the ack

    assert "$12,500 of $120,000" in block_texts(answer["blocks"])
    assert immediate(sent) == 0  # neither the profile, the command nor the chart wrote
    assert not fake.called("users.info")  # the profile came from the process's cache


def test_a_writing_command_waits_for_the_lock_then_writes_once(
    served: tuple[SlackSender, Work], fake: FakeSlack, db: Engine
) -> None:
    slack, _ = served
    setup_team(db)
    command(slack, fake, "/deal", "100 Warm Up", trigger="warm")

    with lock_held(db) as other:
        threading.Timer(1.0, other.rollback).start()  # the writer finishes meanwhile
        first = command(slack, fake, "/deal", "500 Beta", trigger="d1").json()
    again = command(slack, fake, "/deal", "500 Beta", trigger="d1").json()  # Slack's retry

    assert "Logged deal" in block_texts(first["blocks"])
    assert block_texts(again["blocks"]) == block_texts(first["blocks"])
    with read_scope(db) as session:
        beta = session.exec(select(Deal.amount_minor).where(Deal.customer == "Beta")).all()
    assert beta == [50_000]  # once, in cents
    assert deliveries(db) == {"warm", "d1"}


# --- the declarations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command_", "text", "expected"),
    [
        ("/progress", "", False),
        ("/progress", "team East 2026-Q4", False),
        ("/leaderboard", "by deals", False),
        ("/goal", "", False),
        ("/goal", "tree team East", False),
        ("/goal", "history 7", False),
        ("/goal", "feedback show 3", False),
        ("/goal", "set <@UBOB|bob> 5000 month", True),
        ("/goal", "set help", False),  # help never writes
        ("/goal", "sett", False),  # words no command takes: "did you mean"
        ("/deal", "", False),  # the form: its submission writes
        ("/deal", "12500 Acme", True),
        ("/deal", "list", False),
        ("/deal", "delete 4", True),
        ("/pacer", "", False),
        ("/pacer", "setup", False),
        ("/pacer", "setup show", False),
        ("/pacer", "setup admin list", False),
        ("/pacer", "setup holidays list", False),
        ("/pacer", "setup team create West", True),
        ("/pacer", "notify off", True),
        ("/nope", "", False),
    ],
)
def test_whether_a_command_writes_comes_from_its_declaration(
    command_: str, text: str, expected: bool
) -> None:
    assert writes(command_, text) is expected


# --- caught: a read that writes ------------------------------------------------------------------


def test_a_command_declared_read_only_that_writes_is_caught(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_as(engine, ADMIN, "/pacer", "setup team create East")
    run_as(engine, ADMIN, "/pacer", "setup team add East <@UALICE|alice>")
    monkeypatch.setattr(router, "writes", lambda *_: False)  # /deal declared read-only

    with pytest.raises(WriteInReadScope, match="INSERT"):
        run_as(engine, "UALICE", "/deal", "100 Acme", key="k1")

    with session_scope(engine) as session:
        assert session.exec(select(Deal)).all() == []
        assert session.exec(select(Delivery)).all() == []


def test_in_production_a_read_that_writes_runs_again_writing_with_a_warning(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    run_as(engine, ADMIN, "/pacer", "setup team create East")
    run_as(engine, ADMIN, "/pacer", "setup team add East <@UALICE|alice>")
    monkeypatch.setattr(router, "writes", lambda *_: False)
    monkeypatch.setattr(engine_module, "STRICT_READS", False)

    with caplog.at_level(logging.WARNING, logger="storage.engine"):
        reply = run_as(engine, "UALICE", "/deal", "100 Acme", key="k1")
        again = run_as(engine, "UALICE", "/deal", "100 Acme", key="k1")

    assert reply.ok and again.text == reply.text  # the retry: the recorded reply
    assert "read-only request wrote" in caplog.text
    with session_scope(engine) as session:
        assert [d.amount_minor for d in session.exec(select(Deal)).all()] == [10_000]
        assert session.exec(select(Delivery.request_key)).all() == ["k1"]


def test_a_change_left_unflushed_in_a_read_scope_is_caught(engine: Engine) -> None:
    run_as(engine, ADMIN, "/pacer", "setup show")  # the workspace row

    def rename(session: Any) -> None:
        workspace = session.get(Workspace, "T1")
        workspace.fiscal_start_month = 4  # never flushed by the code itself

    with pytest.raises(WriteInReadScope, match="UPDATE"):
        scoped(engine, rename, writes=False)
    with session_scope(engine) as session:
        assert session.get(Workspace, "T1").fiscal_start_month == 1  # type: ignore[union-attr]


def test_a_read_only_reply_with_notices_is_caught(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reply = Reply(text="x", notices=[Notice(key="n1", text="hello", user_id="UBOB")])
    with pytest.raises(WriteInReadScope, match="notices"):
        checked_read(reply, "/progress")

    monkeypatch.setattr(engine_module, "STRICT_READS", False)
    with caplog.at_level(logging.WARNING, logger="commands.router"):
        assert checked_read(reply, "/progress") is reply  # recorded in their own transaction
    assert "declared read-only" in caplog.text


def test_a_new_users_first_read_creates_their_member_row_without_a_warning(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    run_as(engine, ADMIN, "/pacer", "setup team create East")

    with caplog.at_level(logging.WARNING):
        reply = run_as(engine, "UNEW", "/progress", "")

    assert not reply.ok and "team" in reply.text  # refused: not on a team yet
    assert caplog.text == ""
    with session_scope(engine) as session:  # a refusal writes nothing: as before
        assert session.exec(select(Member).where(Member.user_id == "UNEW")).all() == []
    reply = run_as(engine, "UNEW", "/pacer", "setup show")  # answered: the row is written
    assert reply.ok
    with session_scope(engine) as session:
        assert session.exec(select(Member.user_id).where(Member.user_id == "UNEW")).all()


def test_every_read_only_command_reads_set_up_data_in_a_read_scope(engine: Engine) -> None:
    """The read-only commands on a team with a goal, a deal and feedback: run strict (a
    write raises), each answered."""
    for user, command_, text in [
        (ADMIN, "/pacer", "setup team create East"),
        (ADMIN, "/pacer", "setup team add East <@UALICE|alice>"),
        (ADMIN, "/pacer", "setup team add East <@UMIA|mia> as:manager"),
        (ADMIN, "/pacer", "setup holidays add 2026-12-25"),
        (ADMIN, "/goal", "set <@UALICE|alice> 120000 month"),
        ("UALICE", "/deal", "12,500 Acme Corp"),
        ("UALICE", "/goal", "feedback 1 too high"),
    ]:
        assert run_as(engine, user, command_, text).ok, text
    for user, command_, text in [
        ("UALICE", "/progress", ""),
        ("UMIA", "/progress", "<@UALICE|alice>"),
        ("UMIA", "/leaderboard", "team East by deals"),
        ("UALICE", "/goal", ""),
        ("UALICE", "/goal", "tree"),
        ("UALICE", "/goal", "history 1"),
        ("UALICE", "/goal", "feedback show 1"),
        ("UMIA", "/goal", "review"),
        ("UALICE", "/deal", "list"),
        ("UALICE", "/deal", ""),
        ("UALICE", "/pacer", ""),
        ("UALICE", "/pacer", "setup"),
        (ADMIN, "/pacer", "setup"),
        ("UALICE", "/pacer", "setup show"),
        (ADMIN, "/pacer", "setup holidays list"),
        (ADMIN, "/pacer", "setup admin list"),
        ("UALICE", "/goal", "set help"),
    ]:
        assert not writes(command_, text)
        with statements(engine) as sent:
            reply = run_as(engine, user, command_, text)
        assert reply.ok, (command_, text, reply.text)
        assert immediate(sent) == 0, (command_, text)


def test_a_read_scope_is_read_only_on_postgresql_and_deferred_on_sqlite(engine: Engine) -> None:
    with statements(engine) as sent, read_scope(engine) as session:
        if engine.dialect.name == "postgresql":
            assert session.execute(sql("SHOW transaction_read_only")).scalar() == "on"
        else:
            session.execute(sql("SELECT 1"))
    with session_scope(engine) as session:  # the pooled connection writes again
        if engine.dialect.name == "postgresql":
            assert session.execute(sql("SHOW transaction_read_only")).scalar() == "off"
        session.add(Workspace(id="T9"))
    assert immediate(sent) == 0
    with pytest.raises(WriteInReadScope), read_scope(engine) as session:
        session.execute(sql("DELETE FROM workspace WHERE id = 'T9'"))
    with read_scope(engine) as session:
        assert session.get(Workspace, "T9") is not None


# --- the profile on the request path --------------------------------------------------------------


def test_a_known_profile_takes_no_transaction_and_a_new_one_one_write(
    fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    pacer = Pacer(settings_for(fake, db), db)
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    fake.users["UNEW"] = {"locale": "zh-CN", "real_name": "New Person"}
    try:
        with statements(db) as new:
            assert pacer.profile(client, TEAM, "UNEW").locale == "zh-CN"  # asks Slack
        with statements(db) as first:
            assert pacer.profile(client, TEAM, "UNEW").name == "New Person"
        with statements(db) as kept:
            assert pacer.profile(client, TEAM, "UNEW").locale == "zh-CN"
    finally:
        pacer.work.drain(timeout=10)

    assert immediate(new) == 1  # the new profile stored
    assert immediate(first) == 0 and "BEGIN" in first  # read, in a deferred transaction
    assert kept == []  # kept in the process: no transaction at all
    assert len(fake.called("users.info")) == 1


def test_an_installation_is_looked_up_without_the_write_lock(fake: FakeSlack, db: Engine) -> None:
    """OAuth: every request's authorize finds its workspace's token; saving still writes."""
    settings = settings_for(fake, db, client_id="C1", client_secret="s")
    store = installation_store(settings, db)
    store.save(Installation(app_id="A1", team_id=TEAM, user_id="U1", bot_token="xoxb-1"))

    with lock_held(db), statements(db) as sent:
        found = store.find_installation(enterprise_id=None, team_id=TEAM)
        bot = store.find_bot(enterprise_id=None, team_id=TEAM)

    assert found is not None and found.bot_token == "xoxb-1"
    assert bot is not None and bot.bot_token == "xoxb-1"
    assert immediate(sent) == 0


def test_the_outbox_finds_a_sent_notice_without_the_write_lock(db: Engine) -> None:
    """A digest is updated on every big deal past the day's cap: finding the message it
    updates is a read, and must not queue behind the writers."""
    from bot.delivery import SlackTransport
    from bot.outbox import Outbox
    from storage.models import SentMessage

    with session_scope(db) as s:
        s.add(Workspace(id=TEAM))
        s.flush()
        s.add(SentMessage(workspace_id=TEAM, key="k1", channel_id="C1", ts="1.2", status="sent"))
    outbox = Outbox(db, SlackTransport(WebClient(token="xoxb-unused")))

    with lock_held(db), statements(db) as sent:
        found = outbox._sent(TEAM, "k1")
        missing = outbox._sent(TEAM, "k2")

    assert found is not None and found[1:] == ("sent", found[2]) and found[2].ts == "1.2"
    assert missing is None
    assert immediate(sent) == 0
