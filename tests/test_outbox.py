"""bot/outbox.py with any transport: each notice recorded, sent once, found again to be
replaced or deleted, retried when it failed. The terminal transport prints what Slack's sends."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.console import channel_id
from bot.outbox import BACKOFF, MAX_ATTEMPTS, Asker, DeliveryError, Outbox, Sent, Via, next_try
from bot.terminal import Screen, Terminal
from commands.types import Button, Notice, Reply, Retract, Update
from storage.models import SentMessage
from tests.conftest import NOW

WS = "T1"


@dataclass
class Recorder:
    """A transport that notes each call; `refuse` makes the next posts fail (for good if
    `refused_for_good`)."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    refuse: int = 0
    refused_for_good: bool = False

    def reply(self, reply: Reply, asker: Asker) -> None:
        self.calls.append(("reply", f"{asker.via}:{reply.text}"))

    def post(self, notice: Notice) -> Sent:
        if self.refuse:
            self.refuse -= 1
            if self.refused_for_good:
                raise DeliveryError("channel_not_found", permanent=True)
            raise DeliveryError("internal_error")
        self.calls.append(("post", notice.text))
        return Sent(notice.channel_id or "D" + (notice.user_id or ""), f"ts-{notice.key}")

    def update(self, sent: Sent, update: Update) -> None:
        self.calls.append(("update", f"{sent.channel}/{sent.ts}:{update.text}"))

    def delete(self, sent: Sent, retract: Retract) -> None:
        self.calls.append(("delete", f"{sent.channel}/{sent.ts}"))


def status(engine: Engine, key: str) -> tuple[str, int]:
    with Session(engine) as s:
        row = s.exec(select(SentMessage).where(SentMessage.key == key)).one()
        return row.status, row.attempts


def test_a_notice_is_sent_once_then_updated_deleted_and_sent_again(engine: Engine) -> None:
    transport = Recorder()
    outbox = Outbox(engine, transport)
    notice = Notice(key="k", text="hello", channel_id="CEAST")
    assert outbox.send(WS, notice) is True
    assert outbox.send(WS, notice) is False  # a retried request: recorded, not sent again
    assert outbox.update(WS, Update(key="k", text="answered")) is True
    assert outbox.update(WS, Update(key="nobody", text="x")) is False
    assert outbox.retract(WS, Retract(key="k")) is True
    assert outbox.retract(WS, Retract(key="k")) is False  # gone already
    assert outbox.update(WS, Update(key="k", text="too late")) is False  # nothing to update
    assert outbox.send(WS, notice) is True  # a retracted notice may come back (a restored deal)
    assert transport.calls == [
        ("post", "hello"),
        ("update", "CEAST/ts-k:answered"),
        ("delete", "CEAST/ts-k"),
        ("post", "hello"),
    ]
    assert status(engine, "k") == ("sent", 2)


def test_a_refused_notice_is_marked_failed_and_sent_by_the_retry(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    transport = Recorder(refuse=1)
    outbox = Outbox(engine, transport)
    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        outbox.deliver(WS, Reply(text="", notices=[Notice(key="k", text="hi", user_id="U1")]))
    assert status(engine, "k") == ("failed", 1)
    assert caplog.messages == [
        "notice k in T1 not sent (attempt 1): internal_error; next try in 30 s"
    ]
    failed_at = datetime.now(UTC)
    assert outbox.retry_unsent(now=failed_at) == 0  # not due before its 30 s are up
    assert status(engine, "k") == ("failed", 1)
    assert outbox.retry_unsent(now=failed_at + timedelta(seconds=31)) == 1
    assert status(engine, "k") == ("sent", 2)
    assert transport.calls == [("post", "hi")]
    # Past an hour a failed notice expires instead of arriving late.
    transport.refuse = 1
    outbox.send(WS, Notice(key="late", text="morning", user_id="U1"))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        assert outbox.retry_unsent(now=datetime.now(UTC) + timedelta(minutes=61)) == 0
    assert status(engine, "late") == ("expired", 2)
    assert caplog.messages[0].startswith("notice late in T1 dropped: expired, 1:01:")


def test_a_notice_refused_for_good_is_dropped_and_logged_not_retried(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    transport = Recorder(refuse=1, refused_for_good=True)
    outbox = Outbox(engine, transport)
    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        assert outbox.send(WS, Notice(key="k", text="hi", channel_id="CGONE")) is False
    assert status(engine, "k") == ("dropped", 1)
    assert caplog.messages == ["notice k in T1 dropped: channel_not_found"]
    assert outbox.retry_unsent(now=datetime.now(UTC) + timedelta(minutes=30)) == 0
    assert transport.calls == []


def test_the_backoff_spreads_six_retries_within_the_hour() -> None:
    tried = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    waits = [next_try(tried, attempt) for attempt in range(1, MAX_ATTEMPTS + 1)]
    assert [w - tried for w in waits if w is not None] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
    ]
    assert waits[-1] is None  # the seventh try was the last
    assert sum(BACKOFF, timedelta()) == timedelta(minutes=38, seconds=30)


def test_answer_gives_the_reply_to_who_asked_then_sends_the_notices(engine: Engine) -> None:
    transport = Recorder()
    reply = Reply(text="done", notices=[Notice(key="k", text="for mia", user_id="UMIA")])
    Outbox(engine, transport).answer(reply, Asker(WS, "UALICE", via=Via.BUTTON))
    assert transport.calls == [("reply", "button:done"), ("post", "for mia")]


# --- the terminal transport -------------------------------------------------------------------


def test_the_terminal_prints_each_notice_and_what_becomes_of_it(engine: Engine) -> None:
    out = io.StringIO()
    screen = Screen(out, lambda: NOW)
    outbox = Outbox(engine, Terminal(screen, {"UALICE": "alice", "UMIA": "mia"}))
    east = channel_id("sales-east")
    buttons = [Button("a", "Accept", "1"), Button("b", "Decline", "1")]
    reply = Reply(
        text="Sent to <@UMIA>.",
        notices=[
            Notice(key="dm", text="From <@UALICE>:\n> too high", user_id="UMIA", buttons=buttons),
            Notice(key="post", text="🎉 <@UALICE> &amp; co", channel_id=east),
            Notice(key="nowhere", text="lost"),
        ],
        updates=[Update(key="dm", text="Answered by <@UMIA>")],
        retracts=[Retract(key="post")],
    )
    outbox.answer(reply, Asker(WS, "UALICE"))
    assert out.getvalue() == (
        "Sent to @mia.\n"
        "→ DM to @mia: From @alice: / > too high\n"
        "  [1 Accept] [2 Decline]\n"
        "→ message in #sales-east: 🎉 @alice & co\n"
        "→ updated in the DM to @mia: Answered by @mia\n"
        "→ removed from #sales-east: post\n"
    )
    # mia's buttons went with the update; a notice with nowhere to go is marked failed.
    assert screen.buttons_of("UMIA") == []
    assert status(engine, "dm") == ("sent", 1)
    assert status(engine, "post") == ("retracted", 1)
    assert status(engine, "nowhere") == ("failed", 1)
    # Shown once: the same notices again print only the retracted one, back (a restored deal).
    out.truncate(0)
    out.seek(0)
    outbox.deliver(WS, Reply(text="", notices=reply.notices))
    assert out.getvalue() == "→ message in #sales-east: 🎉 @alice & co\n"
