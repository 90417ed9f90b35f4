"""`/pacer import` in Slack, end to end: signed requests to the HTTP endpoint, the fake
Slack serving the file a user chose in the modal's file_input (files.info, then its
private URL with the bot token), the preview in place of the form, Import, the result."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import build_app
from bot.http import wsgi_app
from storage.models import AuditEntry, Deal, Goal
from tests.fakeslack import (
    Call,
    FakeSlack,
    SlackSender,
    eventually,
    payload_body,
    token_of,
    view_submission,
)
from tests.test_console import SETUP, charts_dir, session_of  # noqa: F401
from tests.test_http_mode import (
    ADMIN,
    ALICE,
    SECRET,
    TEAM,
    TOKEN,
    Server,
    block_texts,
    command,
    settings_for,
    setup_team,
)

MIA = "UMIA"
HEADER = "Record ID,Deal Name,Amount,Close Date,Deal Stage,Deal owner,Associated Company\n"
ROWS = (
    "hs-1,Acme 50 seats,12500,2026-11-20,Closed Won,alice@example.com,Acme Corp\n"
    'hs-2,Globex renewal,"$1,234.56",2026-11-21,closedwon,alice,Globex\n'
    "hs-3,Initech pilot,30000,2026-12-15,Verbal Yes,Alice,Initech\n"
)


@pytest.fixture
def slack(fake: FakeSlack, db: Engine) -> Iterator[SlackSender]:
    fake.emails["alice@example.com"] = ALICE
    server = Server(wsgi_app(build_app(settings_for(fake, db), db), db))
    yield SlackSender(server.url, SECRET)
    server.close()


@pytest.fixture
def east(db: Engine) -> None:
    """East with rep alice and manager mia; West, managed by nobody here."""
    setup_team(
        db,
        (ADMIN, "/pacer", f"setup team add East <@{MIA}|mia> as:manager"),
        (ADMIN, "/pacer", "setup team create West"),
    )


def open_modal(slack: SlackSender, fake: FakeSlack, user: str) -> dict[str, Any]:
    answer = command(slack, fake, "/pacer", "import", user=user, trigger=f"t-{user}")
    assert answer.status == 200 and answer.body == ""
    [opened] = fake.wait_for("views.open")
    assert opened.params["trigger_id"] == f"t-{user}"
    view: dict[str, Any] = opened.json("view")
    return view


def choose(fake: FakeSlack, file_id: str, text: str | bytes, name: str = "deals.csv") -> None:
    """The user picks a file in the file_input: Slack keeps it and names it by id."""
    fake.shared[file_id] = (name, text.encode() if isinstance(text, str) else text)


def form_state(file_id: str, *, what: str = "deals", stages: str = "", team: str = "") -> Any:
    state: dict[str, Any] = {
        "what": {"what": {"type": "static_select", "selected_option": {"value": what}}},
        "file": {"file": {"type": "file_input", "files": [{"id": file_id, "name": "x.csv"}]}},
        "date_format": {"date_format": {"type": "static_select", "selected_option": None}},
        "stages": {"stages": {"type": "plain_text_input", "value": stages or None}},
        "team": {"team": {"type": "static_select", "selected_option": None}},
    }
    if team:
        state["team"]["team"]["selected_option"] = {"value": team}
    return state


def submit(
    slack: SlackSender,
    *,
    user: str,
    view: dict[str, Any],
    state: dict[str, Any],
    view_hash: str,
    view_id: str = "VIMPORT",
) -> Any:
    body = view_submission(
        team=TEAM,
        user=user,
        callback_id=view["callback_id"],
        view_id=view_id,
        state=state,
        metadata=view.get("private_metadata", ""),
    )
    body["view"]["hash"] = view_hash  # Slack gives each state of a view a hash of its own
    body["view"]["title"] = view["title"]
    return slack.post(payload_body(body))


def updated(fake: FakeSlack, n: int) -> dict[str, Any]:
    """The n-th views.update (1-based): what replaced the working view."""
    calls = fake.wait_for("views.update", count=n)
    assert calls[n - 1].params["view_id"] == "VIMPORT"
    view: dict[str, Any] = calls[n - 1].json("view")
    return view


def deal_rows(db: Engine) -> list[tuple[str | None, int, str, str]]:
    with Session(db) as s:
        rows = s.exec(select(Deal).order_by(Deal.number)).all()
        return [(d.external_id, d.amount_minor, d.stage, d.customer) for d in rows]


def inputs(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b["type"] == "input"]


def test_an_admin_checks_the_file_sees_the_preview_then_imports_it_once(
    slack: SlackSender, fake: FakeSlack, db: Engine, east: None
) -> None:
    form = open_modal(slack, fake, ADMIN)
    assert (form["callback_id"], form["submit"]["text"]) == ("import_file", "Check file")
    assert inputs(form) == ["what", "file", "team", "date_format", "stages"]
    [file_block] = [b for b in form["blocks"] if b.get("block_id") == "file"]
    assert file_block["element"] == {"type": "file_input", "filetypes": ["csv"], "max_files": 1,
                                     "action_id": "file"}  # fmt: skip
    [team_block] = [b for b in form["blocks"] if b.get("block_id") == "team"]
    assert [o["text"]["text"] for o in team_block["element"]["options"]] == ["East", "West"]
    choose(fake, "F0IMPORT1", HEADER + ROWS)

    ack = submit(
        slack,
        user=ADMIN,
        view=form,
        state=form_state("F0IMPORT1", stages="Verbal Yes = negotiation"),
        view_hash="h1",
    )

    working = ack.json()
    assert working["response_action"] == "update"
    assert "Working on it" in block_texts(working["view"]["blocks"])
    assert "submit" not in working["view"]
    preview = updated(fake, 1)
    assert preview["callback_id"] == "import_confirm"
    assert preview["submit"]["text"] == "Import"
    assert block_texts(preview["blocks"]) == (
        "*Checked deals.csv.*\n"
        "Dry run of 3 rows: 3 would be created, 0 updated, 0 left unchanged, 0 left deleted."
        " Nothing was written.\n"
        "• alice: 3 new, 0 updated, won revenue +$13,734.56\n"
        "Press *Import* to write it, or close this to leave everything as it is."
    )
    [download] = fake.called("download")
    assert download.path == "/files-pri/F0IMPORT1/deals.csv"
    assert token_of(download) == TOKEN
    assert deal_rows(db) == []

    submit(slack, user=ADMIN, view=preview, state={}, view_hash="h2")

    done = updated(fake, 2)
    assert "submit" not in done and done["title"]["text"] == "Import done"
    assert block_texts(done["blocks"]) == (
        "Imported 3 rows: 3 created, 0 updated, 0 unchanged, 0 left deleted.\n"
        "• alice: 3 new, 0 updated, won revenue +$13,734.56"
    )
    expected = [
        ("hs-1", 1_250_000, "won", "Acme Corp"),
        ("hs-2", 123_456, "won", "Globex"),
        ("hs-3", 3_000_000, "negotiation", "Initech"),
    ]
    assert deal_rows(db) == expected

    # Import pressed twice (a second submission of the preview): written once.
    submit(slack, user=ADMIN, view=preview, state={}, view_hash="h3")
    again = updated(fake, 3)
    assert "3 unchanged" in block_texts(again["blocks"])
    assert deal_rows(db) == expected
    with Session(db) as s:
        sources = {a.source for a in s.exec(select(AuditEntry)).all() if a.entity == "deal"}
    assert sources == {"import"}


def test_goals_go_through_the_same_form(
    slack: SlackSender, fake: FakeSlack, db: Engine, east: None
) -> None:
    form = open_modal(slack, fake, ADMIN)
    choose(fake, "F0GOALS", "owner,period,target\n@alice,2026-12,90000\nteam:East,2026-12,250000\n")

    submit(slack, user=ADMIN, view=form, state=form_state("F0GOALS", what="goals"), view_hash="h1")
    preview = updated(fake, 1)
    assert "Dry run of 2 goals: 2 would be set, 0 changed, 0 left unchanged." in block_texts(
        preview["blocks"]
    )
    submit(slack, user=ADMIN, view=preview, state={}, view_hash="h2")

    assert block_texts(updated(fake, 2)["blocks"]) == (
        "Imported 2 goals: 2 set, 0 changed, 0 unchanged."
    )
    with Session(db) as s:
        targets = sorted(g.target for g in s.exec(select(Goal)).all())
    assert targets == [9_000_000, 25_000_000]


def test_a_file_with_errors_comes_back_as_the_form_with_its_errors_and_writes_nothing(
    slack: SlackSender, fake: FakeSlack, db: Engine, east: None
) -> None:
    form = open_modal(slack, fake, ADMIN)
    bad = (
        "hs-4,Nowhere,abc,2026-11-22,Closed Won,alice,Zed\n"
        "hs-5,Lost,100,2026-11-22,Closed Won,zoe,Y\n"
    )
    choose(fake, "F0BAD", HEADER + ROWS + bad)

    submit(slack, user=ADMIN, view=form, state=form_state("F0BAD"), view_hash="h1")

    again = updated(fake, 1)
    assert again["callback_id"] == "import_file"
    assert inputs(again) == ["what", "file", "team", "date_format", "stages"]
    text = block_texts(again["blocks"])
    assert text.startswith("The file has 3 errors:\n")
    assert "• line 4, Deal Stage “Verbal Yes”: unknown stage “Verbal Yes”" in text
    assert "• line 5, Amount “abc”: " in text
    assert "• line 6, Deal owner “zoe”: no member of the team is called “zoe”" in text
    assert "Nothing was written" in text
    assert deal_rows(db) == []

    # The same form, a fixed file: a new state of the view, checked afresh.
    choose(fake, "F0GOOD", HEADER + ROWS.replace("Verbal Yes", "Contract Sent"))
    submit(slack, user=ADMIN, view=again, state=form_state("F0GOOD"), view_hash="h2")
    preview = updated(fake, 2)
    assert preview["callback_id"] == "import_confirm"
    assert "3 would be created" in block_texts(preview["blocks"])


def test_a_file_that_is_not_utf8_is_refused_for_the_file(
    slack: SlackSender, fake: FakeSlack, db: Engine, east: None
) -> None:
    form = open_modal(slack, fake, ADMIN)
    choose(fake, "F0LATIN", (HEADER + ROWS.replace("Globex", "Société")).encode("latin-1"))

    submit(slack, user=ADMIN, view=form, state=form_state("F0LATIN"), view_hash="h1")

    text = block_texts(updated(fake, 1)["blocks"])
    assert text.startswith("The file is not UTF-8 text (from line 3).")
    assert deal_rows(db) == []


def test_a_rep_is_refused_in_words_and_no_modal_opens(
    slack: SlackSender, fake: FakeSlack, db: Engine, east: None
) -> None:
    answer = command(slack, fake, "/pacer", "import", user=ALICE)

    assert answer.json()["response_type"] == "ephemeral"
    assert "Only admins and team managers import" in block_texts(answer.json()["blocks"])
    assert fake.called("views.open") == []


def test_a_manager_imports_into_their_team_only(
    slack: SlackSender, fake: FakeSlack, db: Engine, east: None
) -> None:
    form = open_modal(slack, fake, MIA)
    [team_block] = [b for b in form["blocks"] if b.get("block_id") == "team"]
    options = team_block["element"]["options"]
    assert [o["text"]["text"] for o in options] == ["East"]
    assert team_block["optional"] is False  # one team: chosen for them
    assert team_block["element"]["initial_option"]["text"]["text"] == "East"
    choose(fake, "F0MIA", HEADER + ROWS.replace("Verbal Yes", "Contract Sent"))
    west_id = str(int(options[0]["value"]) + 1)

    # A team that is not theirs, as a crafted submission would name it.
    submit(slack, user=MIA, view=form, state=form_state("F0MIA", team=west_id), view_hash="h1")
    refused = updated(fake, 1)
    assert "You may not import into that team." in block_texts(refused["blocks"])

    submit(
        slack,
        user=MIA,
        view=form,
        state=form_state("F0MIA", team=options[0]["value"]),
        view_hash="h2",
    )
    preview = updated(fake, 2)
    submit(slack, user=MIA, view=preview, state={}, view_hash="h3")
    assert "3 created" in block_texts(updated(fake, 3)["blocks"])
    assert len(deal_rows(db)) == 3


def test_a_file_slack_will_not_serve_is_said_and_nothing_runs(
    slack: SlackSender, fake: FakeSlack, db: Engine, east: None
) -> None:
    form = open_modal(slack, fake, ADMIN)
    fake.fail("files.info", "missing_scope")

    submit(slack, user=ADMIN, view=form, state=form_state("F0NONE"), view_hash="h1")

    text = block_texts(updated(fake, 1)["blocks"])
    assert text == (
        "Pacer may not read files yet: an admin reinstalls it with the `files:read` permission."
    )


def test_the_result_goes_by_dm_when_the_modal_was_closed_meanwhile(
    slack: SlackSender, fake: FakeSlack, db: Engine, east: None
) -> None:
    form = open_modal(slack, fake, ADMIN)
    choose(fake, "F0DM", HEADER + ROWS.replace("Verbal Yes", "Contract Sent"))
    fake.fail("views.update", "not_found")

    submit(slack, user=ADMIN, view=form, state=form_state("F0DM"), view_hash="h1")

    def dm() -> Call | None:
        sent = [c for c in fake.called("chat.postMessage") if c.params["channel"] == ADMIN]
        return sent[0] if sent else None

    assert "3 would be created" in eventually(dm).params["text"]


# --- the same form at the console ---------------------------------------------------------------


def console_file(tmp_path: Path) -> Path:
    """The rows with known stages and owners by name: the console looks up no email."""
    path = tmp_path / "hubspot.csv"
    path.write_text(
        HEADER + ROWS.replace("Verbal Yes", "Contract Sent").replace("alice@example.com", "alice")
    )
    return path


def test_the_console_asks_for_a_path_shows_the_preview_and_imports_on_enter(
    session_of: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = console_file(tmp_path)
    out = session_of(
        SETUP
        + f"""\
/pacer import

{tmp_path / "nope.csv"}
{path}




as @alice
/deal list
"""
    )
    assert "No such file here: type the path of a CSV file" in out
    assert (
        "*Checked hubspot.csv.*\nDry run of 3 rows: 3 would be created, 0 updated,"
        " 0 left unchanged, 0 left deleted. Nothing was written.\n"
        "• alice: 3 new, 0 updated, won revenue +$13,734.56\n"
    ) in out
    assert "  Import? Press Enter to go ahead, or type `-` to cancel: \n" in out
    assert (
        "📋 Import done\nImported 3 rows: 3 created, 0 updated, 0 unchanged, 0 left deleted." in out
    )
    assert "`#3` *$30,000* — Initech on 2026-12-15 [negotiation]" in out


def test_at_the_console_a_dash_cancels_the_import_and_nothing_is_written(
    session_of: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = console_file(tmp_path)

    out = session_of(SETUP + f"/pacer import\n\n{path}\n\n\n\n-\nas @alice\n/deal list\n")

    assert "Import? Press Enter to go ahead, or type `-` to cancel: -\nForm cancelled" in out
    assert "Imported" not in out
    assert "`#1`" not in out.split("alice> /deal list")[-1]


def test_a_deal_typed_while_a_file_is_checked_does_not_wait_for_the_check(
    slack: SlackSender, fake: FakeSlack, db: Engine, east: None
) -> None:
    """The preview only reads: it must not hold SQLite's one write lock while it reads the
    file (here held open by a users.lookupByEmail that answers late, mid dry run)."""
    form = open_modal(slack, fake, ADMIN)
    choose(fake, "F0SLOW", HEADER + ROWS.replace("Verbal Yes", "Contract Sent"))
    fake.hang("users.lookupByEmail", 3.0)

    submit(slack, user=ADMIN, view=form, state=form_state("F0SLOW"), view_hash="h1")
    fake.wait_for("users.lookupByEmail")
    started = time.monotonic()
    answer = command(slack, fake, "/deal", "500 Typed Meanwhile", trigger="t-meanwhile")
    took = time.monotonic() - started

    assert "Logged deal" in block_texts(answer.json()["blocks"])
    assert took < 2.0 and fake.called("views.update") == []  # the check is still running
    assert "3 would be created" in block_texts(updated(fake, 1)["blocks"])
