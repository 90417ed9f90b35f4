"""Failed sends, against the fake Slack: a response URL answering 500 or 429, a hung post,
a chart upload failing after its text was shown. Each is retried or told, never silent,
never sent twice; every message given up on is logged at WARNING with its key, workspace
and reason, and never the token, the response URL or the text."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import web_client
from bot.delivery import SlackTransport
from bot.listeners import Pacer, action_key
from bot.outbox import Asker, Outbox, Via
from bot.scheduler import RETRY_SECONDS, Scheduler
from bot.settings import Settings
from bot.work import Work
from commands.types import Notice, Reply
from storage.models import Deal, SentMessage
from tests.conftest import ADMIN, Run
from tests.fakeslack import FakeSlack, shared_files

TOKEN = "xoxb-failed-sends-token"
DEAL_TEXT = "12,500 Acme Corp"
NOT_SHOWN = (
    "⚠️ Slack could not show my reply to your command, so here it is. Anything it says"
    " was saved is saved: no need to type it again."
)
NOT_SHOWN_ZH = (
    "⚠️ Slack 没能显示我对你命令的回复，现在补发给你。回复里说已保存的内容都已保存，无需重新输入。"
)
CHART_LATER = (
    "I couldn't post the chart just now and will try again over the next minutes."
    " The reply above is complete."
)


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return web_client(Settings(api_url=fake.api_url), TOKEN)


@pytest.fixture
def quick(fake: FakeSlack) -> WebClient:
    """A client that gives up on a call after 1 s, where a hung call is the test."""
    return web_client(Settings(api_url=fake.api_url), TOKEN, timeout=1)


def command(
    engine: Engine,
    fake: FakeSlack,
    client: WebClient,
    name: str,
    text: str,
    *,
    user: str = "UALICE",
    trigger: str = "trig-1",
) -> dict[str, Any]:
    """Run a slash command as the Bolt listener does; its ack, once the work after it ran."""
    body = {
        "team_id": "T1",
        "user_id": user,
        "text": text,
        "channel_id": "CEAST",
        "trigger_id": trigger,
        "command": name,
    }
    acks: list[dict[str, Any]] = []
    work = Work()
    pacer = Pacer(Settings(api_url=fake.api_url, admins=frozenset({ADMIN})), engine, work)
    pacer.command(body, client, lambda **ack: acks.append(ack), respond(fake))
    assert work.drain(timeout=30)
    return acks[0]


def respond(fake: FakeSlack) -> Respond:
    return Respond(response_url=fake.response_url("r1"))


def delete_deal(engine: Engine, fake: FakeSlack, client: WebClient, deal_id: int = 1) -> str:
    """Press the reply's Delete button, as the Bolt listener does (its answer replaces the
    pressed message through the response URL); the press's delivery key."""
    body = {
        "team": {"id": "T1"},
        "user": {"id": "UALICE"},
        "channel": {"id": "CEAST"},
        "trigger_id": "trig-press",
        "actions": [{"action_id": "deal_delete", "value": str(deal_id)}],
    }
    work = Work()
    pacer = Pacer(Settings(api_url=fake.api_url, admins=frozenset({ADMIN})), engine, work)
    pacer.action(body, client, lambda **_: None, respond(fake))
    assert work.drain(timeout=30)
    return str(action_key(body))


def rows(engine: Engine) -> dict[str, tuple[str, int]]:
    with Session(engine) as s:
        return {r.key: (r.status, r.attempts) for r in s.exec(select(SentMessage)).all()}


def deal_count(engine: Engine) -> int:
    with Session(engine) as s:
        return len(s.exec(select(Deal)).all())


def texts(fake: FakeSlack, method: str) -> list[str]:
    return [str(c.params.get("text", "")) for c in fake.called(method)]


def outbox_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.outbox"]


def with_goal(team: Run) -> None:
    """alice's target for the real month: /progress, run at the real now, draws a chart."""
    team(ADMIN, "/goal", "set <@UALICE|alice> 20000 month", now=datetime.now(UTC))


def no_secrets(log_text: str, fake: FakeSlack) -> None:
    assert TOKEN not in log_text
    assert fake.response_url("r1") not in log_text
    assert "Acme Corp" not in log_text  # nor the text of the message


# --- the reply through the response URL ---------------------------------------------------------


def test_a_reply_url_answering_500_is_retried_then_shown_as_an_ephemeral_note(
    team: Run, engine: Engine, fake: FakeSlack, client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    command(engine, fake, client, "/deal", DEAL_TEXT)
    fake.fail_responses(500, times=3)  # the first post and both quick retries
    with caplog.at_level(logging.INFO):
        key = delete_deal(engine, fake, client)
    assert deal_count(engine) == 1
    assert len(fake.responses("r1")) == 3
    (note,) = fake.called("chat.postEphemeral")
    assert (note.params["channel"], note.params["user"]) == ("CEAST", "UALICE")
    first_line, _, reply = str(note.params["text"]).partition("\n\n")
    assert first_line == NOT_SHOWN
    assert reply.startswith("🗑️ Deleted deal `#1`: *$12,500* — Acme Corp on ")  # what was done
    assert fake.called("chat.postMessage") == []  # no DM: the ephemeral went
    assert rows(engine) == {f"undelivered:{key}": ("sent", 1)}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"reply {key} in T1 not shown: response URL answered HTTP 500; telling the user another way"
    ]
    no_secrets(caplog.text, fake)


def test_a_reply_url_answering_429_once_is_retried_and_arrives_once(
    team: Run, engine: Engine, fake: FakeSlack, client: WebClient
) -> None:
    command(engine, fake, client, "/deal", DEAL_TEXT)
    fake.fail_responses(429)
    delete_deal(engine, fake, client)
    first, second = fake.responses("r1")
    assert first.params == second.params  # the same reply, posted again after the 429
    assert str(second.params["text"]).startswith("🗑️ Deleted deal `#1`")
    assert fake.called("chat.postEphemeral") == []
    assert rows(engine) == {}  # delivered: nothing to tell another way


def test_a_reply_not_shown_goes_by_dm_in_chinese_where_the_bot_is_not_in_the_channel(
    team: Run, engine: Engine, fake: FakeSlack, client: WebClient
) -> None:
    fake.users["UALICE"] = {"locale": "zh-CN"}
    command(engine, fake, client, "/deal", DEAL_TEXT)
    fake.fail_responses(500, times=3)
    fake.fail("chat.postEphemeral", "channel_not_found")
    delete_deal(engine, fake, client)
    (dm,) = fake.called("chat.postMessage")
    assert dm.params["channel"] == "DALICE"
    note, _, reply = str(dm.params["text"]).partition("\n\n")
    assert note == NOT_SHOWN_ZH
    assert "`#1`" in reply
    assert deal_count(engine) == 1


def test_a_reply_that_no_route_takes_is_sent_by_the_minute_job_once(
    team: Run, engine: Engine, fake: FakeSlack, client: WebClient
) -> None:
    command(engine, fake, client, "/deal", DEAL_TEXT)
    fake.fail_responses(500, times=3)
    fake.fail("chat.postEphemeral", "internal_error")
    fake.fail("chat.postMessage", "internal_error")
    key = delete_deal(engine, fake, client)
    assert rows(engine) == {f"undelivered:{key}": ("failed", 1)}
    later = Scheduler(engine, client, clock=lambda: datetime.now(UTC) + timedelta(minutes=1))
    try:
        assert later.retry() == 1
        assert later.retry() == 0
    finally:
        later.stop()
    assert rows(engine) == {f"undelivered:{key}": ("sent", 2)}
    (note,) = [c for c in fake.called("chat.postEphemeral")][1:]
    assert str(note.params["text"]).startswith(NOT_SHOWN)
    assert len(fake.called("chat.postEphemeral")) == 2  # refused once, then shown once


def test_a_hung_reply_url_fails_within_its_timeout_and_is_told_another_way(
    team: Run,
    engine: Engine,
    fake: FakeSlack,
    client: WebClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import delivery

    monkeypatch.setattr(delivery, "SEND_TIMEOUT", 1)
    command(engine, fake, client, "/deal", DEAL_TEXT)
    fake.hang("response", seconds=5)
    started = time.monotonic()
    delete_deal(engine, fake, client)
    assert time.monotonic() - started < 4.5  # gave up on the hung post, did not wait it out
    (note,) = fake.called("chat.postEphemeral")
    assert str(note.params["text"]).startswith(NOT_SHOWN)


def test_a_form_reply_that_neither_ephemeral_nor_dm_takes_is_retried_by_the_minute_job(
    team: Run, engine: Engine, fake: FakeSlack, client: WebClient
) -> None:
    fake.fail("chat.postEphemeral", "internal_error", times=2)
    fake.fail("chat.postMessage", "internal_error", times=2)
    asker = Asker("T1", "UALICE", channel_id="CEAST", via=Via.FORM, key="view:V1")
    Outbox(engine, SlackTransport(client)).answer(Reply(text="✅ Logged deal `#7`"), asker)
    # The form's note (ephemeral, then DM), then the note of its failure (the same two).
    assert len(fake.called("chat.postEphemeral")) == len(fake.called("chat.postMessage")) == 2
    assert rows(engine) == {"undelivered:view:V1": ("failed", 1)}
    later = datetime.now(UTC) + timedelta(seconds=31)
    assert Outbox(engine, SlackTransport(client)).retry_unsent(now=later) == 1
    shown = fake.called("chat.postEphemeral")[-1]
    assert shown.params["text"] == NOT_SHOWN + "\n\n✅ Logged deal `#7`"
    assert rows(engine) == {"undelivered:view:V1": ("sent", 2)}


# --- posts Pacer sends on its own ---------------------------------------------------------------


def test_a_hung_channel_post_fails_at_the_timeout_and_is_retried_once(
    team: Run, engine: Engine, fake: FakeSlack, quick: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake.hang("chat.postMessage", seconds=3)
    outbox = Outbox(engine, SlackTransport(quick))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        sent = outbox.send("T1", Notice(key="post:1", text="🎉 big deal", channel_id="CEAST"))
    assert sent is False
    assert time.monotonic() - started < 2.9  # the client gave up before Slack answered
    assert rows(engine) == {"post:1": ("failed", 1)}
    assert outbox_log(caplog) == [
        "notice post:1 in T1 not sent (attempt 1): TimeoutError; next try in 30 s"
    ]
    assert outbox.retry_unsent(now=datetime.now(UTC) + timedelta(minutes=1)) == 1
    assert rows(engine) == {"post:1": ("sent", 2)}
    assert texts(fake, "chat.postMessage") == ["🎉 big deal", "🎉 big deal"]  # hung, then sent


def test_a_post_refused_for_good_is_dropped_with_a_warning_and_not_retried(
    team: Run, engine: Engine, fake: FakeSlack, client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(engine, SlackTransport(client))
    for key, error in (("a", "channel_not_found"), ("b", "not_in_channel"), ("c", "is_archived")):
        fake.fail("chat.postMessage", error)
        with caplog.at_level(logging.WARNING, logger="bot.outbox"):
            outbox.send("T1", Notice(key=key, text="secret words", channel_id="CGONE"))
    assert rows(engine) == {"a": ("dropped", 1), "b": ("dropped", 1), "c": ("dropped", 1)}
    assert outbox_log(caplog) == [
        "notice a in T1 dropped: channel_not_found",
        "notice b in T1 dropped: not_in_channel",
        "notice c in T1 dropped: is_archived",
    ]
    assert outbox.retry_unsent(now=datetime.now(UTC) + timedelta(minutes=30)) == 0
    assert len(fake.called("chat.postMessage")) == 3
    assert "secret words" not in caplog.text and TOKEN not in caplog.text


# --- charts -------------------------------------------------------------------------------------


def test_a_chart_failing_after_its_text_says_so_and_is_uploaded_by_the_retry(
    team: Run, engine: Engine, fake: FakeSlack, quick: WebClient
) -> None:
    with_goal(team)
    fake.hang("files.getUploadURLExternal", seconds=3)  # the channel upload hangs
    reply = command(engine, fake, quick, "/progress", "", trigger="trig-chart")
    (note,) = fake.responses("r1")  # the text was in the ack; this is the chart's note
    shown = str(reply["text"]).split("\n")
    assert shown[0].startswith("*Name of UALICE · ")  # the text arrived, whole
    assert shown[1] == "$0 of $20,000 — *0%* attained"
    assert note.params["text"] == CHART_LATER
    assert "nothing was saved" not in " ".join(str(c.params.get("text")) for c in fake.calls)
    assert shared_files(fake) == []
    assert rows(engine) == {"chart:trig-chart": ("failed", 1)}
    retried = Outbox(engine, SlackTransport(quick))
    assert retried.retry_unsent(now=datetime.now(UTC) + timedelta(minutes=1)) == 1
    (shared,) = shared_files(fake)
    assert (shared.channel, shared.filename) == ("CEAST", "progress.png")
    assert shared.comment == str(reply["text"]).split("\n", 1)[0]
    assert rows(engine) == {"chart:trig-chart": ("sent", 2)}


def test_a_chart_refused_everywhere_is_retried_to_the_dm(
    team: Run, engine: Engine, fake: FakeSlack, client: WebClient
) -> None:
    with_goal(team)
    fake.fail("files.completeUploadExternal", "not_in_channel")
    fake.fail("files.completeUploadExternal", "internal_error")
    command(engine, fake, client, "/progress", "", trigger="t2")
    assert fake.responses("r1")[-1].params["text"] == CHART_LATER
    retried = Outbox(engine, SlackTransport(client))
    assert retried.retry_unsent(now=datetime.now(UTC) + timedelta(minutes=1)) == 1
    refused, failed, shared = shared_files(fake)  # completeUploadExternal: refused ones too
    assert (refused.channel, failed.channel, shared.channel) == ("CEAST", "DALICE", "DALICE")
    assert rows(engine) == {"chart:t2": ("sent", 2)}


# --- the retry job -----------------------------------------------------------------------------


def test_the_retry_job_runs_at_start_then_every_minute(
    engine: Engine, fake: FakeSlack, client: WebClient
) -> None:
    scheduler = Scheduler(engine, client)
    try:
        before = datetime.now(UTC)
        scheduler.start(paused=True)
        job: Any = scheduler.scheduler.get_job("retry")
        assert job.trigger.interval == timedelta(seconds=RETRY_SECONDS) == timedelta(minutes=1)
        assert job.next_run_time <= before + timedelta(seconds=1)  # at once, on start
    finally:
        scheduler.stop()


@pytest.mark.postgres
def test_only_the_instance_holding_the_lock_retries(
    team: Run, engine: Engine, fake: FakeSlack, client: WebClient
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("instances share a PostgreSQL database; SQLite runs one")
    fake.fail("chat.postMessage", "internal_error")
    Outbox(engine, SlackTransport(client)).send("T1", Notice(key="k", text="x", channel_id="C1"))
    later = lambda: datetime.now(UTC) + timedelta(minutes=1)  # noqa: E731
    holder, other = Scheduler(engine, client, later), Scheduler(engine, client, later)
    try:
        assert holder.leader.holds()
        assert other.retry() == 0
        assert rows(engine) == {"k": ("failed", 1)}
        assert holder.retry() == 1
    finally:
        holder.stop()
        other.stop()
