"""`pacer backup` and `pacer restore`: every row as JSON lines, from SQLite into PostgreSQL
(or SQLite), compared table by table and by the replies of the same commands on both.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlmodel import SQLModel

from bot.cli import main
from commands.router import dispatch, in_scope
from commands.types import Reply, Request
from storage import backup, slack_tables
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import Integration
from tests.conftest import ADMIN, NOW, _drop, _postgres_engine

ALICE, BOB, MIA = "<@UALICE|alice>", "<@UBOB|bob>", "<@UMIA|mia>"


def run(engine: Engine, user: str, command: str, text_: str = "", ws: str = "T1") -> Reply:
    req = Request(
        workspace_id=ws,
        user_id=user,
        text=text_,
        now=NOW,
        locale="en-US",
        admin_ids=frozenset({ADMIN}),
    )
    return in_scope(engine, command, text_, lambda s: dispatch(command, req, s))


SETUP = [
    (ADMIN, "/pacer", "setup team create East <#CEAST|sales-east> tz:America/New_York"),
    (ADMIN, "/pacer", f"setup team add East {ALICE} {BOB}"),
    (ADMIN, "/pacer", f"setup team add East {MIA} as:manager"),
    (ADMIN, "/pacer", "setup team create West currency:JPY tz:Asia/Tokyo"),
    (ADMIN, "/pacer", "setup team add West <@UCAROL|carol>"),
    (ADMIN, "/pacer", "setup holidays add 2026-12-24 team:East"),
    (ADMIN, "/goal", "set team East 300000 2026-Q4"),
    (ADMIN, "/goal", "split 1 months even"),  # November and December: October is over
    (ADMIN, "/goal", f"set {ALICE} 60000 2026-11"),
    (ADMIN, "/goal", f"set {BOB} 40000 2026-11"),
    ("UALICE", "/deal", "12,500 Acme Corp date:2026-11-20 product:CRM"),
    ("UALICE", "/deal", "7,250.50 Beta LLC date:2026-11-03 note:=risky"),
    ("UBOB", "/deal", "30k Gamma date:2026-11-24"),
    ("UBOB", "/deal", "5k Delta stage:proposal date:2026-11-28"),
    ("UALICE", "/deal", "edit 2 8,000"),  # an audit entry with before and after
    ("UBOB", "/deal", "delete 4"),
    ("UALICE", "/deal", "paid 1 5,000 date:2026-11-21"),
    ("UBOB", "/deal", "paid 3 date:2026-11-24"),
    ("UCAROL", "/deal", "123456 Tokyo KK date:2026-11-10"),
    ("UALICE", "/goal", "feedback 4 Two of my accounts moved to Bob propose:50000"),
    ("UMIA", "/goal", "adjust 5 45000 reason:took over accounts"),
    # A second workspace, with its own numbers.
    (ADMIN, "/pacer", "setup team create North currency:CNY"),
    (ADMIN, "/pacer", "setup team add North <@UZED|zed>"),
    ("UZED", "/deal", "8万 Shanghai Co date:2026-11-12"),
]
T2_FROM = SETUP.index((ADMIN, "/pacer", "setup team create North currency:CNY"))

# The commands whose replies must read the same on both databases (the last one writes:
# the next numbers and ids continue where the backup left off).
COMMANDS = [
    ("UALICE", "/progress", ""),
    ("UALICE", "/progress", "2026-Q4"),
    ("UMIA", "/leaderboard", "team East"),
    ("UMIA", "/leaderboard", "team East by deals"),
    (ADMIN, "/goal", "tree team East 2026-Q4"),
    ("UALICE", "/goal", ""),
    ("UALICE", "/deal", "list"),
    (ADMIN, "/goal", "history 5"),
    ("UALICE", "/goal", "feedback show 1"),
    ("UMIA", "/goal", "review"),
    (ADMIN, "/pacer", "setup show"),
    (ADMIN, "/pacer", "setup holidays list team:East"),
    ("UALICE", "/deal", "1,000 New Customer Co date:2026-11-25"),
    ("UALICE", "/deal", "paid 6 500"),
    (ADMIN, "/goal", f"set {ALICE} 70000 2026-12"),
]


def build(engine: Engine) -> None:
    for i, (user, command, text_) in enumerate(SETUP):
        reply = run(engine, user, command, text_, ws="T2" if i >= T2_FROM else "T1")
        assert reply.ok, (command, text_, reply.text)
    with session_scope(engine) as session:
        session.add(
            Integration(workspace_id="T1", name="hubspot", token_hash="a" * 64, created_by=ADMIN)
        )
    with engine.begin() as conn:
        conn.execute(
            insert(slack_tables.installations).values(
                client_id="C1",
                app_id="A1",
                team_id="T1",
                bot_token="xoxb-secret-token",
                user_id=ADMIN,
                is_enterprise_install=False,
                installed_at=datetime(2026, 11, 1, 9, 0),
            )
        )


def rows(engine: Engine, *, skip: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows as JSON-safe dicts, in primary key order."""
    found: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in skip:
                continue
            query = select(table).order_by(*table.primary_key.columns)
            found[table.name] = [
                {k: backup._json(v) for k, v in r.items()} for r in conn.execute(query).mappings()
            ]
    return found


def untimed(found: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows without the times written by the clock (updated_at, a delivery's own, and
    the audit's snapshots, which hold them)."""
    clock = {"updated_at", "created_at", "at", "sent_at", "deleted_at", "answered_at"}
    clock |= {"before", "after"}
    return {
        t: [{k: v for k, v in r.items() if k not in clock} for r in rs] for t, rs in found.items()
    }


def replies(engine: Engine) -> list[str]:
    answers = [run(engine, user, command, text_) for user, command, text_ in COMMANDS]
    assert all(a.ok for a in answers), [a.text for a in answers if not a.ok]
    assert answers[-3].text.startswith("✅ Logged deal `#6`")  # T1's numbers go on
    return [a.text for a in answers]


def dump(engine: Engine, **kwargs: Any) -> str:
    out = io.StringIO()
    backup.backup(engine, out, now=NOW, **kwargs)
    return out.getvalue()


@pytest.fixture
def source(db: Engine) -> Engine:
    build(db)
    return db


@pytest.fixture
def fresh_postgres() -> Any:
    eng, schema = _postgres_engine()  # an empty schema: no tables yet
    yield eng
    _drop(eng, schema)


def empty_sqlite(tmp_path: Path, name: str = "restored.db") -> Engine:
    return make_engine(f"sqlite:///{tmp_path / name}")  # a new file: not even migrated


SECRETS = (slack_tables.INSTALLATIONS, slack_tables.BOTS, slack_tables.OAUTH_STATES)


@pytest.mark.postgres
def test_sqlite_restored_into_postgresql_holds_every_row_and_answers_the_same(
    source: Engine, fresh_postgres: Engine
) -> None:
    saved = dump(source)
    header = json.loads(saved.splitlines()[0])
    assert header == {
        "pacer_backup": 1,
        "revision": "0021",
        "workspaces": ["T1", "T2"],
        "secrets": False,
        "created_at": "2026-11-25T15:00:00+00:00",
    }
    assert "xoxb-secret-token" not in saved  # OAuth tokens stay out unless asked

    summary = backup.restore(fresh_postgres, io.StringIO(saved))

    before, after = rows(source, skip=SECRETS), rows(fresh_postgres, skip=SECRETS)
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
    for table in before:
        assert after[table] == before[table], table
    assert summary.total == sum(len(r) for r in before.values())
    for table in ("deal", "goal", "payment", "feedback", "auditentry", "customer", "repday"):
        assert before[table], f"the test builds no {table} row"
    assert dump(fresh_postgres) == saved  # backed up again, the same file line for line
    assert replies(fresh_postgres) == replies(source)
    # The same writes on both (the same numbers and ids), but at this test's own clock.
    assert untimed(rows(fresh_postgres, skip=SECRETS)) == untimed(rows(source, skip=SECRETS))


def test_sqlite_to_sqlite_with_secrets_through_the_command_line(
    source: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(source.url)
    env = tmp_path / ".env"
    env.write_text(f"DATABASE_URL={url}\n")
    file = tmp_path / "pacer.jsonl"
    main(["--env-file", str(env), "backup", str(file), "--with-secrets"])
    assert "rows of T1, T2 written to" in capsys.readouterr().out
    assert "xoxb-secret-token" in file.read_text()

    target = tmp_path / "target.db"
    env.write_text(f"DATABASE_URL=sqlite:///{target}\n")
    main(["--env-file", str(env), "restore", str(file)])
    assert "restored from" in capsys.readouterr().out

    restored = make_engine(f"sqlite:///{target}")
    assert rows(restored) == rows(source)
    assert replies(restored) == replies(source)
    restored.dispose()


def test_a_database_with_rows_is_refused_naming_the_table(source: Engine, tmp_path: Path) -> None:
    saved = dump(source)
    target = empty_sqlite(tmp_path)
    upgrade(target)
    assert run(target, ADMIN, "/pacer", "setup team create Lonely").ok  # a workspace first

    with pytest.raises(backup.BackupError) as refused:
        backup.restore(target, io.StringIO(saved))

    assert str(refused.value) == (
        "the database is not empty: table workspace holds rows. Restore into a new, empty database"
    )
    with target.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM deal")).scalar() == 0


def test_another_revision_is_refused_and_nothing_is_written(source: Engine, tmp_path: Path) -> None:
    lines = dump(source).splitlines(keepends=True)
    header = json.loads(lines[0]) | {"revision": "0017"}
    target = empty_sqlite(tmp_path)

    with pytest.raises(backup.BackupError) as refused:
        backup.restore(target, io.StringIO(json.dumps(header) + "\n" + "".join(lines[1:])))

    assert str(refused.value) == (
        "the backup is at schema revision 0017, this Pacer at 0021: restore it with the "
        "Pacer version whose migrations end at 0017, then start this version, which "
        "migrates the database"
    )


def test_a_bad_row_rolls_the_whole_restore_back(source: Engine, tmp_path: Path) -> None:
    saved = dump(source) + json.dumps({"table": "deal", "row": {"id": 1}}) + "\n"  # a clash
    target = empty_sqlite(tmp_path)

    with pytest.raises(Exception):  # noqa: B017  (the database's own integrity error)
        backup.restore(target, io.StringIO(saved))

    assert all(not r for r in rows(target).values())  # all or nothing


def test_one_workspace_only(source: Engine, tmp_path: Path) -> None:
    saved = dump(source, workspace="T2")
    target = empty_sqlite(tmp_path)

    backup.restore(target, io.StringIO(saved))

    got = rows(target)
    assert [w["id"] for w in got["workspace"]] == ["T2"]
    for table, found in got.items():
        owners = {r.get("workspace_id") for r in found} - {None}
        assert owners <= {"T2"}, table
    assert [(d["number"], d["customer"]) for d in got["deal"]] == [(1, "Shanghai Co")]
    [membership] = got["membership"]
    [team] = got["team"]
    assert membership["team_id"] == team["id"]
    assert got[slack_tables.INSTALLATIONS] == []  # no secrets, and not T2's anyway
    assert (
        run(target, "UZED", "/deal", "list", ws="T2").text
        == run(source, "UZED", "/deal", "list", ws="T2").text
    )


def test_an_unknown_workspace_is_refused(source: Engine) -> None:
    with pytest.raises(backup.BackupError, match="no workspace T9 in the database"):
        dump(source, workspace="T9")


def test_times_dates_and_big_integers_are_json_safe(source: Engine) -> None:
    lines = [json.loads(line) for line in dump(source).splitlines()[1:]]
    deal = next(r["row"] for r in lines if r["table"] == "deal")
    assert deal["close_date"] == "2026-11-20"
    assert deal["created_at"] == "2026-11-25T15:00:00+00:00"
    assert deal["amount_minor"] == 1_250_000
    assert datetime.fromisoformat(deal["updated_at"]).tzinfo == UTC
