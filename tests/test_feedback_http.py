"""The feedback loop end to end: signed requests to the real HTTP endpoint, a fake Slack.

/progress -> "Feedback on this target" -> modal -> submission -> each manager's DM with
buttons -> a manager answers -> the rep's DM, the goal changed, the other manager's DM
updated. And the edge's exactly-once delivery of notices (bot/outbox.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.app import build_app
from bot.delivery import SlackTransport
from bot.http import wsgi_app
from bot.outbox import Outbox
from commands.types import Button, Notice, Reply, Update
from storage import queries
from storage.models import AuditEntry, Feedback, Goal, SentMessage
from tests.fakeslack import (
    Call,
    FakeSlack,
    SlackSender,
    block_action,
    eventually,
    payload_body,
    view_submission,
)
from tests.test_http_mode import (
    ADMIN,
    ALICE,
    CHANNEL,
    SECRET,
    TEAM,
    TOKEN,
    Server,
    block_texts,
    buttons,
    command,
    settings_for,
    setup_team,
)

MIA = "UMIA"
MAX = "UMAX"


@pytest.fixture
def slack(fake: FakeSlack, db: Engine) -> Iterator[SlackSender]:
    server = Server(wsgi_app(build_app(settings_for(fake, db), db), db))
    yield SlackSender(server.url, SECRET)
    server.close()


def east_with_goal(db: Engine) -> int:
    """East: rep alice, managers mia and max; alice's goal: $100,000 this month."""
    setup_team(
        db,
        (ADMIN, "/pacer", f"setup team add East <@{MIA}|mia> <@{MAX}|max> as:manager"),
        (ADMIN, "/goal", f"set <@{ALICE}|alice> 100000 month"),
    )
    with Session(db) as s:
        [goal] = s.exec(select(Goal)).all()
        assert goal.id is not None
        return goal.id


def target(db: Engine, goal_id: int) -> int:
    with Session(db) as s:
        goal = s.get(Goal, goal_id)
        assert goal is not None
        return goal.target


def goal_audits(db: Engine, goal_id: int) -> int:
    with Session(db) as s:
        rows = s.exec(select(AuditEntry).where(AuditEntry.entity_id == goal_id)).all()
        return len(rows)


def press(
    slack: SlackSender,
    fake: FakeSlack,
    *,
    user: str,
    channel: str,
    action_id: str,
    value: str,
    response: str,
    trigger: str = "t-press",
) -> Any:
    body = block_action(
        team=TEAM,
        user=user,
        channel=channel,
        action_id=action_id,
        value=value,
        response_url=fake.response_url(response),
    )
    body["trigger_id"] = trigger
    return slack.post(payload_body(body))


def submit(
    slack: SlackSender, *, user: str, view: dict[str, Any], state: dict[str, Any], view_id: str
) -> Any:
    body = view_submission(
        team=TEAM,
        user=user,
        callback_id=view["callback_id"],
        view_id=view_id,
        state=state,
        metadata=view["private_metadata"],
    )
    return slack.post(payload_body(body))


def dm_to(user: str) -> Any:
    return lambda c: c.params.get("channel") == "D" + user.lstrip("U")


def file_feedback(slack: SlackSender, fake: FakeSlack, db: Engine, gid: int) -> int:
    """Alice: /progress, the button, the modal, the submission. The feedback's id."""
    reply = command(slack, fake, "/progress", "", response="progress", trigger="t-progress").json()
    fake.wait_for("files.completeUploadExternal")  # the chart: the rest of the delivery
    [button] = buttons(reply["blocks"])
    assert (button["action_id"], button["value"]) == ("feedback_open", str(gid))
    assert button["text"]["text"] == "Feedback on this target"

    press(
        slack,
        fake,
        user=ALICE,
        channel=CHANNEL,
        action_id="feedback_open",
        value=str(gid),
        response="opened",
        trigger="t-open",
    )
    [opened] = fake.wait_for("views.open")
    assert opened.params["trigger_id"] == "t-open"
    view = opened.json("view")
    assert view["callback_id"] == "feedback_new"
    assert view["private_metadata"] == f"{CHANNEL}|{gid}"
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == [
        "goal",
        "text",
        "proposed",
    ]

    def state(proposed: str) -> dict[str, Any]:
        return {
            "goal": {"goal": {"type": "static_select", "selected_option": {"value": str(gid)}}},
            "text": {"text": {"type": "plain_text_input", "value": "Two accounts moved"}},
            "proposed": {"proposed": {"type": "plain_text_input", "value": proposed}},
        }

    bad = submit(slack, user=ALICE, view=view, state=state("eighty"), view_id="VFB1")
    assert bad.json()["response_action"] == "errors"
    assert set(bad.json()["errors"]) == {"proposed"}
    assert "eighty" in bad.json()["errors"]["proposed"]

    good = submit(slack, user=ALICE, view=view, state=state("80,000"), view_id="VFB2")
    assert good.status == 200 and good.body == ""
    [sent] = fake.wait_for("chat.postEphemeral")
    assert (sent.params["channel"], sent.params["user"]) == (CHANNEL, ALICE)
    with Session(db) as s:
        [row] = s.exec(select(Feedback)).all()
    assert (row.text, row.proposed) == ("Two accounts moved", 8_000_000)
    assert row.id is not None
    # Managers answer what they have received: both DMs are out (and recorded) first.
    keys = {f"feedback:{row.id}:{MIA}", f"feedback:{row.id}:{MAX}"}
    eventually(lambda: keys <= {m.key for m in sent_rows(db) if m.status == "sent"} or None)
    return row.id


def manager_dm(fake: FakeSlack, user: str) -> Call:
    [dm] = fake.wait_for("chat.postMessage", where=dm_to(user))
    return dm


# --- the loop ------------------------------------------------------------------------------------


def test_feedback_from_the_progress_button_to_the_reps_answer(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    gid = east_with_goal(db)
    fid = file_feedback(slack, fake, db, gid)

    for user in (MIA, MAX):
        dm = manager_dm(fake, user)
        shown = block_texts(dm.json("blocks"))
        assert f"*Feedback `#{fid}`* from <@{ALICE}> on goal `#{gid}`" in shown
        assert "> Two accounts moved" in shown
        assert "Proposes a target of *$80,000*." in shown
        assert "So far $0 — *0%* attained" in shown
        assert [(b["action_id"], b["value"]) for b in buttons(dm.json("blocks"))] == [
            ("feedback_accept", str(fid)),
            ("feedback_adjust_open", str(fid)),
            ("feedback_decline_open", str(fid)),
        ]
    with Session(db) as s:
        sent = {m.key: m for m in s.exec(select(SentMessage)).all()}
    assert sent[f"feedback:{fid}:{MAX}"].channel_id == "DMAX"
    assert sent[f"feedback:{fid}:{MAX}"].status == "sent"
    assert sent[f"feedback:{fid}:{MAX}"].ts == "1503435956.000247"

    press(
        slack,
        fake,
        user=MIA,
        channel="DMIA",
        action_id="feedback_accept",
        value=str(fid),
        response="accepted",
    )

    answered = fake.wait_for("response", where=lambda c: c.path.endswith("accepted"))[0]
    settled = (
        f"✅ Feedback `#{fid}` from <@{ALICE}> on goal `#{gid}`: accepted by <@{MIA}>. "
        "Target $100,000 → $80,000."
    )
    assert answered.params["replace_original"] is True
    assert block_texts(answered.params["blocks"]) == settled
    [told] = fake.wait_for("chat.postMessage", where=dm_to(ALICE))
    assert told.params["text"] == (
        f"✅ <@{MIA}> accepted your feedback `#{fid}`: goal `#{gid}` is now $80,000 (was $100,000)."
    )
    updates = fake.wait_for("chat.update", count=2)
    by_channel = {u.params["channel"]: u for u in updates}
    assert set(by_channel) == {"DMIA", "DMAX"}
    assert by_channel["DMAX"].params["ts"] == "1503435956.000247"
    assert by_channel["DMAX"].params["text"] == settled
    assert buttons(by_channel["DMAX"].json("blocks")) == []
    assert target(db, gid) == 8_000_000

    # Max answers too late: a short note, no form, nothing changes.
    press(
        slack,
        fake,
        user=MAX,
        channel="DMAX",
        action_id="feedback_decline_open",
        value=str(fid),
        response="late",
    )
    late = fake.wait_for("response", where=lambda c: c.path.endswith("late"))[0].params
    assert "replace_original" not in late
    assert late["text"] == (
        f"Feedback `#{fid}` was already answered by <@{MIA}> (accepted). Nothing was changed."
    )
    assert len(fake.called("views.open")) == 1
    assert target(db, gid) == 8_000_000


def test_adjust_through_its_modal_tells_the_rep_and_updates_the_other_manager(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    gid = east_with_goal(db)
    fid = file_feedback(slack, fake, db, gid)
    manager_dm(fake, MAX)

    press(
        slack,
        fake,
        user=MAX,
        channel="DMAX",
        action_id="feedback_adjust_open",
        value=str(fid),
        response="adjust",
        trigger="t-adjust",
    )
    opened = fake.wait_for("views.open", count=2)[1]
    assert opened.params["trigger_id"] == "t-adjust"
    view = opened.json("view")
    assert (view["callback_id"], view["private_metadata"]) == ("feedback_adjust", f"DMAX|{fid}")
    state = {
        "amount": {"amount": {"type": "plain_text_input", "value": "90k"}},
        "note": {"note": {"type": "plain_text_input", "value": "Halfway"}},
    }

    answer = submit(slack, user=MAX, view=view, state=state, view_id="VADJ")

    assert answer.status == 200 and answer.body == ""
    [told] = fake.wait_for("chat.postMessage", where=dm_to(ALICE))
    assert told.params["text"] == (
        f"✏️ <@{MAX}> answered your feedback `#{fid}`: goal `#{gid}` is now $90,000 "
        "(was $100,000). Note: Halfway"
    )
    updates = fake.wait_for("chat.update", count=2)
    assert {u.params["channel"] for u in updates} == {"DMIA", "DMAX"}
    assert all("adjusted by <@UMAX>" in u.params["text"] for u in updates)
    note = fake.wait_for("chat.postEphemeral", count=2)[1]
    assert (note.params["channel"], note.params["user"]) == ("DMAX", MAX)
    assert target(db, gid) == 9_000_000


def test_two_managers_pressing_accept_at_once_settle_it_once(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    gid = east_with_goal(db)
    fid = file_feedback(slack, fake, db, gid)
    start = threading.Barrier(2)

    def accept(user: str) -> None:
        start.wait()
        press(
            slack,
            fake,
            user=user,
            channel="D" + user[1:],
            action_id="feedback_accept",
            value=str(fid),
            response=f"race-{user}",
        )

    threads = [threading.Thread(target=accept, args=(u,)) for u in (MIA, MAX)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    answers = fake.wait_for("response", count=2, where=lambda c: "/race-" in c.path)
    winners = [a for a in answers if a.params.get("replace_original") is True]
    losers = [a for a in answers if "replace_original" not in a.params]
    assert len(winners) == 1 and len(losers) == 1
    winner = winners[0].path.rsplit("-", 1)[1]
    assert losers[0].params["text"] == (
        f"Feedback `#{fid}` was already answered by <@{winner}> (accepted). Nothing was changed."
    )
    assert target(db, gid) == 8_000_000
    assert goal_audits(db, gid) == 2  # set, then the one accepted change
    fake.wait_for("chat.update", count=2)
    assert len(fake.called("chat.postMessage")) == 3  # two managers, then alice once
    with Session(db) as s:
        row = s.get(Feedback, fid)
        assert row is not None and row.answered_by == winner


# --- bot/outbox.py: exactly once, failures, updates -------------------------------------------


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=fake.api_url)


def notice(key: str = "k:1") -> Notice:
    return Notice(key=key, text="Hello *you*", user_id=ALICE, buttons=[Button("a", "A", "1")])


def sent_rows(db: Engine) -> list[SentMessage]:
    with Session(db) as s:
        return list(s.exec(select(SentMessage).order_by(col(SentMessage.id))).all())


def test_a_notice_is_recorded_then_sent_once_across_retries(
    fake: FakeSlack, db: Engine, client: WebClient
) -> None:
    assert Outbox(db, SlackTransport(client)).send(TEAM, notice()) is True
    assert Outbox(db, SlackTransport(client)).send(TEAM, notice()) is False  # a retried request

    [post] = fake.called("chat.postMessage")
    assert post.params["channel"] == "DALICE"
    assert post.params["text"] == "Hello *you*"
    assert buttons(post.json("blocks"))[0]["action_id"] == "a"
    [row] = sent_rows(db)
    assert (row.key, row.status, row.channel_id, row.ts) == (
        "k:1",
        "sent",
        "DALICE",
        "1503435956.000247",
    )
    assert row.sent_at is not None and row.sent_at <= datetime.now(UTC)


def test_a_failed_send_is_marked_logged_without_the_token_and_not_retried(
    fake: FakeSlack, db: Engine, client: WebClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("chat.postMessage", "channel_not_found")
    caplog.set_level(logging.DEBUG)

    Outbox(db, SlackTransport(client)).deliver(TEAM, Reply(text="", notices=[notice("k:2")]))

    [row] = sent_rows(db)
    assert (row.status, row.ts) == ("dropped", None)  # channel_not_found: for good
    assert "channel_not_found" in caplog.text
    assert TOKEN not in caplog.text
    assert Outbox(db, SlackTransport(client)).send(TEAM, notice("k:2")) is False
    assert len(fake.called("chat.postMessage")) == 1


def test_an_update_replaces_the_sent_message_and_skips_unknown_keys(
    fake: FakeSlack, db: Engine, client: WebClient
) -> None:
    Outbox(db, SlackTransport(client)).send(TEAM, Notice(key="k:3", text="x", channel_id="CEAST"))

    done = Outbox(db, SlackTransport(client)).update(TEAM, Update(key="k:3", text="answered"))
    unknown = Outbox(db, SlackTransport(client)).update(TEAM, Update(key="k:none", text="y"))
    other_ws = Outbox(db, SlackTransport(client)).update("T2", Update(key="k:3", text="z"))

    assert (done, unknown, other_ws) == (True, False, False)
    [update] = fake.called("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("CEAST", "1503435956.000247")
    assert update.params["text"] == "answered"
    assert update.json("blocks") == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "answered"}}
    ]
    assert len(fake.called("conversations.open")) == 0


def test_claiming_a_key_twice_in_one_workspace_fails_but_not_in_another(db: Engine) -> None:
    with Session(db) as s:
        first = queries.claim_message(s, workspace_id=TEAM, key="k")
        again = queries.claim_message(s, workspace_id=TEAM, key="k")
        elsewhere = queries.claim_message(s, workspace_id="T2", key="k")
        s.commit()
    assert first is not None and again is None and elsewhere is not None
