"""`pacer import goals FILE`: owner (email, @name or team:NAME), period, target, metric, by
/goal set's own rules; all or nothing; the same target again changes nothing, a changed one
is an audited update."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from storage.models import AuditEntry, Goal
from tests.conftest import Run
from tests.test_import_cli import engine, env_file, pacer_import, write  # noqa: F401

GOALS = (
    "owner,period,target,metric\n"
    'alice@example.com,2026-11,"$20,000",\n'
    "@bob,2026-11,15000,revenue\n"
    "team:East,2026-Q4,100000,\n"
    "@bob,2026-11,4,deals\n"
)


def goals(engine: Engine) -> list[tuple[object, ...]]:  # noqa: F811
    with Session(engine) as s:
        rows = s.exec(select(Goal).where(col(Goal.deleted_at).is_(None)).order_by(Goal.number))
        return [(g.number, g.scope, g.member_id, g.period, g.metric, g.target) for g in rows]


def test_goals_import_dry_run_then_once_then_an_adjustment(
    team: Run,
    engine: Engine,  # noqa: F811
    env_file: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write(tmp_path, GOALS, "goals.csv")
    assert pacer_import(env_file, "goals", path, "--dry-run") == 0
    assert capsys.readouterr().out == (
        "Dry run of 4 goals: 4 would be set, 0 changed, 0 left unchanged. Nothing was written.\n"
        "Run it again without `--dry-run` to import.\n"
    )
    assert goals(engine) == []
    assert pacer_import(env_file, "goals", path) == 0
    assert capsys.readouterr().out == "Imported 4 goals: 4 set, 0 changed, 0 unchanged.\n"
    # alice is member 2, bob 3 (the admin who set up the team is 1).
    assert goals(engine) == [
        (1, "rep", 2, "2026-11", "revenue", 2_000_000),
        (2, "rep", 3, "2026-11", "revenue", 1_500_000),
        (3, "team", None, "2026-Q4", "revenue", 10_000_000),
        (4, "rep", 3, "2026-11", "deals", 4),
    ]
    assert pacer_import(env_file, "goals", path) == 0
    assert capsys.readouterr().out == "Imported 4 goals: 0 set, 0 changed, 4 unchanged.\n"
    changed = GOALS.replace("@bob,2026-11,15000", "@bob,2026-11,18000")
    assert pacer_import(env_file, "goals", write(tmp_path, changed, "goals.csv")) == 0
    assert capsys.readouterr().out == "Imported 4 goals: 0 set, 1 changed, 3 unchanged.\n"
    assert goals(engine)[1] == (2, "rep", 3, "2026-11", "revenue", 1_800_000)
    with Session(engine) as s:
        trail = s.exec(
            select(AuditEntry).where(AuditEntry.entity == "goal").order_by(col(AuditEntry.id))
        ).all()
        assert [(e.entity_id, e.action, e.actor) for e in trail] == [
            (1, "create", "cli"),
            (2, "create", "cli"),
            (3, "create", "cli"),
            (4, "create", "cli"),
            (2, "update", "cli"),
        ]
        assert json.loads(trail[-1].before or "{}")["target"] == 1_500_000


def test_a_goals_file_with_errors_writes_nothing(
    team: Run,
    engine: Engine,  # noqa: F811
    env_file: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = GOALS + (
        "@carol,2026-11,1000,\n"
        "team:West,2026-11,1000,\n"
        "@bob,next decade,1000,\n"
        "@bob,2026-12,-5,\n"
        "@bob,2026-12,5,bookings\n"
        "alice@example.com,2026-11,25000,\n"
    )
    assert pacer_import(env_file, "goals", write(tmp_path, bad, "goals.csv")) == 1
    assert capsys.readouterr().out == (
        "The file has 6 errors:\n"
        "• line 6, owner “carol”: no member of the team is called “carol”\n"
        "• line 7, owner “West”: no team “West”\n"
        "• line 8, period “next decade”: “next decade” is not a period (2026, 2026-Q4, "
        "2026-11, 2026-W47, month)\n"
        "• line 9, target “-5”: An amount can't be negative (you typed “-5”). Type it without "
        "the minus sign, e.g. `12500`.\n"
        "• line 10, metric “bookings”: “bookings” is not a metric: use one of revenue, deals, "
        "new_customers, collected\n"
        "• line 11, owner “alice@example.com”: “alice@example.com” is on line 2 already\n"
        "Nothing was written: fix the file and import it again.\n"
    )
    assert goals(engine) == []


def test_missing_columns_are_named(
    team: Run,
    env_file: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write(tmp_path, "owner,target\n@bob,100\n", "goals.csv")
    assert pacer_import(env_file, "goals", path) == 1
    assert capsys.readouterr().out == "This goals file lacks the columns period.\n"
