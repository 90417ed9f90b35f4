"""Big-deal celebrations end to end: signed requests to the HTTP endpoint, a fake Slack.

A big deal is posted to the team channel once (a retried command does not repeat it);
the Delete button takes the post back with chat.delete; Undo posts it again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import build_app
from bot.http import wsgi_app
from storage.models import SentMessage
from tests.fakeslack import Call, FakeSlack, SlackSender, eventually
from tests.test_http_mode import (
    ADMIN,
    CHANNEL,
    SECRET,
    Server,
    command,
    deals,
    press,
    settings_for,
    setup_team,
)


@pytest.fixture
def slack(fake: FakeSlack, db: Engine) -> Iterator[SlackSender]:
    server = Server(wsgi_app(build_app(settings_for(fake, db), db), db))
    yield SlackSender(server.url, SECRET)
    server.close()


def to_channel(call: Call) -> bool:
    return call.params.get("channel") == CHANNEL


def row(db: Engine, key: str) -> SentMessage:
    with Session(db) as s:
        return s.exec(select(SentMessage).where(SentMessage.key == key)).one()


def test_a_big_deal_is_posted_once_taken_back_on_delete_and_posted_again_on_undo(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db, (ADMIN, "/pacer", "setup threshold East 50000"))

    command(slack, fake, "/deal", "60,000 Acme Corp", trigger="t-1", response="first")
    [post] = fake.wait_for("chat.postMessage", where=to_channel)
    [deal] = deals(db)
    key = f"celebrate:{deal.id}"
    text = (
        "🎉🥂 *Big deal!* <@UALICE> just closed *$60,000* with Acme Corp. "
        "Drinks are on <@UALICE>! 🚀"
    )
    assert post.params["text"] == text
    assert post.json("blocks")[0]["text"]["text"] == text

    # Slack retries the command: the same deal, and no second post.
    again = command(
        slack,
        fake,
        "/deal",
        "60,000 Acme Corp",
        trigger="t-1",
        response="again",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert "Logged deal" in again.json()["text"]
    assert len(fake.called("chat.postMessage")) == 1
    assert len(deals(db)) == 1

    # The post pool marks the row once Slack has answered: a moment after the call arrived.
    sent = eventually(lambda: row(db, key) if row(db, key).status == "sent" else None)
    assert (sent.status, sent.channel_id) == ("sent", CHANNEL)

    press(slack, fake, "deal_delete", str(deal.id), "deleted")
    [removed] = fake.wait_for("chat.delete")
    assert (removed.params["channel"], removed.params["ts"]) == (CHANNEL, sent.ts)
    eventually(lambda: row(db, key).status == "retracted" or None)

    press(slack, fake, "deal_restore", str(deal.id), "restored")
    fake.wait_for("chat.postMessage", count=2, where=to_channel)
    eventually(lambda: row(db, key).status == "sent" or None)
    # Every delivery is done by now: one post for the deal, one for its restoration.
    assert len(fake.called("chat.postMessage")) == 2
