"""bot/outbox.py retry_unsent: what failed, or was cut off by a crash, is sent again, once."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import web_client
from bot.delivery import SlackTransport
from bot.outbox import Outbox, decode, encode
from bot.scheduler import Scheduler, run_team
from bot.settings import Settings
from charts.specs import LeaderboardChart
from commands.types import Button, Notice
from storage.engine import session_scope
from storage.models import SentMessage
from tests.conftest import Run
from tests.fakeslack import FakeSlack, shared_files
from tests.test_jobs import NINE_NY, client, east_id, month, posts  # noqa: F401
from tests.test_storage import OLD_ROWS


def slack(engine: Engine, web: WebClient) -> Outbox:
    return Outbox(engine, SlackTransport(web))


def rows(engine: Engine) -> dict[str, tuple[str, int]]:
    with Session(engine) as s:
        return {r.key: (r.status, r.attempts) for r in s.exec(select(SentMessage)).all()}


def test_a_failed_send_is_retried_by_the_minute_job_and_arrives_once(
    month: Engine,  # noqa: F811
    fake: FakeSlack,
    client: WebClient,  # noqa: F811
) -> None:
    fake.fail("chat.postMessage", "internal_error")  # alice's warning fails, mia's digest goes
    run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    assert rows(month)["lag:2026-11-25:UALICE"] == ("failed", 1)
    # The retry job runs every minute, not at the team's next daily run.
    failed_at = datetime.now(UTC)
    clock = [failed_at + timedelta(seconds=10)]
    later = Scheduler(month, client, clock=lambda: clock[0])
    try:
        assert later.retry() == 0  # its 30 s are not up
        clock[0] = failed_at + timedelta(minutes=1)
        assert later.retry() == 1
        assert later.retry() == 0
    finally:
        later.stop()  # on PostgreSQL: hand the scheduling lock back for the next test
    assert rows(month)["lag:2026-11-25:UALICE"] == ("sent", 2)
    to_alice = [c for c in fake.called("chat.postMessage") if c.params["channel"] == "DALICE"]
    assert len(to_alice) == 2  # the refused try, then the retry: one message arrived
    assert "you're behind pace" in posts(fake)["DALICE"]


def test_a_send_cut_off_by_a_crash_is_sent_once_after_five_minutes(
    month: Engine,  # noqa: F811
    fake: FakeSlack,
    client: WebClient,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def dies(*args: Any) -> Any:
        raise KeyboardInterrupt  # the process is stopped between recording and sending

    monkeypatch.setattr(SlackTransport, "post", dies)
    with pytest.raises(KeyboardInterrupt):
        run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    monkeypatch.undo()
    (key,) = rows(month)
    assert rows(month)[key] == ("pending", 1)
    recorded = datetime.now(UTC)
    # Within five minutes the row may still be on its way: it is left alone.
    assert slack(month, client).retry_unsent(now=recorded + timedelta(minutes=1)) == 0
    assert fake.called("chat.postMessage") == []
    assert slack(month, client).retry_unsent(now=recorded + timedelta(minutes=6)) == 1
    assert slack(month, client).retry_unsent(now=recorded + timedelta(minutes=12)) == 0
    assert rows(month)[key] == ("sent", 2)
    assert len(fake.called("chat.postMessage")) == 1
    # The rest of the run was never recorded: the restarted run sends it, once.
    assert run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"]).sent == 1
    assert sorted(posts(fake)) == ["DALICE", "DMIA"]


def test_a_notice_failing_seven_times_in_38_minutes_is_dropped_and_logged(
    team: Run,
    engine: Engine,
    fake: FakeSlack,
    client: WebClient,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail("chat.postMessage", "internal_error", times=7)
    notice = Notice(key="k1", text="hello", channel_id="CEAST", buttons=[Button("a", "A", "1")])
    assert not slack(engine, client).send("T1", notice)
    start = datetime.now(UTC)
    # The minute job, run each minute for 40 minutes: tries 2 to 7 fall due 30 s, 1.5,
    # 3.5, 8.5, 18.5 and 38.5 minutes after the first, so at minutes 1, 2, 4, 9, 19, 39.
    tried_at: list[int] = []
    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        for minute in range(1, 41):
            before = len(fake.called("chat.postMessage"))
            slack(engine, client).retry_unsent(now=start + timedelta(minutes=minute))
            if len(fake.called("chat.postMessage")) > before:
                tried_at.append(minute)
    assert tried_at == [1, 2, 4, 9, 19, 39]
    assert rows(engine)["k1"] == ("dropped", 7)
    assert caplog.messages[-1] == (
        "notice k1 in T1 dropped: gave up after 7 attempts: internal_error"
    )
    assert "xoxb" not in caplog.text
    # Dropped: the next retry does not call Slack again (it would succeed now).
    assert slack(engine, client).retry_unsent(now=start + timedelta(minutes=45)) == 0
    assert len(fake.called("chat.postMessage")) == 7


def test_a_chart_cut_off_by_a_crash_is_uploaded_with_its_text(
    team: Run,
    engine: Engine,
    fake: FakeSlack,
    client: WebClient,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chart = LeaderboardChart(
        title="East", names=["bob"], values=[120.0], highlight=frozenset({"bob"}), alt_text="alt"
    )
    notice = Notice(key="k2", text="report", channel_id="CEAST", chart=chart)
    assert decode("k2", encode(notice)) == notice

    def dies(*args: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(SlackTransport, "post", dies)
    with pytest.raises(KeyboardInterrupt):
        slack(engine, client).send("T1", notice)
    monkeypatch.undo()
    later = datetime.now(UTC) + timedelta(minutes=6)
    assert slack(engine, client).retry_unsent(now=later) == 1
    (shared,) = shared_files(fake)
    assert (shared.channel, shared.comment, shared.alt_text) == ("CEAST", "report", "alt")
    assert shared.body.startswith(b"\x89PNG\r\n\x1a\n")
    assert rows(engine)["k2"] == ("sent", 2)


@pytest.mark.postgres
def test_two_instances_retrying_at_once_send_each_once(
    team: Run,
    engine: Engine,
    fake: FakeSlack,
    client: WebClient,  # noqa: F811
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("two instances share a PostgreSQL database")
    fake.fail("chat.postMessage", "internal_error", times=20)
    for i in range(20):
        slack(engine, client).send("T1", Notice(key=f"k{i}", text=f"n{i}", channel_id="C"))
    start = threading.Barrier(2)
    sent: list[int] = []

    def instance() -> None:
        own = web_client(Settings(api_url=fake.api_url), "xoxb-test")
        start.wait()
        due = datetime.now(UTC) + timedelta(seconds=31)
        sent.append(slack(engine, own).retry_unsent(now=due))

    threads = [threading.Thread(target=instance) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(sent) == 20
    texts = [c.params["text"] for c in fake.called("chat.postMessage")[20:]]
    assert sorted(texts) == sorted(f"n{i}" for i in range(20))
    assert set(rows(engine).values()) == {("sent", 2)}


def test_the_migration_applies_on_a_sqlite_database_that_holds_data(tmp_path: Path) -> None:
    from sqlalchemy import text as sql

    from storage.engine import make_engine
    from storage.migrate import downgrade, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")
    with engine.begin() as conn:
        for statement in OLD_ROWS:
            conn.execute(sql(statement))
    upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            sql(
                "INSERT INTO sentmessage (workspace_id, key, status, attempts, created_at)"
                " VALUES ('T1', 'old', 'failed', 1, '2026-11-20 00:00:00')"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(sql("SELECT key, payload FROM sentmessage")).one() == ("old", None)
        assert conn.execute(sql("SELECT amount_minor FROM deal")).scalar_one() == 1250000
    # A row from before the payload existed cannot be resent: it is left alone.
    with session_scope(engine) as s:
        assert s.exec(select(SentMessage)).one().payload is None
    assert slack(engine, WebClient(token="xoxb-none")).retry_unsent(now=NINE_NY) == 0
    downgrade(engine, "0004")
    upgrade(engine)
    engine.dispose()


def test_payload_keeps_the_whole_notice() -> None:
    notice = Notice(
        key="lag:2026-11-25:U1",
        text="你落后了",
        user_id="U1",
        buttons=[Button("goal_review", "Review", "12", "primary")],
        locale="zh",
    )
    assert decode(notice.key, encode(notice)) == notice


def test_a_notice_still_unsent_hours_later_expires_instead_of_arriving_late(
    team: Run,
    engine: Engine,
    fake: FakeSlack,
    client: WebClient,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A morning warning that failed must not land in the evening: past an hour the
    # retry marks it expired and logs it, and Slack is not called again.
    fake.fail("chat.postMessage", "internal_error")
    notice = Notice(key="lag:x", text="morning", user_id="UALICE")
    assert not slack(engine, client).send("T1", notice)
    later = datetime.now(UTC) + timedelta(hours=7)
    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        assert slack(engine, client).retry_unsent(now=later) == 0
    assert rows(engine)["lag:x"][0] == "expired"
    assert "notice lag:x in T1 dropped: expired, 7:00:" in caplog.text
    assert len(fake.called("chat.postMessage")) == 1
