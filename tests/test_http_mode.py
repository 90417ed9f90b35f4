"""HTTP mode end to end: the real WSGI app under waitress, a fake Slack on loopback.

Requests are signed as Slack signs them; replies are read where Slack would receive them
(the response URL, the Web API). Deliveries run after the ack, so tests wait for them.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, text
from sqlmodel import col, select
from waitress import wasyncore
from waitress.server import create_server

from bot.app import build_app
from bot.http import wsgi_app
from bot.settings import Settings
from commands.router import dispatch
from commands.types import Request
from storage.engine import session_scope
from storage.models import Deal, Member
from tests.fakeslack import (
    FakeSlack,
    SlackSender,
    block_action,
    eventually,
    fixture,
    payload_body,
    sign,
    slash_body,
    view_submission,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-pacer-test-token"
TEAM = "T1"
ADMIN = "UADMIN"
ALICE = "UALICE"
CHANNEL = "CEAST"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --- fixtures ------------------------------------------------------------------------------------


class Server:
    def __init__(self, wsgi: Any, threads: int = 4) -> None:
        self.server = create_server(wsgi, host="127.0.0.1", port=0, threads=threads)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        # Let requests in flight finish, then close the sockets from inside waitress's loop
        # thread (closing them from here races its select()); the loop then ends on its own.
        self.server.task_dispatcher.shutdown()
        try:
            self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        except OSError:
            # The trigger's pipe is already closed (seen once in a full parallel run, at a
            # test's teardown): the loop is stopping or gone, so close what is left here.
            wasyncore.close_all(self.server._map)
        self.thread.join(timeout=10)


def settings_for(fake: FakeSlack, db: Engine, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": str(db.url),
        "bot_token": TOKEN,
        "signing_secret": SECRET,
        # Without the trailing slash on purpose: the settings add it.
        "api_url": fake.api_url.rstrip("/"),
        "admins": frozenset({ADMIN}),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def slack(fake: FakeSlack, db: Engine) -> Iterator[SlackSender]:
    app = build_app(settings_for(fake, db), db)
    server = Server(wsgi_app(app, db))
    yield SlackSender(server.url, SECRET)
    server.close()


def setup_team(db: Engine, *commands: tuple[str, str, str]) -> None:
    """Team East (New York, USD) with rep alice, set up through the router as an admin."""
    steps = [
        (ADMIN, "/pacer", f"setup team create East <#{CHANNEL}|sales-east> tz:America/New_York"),
        (ADMIN, "/pacer", f"setup team add East <@{ALICE}|alice>"),
        *commands,
    ]
    for user, command, text_ in steps:
        req = Request(
            workspace_id=TEAM,
            user_id=user,
            text=text_,
            now=datetime.now(UTC),
            locale="en-US",
            admin_ids=frozenset({ADMIN}),
        )
        with session_scope(db) as session:
            reply = dispatch(command, req, session)
        assert reply.ok, reply.text


def deals(db: Engine) -> list[Deal]:
    with session_scope(db) as session:
        return list(session.exec(select(Deal)).all())


def count_rows(db: Engine, table: str) -> int:
    with db.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def command(
    slack: SlackSender,
    fake: FakeSlack,
    name: str,
    text_: str,
    *,
    user: str = ALICE,
    trigger: str = "111.222.trigger",
    response: str = "r1",
    **post: Any,
) -> Any:
    body = slash_body(
        command=name,
        text=text_,
        team_id=TEAM,
        user_id=user,
        user_name=user.lower(),
        channel_id=CHANNEL,
        channel_name="sales-east",
        trigger_id=trigger,
        response_url=fake.response_url(response),
    )
    return slack.post(body, **post)


def block_texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


# --- slash commands ------------------------------------------------------------------------------


def test_deal_is_written_then_acknowledged_with_the_reply(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)

    answer = command(slack, fake, "/deal", "12,500 Acme Corp", trigger="t-deal-1")

    assert answer.status == 200
    reply = answer.json()  # the reply travels in the ack: no Slack call for it
    assert fake.responses() == []
    assert reply["response_type"] == "ephemeral"
    shown = block_texts(reply["blocks"])
    assert "$12,500" in shown and "Acme Corp" in shown
    [deal] = deals(db)
    assert (deal.amount_minor, deal.customer, deal.source) == (1_250_000, "Acme Corp", "slash")
    assert deal.request_key == "t-deal-1"
    [delete] = buttons(reply["blocks"])
    assert (delete["action_id"], delete["value"], delete["style"]) == (
        "deal_delete",
        str(deal.id),
        "danger",
    )


def test_every_web_api_call_goes_to_slack_api_url_with_the_bot_token(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    command(slack, fake, "/deal", "12,500 Acme Corp")

    api_calls = [c for c in fake.calls if c.path.startswith("/api/")]
    assert {c.method for c in api_calls} >= {"auth.test", "users.info"}
    assert all(c.headers["authorization"] == f"Bearer {TOKEN}" for c in api_calls)


def test_the_users_locale_time_zone_and_name_are_cached_on_first_sight(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    fake.users[ALICE] = {"locale": "zh-CN", "tz": "Asia/Shanghai", "real_name": "Alice Wang"}

    first = command(slack, fake, "/deal", "12,500 Acme Corp", trigger="t1", response="r1").json()
    command(slack, fake, "/goal", "", trigger="t2", response="r2")

    [lookup] = fake.called("users.info")  # once: the second command uses the cached row
    assert lookup.params["user"] == ALICE and lookup.params["include_locale"] in ("1", "true")
    with session_scope(db) as session:
        member = session.exec(select(Member).where(Member.user_id == ALICE)).one()
    # The real name replaces the handle the setup mention carried ("alice").
    assert (member.locale, member.tz, member.name) == ("zh-CN", "Asia/Shanghai", "Alice Wang")
    assert "已记录" in block_texts(first["blocks"])  # the reply follows the Slack language


def test_a_rate_limited_lookup_is_retried_after_retry_after(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    fake.rate_limit("users.info")

    command(slack, fake, "/deal", "12,500 Acme Corp")

    assert len(fake.called("users.info")) == 2
    with session_scope(db) as session:
        member = session.exec(select(Member).where(Member.user_id == ALICE)).one()
    assert member.locale == "en-US"


def test_a_failed_profile_lookup_falls_back_to_english(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    fake.fail("users.info", "missing_scope")

    reply = command(slack, fake, "/deal", "12,500 Acme Corp").json()

    assert "Logged deal" in block_texts(reply["blocks"])
    assert len(deals(db)) == 1


def test_progress_uploads_a_png_chart_in_three_steps(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"))
    command(slack, fake, "/deal", "12,500 Acme Corp", trigger="t1", response="r1")

    answer = command(slack, fake, "/progress", "", trigger="t2", response="r2")

    [get_url] = fake.wait_for("files.getUploadURLExternal")
    [upload] = fake.wait_for("upload")
    [complete] = fake.wait_for("files.completeUploadExternal")
    assert upload.path.endswith(complete.json("files")[0]["id"])
    assert upload.body.startswith(PNG_MAGIC)
    assert int(get_url.params["length"]) == len(upload.body)
    assert get_url.params["filename"] == "progress.png"
    assert "Progress chart" in get_url.params["alt_txt"]
    assert complete.params["channel_id"] == CHANNEL
    reply = answer.json()
    assert reply["response_type"] == "ephemeral"
    assert "$12,500 of $120,000" in block_texts(reply["blocks"])


def test_leaderboard_answers_in_channel_and_uploads_its_chart(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"))

    reply = command(slack, fake, "/leaderboard", "").json()

    assert reply["response_type"] == "in_channel"
    assert "East" in block_texts(reply["blocks"])
    [get_url] = fake.wait_for("files.getUploadURLExternal")
    assert get_url.params["filename"] == "leaderboard.png"
    assert get_url.params["alt_txt"].startswith("Leaderboard chart")
    [upload] = fake.wait_for("upload")
    assert upload.body.startswith(PNG_MAGIC)
    [complete] = fake.wait_for("files.completeUploadExternal")
    assert complete.params["channel_id"] == CHANNEL


def test_a_chart_goes_to_a_dm_when_the_bot_is_not_in_the_channel(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"))
    fake.fail("files.completeUploadExternal", "not_in_channel")

    command(slack, fake, "/progress", "")

    first, second = fake.wait_for("files.completeUploadExternal", count=2)
    [opened] = fake.called("conversations.open")
    assert opened.params["users"] == ALICE
    assert first.params["channel_id"] == CHANNEL
    assert second.params["channel_id"] == "DALICE"
    [note] = fake.wait_for("response")  # the reply was in the ack; this is the note
    assert "direct message" in note.params["text"]


# --- signatures and retries ----------------------------------------------------------------------


def test_a_bad_signature_is_refused_and_writes_nothing(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    answer = command(slack, fake, "/deal", "12,500 Acme Corp", secret="not-the-secret")

    assert answer.status == 401
    assert count_rows(db, "deal") == count_rows(db, "member") == count_rows(db, "workspace") == 0
    assert [c.method for c in fake.calls] == ["auth.test"]  # only the app's start-up check


def test_a_stale_timestamp_is_refused_and_writes_nothing(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    stale = int(time.time()) - 6 * 60  # signed correctly, but replayable

    answer = command(slack, fake, "/deal", "12,500 Acme Corp", timestamp=stale)

    assert answer.status == 401
    assert deals(db) == []
    assert fake.called("users.info") == []


def test_the_signature_helper_matches_slacks_documented_example() -> None:
    sample = fixture("signature.docs_example.json")
    headers = sample["headers"]
    assert (
        sign(
            sample["signing_secret"],
            headers["X-Slack-Request-Timestamp"],
            sample["raw_body"].encode(),
        )
        == headers["X-Slack-Signature"]
    )


def test_a_retried_command_logs_one_deal(slack: SlackSender, fake: FakeSlack, db: Engine) -> None:
    setup_team(db)

    first = command(slack, fake, "/deal", "12,500 Acme Corp", trigger="same", response="a")
    again = command(
        slack,
        fake,
        "/deal",
        "12,500 Acme Corp",
        trigger="same",
        response="b",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )

    assert first.status == again.status == 200
    [deal] = deals(db)
    for reply in (first.json(), again.json()):  # answered twice, written once
        assert f"#{deal.id}" in block_texts(reply["blocks"])


# --- the modal -----------------------------------------------------------------------------------


def open_deal_form(slack: SlackSender, fake: FakeSlack) -> dict[str, Any]:
    command(slack, fake, "/deal", "", trigger="t-form")
    [opened] = fake.wait_for("views.open")
    assert opened.params["trigger_id"] == "t-form"
    view: dict[str, Any] = opened.json("view")
    return view


def deal_form_state(amount: str, customer: str) -> dict[str, Any]:
    return {
        "amount": {"amount": {"type": "plain_text_input", "value": amount}},
        "customer": {"customer": {"type": "plain_text_input", "value": customer}},
        "date": {"date": {"type": "datepicker", "selected_date": None}},
        "product": {"product": {"type": "plain_text_input", "value": None}},
        "region": {"region": {"type": "plain_text_input", "value": None}},
        "note": {"note": {"type": "plain_text_input", "value": None}},
    }


def submit(slack: SlackSender, view: dict[str, Any], state: dict[str, Any], view_id: str) -> Any:
    body = view_submission(
        team=TEAM,
        user=ALICE,
        callback_id=view["callback_id"],
        view_id=view_id,
        state=state,
        metadata=view["private_metadata"],
    )
    return slack.post(payload_body(body))


def test_deal_alone_opens_the_form_and_a_bad_amount_keeps_it_open(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    view = open_deal_form(slack, fake)
    assert view["callback_id"] == "deal_new"
    assert view["private_metadata"] == CHANNEL
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"][:2] == [
        "amount",
        "customer",
    ]

    answer = submit(slack, view, deal_form_state("twelve", "Acme Corp"), "V1")

    assert answer.status == 200
    result = answer.json()
    assert result["response_action"] == "errors"
    assert "twelve" in result["errors"]["amount"]
    assert set(result["errors"]) == {"amount"}
    assert deals(db) == []


def test_a_good_form_logs_one_deal_and_confirms_in_the_channel(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    view = open_deal_form(slack, fake)

    answer = submit(slack, view, deal_form_state("12,500", "Acme Corp"), "V2")

    assert answer.status == 200 and answer.body == ""
    [note] = fake.wait_for("chat.postEphemeral")
    assert (note.params["channel"], note.params["user"]) == (CHANNEL, ALICE)
    assert "$12,500" in note.params["text"] and "Acme Corp" in note.params["text"]
    [deal] = deals(db)
    assert (deal.amount_minor, deal.source, deal.request_key) == (1_250_000, "modal", "view:V2")


def test_a_form_reply_falls_back_to_a_dm(slack: SlackSender, fake: FakeSlack, db: Engine) -> None:
    setup_team(db)
    view = open_deal_form(slack, fake)
    fake.fail("chat.postEphemeral", "channel_not_found")

    submit(slack, view, deal_form_state("12,500", "Acme Corp"), "V3")

    [dm] = fake.wait_for("chat.postMessage")
    assert dm.params["channel"] == ALICE
    assert "Acme Corp" in dm.params["text"]


def test_the_setup_form_saves_a_team_and_fills_in_picked_members_names(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    command(slack, fake, "/pacer", "setup", user=ADMIN, trigger="t-setup")
    [opened] = fake.wait_for("views.open")
    view = opened.json("view")
    assert view["callback_id"] == "pacer_setup"
    state = {
        "team": {"team": {"type": "plain_text_input", "value": "West"}},
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": "CW"}},
        "reps": {"reps": {"type": "multi_users_select", "selected_users": ["UREP1", "UREP2"]}},
        "managers": {"managers": {"type": "multi_users_select", "selected_users": []}},
        "tz": {"tz": {"type": "plain_text_input", "value": "Asia/Shanghai"}},
        "currency": {"currency": {"type": "plain_text_input", "value": "CNY"}},
        "hour": {"hour": {"type": "plain_text_input", "value": "09:30"}},
        "fiscal_start": {
            "fiscal_start": {"type": "static_select", "selected_option": {"value": "4"}}
        },
    }
    body = view_submission(
        team=TEAM,
        user=ADMIN,
        callback_id="pacer_setup",
        view_id="VSETUP",
        state=state,
        metadata=view["private_metadata"],
    )
    fake.users["UREP1"] = {"real_name": "Wang Fang"}

    answer = slack.post(payload_body(body))

    assert answer.status == 200 and answer.body == ""
    [note] = fake.wait_for("chat.postEphemeral")
    assert "West" in note.params["text"] and "Asia/Shanghai" in note.params["text"]
    fake.wait_for("users.info", where=lambda c: c.params["user"] == "UREP2")

    def picked_names() -> dict[str, str] | None:
        with session_scope(db) as session:
            rows = session.exec(
                select(Member.user_id, Member.name).where(col(Member.user_id).startswith("UREP"))
            ).all()
        names = dict(rows)
        return names if names.get("UREP2") != "UREP2" else None  # written after the lookup

    names = eventually(picked_names)
    assert names == {"UREP1": "Wang Fang", "UREP2": "Name of UREP2"}


# --- buttons -------------------------------------------------------------------------------------


def press(slack: SlackSender, fake: FakeSlack, action_id: str, value: str, response: str) -> Any:
    body = block_action(
        team=TEAM,
        user=ALICE,
        channel=CHANNEL,
        action_id=action_id,
        value=value,
        response_url=fake.response_url(response),
    )
    return slack.post(payload_body(body))


def test_delete_then_undo_restores_the_deal(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    command(slack, fake, "/deal", "12,500 Acme Corp", response="logged")
    [deal] = deals(db)

    assert press(slack, fake, "deal_delete", str(deal.id), "deleted").status == 200
    deleted = fake.wait_for("response", where=lambda c: c.path.endswith("deleted"))[0].params
    assert deleted["replace_original"] is True
    [undo] = buttons(deleted["blocks"])
    assert (undo["action_id"], undo["value"]) == ("deal_restore", str(deal.id))
    assert deals(db)[0].deleted_at is not None

    press(slack, fake, undo["action_id"], undo["value"], "restored")

    restored = fake.wait_for("response", where=lambda c: c.path.endswith("restored"))[0].params
    assert restored["replace_original"] is True
    assert f"Restored deal `#{deal.id}`" in block_texts(restored["blocks"])
    assert deals(db)[0].deleted_at is None


def test_a_refused_button_press_keeps_the_original_message(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)

    press(slack, fake, "deal_restore", "999", "r1")

    reply = fake.wait_for("response")[0].params
    assert "replace_original" not in reply
    assert reply["response_type"] == "ephemeral"
    assert "#999" in reply["text"]


# --- events, health, routing ---------------------------------------------------------------------


def open_home(slack: SlackSender, user: str) -> None:
    event = fixture("event_callback.app_home_opened.home_tab.json")
    event["team_id"] = TEAM
    event["event"]["user"] = user
    answer = slack.post(json.dumps(event).encode(), content_type="application/json")
    assert answer.status == 200


def home_press(slack: SlackSender, user: str, action: dict[str, Any]) -> None:
    """A press on the Home tab: no channel, no response URL, the view it was on."""
    body = copy.deepcopy(fixture("block_actions.bolt_with_message.json"))
    body.update({"team": {"id": TEAM}, "user": {"id": user}, "trigger_id": "home.trigger"})
    body["container"] = {"type": "view", "view_id": "VHOME"}
    body["view"] = {"id": "VHOME", "type": "home", "callback_id": ""}
    for key in ("channel", "message", "response_url"):
        body.pop(key, None)
    body["actions"] = [action]
    assert slack.post(payload_body(body)).status == 200


def test_a_rep_opening_app_home_sees_their_dashboard_with_its_chart(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"))
    command(slack, fake, "/deal", "30,000 Acme")
    open_home(slack, ALICE)

    [published] = fake.wait_for("views.publish")
    assert published.params["user_id"] == ALICE
    view = published.json("view")
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    shown = block_texts(view["blocks"])
    assert "$30,000 of $120,000" in shown and "Rank 1 of 1 on East" in shown
    assert "Acme · $30,000" in shown  # the last deals
    # The chart: uploaded as a file of the app's (shared in no channel), shown by reference.
    [image] = [b for b in view["blocks"] if b["type"] == "image"]
    [upload] = fake.called("files.completeUploadExternal")
    assert image["slack_file"] == {"id": upload.json("files")[0]["id"]}
    assert "channel_id" not in upload.params
    ids = [e["action_id"] for e in buttons(view["blocks"])]
    assert ids == ["home_period", "home_log_deal", "feedback_open"]


def test_a_manager_sees_the_team_and_its_open_feedback(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(
        db,
        (ADMIN, "/pacer", "setup team add East <@UMIA|mia> as:manager"),
        (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"),
        (ALICE, "/goal", "feedback 1 Two accounts moved to Bob"),
    )
    open_home(slack, "UMIA")
    [published] = fake.wait_for("views.publish")
    view = published.json("view")
    shown = block_texts(view["blocks"])
    assert "*Team East*" in shown and "alice: 0%" in shown and "Behind pace: alice" in shown
    assert "Open feedback to answer: 1" in shown
    review = [e for e in buttons(view["blocks"]) if e["action_id"] == "home_review"]
    assert len(review) == 1

    home_press(slack, "UMIA", {**review[0], "type": "button"})
    [dm] = fake.wait_for("chat.postMessage")  # the review list, as a message of its own
    assert dm.params["channel"] == "UMIA" and "Two accounts moved to Bob" in dm.params["text"]


def test_the_homes_buttons_open_the_deal_form_and_pick_the_period(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 300000 quarter"))
    open_home(slack, ALICE)
    fake.wait_for("views.publish")

    home_press(slack, ALICE, {"action_id": "home_log_deal", "type": "button", "value": "home"})
    [opened] = fake.wait_for("views.open")
    assert opened.params["trigger_id"] == "home.trigger"
    assert opened.json("view")["callback_id"] == "deal_new"

    picked = {"type": "static_select", "action_id": "home_period"}
    home_press(slack, ALICE, {**picked, "selected_option": {"value": "quarter"}})
    second = fake.wait_for("views.publish", count=2)[-1]
    assert "$300,000" in block_texts(second.json("view")["blocks"])


def test_the_tab_is_refreshed_after_the_users_deal(
    slack: SlackSender, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"))
    open_home(slack, ALICE)
    fake.wait_for("views.publish")
    command(slack, fake, "/deal", "45,000 Hooli")
    refreshed = fake.wait_for("views.publish", count=2)[-1]
    assert "$45,000 of $120,000" in block_texts(refreshed.json("view")["blocks"])


def test_the_events_url_answers_slacks_verification_challenge(slack: SlackSender) -> None:
    challenge = fixture("url_verification.json")

    answer = slack.post(json.dumps(challenge).encode(), content_type="application/json")

    assert answer.status == 200
    assert answer.json() == {"challenge": challenge["challenge"]}


def test_healthz_answers_ok_and_other_paths_are_not_found(slack: SlackSender) -> None:
    health = slack.get("/healthz")
    assert (health.status, health.body) == (200, "ok")
    assert slack.get("/").status == 404
    assert slack.get("/slack/events").status == 404
    assert slack.get("/slack/install").status == 404  # no OAuth without client id and secret


def test_oauth_install_page_and_redirect_make_the_installer_an_admin(
    fake: FakeSlack, db: Engine
) -> None:
    settings = settings_for(
        fake, db, bot_token=None, client_id="111.222", client_secret="client-secret"
    )
    server = Server(wsgi_app(build_app(settings, db), db))
    try:
        browser = SlackSender(server.url, SECRET)
        page = browser.get("/slack/install")
        assert page.status == 200
        assert "https://slack.com/oauth/v2/authorize?state=" in page.body
        assert "client_id=111.222" in page.body
        cookie = page.headers["Set-Cookie"].split(";")[0]
        state = cookie.split("=", 1)[1]

        done = browser.get(f"/slack/oauth_redirect?code=c0de&state={state}", {"Cookie": cookie})

        assert done.status == 200
        [access] = fake.called("oauth.v2.access")
        assert access.params["code"] == "c0de"
        installed = fixture("webapi.oauth.v2.access.bolt.json")
        with session_scope(db) as session:
            installer = session.exec(
                select(Member).where(Member.user_id == installed["authed_user"]["id"])
            ).one()
            stored = session.exec(
                select(func.count()).select_from(text("slack_installations"))
            ).one()
        assert installer.is_admin and installer.workspace_id == installed["team"]["id"]
        assert stored == 1

        # A command from the installed workspace runs with that installation's bot token.
        body = slash_body(
            command="/pacer",
            text="help",
            team_id=installed["team"]["id"],
            enterprise_id=installed["enterprise"]["id"],  # the sample is an Enterprise Grid team
            user_id=installed["authed_user"]["id"],
            response_url=fake.response_url("installed"),
        )
        answer = browser.post(body)
        assert answer.status == 200
        assert "Pacer" in answer.json()["text"]
        [lookup] = fake.called("users.info")
        assert lookup.headers["authorization"] == f"Bearer {installed['access_token']}"
    finally:
        server.close()
