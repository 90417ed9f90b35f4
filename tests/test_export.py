"""/pacer export deals|goals|payments and `pacer export`: CSV files with hand-computed rows.

Workspace T1: East (USD, New York: reps alice and bob, manager mia), West (JPY: carol) and
North (CNY: dan); T2 has a deal of its own that never shows in T1's files. NOW is Wed
25 Nov 2026.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.cli import main
from commands import codec, export
from commands.types import Reply
from domain import csvio
from storage.engine import make_engine, read_scope, session_scope
from storage.migrate import upgrade
from storage.models import Deal
from tests.conftest import ADMIN, NOW, Run

ALICE, BOB, MIA, CAROL, DAN = "UALICE", "UBOB", "UMIA", "UCAROL", "UDAN"


def world(run: Run) -> Run:
    """The teams above and one deal per case; `run` already holds team East (fixture)."""
    steps = [
        (ADMIN, "/pacer", "setup team create West currency:JPY tz:Asia/Tokyo"),
        (ADMIN, "/pacer", "setup team add West <@UCAROL|carol>"),
        (ADMIN, "/pacer", "setup team create North currency:CNY tz:Asia/Shanghai"),
        (ADMIN, "/pacer", "setup team add North <@UDAN|dan>"),
        (ALICE, "/deal", "1234.50 Acme Corp date:2026-11-20 product:CRM region:East note:renewal"),
        (BOB, "/deal", "500 =HYPERLINK(evil) date:2026-10-05"),
        (ALICE, "/deal", "99 Gone Ltd date:2026-11-02"),
        (ALICE, "/deal", "delete 3"),
        (CAROL, "/deal", "123456 Tokyo KK date:2026-11-10"),
        (DAN, "/deal", "80000.5 Shanghai Co date:2026-11-12"),
    ]
    for user, command, text in steps:
        reply = run(user, command, text)
        assert reply.ok, reply.text
    for user, command, text in [
        (ADMIN, "/pacer", "setup team create East currency:USD"),
        (ADMIN, "/pacer", "setup team add East <@UOTHER|other>"),
        ("UOTHER", "/deal", "777 Other Workspace Co date:2026-11-20"),
    ]:
        assert run(user, command, text, workspace="T2").ok
    return run


@pytest.fixture
def deals_world(team: Run) -> Run:
    return world(team)


def csv_of(engine: Engine, reply: Reply) -> tuple[bytes, list[dict[str, str]]]:
    """The reply's file as the delivery writes it: its bytes, and its rows by column."""
    assert reply.ok, reply.text
    assert reply.file is not None
    out = io.BytesIO()
    with read_scope(engine) as session:
        export.write_file(session, reply.file, out)
    data = out.getvalue()
    return data, list(csv.DictReader(io.StringIO(data.decode(csvio.ENCODING))))


def created(engine: Engine) -> dict[int, str]:
    with session_scope(engine) as session:
        rows = session.exec(select(Deal).where(Deal.workspace_id == "T1")).all()
        return {d.number: csvio.time_cell(d.created_at) for d in rows}


# --- deals ----------------------------------------------------------------------------------------


def test_an_admins_deals_file_has_every_live_deal_with_hand_computed_cells(
    deals_world: Run, engine: Engine
) -> None:
    reply = deals_world(ADMIN, "/pacer", "export deals")

    assert reply.text == (
        "📄 Export of deals (all time, the whole workspace): the CSV file `deals-all.csv` "
        "is on its way to your direct messages."
    )
    data, rows = csv_of(engine, reply)
    assert data.startswith(b"\xef\xbb\xbfnumber,external_id,close_date,customer,amount,")
    assert list(rows[0]) == list(export.DEAL_COLUMNS)
    at = created(engine)
    assert at[1] == "2026-11-25T15:00:00Z"  # the request's clock, ISO in UTC
    assert rows == [
        {
            "number": "1",
            "external_id": "",
            "close_date": "2026-11-20",
            "customer": "Acme Corp",
            "amount": "1234.50",
            "currency": "USD",
            "stage": "won",
            "owner_email": "",
            "owner": "alice",
            "owner_id": ALICE,
            "team": "East",
            "product": "CRM",
            "region": "East",
            "note": "renewal",
            "source": "slash",
            "created_at": at[1],
            "deleted": "",
        },
        {
            **dict.fromkeys(export.DEAL_COLUMNS, ""),
            "number": "2",
            "close_date": "2026-10-05",
            "customer": "'=HYPERLINK(evil)",  # a formula is shown, never run
            "amount": "500.00",
            "currency": "USD",
            "stage": "won",
            "owner": "bob",
            "owner_id": BOB,
            "team": "East",
            "source": "slash",
            "created_at": at[2],
        },
        {
            **dict.fromkeys(export.DEAL_COLUMNS, ""),
            "number": "4",
            "close_date": "2026-11-10",
            "customer": "Tokyo KK",
            "amount": "123456",  # JPY has no minor unit
            "currency": "JPY",
            "stage": "won",
            "owner": "carol",
            "owner_id": CAROL,
            "team": "West",
            "source": "slash",
            "created_at": at[4],
        },
        {
            **dict.fromkeys(export.DEAL_COLUMNS, ""),
            "number": "5",
            "close_date": "2026-11-12",
            "customer": "Shanghai Co",
            "amount": "80000.50",  # CNY has two decimals
            "currency": "CNY",
            "stage": "won",
            "owner": "dan",
            "owner_id": DAN,
            "team": "North",
            "source": "slash",
            "created_at": at[5],
        },
    ]


def test_deleted_deals_appear_marked_only_with_with_deleted(
    deals_world: Run, engine: Engine
) -> None:
    _data, live = csv_of(engine, deals_world(ADMIN, "/pacer", "export deals team East"))
    reply = deals_world(ADMIN, "/pacer", "export deals with-deleted team East")
    _data, every = csv_of(engine, reply)

    assert [r["number"] for r in live] == ["1", "2"]
    assert [r["number"] for r in every] == ["1", "2", "3"]
    assert [r["deleted"] == "" for r in every] == [True, True, False]
    assert csvio.time_from(every[2]["deleted"]) is not None  # an ISO time in UTC
    assert every[2]["deleted"].endswith("Z")
    assert "deleted ones included" in reply.text


def test_a_period_filters_on_the_close_date(deals_world: Run, engine: Engine) -> None:
    _data, november = csv_of(engine, deals_world(ADMIN, "/pacer", "export deals 2026-11"))
    _data, october = csv_of(engine, deals_world(ADMIN, "/pacer", "export deals 2026-10 team East"))
    # The period after the team's name reads the same.
    after = deals_world(ADMIN, "/pacer", "export deals team East 2026-10")

    assert [r["number"] for r in november] == ["1", "4", "5"]
    assert [r["number"] for r in october] == ["2"]
    assert csv_of(engine, after)[1] == october
    assert after.file is not None and after.file.filename == "deals-2026-10-East.csv"


def test_bad_words_are_refused_with_the_usage(deals_world: Run) -> None:
    reply = deals_world(ADMIN, "/pacer", "export deals team Nowhere")
    assert not reply.ok
    assert reply.text.startswith("There is no team")
    bad = deals_world(ADMIN, "/pacer", "export invoices")
    assert not bad.ok and "Usage: `/pacer export deals|goals|payments" in bad.text


# --- who sees what --------------------------------------------------------------------------------


def numbers(engine: Engine, reply: Reply) -> list[str]:
    return [r["number"] for r in csv_of(engine, reply)[1]]


def test_a_rep_exports_their_own_deals_only(deals_world: Run, engine: Engine) -> None:
    mine = deals_world(BOB, "/pacer", "export deals")

    assert numbers(engine, mine) == ["2"]
    assert "your own" in mine.text


def test_a_manager_exports_their_teams_deals_and_an_admin_everything(
    deals_world: Run, engine: Engine
) -> None:
    assert numbers(engine, deals_world(MIA, "/pacer", "export deals")) == ["1", "2"]
    assert numbers(engine, deals_world(MIA, "/pacer", "export deals team East")) == ["1", "2"]
    assert numbers(engine, deals_world(ADMIN, "/pacer", "export deals team West")) == ["4"]


def test_other_teams_are_refused_in_words(deals_world: Run) -> None:
    rep = deals_world(BOB, "/pacer", "export deals team East")
    manager = deals_world(MIA, "/pacer", "export deals team West")

    assert (rep.ok, rep.file) == (False, None)
    assert rep.text == (
        "Only managers of East and admins export its rows. "
        "Without `team`, `/pacer export deals` gives you your own."
    )
    assert (manager.ok, manager.file) == (False, None)
    assert manager.text.startswith("Only managers of West and admins")


def test_another_workspaces_deals_never_appear(deals_world: Run, engine: Engine) -> None:
    _data, t1 = csv_of(engine, deals_world(ADMIN, "/pacer", "export deals with-deleted"))
    _data, t2 = csv_of(engine, deals_world(ADMIN, "/pacer", "export deals", workspace="T2"))

    assert "Other Workspace Co" not in {r["customer"] for r in t1}
    assert [(r["number"], r["customer"], r["amount"]) for r in t2] == [
        ("1", "Other Workspace Co", "777.00")
    ]


# --- goals and payments ---------------------------------------------------------------------------


def test_goals_file_names_owners_and_parents_with_targets_in_precision(
    deals_world: Run, engine: Engine
) -> None:
    for text in (
        "set team East 300000.5 2026-Q4",
        "split 1 months even",
        "set <@UALICE|alice> 12 2026-11 deals",
        "set team West 5000000 2026-11",
    ):
        assert deals_world(ADMIN, "/goal", text).ok, text

    _data, rows = csv_of(engine, deals_world(ADMIN, "/pacer", "export goals 2026-11"))

    cut = ["|".join(r[c] for c in export.GOAL_COLUMNS) for r in rows]
    # Q4 overlaps November, of its months only November does. $300,000.50 in three is
    # $100,000.17 a month to the cent (October, over already, is skipped: no goal #).
    # A text cell starting with @ is neutralised like any other ('@alice).
    assert cut == [
        "1|team:East||East|revenue|2026-Q4|2026-10-01|2026-12-31|300000.50|USD|set||",
        "2|team:East||East|revenue|2026-11|2026-11-01|2026-11-30|100000.17|USD|split|1|",
        "4|'@alice|UALICE|East|deals|2026-11|2026-11-01|2026-11-30|12||set||",
        "5|team:West||West|revenue|2026-11|2026-11-01|2026-11-30|5000000|JPY|set||",
    ]


def test_payments_file_follows_the_paid_date(deals_world: Run, engine: Engine) -> None:
    assert deals_world(ALICE, "/deal", "paid 1 200.25 date:2026-11-21").ok
    assert deals_world(CAROL, "/deal", "paid 4 1000 date:2026-11-24").ok
    assert deals_world(BOB, "/deal", "paid 2 100 date:2026-10-20").ok
    assert deals_world(BOB, "/deal", "paid 2 date:2026-11-03").ok  # the $400 left

    _data, november = csv_of(engine, deals_world(ADMIN, "/pacer", "export payments 2026-11"))
    _data, bobs = csv_of(engine, deals_world(BOB, "/pacer", "export payments"))

    row = dict.fromkeys(export.PAYMENT_COLUMNS, "")
    assert november == [
        {**row, "deal_number": "1", "paid_on": "2026-11-21", "amount": "200.25"}
        | {"currency": "USD", "owner": "alice", "team": "East"},
        {**row, "deal_number": "4", "paid_on": "2026-11-24", "amount": "1000"}
        | {"currency": "JPY", "owner": "carol", "team": "West"},
        {**row, "deal_number": "2", "paid_on": "2026-11-03", "amount": "400.00"}
        | {"currency": "USD", "owner": "bob", "team": "East"},
    ]
    assert [(r["deal_number"], r["amount"]) for r in bobs] == [("2", "100.00"), ("2", "400.00")]


# --- the cells ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cell"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-x", "'-x"),
        ("@me", "'@me"),
        ("'=x", "''=x"),  # read back as typed
        ("'quoted", "'quoted"),
        ("Acme", "Acme"),
        ("", ""),
    ],
)
def test_text_cells_are_neutralised_and_read_back_exactly(typed: str, cell: str) -> None:
    assert csvio.text_cell(typed) == cell
    assert csvio.text_from(cell) == typed


def test_money_cells_read_back_to_the_minor_unit() -> None:
    cases = ((123450, "USD"), (1235, "JPY"), (5, "CNY"), (-5, "USD"), (-1235, "JPY"))
    assert [csvio.money_cell(n, c) for n, c in cases] == [
        "1234.50",
        "1235",
        "0.05",
        "-0.05",
        "-1235",
    ]
    for minor in (0, 1, -1, 99, -100, 10**15 + 7):
        for currency in ("USD", "JPY", "BHD", "CNY"):  # 2, 0, 3 and 2 decimals
            assert csvio.money_from(csvio.money_cell(minor, currency), currency) == minor
    assert csvio.money_cell(1234, "BHD") == "1.234"
    assert csvio.money_from("1234.50", "USD") == 123450
    assert csvio.money_from("1235", "JPY") == 1235


# --- once per delivery ----------------------------------------------------------------------------


def test_a_recorded_reply_keeps_the_request_not_the_bytes_and_a_retry_sends_no_file(
    deals_world: Run, engine: Engine
) -> None:
    first = deals_world(ADMIN, "/pacer", "export deals 2026-11", key="trigger-1")
    again = deals_world(ADMIN, "/pacer", "export deals 2026-11", key="trigger-1")

    assert first.file is not None
    assert (again.text, again.file) == (first.text, None)
    recorded = json.loads(codec.encode_reply(first))["file"]
    assert recorded["filename"] == "deals-2026-11.csv"
    assert recorded["export"]["start"] == "2026-11-01"
    assert "content" not in recorded


# --- the console and the command line -------------------------------------------------------------


def test_the_console_writes_the_file_and_prints_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.console import run as console_run
    from bot.settings import Settings

    monkeypatch.setenv("PACER_CHART_DIR", str(tmp_path / "out"))
    url = f"sqlite:///{tmp_path / 'c.db'}"
    eng = make_engine(url)
    upgrade(eng)
    script = "\n".join(
        [
            "/pacer setup team create East currency:USD",
            "/pacer setup team add East @alice",
            "as alice",
            "/deal 1234.5 Acme Corp date:2026-11-20",
            "/pacer export deals",
            "",
        ]
    )
    out = io.StringIO()
    console_run(
        Settings(database_url=url), eng, stdin=io.StringIO(script), stdout=out, now=lambda: NOW
    )
    eng.dispose()

    shown = out.getvalue()
    assert "the CSV file `deals-all.csv` is on its way" in shown
    path = tmp_path / "out" / "deals-all.csv"
    assert f"File: {path.resolve()}" in shown
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding=csvio.ENCODING))))
    assert [(r["number"], r["customer"], r["amount"], r["owner"]) for r in rows] == [
        ("1", "Acme Corp", "1234.50", "alice")
    ]


@pytest.fixture
def cli_db(tmp_path: Path, sqlite_template: Path) -> tuple[str, Engine]:
    from tests.conftest import migrated_sqlite_file

    eng = migrated_sqlite_file(sqlite_template, tmp_path / "pacer.db")
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'pacer.db'}\n")
    return str(env), eng


def cli_world(eng: Engine) -> None:
    from commands.router import dispatch, in_scope
    from commands.types import Request

    def run(user: str, command: str, text: str = "", **kw: Any) -> Reply:
        req = Request(
            workspace_id=kw.get("workspace", "T1"),
            user_id=user,
            text=text,
            now=NOW,
            locale="en-US",
            admin_ids=frozenset({ADMIN}),
        )
        return in_scope(eng, command, text, lambda s: dispatch(command, req, s))

    for user, command, text in [
        (ADMIN, "/pacer", "setup team create East currency:USD tz:America/New_York"),
        (ADMIN, "/pacer", "setup team add East <@UALICE|alice> <@UBOB|bob>"),
    ]:
        assert run(user, command, text).ok
    world(run)


def test_pacer_export_writes_to_stdout_and_to_a_path(
    cli_db: tuple[str, Engine], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env, eng = cli_db
    cli_world(eng)

    with pytest.raises(SystemExit) as several:
        main(["--env-file", env, "export", "deals"])
    assert several.value.code == 2
    assert "say which workspace with --workspace: the database holds T1, T2" in (
        capsys.readouterr().err
    )

    buffer = io.BytesIO()
    stdout = type("Out", (), {"buffer": buffer, "write": lambda *_: 0, "flush": lambda *_: None})
    saved, sys.stdout = sys.stdout, stdout()  # type: ignore[assignment]
    try:
        main(["--env-file", env, "export", "deals", "2026-11", "--workspace", "T1"])
    finally:
        sys.stdout = saved
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue().decode(csvio.ENCODING))))
    assert [(r["number"], r["amount"], r["currency"]) for r in rows] == [
        ("1", "1234.50", "USD"),
        ("4", "123456", "JPY"),
        ("5", "80000.50", "CNY"),
    ]

    path = tmp_path / "east.csv"
    main(
        [
            *("--env-file", env, "export", "deals", "--workspace", "T1", "--team", "East"),
            *("--with-deleted", "-o", str(path)),
        ]
    )
    assert "3 deals written to" in capsys.readouterr().err
    written = list(csv.DictReader(io.StringIO(path.read_text(encoding=csvio.ENCODING))))
    assert [(r["number"], r["deleted"] != "") for r in written] == [
        ("1", False),
        ("2", False),
        ("3", True),
    ]

    with pytest.raises(SystemExit):
        main(["--env-file", env, "export", "deals", "--workspace", "T1", "--team", "Nope"])
    assert "There is no team" in capsys.readouterr().err
    eng.dispose()


# --- through the HTTP endpoint, with the fake Slack ---------------------------------------------


@pytest.fixture
def slack(fake: Any, db: Engine) -> Any:
    from bot.app import build_app
    from bot.http import wsgi_app
    from tests.fakeslack import SlackSender
    from tests.test_http_mode import SECRET, Server, settings_for

    server = Server(wsgi_app(build_app(settings_for(fake, db), db), db))
    yield SlackSender(server.url, SECRET)
    server.close()


def test_the_file_is_uploaded_to_the_requesters_dm_once_even_when_slack_retries(
    slack: Any, fake: Any, db: Engine
) -> None:
    from tests.fakeslack import shared_files
    from tests.test_http_mode import ALICE, block_texts, command, setup_team

    setup_team(
        db,
        (ALICE, "/deal", "1234.50 Acme Corp date:2026-11-20"),
        (ALICE, "/deal", "99 @Gone date:2026-11-21"),
        (ALICE, "/deal", "delete 2"),
    )

    answer = command(slack, fake, "/pacer", "export deals with-deleted", trigger="t-export")
    retry = command(slack, fake, "/pacer", "export deals with-deleted", trigger="t-export")

    text = block_texts(answer.json()["blocks"])
    assert "the CSV file `deals-all.csv` is on its way to your direct messages" in text
    assert block_texts(retry.json()["blocks"]) == text  # the recorded reply, nothing run
    fake.wait_for("files.completeUploadExternal")
    [opened] = fake.called("conversations.open")
    assert opened.params["users"] == ALICE
    [shared] = shared_files(fake)
    assert (shared.channel, shared.filename) == ("DALICE", "deals-all.csv")
    rows = list(csv.DictReader(io.StringIO(shared.body.decode(csvio.ENCODING))))
    assert [(r["number"], r["customer"], r["amount"], r["owner_id"]) for r in rows] == [
        ("1", "Acme Corp", "1234.50", ALICE),
        ("2", "'@Gone", "99.00", ALICE),
    ]
    assert rows[0]["deleted"] == "" and rows[1]["deleted"].endswith("Z")
    assert shared.body.startswith(b"\xef\xbb\xbf")
    import time

    time.sleep(0.5)  # a second upload, were the retry to make one, would be on its way
    assert len(fake.called("files.getUploadURLExternal")) == 1


def test_a_failed_upload_is_told_to_the_requester(slack: Any, fake: Any, db: Engine) -> None:
    from tests.test_http_mode import ALICE, command, setup_team

    setup_team(db, (ALICE, "/deal", "1234.50 Acme Corp date:2026-11-20"))
    fake.fail("files.getUploadURLExternal", "internal_error")

    command(slack, fake, "/pacer", "export deals", trigger="t-fail", response="r-fail")

    [note] = fake.wait_for("response")
    assert "couldn't send the CSV file just now" in note.params["text"]


def test_rows_read_in_small_chunks_are_the_same_rows(
    deals_world: Run, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage.queries import exports

    assert deals_world(ALICE, "/deal", "paid 1 10 date:2026-11-21").ok
    assert deals_world(ALICE, "/deal", "paid 1 20 date:2026-11-22").ok
    assert deals_world(BOB, "/deal", "paid 2 30 date:2026-11-22").ok
    whole = {
        k: csv_of(engine, deals_world(ADMIN, "/pacer", f"export {k} with-deleted"))
        for k in ("deals", "payments")
    }
    monkeypatch.setattr(exports, "CHUNK", 2)  # every chunk boundary crossed, some twice

    for kind, (data, _rows) in whole.items():
        again, _ = csv_of(engine, deals_world(ADMIN, "/pacer", f"export {kind} with-deleted"))
        assert again == data
    assert len(whole["deals"][1]) == 5 and len(whole["payments"][1]) == 3


def test_the_deals_file_reads_back_to_the_stored_values_exactly(
    deals_world: Run, engine: Engine
) -> None:
    """What the import relies on: every cell read back (domain/csvio.py) is the stored value."""
    assert deals_world(ALICE, "/deal", "42.10 +Plus Co note:'=quoted date:2026-11-24").ok
    _data, rows = csv_of(engine, deals_world(ADMIN, "/pacer", "export deals with-deleted"))
    with session_scope(engine) as session:
        stored = {
            d.number: d for d in session.exec(select(Deal).where(Deal.workspace_id == "T1")).all()
        }

    assert len(rows) == len(stored) == 6
    for row in rows:
        deal = stored[int(row["number"])]
        assert csvio.text_from(row["customer"]) == deal.customer
        assert (csvio.text_from(row["note"]) or None) == deal.note
        assert (csvio.text_from(row["product"]) or None) == deal.product
        assert csvio.money_from(row["amount"], row["currency"]) == deal.amount_minor
        assert row["currency"] == deal.currency
        assert row["close_date"] == deal.close_date.isoformat()
        assert csvio.time_from(row["created_at"]) == deal.created_at
        assert csvio.time_from(row["deleted"]) == deal.deleted_at
    assert [r["customer"] for r in rows if r["number"] == "6"] == ["'+Plus Co"]
    assert [r["note"] for r in rows if r["number"] == "6"] == ["''=quoted"]


@pytest.mark.parametrize(("locale", "heading"), [("en-US", "Each rep"), ("zh-CN", "每位销售")])
def test_the_report_arrives_in_the_requesters_dm_as_a_pdf(
    slack: Any, fake: Any, db: Engine, locale: str, heading: str
) -> None:
    import pypdf

    from tests.fakeslack import shared_files
    from tests.test_http_mode import ADMIN, ALICE, command, setup_team

    setup_team(
        db,
        (ADMIN, "/goal", "set team East 100000 month"),
        (ALICE, "/deal", "12,500 Acme Corp"),
    )
    fake.users[ADMIN] = {"locale": locale}
    command(slack, fake, "/pacer", "report team East", user=ADMIN, trigger="t-report")
    fake.wait_for("files.completeUploadExternal")
    [shared] = shared_files(fake)
    assert shared.channel == f"D{ADMIN.lstrip('U')}" and shared.filename.endswith(".pdf")
    pdf = pypdf.PdfReader(io.BytesIO(shared.body))
    assert len(pdf.pages) >= 8
    assert "$12,500" in pdf.pages[0].extract_text() and "$100,000" in pdf.pages[0].extract_text()
    assert any(heading in page.extract_text() for page in pdf.pages)


def test_time_cells_are_utc_with_a_z_whatever_zone_they_come_in() -> None:
    ny = ZoneInfo("America/New_York")
    assert csvio.time_cell(datetime(2026, 11, 25, 15, 0, tzinfo=UTC)) == "2026-11-25T15:00:00Z"
    assert csvio.time_cell(datetime(2026, 11, 25, 15, 0)) == "2026-11-25T15:00:00Z"  # as stored
    assert csvio.time_cell(datetime(2026, 11, 25, 10, 0, tzinfo=ny)) == "2026-11-25T15:00:00Z"
    at = datetime(2026, 11, 25, 15, 0, 0, 250, tzinfo=UTC)
    assert csvio.time_cell(at) == "2026-11-25T15:00:00.000250Z"
    assert csvio.time_from(csvio.time_cell(at)) == at
    assert csvio.time_cell(None) == ""


@pytest.mark.parametrize("rows", [0, 1, export.CHUNK, export.CHUNK + 1, 2 * export.CHUNK + 201])
def test_a_long_file_is_written_in_chunks_with_one_byte_order_mark(
    rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [[str(i), f"客户{i}", "1,000.50"] for i in range(rows)]
    monkeypatch.setattr(export, "_rows", lambda _session, _query: iter(lines))
    out = io.BytesIO()
    query = export.ExportQuery(kind="deals", workspace_id="T1")
    assert export.write_csv(None, query, out) == rows  # type: ignore[arg-type]
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert read == [list(export.COLUMNS["deals"]), *lines]
