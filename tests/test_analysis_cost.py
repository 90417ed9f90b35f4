"""What funnel, trend, mix and why read: as many statements with 2 reps and a few deals as
with 14 reps and ten times the deals (issue 12: queries per request do not grow)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from tests.conftest import ADMIN, Run

ASKS = [
    ("UMIA", "/pacer", "funnel team East 2026-11"),
    ("UALICE", "/pacer", "funnel"),
    ("UMIA", "/pacer", "trend team East months 6"),
    ("UMIA", "/pacer", "trend team East new_customers months 6"),
    ("UALICE", "/pacer", "trend deals"),
    ("UMIA", "/pacer", "mix team East by customer"),
    ("UALICE", "/pacer", "mix by product"),
    ("UMIA", "/progress", "why team East"),
    ("UALICE", "/progress", "why"),
]


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def deals(team: Run, user: str, n: int) -> None:
    for i in range(n):
        stage = ("won", "proposal", "lost")[i % 3]
        day = f"2026-11-{1 + i % 20:02d}"
        text = f"{1000 + i} Customer{i % 7} product:P{i % 5} stage:{stage} close:{day}"
        assert team(user, "/deal", text).ok


def statements(team: Run, engine: Engine) -> dict[str, int]:
    found = {}
    for user, command, text in ASKS:
        with counted(engine) as seen:
            reply = team(user, command, text)
        assert reply.ok, reply.text
        found[f"{command} {text}"] = len(seen)
    return found


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_statements_do_not_grow_with_reps_or_deals(team: Run, engine: Engine) -> None:
    assert team("UMIA", "/goal", "set team East 100000 2026-11").ok
    assert team("UMIA", "/goal", "set <@UALICE|alice> 50000 2026-11").ok
    assert team("UMIA", "/goal", "set <@UALICE|alice> 20 2026-11 deals").ok
    assert team("UMIA", "/goal", "set team East 30 2026-11 new_customers").ok
    deals(team, "UALICE", 3)
    deals(team, "UBOB", 3)
    few = statements(team, engine)
    others = [f"<@UREP{i}|rep{i}>" for i in range(12)]
    assert team(ADMIN, "/pacer", "setup team add East " + " ".join(others)).ok
    deals(team, "UALICE", 30)
    for i in range(12):
        deals(team, f"UREP{i}", 3)
    many = statements(team, engine)
    assert many == few
    assert min(few.values()) >= 3  # the request's own reads (member, team, ...) and the command's
