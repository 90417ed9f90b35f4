"""Big-deal celebrations: who is announced, once, within the daily cap, and taken back.

Replies are delivered the way the Slack edge does (bot/outbox.py) to a fake Slack, so the
exactly-once keys, chat.update of the digest and chat.delete of a retraction are real.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import col, select

from bot import console
from bot.delivery import SlackTransport
from bot.outbox import Outbox
from bot.settings import Settings
from commands.types import Reply, Retract
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import Deal, SentMessage, Team
from tests.conftest import ADMIN, NOW, Run
from tests.fakeslack import FakeSlack
from tests.test_console import SETUP

ALICE = "<@UALICE|alice>"
Send = Callable[[Reply], Reply]


@pytest.fixture
def send(fake: FakeSlack, engine: Engine) -> Send:
    """Deliver a reply's notices, updates and retractions as the Slack edge does."""
    outbox = Outbox(engine, SlackTransport(WebClient(token="xoxb-test", base_url=fake.api_url)))

    def _send(reply: Reply) -> Reply:
        assert reply.ok, reply.text
        outbox.deliver("T1", reply)
        return reply

    return _send


def posts(fake: FakeSlack) -> list[str]:
    return [c.params["text"] for c in fake.called("chat.postMessage")]


def deal_ids(engine: Engine) -> list[int]:
    with session_scope(engine) as s:
        return [d.id for d in s.exec(select(Deal).order_by(col(Deal.id))).all() if d.id]


def last_id(engine: Engine) -> int:
    return deal_ids(engine)[-1]


def status(engine: Engine, key: str) -> str | None:
    with session_scope(engine) as s:
        row = s.exec(select(SentMessage).where(SentMessage.key == key)).first()
        return row.status if row else None


# --- threshold --------------------------------------------------------------------------------


def test_a_deal_at_the_set_threshold_is_announced_with_its_share_of_target(
    team: Run, engine: Engine
) -> None:
    team(ADMIN, "/pacer", "setup threshold East 50000")
    team(ADMIN, "/goal", f"set {ALICE} 200000 2026-11")

    below = team("UALICE", "/deal", "49,999 Tiny Co")
    at = team("UALICE", "/deal", "50,000 Acme Corp")

    assert below.notices == []
    [notice] = at.notices
    assert notice.key == f"celebrate:{last_id(engine)}"
    assert notice.channel_id == "CEAST"
    assert notice.text == (
        "🎉🥂 *Big deal!* <@UALICE> just closed *$50,000* with Acme Corp: "
        "that is *25%* of their 2026-11 target in one go. 🚀"
    )


def test_without_a_goal_the_announcement_leaves_out_the_share(team: Run) -> None:
    team(ADMIN, "/pacer", "setup threshold East 50000")
    [notice] = team("UBOB", "/deal", "80k Globex").notices
    assert notice.text == (
        "🎉🥂 *Big deal!* <@UBOB> just closed *$80,000* with Globex. Drinks are on <@UBOB>! 🚀"
    )


def history(team: Run) -> None:
    """Won deals of East in the last 90 days (today is 2026-11-25 in New York): 10k, 20k,
    30k, 40k, 100k; and deals that must not count: 91 days back, lost, deleted."""
    team("UALICE", "/deal", "1000 Too Old date:2026-08-27")
    team("UALICE", "/deal", "500 Lost One stage:lost date:2026-11-01")
    team("UALICE", "/deal", "2,000,000 Deleted One date:2026-11-02")
    team("UALICE", "/deal", "10000 H1 date:2026-08-28")
    team("UBOB", "/deal", "20000 H2 date:2026-09-15")
    team("UALICE", "/deal", "30000 H3 date:2026-10-01")
    team("UBOB", "/deal", "40000 H4 date:2026-11-02")


def test_unset_threshold_is_twice_the_median_of_the_last_90_days(team: Run, engine: Engine) -> None:
    history(team)
    deleted = deal_ids(engine)[2]
    team("UALICE", "/deal", f"delete {deleted}")
    # Four deals of history are too few to judge: even a huge deal is not announced.
    assert team("UALICE", "/deal", "1m Huge").notices == []
    team("UALICE", "/deal", f"delete {last_id(engine)}")
    assert team("UBOB", "/deal", "100000 H5 date:2026-11-20").notices == []

    # Five deals: median 30k, threshold 60k.
    assert team("UALICE", "/deal", "59,999 Almost").notices == []
    # Six deals (10k 20k 30k 40k 59,999 100k): median (30k + 40k) / 2, threshold 70k.
    assert team("UALICE", "/deal", "69,999 Close").notices == []
    # Seven deals (… 59,999 69,999 100k): median 40k, threshold 80k.
    [notice] = team("UALICE", "/deal", "80,000 Initech").notices
    assert "*$80,000* with Initech" in notice.text


# --- once per deal, retraction, restore ---------------------------------------------------------


def test_a_deal_is_announced_once_across_retries_and_edits(
    team: Run, engine: Engine, fake: FakeSlack, send: Send
) -> None:
    team(ADMIN, "/pacer", "setup threshold East 50000")

    send(team("UALICE", "/deal", "60k Acme", key="trigger-1"))
    send(team("UALICE", "/deal", "60k Acme", key="trigger-1"))  # Slack retried it
    deal_id = last_id(engine)
    edited = send(team("UALICE", "/deal", f"edit {deal_id} 75k"))

    assert edited.notices == []
    assert len(deal_ids(engine)) == 1
    assert len(posts(fake)) == 1
    assert "*$60,000* with Acme" in posts(fake)[0]
    assert status(engine, f"celebrate:{deal_id}") == "sent"


def test_deleting_retracts_and_restoring_announces_again(
    team: Run, engine: Engine, fake: FakeSlack, send: Send
) -> None:
    team(ADMIN, "/pacer", "setup threshold East 50000")
    send(team("UALICE", "/deal", "60k Acme"))
    deal_id = last_id(engine)
    key = f"celebrate:{deal_id}"
    with session_scope(engine) as s:
        row = s.exec(select(SentMessage).where(SentMessage.key == key)).one()
        where = (row.channel_id, row.ts)
    assert where[0] == "CEAST" and where[1]

    deleted = send(team("UALICE", "/deal", f"delete {deal_id}"))

    assert deleted.retracts == [Retract(key)]
    [removed] = fake.called("chat.delete")
    assert (removed.params["channel"], removed.params["ts"]) == where
    assert status(engine, key) == "retracted"

    # Restored: the deal is back, and so is its announcement (it had been taken back).
    restored = send(team("UALICE", "/deal", f"restore {deal_id}"))
    assert [n.key for n in restored.notices] == [key]
    assert len(posts(fake)) == 2
    assert status(engine, key) == "sent"

    # Edited below the threshold (a typo fixed): the announcement goes.
    lowered = send(team("UALICE", "/deal", f"edit {deal_id} 6000"))
    assert lowered.retracts == [Retract(key)]
    assert len(fake.called("chat.delete")) == 2


def test_restoring_a_deal_whose_post_was_never_taken_back_does_not_repeat_it(
    team: Run, engine: Engine, fake: FakeSlack, send: Send
) -> None:
    team(ADMIN, "/pacer", "setup threshold East 50000")
    send(team("UALICE", "/deal", "60k Acme"))
    deal_id = last_id(engine)
    fake.fail("chat.delete", "cant_delete_message")  # Slack refuses: the post stays

    send(team("UALICE", "/deal", f"delete {deal_id}"))
    send(team("UALICE", "/deal", f"restore {deal_id}"))

    assert status(engine, f"celebrate:{deal_id}") == "sent"
    assert len(posts(fake)) == 1


# --- the daily cap and the digest -----------------------------------------------------------------


def test_past_the_cap_big_deals_gather_in_one_message_and_the_next_day_resets(
    team: Run, engine: Engine, fake: FakeSlack, send: Send
) -> None:
    team(ADMIN, "/pacer", "setup threshold East 50000")
    assert team(ADMIN, "/pacer", "setup celebrations East 2").ok
    big = [
        ("UALICE", "60k One"),
        ("UALICE", "70k Two"),
        ("UBOB", "80k Three"),
        ("UALICE", "90k Four"),
    ]
    for user, text in big:  # N + 2 = 4 big deals
        send(team(user, "/deal", text))
    ids = deal_ids(engine)

    texts = posts(fake)
    assert len(texts) == 3  # two announcements, then the digest
    assert "with One" in texts[0] and "with Two" in texts[1]
    assert texts[2] == "🔥 *More big deals today* (1):\n• <@UBOB>: *$80,000* with Three 🎉"
    [update] = fake.called("chat.update")
    assert update.params["text"] == (
        "🔥 *More big deals today* (2):\n"
        "• <@UALICE>: *$90,000* with Four 🎉\n"
        "• <@UBOB>: *$80,000* with Three 🎉"
    )
    with session_scope(engine) as s:
        east_id = s.exec(select(Team.id)).one()
    assert status(engine, f"celebrate-more:{east_id}:2026-11-25") == "sent"
    assert status(engine, f"celebrate:{ids[2]}") is None

    # A deal of the digest is deleted: the digest is rewritten without it.
    send(team("UALICE", "/deal", f"delete {ids[3]}"))
    assert fake.called("chat.update")[-1].params["text"] == (
        "🔥 *More big deals today* (1):\n• <@UBOB>: *$80,000* with Three 🎉"
    )

    # The next day in New York, the count starts again.
    tomorrow = NOW + timedelta(days=1)
    send(team("UALICE", "/deal", "55k Five", now=tomorrow))
    assert "with Five" in posts(fake)[-1]
    assert len(posts(fake)) == 4


def test_a_small_deal_on_a_day_with_a_digest_leaves_the_channel_alone(
    team: Run, engine: Engine, fake: FakeSlack, send: Send
) -> None:
    """A new deal below the threshold was in no digest: nothing is rewritten for it (once,
    every small deal of the day rewrote the digest with the same text)."""
    team(ADMIN, "/pacer", "setup threshold East 50000")
    assert team(ADMIN, "/pacer", "setup celebrations East 1").ok
    for text in ("60k One", "70k Two", "80k Three"):
        send(team("UALICE", "/deal", text))
    assert len(posts(fake)) == 2 and len(fake.called("chat.update")) == 1

    reply = send(team("UBOB", "/deal", "5k Small"))
    assert (reply.notices, reply.updates, reply.retracts) == ([], [], [])
    assert len(posts(fake)) == 2 and len(fake.called("chat.update")) == 1

    # Editing a small deal still rewrites the digest as it stands (it may have left it).
    small = last_id(engine)
    edited = send(team("UBOB", "/deal", f"edit {small} 6k"))
    assert [u.text for u in edited.updates] == [fake.called("chat.update")[-1].params["text"]]
    assert "Small" not in edited.updates[0].text


def test_the_cap_is_set_by_admins_within_bounds(team: Run, engine: Engine) -> None:
    reply = team(ADMIN, "/pacer", "setup celebrations East 5")
    assert reply.text == (
        "Big-deal posts in East's channel: at most 5 a day; later ones are gathered "
        "into one message."
    )
    assert not team(ADMIN, "/pacer", "setup celebrations East 0").ok
    assert not team(ADMIN, "/pacer", "setup celebrations East").ok
    assert not team("UMIA", "/pacer", "setup celebrations East 9").ok
    with session_scope(engine) as s:
        [east] = s.exec(select(Team)).all()
        assert east.celebrations_per_day == 5


# --- no channel, languages ------------------------------------------------------------------------


def test_a_team_without_a_channel_gets_no_celebration(run: Run) -> None:
    run(ADMIN, "/pacer", "setup team create West tz:Europe/Berlin")
    run(ADMIN, "/pacer", "setup team add West <@UCARL|carl>")
    run(ADMIN, "/pacer", "setup threshold West 1000")
    reply = run("UCARL", "/deal", "50000 Acme")
    assert reply.ok and reply.notices == [] and reply.retracts == []


def test_the_announcement_reads_in_chinese(team: Run) -> None:
    team(ADMIN, "/pacer", "setup threshold East 50000")
    team(ADMIN, "/goal", f"set {ALICE} 200000 2026-11")
    [notice] = team("UALICE", "/deal", "100000 Acme", locale="zh-CN").notices
    assert notice.locale == "zh-CN"
    assert notice.text.startswith("🎉🥂 *大单来了！* <@UALICE> 刚刚拿下 Acme 的 *")
    assert "一单就完成了 2026-11 目标的 *50%* ！🚀" in notice.text


# --- the console ----------------------------------------------------------------------------


def test_the_console_shows_a_celebration_once_and_its_removal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACER_CHART_DIR", str(tmp_path / "charts"))
    url = f"sqlite:///{tmp_path / 'console.db'}"
    console_engine = make_engine(url)
    upgrade(console_engine)
    stdout = io.StringIO()
    script = (
        SETUP
        + "/pacer setup threshold East 50000\n"
        + "/deal for @alice 60000 Acme\n"
        + "/deal edit 1 65000\n"
        + "/deal delete 1\n"
        + "/deal restore 1\n"
    )
    code = console.run(
        Settings(database_url=url),
        console_engine,
        demo=False,
        stdin=io.StringIO(script),
        stdout=stdout,
        now=lambda: NOW,
    )
    console_engine.dispose()
    assert code == 0
    out = stdout.getvalue()
    posted = (
        "→ message in #sales-east: 🎉🥂 *Big deal!* @alice just closed *$60,000* with Acme: "
        "that is *75%* of their 2026-11 target in one go. 🚀\n"
    )
    assert out.count("→ message in #sales-east: 🎉🥂") == 2  # logged, then restored
    assert posted in out
    assert out.count("→ removed from #sales-east: celebrate:1") == 1
