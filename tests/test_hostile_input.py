"""Hostile input through dispatch, on SQLite and PostgreSQL alike: a short error naming the
problem, seen only by the sender, and nothing written. Never "Something went wrong"."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from commands.i18n import t
from commands.registry import FORM_BY_ID
from commands.router import dispatch, submit
from commands.types import Request
from storage.engine import session_scope
from tests.conftest import ADMIN, NOW, Run

MIA = "UMIA"
LONG_CHANNEL = "C" + "A" * 40
BIG = str(2**64)

HOSTILE = [
    # ids beyond 64 bits, and digits that str.isdigit() takes but int() refuses or misreads
    (MIA, "/goal", f"adjust {BIG} 110000"),
    (MIA, "/goal", "adjust 99999999999999999999999999999999999999 110000"),
    (MIA, "/goal", "adjust ² 110000"),
    (MIA, "/goal", "adjust ١ 110000"),
    (MIA, "/goal", "history ¹"),
    ("UALICE", "/deal", "delete ²"),
    ("UALICE", "/deal", f"edit {BIG} 13000"),
    ("UALICE", "/deal", "stage ١٢ proposal"),
    ("UALICE", "/deal", "١٢٥٠٠ Acme Corp"),
    (ADMIN, "/pacer", "setup fiscal-start ²"),
    (ADMIN, "/pacer", "setup fiscal-start ٤"),
    (ADMIN, "/pacer", "setup celebrations East ³"),
    # count targets: not a number, not finite, or beyond any team's deals
    (MIA, "/goal", "set team East NaN month deals"),
    (MIA, "/goal", "set team East sNaN month deals"),
    (MIA, "/goal", "set team East Infinity month deals"),
    (MIA, "/goal", "set team East -Infinity month deals"),
    (MIA, "/goal", "set team East 1e30 month deals"),
    (MIA, "/goal", "set team East 10000000000000000000000 month deals"),
    # periods and dates whose days run past the calendar
    (MIA, "/goal", "set @alice 120000 9999-W52"),
    (MIA, "/goal", "set @alice 120000 9999-W53"),
    (MIA, "/goal", "set @alice 120000 9999-12"),
    (MIA, "/goal", "set @alice 120000 9999-Q4"),
    (MIA, "/goal", "set @alice 120000 9999"),
    (MIA, "/goal", "set @alice 120000 0001-W01"),
    (MIA, "/goal", "set @alice 120000 ٢٠٢٦-Q4"),
    ("UALICE", "/progress", "9999-W52"),
    ("UALICE", "/leaderboard", "9999-12"),
    ("UALICE", "/deal", "12500 Acme stage:lead date:9999-12-31"),
    ("UALICE", "/deal", "12500 Acme date:0001-01-01"),
    # amounts with a sign, exponents or a multiplier past the ceiling, in every command
    ("UALICE", "/deal", "-1e999 Acme"),
    ("UALICE", "/deal", "edit 2 −100"),
    ("UALICE", "/deal", "edit 2 amount:-0"),
    ("UALICE", "/deal", "paid 2 -5 k"),
    ("UALICE", "/deal", "99999999 亿 Acme"),
    (MIA, "/goal", "set @alice -5 万 2026-Q4"),
    (MIA, "/goal", "adjust 1 -110000 reason:typo"),
    (ADMIN, "/pacer", "setup threshold East −1"),
    # periods and dates named relative to today or written in other forms, out of range
    (MIA, "/goal", "set @alice 120000 last"),
    (MIA, "/goal", "copy last month to 9999-W53"),
    ("UALICE", "/deal", "12500 Acme close:1899-12-31"),
    ("UALICE", "/deal", "12500 Acme stage:lead date:3000年1月1日"),
    ("UALICE", "/deal", "12500 Acme date:20261301"),
    # options the command does not take, and stages no language has
    ("UALICE", "/deal", "12500 Acme foo:bar"),
    ("UALICE", "/deal", "edit 2 stage:proposal closing:2026-12-20"),
    ("UALICE", "/deal", "stage 2 赢"),
    (MIA, "/goal", "feedback 1 too high proposal:100000"),
    # split weights beyond what Decimal arithmetic holds
    (MIA, "/goal", "split 1 months weights:1e999999999,1,1"),
    (MIA, "/goal", "split 1 months weights:1e-999999999,1e-999999999,1e-999999999"),
    (MIA, "/goal", "split 1 months weights:NaN,1,1"),
    # NUL and lone surrogates: PostgreSQL refuses what SQLite stores
    ("UALICE", "/deal", "12500 Acme\x00Corp"),
    ("UALICE", "/deal", "12500 Acme Corp note:a\x00b"),
    ("UALICE", "/deal", "12500 Acme \ud800"),
    (ADMIN, "/pacer", "setup team create We\x00st"),
    (MIA, "/goal", "adjust 1 110000 reason:typo\x00"),
    ("UALICE", "/goal", "feedback 1 too\x00high"),
    # channel ids wider than their column
    (ADMIN, "/pacer", f"setup team create West channel:{LONG_CHANNEL}"),
    (ADMIN, "/pacer", f"setup team create West <#{LONG_CHANNEL}|west>"),
    (ADMIN, "/pacer", f"setup team set East channel:{LONG_CHANNEL}"),
]


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table.name: int(conn.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one())
            for table in SQLModel.metadata.sorted_tables
        }


@pytest.fixture
def workspace(team: Run) -> Run:
    """Team East with a Q4 goal `#1` for the team and a deal for alice."""
    for user, command, text_ in [
        (MIA, "/goal", "set team East 300000 2026-Q4"),
        ("UALICE", "/deal", "12500 Acme Corp"),
    ]:
        reply = team(user, command, text_)
        assert reply.ok, reply.text
    return team


@pytest.mark.parametrize(("user", "command", "text_"), HOSTILE)
def test_hostile_input_is_refused_and_writes_nothing(
    engine: Engine, workspace: Run, user: str, command: str, text_: str
) -> None:
    before = row_counts(engine)
    reply = workspace(user, command, text_)
    assert not reply.ok, reply.text
    assert reply.text != t("en-US", "error.internal")
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"channel_id": LONG_CHANNEL},
        {"channel_id": "C\x00EAST"},
        {"user_id": "U" + "A" * 40},
        {"workspace_id": "T" + "1" * 40},
        {"user_name": "ali\x00ce"},
    ],
)
def test_hostile_request_fields_are_refused(
    engine: Engine, workspace: Run, fields: dict[str, str]
) -> None:
    values = {"workspace_id": "T1", "user_id": "UALICE", "text": "12500 Acme Corp"} | fields
    req = Request(now=NOW, locale="en-US", admin_ids=frozenset({ADMIN}), **values)  # type: ignore[arg-type]
    before = row_counts(engine)
    with session_scope(engine) as session:
        reply = dispatch("/deal", req, session)
    assert not reply.ok, reply.text
    assert reply.text != t("en-US", "error.internal")
    assert row_counts(engine) == before


@pytest.mark.parametrize("callback_id", sorted(FORM_BY_ID))
@pytest.mark.parametrize(
    ("values", "lists"),
    [
        ({"customer": "Acme\x00", "_metadata": ""}, {}),
        ({"_metadata": ""}, {"members": ["U\ud800"]}),
    ],
)
def test_form_values_that_one_database_refuses_are_refused_by_both(
    engine: Engine,
    workspace: Run,
    callback_id: str,
    values: dict[str, str],
    lists: dict[str, list[str]],
) -> None:
    req = Request(workspace_id="T1", user_id=ADMIN, text="", now=NOW, locale="en-US")
    before = row_counts(engine)
    with session_scope(engine) as session:
        result = submit(callback_id, values, lists, req, session)
    assert result.reply is not None and not result.reply.ok
    assert result.reply.text == t("en-US", "error.bad_text")
    assert row_counts(engine) == before
