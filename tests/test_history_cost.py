"""What the collected sums and a lag-job re-run read does not grow with history (issue 10):
the values hand-computed, the cost pinned by query plans and statement counts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine, event, func
from sqlmodel import Session, select

from bot.scheduler import run_team
from storage import queries
from storage.engine import session_scope
from storage.models import Payment
from storage.queries import metrics
from tests import test_jobs
from tests.conftest import Run
from tests.test_jobs import NINE_NY, add_deal, east, east_id, member

# The fixtures of the lag-job tests: team East, alice behind, bob on pace (see test_jobs).
client = test_jobs.client
month = test_jobs.month

NOV = (date(2026, 11, 1), date(2026, 11, 30))


def pay(s: Session, deal_id: int, user_id: str, amount: int, day: date, **extra: Any) -> None:
    team, owner = east(s), member(s, user_id)
    assert team.id is not None and owner.id is not None
    s.add(
        Payment(
            workspace_id="T1",
            deal_id=deal_id,
            team_id=team.id,
            owner_id=owner.id,
            amount_minor=amount,
            paid_on=day,
            logged_by=owner.id,
            **extra,
        )
    )


def payments(engine: Engine) -> int:
    """alice: $1,000 on 12 Nov and $500 on 20 Nov count; $700 on 1 Dec is out of November;
    $300 on 15 Nov was deleted. bob: $2,000 on 14 Nov on a deal deleted since: not counted.
    The team's November: $1,500 = 150,000 minor units. Returns the team id."""
    with session_scope(engine) as s:
        acme = add_deal(s, "UALICE", 600_000, "Acme", date(2026, 11, 10))
        initech = add_deal(s, "UBOB", 900_000, "Initech", date(2026, 11, 12))
        assert acme.id is not None and initech.id is not None
        pay(s, acme.id, "UALICE", 100_000, date(2026, 11, 12))
        pay(s, acme.id, "UALICE", 50_000, date(2026, 11, 20))
        pay(s, acme.id, "UALICE", 70_000, date(2026, 12, 1))
        pay(
            s,
            acme.id,
            "UALICE",
            30_000,
            date(2026, 11, 15),
            deleted_at=datetime(2026, 11, 16, tzinfo=UTC),
        )
        pay(s, initech.id, "UBOB", 200_000, date(2026, 11, 14))
        initech.deleted_at = datetime(2026, 11, 17, tzinfo=UTC)
        s.add(initech)
    return east_id(engine)


def test_collected_leaves_out_deleted_payments_and_deleted_deals(team: Run, engine: Engine) -> None:
    team_id = payments(engine)
    with Session(engine) as s:
        alice, bob = member(s, "UALICE").id, member(s, "UBOB").id
        assert alice is not None and bob is not None
        scope: dict[str, Any] = {"workspace_id": "T1", "start": NOV[0], "end": NOV[1]}
        assert queries.collected(s, **scope, team_id=team_id) == 150_000
        assert queries.collected(s, **scope) == 150_000  # the workspace's, no team given
        assert queries.collected(s, **scope, team_id=team_id, owner_ids=[alice]) == 150_000
        assert queries.collected(s, **scope, team_id=team_id, owner_ids=[bob]) == 0
        days = queries.daily_totals(s, **scope, metric="collected", team_id=team_id)
        assert days == {date(2026, 11, 12): 100_000, date(2026, 11, 20): 50_000}


def test_collected_reads_the_payment_index_alone_and_no_deal_row(team: Run, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # the plan is SQLite's; the values above hold on both
    team_id = payments(engine)
    window = metrics.Window("T1", NOV[0], NOV[1], team_id)
    statement = metrics._paid(select(func.sum(Payment.amount_minor)), window)
    with engine.connect() as conn:
        compiled = statement.compile(dialect=conn.dialect)
        params = tuple(compiled.params[name] for name in compiled.positiontup or [])
        sql = f"EXPLAIN QUERY PLAN {compiled}"
        plan = [row[3] for row in conn.exec_driver_sql(sql, params).all()]
    assert any("COVERING INDEX ix_payment_team_paid_cover" in step for step in plan), plan
    assert any(
        "INDEX ix_deal_deleted (workspace_id=? AND deleted_at>?)" in step for step in plan
    ), plan
    assert not [step for step in plan if step.startswith("SCAN")], plan
    assert not [step for step in plan if "PRIMARY KEY" in step], plan  # no deal row per payment


def test_a_lag_rerun_opens_no_write_for_the_notices_already_recorded(
    month: Engine, client: WebClient
) -> None:
    first = run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()).upper())

    event.listen(month, "before_cursor_execute", note)
    try:
        second = run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    finally:
        event.remove(month, "before_cursor_execute", note)
    # alice's warning and mia's digest: sent once, found recorded by one query the second time.
    assert (first.sent, second.sent, second.skipped) == (2, 0, 2)
    writes = [s for s in seen if s.startswith(("INSERT", "UPDATE", "SAVEPOINT"))]
    assert writes == []
    assert len([s for s in seen if "FROM SENTMESSAGE" in s]) == 2  # suggestions, then sends
