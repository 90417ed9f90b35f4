"""`pacer import deals FILE`: a dry run's plan, then all or nothing, idempotent, owners by
email (users.lookupByEmail on the fake Slack) and by name, errors by line and column."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.cli import main
from storage import queries
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import AuditEntry, Deal, Member
from tests.conftest import Run
from tests.fakeslack import FakeSlack

HEADER = "Record ID,Deal Name,Amount,Currency,Close Date,Deal Stage,Deal owner,Associated Company\n"
ROWS = (
    "hs-1,Acme 50 seats,12500,USD,2026-11-20,Closed Won,alice@example.com,Acme Corp\n"
    'hs-2,Globex renewal,"$1,234.56",USD,2026-11-21,closedwon,Bob,Globex\n'
    "hs-3,Initech pilot,30000,,2026-12-15,Contract Sent,bob,Initech\n"
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A database file the command opens on its own, as an operator's would be."""
    eng = make_engine(f"sqlite:///{tmp_path / 'pacer.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def env_file(tmp_path: Path, fake: FakeSlack) -> str:
    fake.emails["alice@example.com"] = "UALICE"
    fake.emails["zoe@example.com"] = "UZOE"
    path = tmp_path / ".env"
    path.write_text(
        f"DATABASE_URL=sqlite:///{tmp_path / 'pacer.db'}\n"
        "SLACK_BOT_TOKEN=xoxb-test-token\n"
        f"SLACK_API_URL={fake.api_url}\n"
    )
    return str(path)


def pacer_import(env_file: str, *args: str) -> int:
    try:
        main(["--env-file", env_file, "import", *args])
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


def write(tmp_path: Path, text: str, name: str = "deals.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return str(path)


def deals(engine: Engine) -> list[tuple[object, ...]]:
    with Session(engine) as s:
        rows = s.exec(select(Deal).order_by(Deal.number)).all()
        names = {m.id: m.name for m in s.exec(select(Member)).all()}
        return [
            (d.number, d.external_id, names[d.owner_id], d.amount_minor, d.stage, d.customer)
            for d in rows
        ]


def test_a_dry_run_shows_the_plan_and_writes_nothing_then_the_import_writes_it_once(
    team: Run,
    engine: Engine,
    env_file: str,
    fake: FakeSlack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write(tmp_path, HEADER + ROWS)
    assert pacer_import(env_file, "deals", path, "--team", "East", "--dry-run") == 0
    out = capsys.readouterr().out
    assert out == (
        "Dry run of 3 rows: 3 would be created, 0 updated, 0 left unchanged, 0 left deleted. "
        "Nothing was written.\n"
        # alice: 12,500 won; bob: 1,234.56 won and an open deal that adds no revenue.
        "• alice: 1 new, 0 updated, won revenue +$12,500\n"
        "• bob: 2 new, 0 updated, won revenue +$1,234.56\n"
        "Run it again without `--dry-run` to import.\n"
    )
    assert deals(engine) == []
    assert pacer_import(env_file, "deals", path, "--team", "East") == 0
    assert capsys.readouterr().out.startswith(
        "Imported 3 rows: 3 created, 0 updated, 0 unchanged, 0 left deleted.\n"
    )
    assert deals(engine) == [
        (1, "hs-1", "alice", 1_250_000, "won", "Acme Corp"),
        (2, "hs-2", "bob", 123_456, "won", "Globex"),
        (3, "hs-3", "bob", 3_000_000, "negotiation", "Initech"),
    ]
    # Owners by email: one users.lookupByEmail for alice, with the bot token.
    lookups = [c.params["email"] for c in fake.called("users.lookupByEmail")]
    assert lookups == ["alice@example.com", "alice@example.com"]  # once per run (dry, real)
    # The same file again changes nothing.
    assert pacer_import(env_file, "deals", path, "--team", "East") == 0
    assert capsys.readouterr().out.startswith(
        "Imported 3 rows: 0 created, 0 updated, 3 unchanged, 0 left deleted.\n"
    )
    with Session(engine) as s:
        assert len(s.exec(select(AuditEntry).where(AuditEntry.entity == "deal")).all()) == 3
        rev = queries.totals_by_owner(
            s, workspace_id="T1", start=date(2026, 11, 1), end=date(2026, 11, 30), team_id=1
        )
        assert sorted(rev.values()) == [(123_456, 1), (1_250_000, 1)]


def test_an_edited_file_updates_the_deals_it_changed_audited_as_an_import(
    team: Run, engine: Engine, env_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pacer_import(env_file, "deals", write(tmp_path, HEADER + ROWS), "--team", "East")
    edited = ROWS.replace("30000,,2026-12-15,Contract Sent", "32000,,2026-12-15,Closed Won")
    assert pacer_import(env_file, "deals", write(tmp_path, HEADER + edited), "--dry-run") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-3:] == [
        "Dry run of 3 rows: 0 would be created, 1 updated, 2 left unchanged, 0 left deleted. "
        "Nothing was written.",
        "• bob: 0 new, 1 updated, won revenue +$32,000",
        "Run it again without `--dry-run` to import.",
    ]
    assert pacer_import(env_file, "deals", write(tmp_path, HEADER + edited)) == 0
    assert deals(engine)[2] == (3, "hs-3", "bob", 3_200_000, "won", "Initech")
    with Session(engine) as s:
        trail = queries.audit_trail(s, workspace_id="T1", entity="deal", entity_id=3)
        assert [(e.action, e.source, e.actor) for e in trail] == [
            ("create", "import", "cli"),
            ("update", "import", "cli"),
        ]
        assert json.loads(trail[1].before or "{}")["amount_minor"] == 3_000_000


def test_a_file_with_errors_writes_nothing_and_names_each(
    team: Run, engine: Engine, env_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = (
        "hs-4,Umbrella,9000,EUR,2026-11-20,Closed Won,alice@example.com,Umbrella\n"
        "hs-5,Hooli,500,USD,2026-11-20,Verbal Yes,carol,Hooli\n"
        "hs-6,Stark,12.345,USD,2026-11-20,won,zoe@example.com,Stark\n"
        "hs-1,Acme again,100,USD,2026-11-20,won,bob,Acme\n"
    )
    code = pacer_import(env_file, "deals", write(tmp_path, HEADER + ROWS + bad), "--team", "East")
    assert code == 1
    out = capsys.readouterr().out
    assert out == (
        "The file has 6 errors:\n"
        "• line 5, Currency “EUR”: the deal is in EUR, team East counts in USD\n"
        "• line 6, Deal Stage “Verbal Yes”: unknown stage “Verbal Yes”: map it to one of "
        "lead, qualified, proposal, negotiation, won, lost (`--stages` file, or the import form's"
        " Stage names)\n"
        "• line 6, Deal owner “carol”: no member of the team is called “carol”\n"
        "• line 7, Amount “12.345”: “12.345” has more decimals than your team's currency "
        "allows.\n"
        "• line 7, Deal owner “zoe@example.com”: zoe@example.com is Slack member UZOE, who is "
        "on no Pacer team yet: add them with `/pacer setup team add`\n"
        "• line 8, Record ID “hs-1”: “hs-1” is on line 2 already\n"
        "Nothing was written: fix the file and import it again.\n"
    )
    assert deals(engine) == []


def test_a_stages_file_maps_custom_stages(
    team: Run, engine: Engine, env_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = "hs-5,Hooli,500,USD,2026-11-20,Verbal Yes,bob,Hooli\n"
    stages = write(tmp_path, "# ours\nVerbal Yes = negotiation\n", "stages.txt")
    path = write(tmp_path, HEADER + row)
    assert pacer_import(env_file, "deals", path, "--team", "East", "--stages", stages) == 0
    assert deals(engine) == [(1, "hs-5", "bob", 50_000, "negotiation", "Hooli")]


def test_without_a_team_the_owners_home_team_and_a_salesforce_report(
    team: Run, engine: Engine, env_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = (
        '"Opportunity ID","Opportunity Name","Account Name","Amount","Close Date","Stage",'
        '"Probability (%)","Opportunity Owner"\r\n'
        '"006A1","Acme expansion","Acme Corp","$1,234.56","20/11/2026","Closed Won","100%",'
        '"Alice"\r\n'
        '"006A2","Initech","Initech","$5,000.00","05/11/2026","Discovery","20%","bob"\r\n'
        "\r\n"
        '"Grand Totals (2 records)"\r\n'
        '"Confidential Information - Do Not Distribute"\r\n'
    )
    assert pacer_import(env_file, "deals", write(tmp_path, "\ufeff" + report)) == 0
    assert deals(engine) == [
        (1, "006A1", "alice", 123_456, "won", "Acme Corp"),
        (2, "006A2", "bob", 500_000, "lead", "Initech"),
    ]
    with Session(engine) as s:
        assert [d.close_date.isoformat() for d in s.exec(select(Deal)).all()] == [
            "2026-11-20",
            "2026-11-05",
        ]


def test_ambiguous_dates_are_refused_for_the_file(
    team: Run, engine: Engine, env_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "hs-1,Acme,100,USD,11/05/2026,won,bob,Acme\n"
    path = write(tmp_path, HEADER + rows)
    assert pacer_import(env_file, "deals", path) == 1
    assert "could be month-first or day-first (line 2: “11/05/2026”)" in capsys.readouterr().out
    assert pacer_import(env_file, "deals", path, "--date-format", "eu") == 0
    with Session(engine) as s:
        assert s.exec(select(Deal.close_date)).one().isoformat() == "2026-05-11"


def test_pacers_own_export_round_trips_by_external_id_and_by_number(
    team: Run, engine: Engine, env_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert team("UALICE", "/deal", "2500 Typed Co").ok  # #1, typed in Slack
    pacer_import(env_file, "deals", write(tmp_path, HEADER + ROWS), "--team", "East")  # #2-#4
    header = (
        "number,external_id,close_date,customer,amount,currency,stage,owner_email,owner,"
        "owner_id,team,product,region,note,source,created_at,deleted\n"
    )
    export = (
        "1,,2026-11-25,Typed Co,2500.00,USD,won,,alice,UALICE,East,,,,slash,x,false\n"
        "2,hs-1,2026-11-20,Acme Corp,12500.00,USD,won,,alice,UALICE,East,,,Acme 50 seats,"
        "import,x,false\n"
    )
    path = write(tmp_path, header + export)
    assert pacer_import(env_file, "deals", path) == 0
    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    # An edit of the typed deal updates #1 itself, matched by its number.
    edited = export.replace("Typed Co,2500.00", "Typed Co,2600.00")
    assert pacer_import(env_file, "deals", write(tmp_path, header + edited)) == 0
    assert "0 created, 1 updated, 1 unchanged" in capsys.readouterr().out
    assert deals(engine)[0] == (1, None, "alice", 260_000, "won", "Typed Co")
    assert len(deals(engine)) == 4
    # A number this workspace never gave is an error, not a new deal.
    missing = "99,,2026-11-25,Ghost,10.00,USD,won,,alice,UALICE,East,,,,slash,x,false\n"
    assert pacer_import(env_file, "deals", write(tmp_path, header + missing)) == 1
    assert "line 2, number “99”: no deal #99 in this workspace" in capsys.readouterr().out


def test_a_name_two_members_share_is_an_error(
    team: Run, engine: Engine, env_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    team("UADMIN", "/pacer", "setup team add East <@UBOB2|bob>")
    assert pacer_import(env_file, "deals", write(tmp_path, HEADER + ROWS), "--team", "East") == 1
    out = capsys.readouterr().out
    assert "line 3, Deal owner “Bob”: “Bob” could be bob (UBOB), bob (UBOB2)" in out
    assert "The file has 2 errors:" in out


def test_the_workspace_must_be_named_when_there_are_several(
    team: Run, engine: Engine, env_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    team("UADMIN", "/pacer", "help", workspace="T2")
    assert pacer_import(env_file, "deals", write(tmp_path, HEADER + ROWS)) == 2
    assert "give --workspace T… (workspaces: T1, T2)" in capsys.readouterr().err
    assert pacer_import(env_file, "deals", write(tmp_path, HEADER + ROWS), "--workspace", "T1") == 0
