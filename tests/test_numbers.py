"""Deals, goals and feedback are numbered per workspace: `#1`, `#2` in each, so no workspace
learns how busy the others are, and a number typed or pressed in one workspace never
reaches a row of another. Concurrent writes get distinct numbers; migration 0007 numbers
the rows already there."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from commands import feedback, router
from commands.i18n import t
from commands.types import Reply, Request
from storage.engine import make_engine, session_scope
from storage.migrate import downgrade, upgrade
from storage.models import Deal, Feedback, Goal, Member, Team
from tests.conftest import ADMIN, NOW, Run, _drop, _postgres_engine

ALICE = "<@UALICE|alice>"


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def described(amount: str, customer: str) -> str:
    return f"*{amount}* — {customer} {en('deal.on_date', date='2026-11-25')}"


def set_up(run: Callable[..., Reply], workspace: str) -> None:
    """Team East with rep alice and manager mia; the same user ids in every workspace."""
    for words in (
        "team create East",
        "team add East <@UALICE|alice>",
        "team add East <@UMIA|mia> as:manager",
    ):
        assert run(ADMIN, "/pacer", f"setup {words}", workspace=workspace).ok, words


def first_line(reply: Reply) -> str:
    return reply.text.splitlines()[0]


def amounts(engine: Engine, workspace: str) -> dict[int, int]:
    """Each live deal's amount by its number, in one workspace."""
    with Session(engine) as s:
        rows = s.exec(
            select(Deal).where(Deal.workspace_id == workspace, col(Deal.deleted_at).is_(None))
        ).all()
    return {d.number: d.amount_minor for d in rows}


def test_each_workspace_numbers_its_own_deals_goals_and_feedback(run: Run, engine: Engine) -> None:
    set_up(run, "TA")
    set_up(run, "TB")
    # Interleaved, so one global sequence would give TA #1, #3 and TB #2, #4.
    for number, amount, customer in ((1, "1,000", "Acme"), (2, "2,000", "Globex")):
        for workspace in ("TA", "TB"):
            reply = run("UALICE", "/deal", f"{amount} {customer}", workspace=workspace)
            assert first_line(reply) == en(
                "deal.logged", id=number, deal=described(f"${amount}", customer)
            )
    for workspace in ("TA", "TB"):
        reply = run("UMIA", "/goal", f"set {ALICE} 50000 month", workspace=workspace)
        assert reply.text == en(
            "goal.created", id=1, who="alice", target="$50,000", period="2026-11"
        )
        reply = run("UALICE", "/goal", "feedback 1 Too high", workspace=workspace)
        assert first_line(reply) == en("feedback.sent", id=1, goal=1, who="<@UMIA>")
        listed = run("UALICE", "/deal", "list", workspace=workspace).text.splitlines()
        assert [line.split()[0] for line in listed[1:3]] == ["`#2`", "`#1`"]


def test_deal_edit_1_in_one_workspace_never_touches_the_others(run: Run, engine: Engine) -> None:
    set_up(run, "TA")
    set_up(run, "TB")
    assert run("UALICE", "/deal", "1,000 Acme", workspace="TA").ok
    assert run("UALICE", "/deal", "5,000 Initech", workspace="TB").ok
    edited = run("UALICE", "/deal", "edit 1 7,000", workspace="TB")
    assert edited.text.splitlines()[0] == en(
        "deal.edited", id=1, deal=described("$7,000", "Initech")
    )
    assert amounts(engine, "TA") == {1: 100_000}
    assert amounts(engine, "TB") == {1: 700_000}
    # TB has no #2: TA's #2 is never reached.
    assert run("UALICE", "/deal", "1,500 Hooli", workspace="TA").ok
    refused = run("UALICE", "/deal", "delete 2", workspace="TB")
    assert refused.text == en("error.no_such_deal", id="2")
    assert amounts(engine, "TA") == {1: 100_000, 2: 150_000}


def press(engine: Engine, workspace: str, user: str, action_id: str, value: str) -> Reply:
    req = Request(
        workspace_id=workspace, user_id=user, text="", now=NOW, admin_ids=frozenset({ADMIN})
    )
    with session_scope(engine) as s:
        return router.action(action_id, value, req, s)


def test_a_button_value_from_one_workspace_never_reaches_another(run: Run, engine: Engine) -> None:
    set_up(run, "TA")
    set_up(run, "TB")
    for customer in ("Acme", "Globex"):
        assert run("UALICE", "/deal", f"1,000 {customer}", workspace="TA").ok
    assert run("UMIA", "/goal", f"set {ALICE} 50000 month", workspace="TA").ok
    assert run("UALICE", "/goal", "feedback 1 Too high propose:40000", workspace="TA").ok
    assert run("UALICE", "/deal", "3,000 Initech", workspace="TB").ok
    # TA's buttons carry "2" (a deal) and "1" (a feedback); pressed in TB, as an admin.
    gone = press(engine, "TB", ADMIN, "deal_delete", "2")
    assert gone.text == en("error.no_such_deal", id="2")
    unknown = press(engine, "TB", ADMIN, feedback.ACCEPT, "1")
    assert unknown.text == en("feedback.no_feedback", id="1")
    deleted = press(engine, "TB", ADMIN, "deal_delete", "1")  # TB's own #1
    assert deleted.text == en("deal.deleted", id=1, deal=described("$3,000", "Initech"))
    assert amounts(engine, "TA") == {1: 100_000, 2: 100_000}
    assert amounts(engine, "TB") == {}
    with Session(engine) as s:
        assert [f.status for f in s.exec(select(Feedback)).all()] == ["open"]
        assert [g.target for g in s.exec(select(Goal)).all()] == [5_000_000]


# --- at once, in separate sessions ---------------------------------------------------------------


@pytest.fixture(params=["sqlite-file", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine several threads really share, with East in TA and TB."""
    if request.param == "sqlite-file":
        eng = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
        schema = None
    else:
        eng, schema = _postgres_engine()
    upgrade(eng)
    for workspace in ("TA", "TB"):
        set_up(partial(_run, eng), workspace)
    yield eng
    if schema is None:
        eng.dispose()
    else:
        _drop(eng, schema)


def _run(engine: Engine, user: str, command: str, words: str, workspace: str) -> Reply:
    req = Request(
        workspace_id=workspace,
        user_id=user,
        text=words,
        now=NOW,
        locale="en-US",
        admin_ids=frozenset({ADMIN}),
    )
    with session_scope(engine) as s:
        return router.dispatch(command, req, s)


def at_once(calls: list[Callable[[], Reply]]) -> list[Reply]:
    """Run the calls in threads released together; their replies in order."""
    start = threading.Barrier(len(calls))
    replies: list[Reply | None] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        replies[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in replies if r is not None]


def test_deals_logged_at_once_get_distinct_numbers_in_each_workspace(shared: Engine) -> None:
    # Six deals in each workspace at once. Under READ COMMITTED a `max(number) + 1` would
    # hand the same number to several of them; the counter upsert serialises them.
    logged = [(ws, i) for ws in ("TA", "TB") for i in range(1, 7)]
    replies = at_once(
        [partial(_run, shared, "UALICE", "/deal", f"{i}000 Acme{i}", ws) for ws, i in logged]
    )
    assert [r.ok for r in replies] == [True] * 12, [r.text for r in replies]
    with Session(shared) as s:
        number = {(d.workspace_id, d.customer): d.number for d in s.exec(select(Deal)).all()}
    for ws in ("TA", "TB"):
        assert sorted(n for (w, _), n in number.items() if w == ws) == [1, 2, 3, 4, 5, 6]
    for (ws, i), reply in zip(logged, replies, strict=True):  # each told its own number
        deal = described(f"${i},000", f"Acme{i}")
        assert first_line(reply) == en("deal.logged", id=number[ws, f"Acme{i}"], deal=deal)


def test_a_deal_waits_for_no_other_deals_transaction_on_postgresql(shared: Engine) -> None:
    """Another rep's deal: one rep's own deals of a day (and one customer's) are kept in
    turn on PostgreSQL, so their day's totals and first wins stay right (test_repday.py,
    test_customers.py); numbering holds up no one."""
    if shared.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time by design")
    assert _run(shared, ADMIN, "/pacer", "setup team add East <@UBOB|bob>", "TA").ok
    with session_scope(shared) as open_one:  # numbered, its transaction still open
        first = _deal(open_one, "Slow Ltd")
        done: list[Reply] = []
        other = threading.Thread(
            target=lambda: done.append(_run(shared, "UBOB", "/deal", "1,000 Quick", "TA"))
        )
        other.start()
        other.join(timeout=10)
        assert done and done[0].ok  # written and committed while the first is still open
    with Session(shared) as s:
        numbers = {d.customer: d.number for d in s.exec(select(Deal)).all()}
    assert (first, numbers["Quick"]) == (1, 2)


def test_a_number_taken_by_a_rolled_back_deal_is_not_used_again(shared: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(shared) as s:
        _deal(s, "Gone")
        raise RuntimeError("rolled back")
    assert _run(shared, "UALICE", "/deal", "1,000 Kept", "TA").ok
    with Session(shared) as s:
        [kept] = s.exec(select(Deal)).all()
    # PostgreSQL bumps the counter on its own (a gap, as a sequence leaves); SQLite in the
    # inserting transaction, rolled back with it.
    assert kept.number == (2 if shared.dialect.name == "postgresql" else 1)


def _deal(session: Session, customer: str) -> int:
    """A deal of alice in TA, flushed (so numbered) in `session`; its number."""
    team = session.exec(select(Team).where(Team.workspace_id == "TA")).one()
    member = session.exec(
        select(Member).where(Member.workspace_id == "TA", Member.user_id == "UALICE")
    ).one()
    deal = Deal(
        workspace_id="TA",
        team_id=team.id,
        owner_id=member.id,
        logged_by=member.id,
        amount_minor=100,
        currency="USD",
        customer=customer,
        stage="won",
        close_date=NOW.date(),
        source="slash",
    )
    session.add(deal)
    session.flush()
    return deal.number


# --- migration 0007 -------------------------------------------------------------------------------

OLD = (
    "INSERT INTO workspace (id, name, fiscal_start_month, created_at)"
    " VALUES ('{ws}', '', 1, '2026-01-01 00:00:00')",
    "INSERT INTO member (workspace_id, user_id, name, is_admin, active, notify, created_at)"
    " VALUES ('{ws}', 'U1', 'alice', false, true, true, '2026-01-01 00:00:00')",
    "INSERT INTO team (workspace_id, name, tz, currency, report_hour, behind_pct,"
    " celebrations_per_day, created_at)"
    " VALUES ('{ws}', 'East', 'UTC', 'USD', '09:00', 90, 3, '2026-01-01 00:00:00')",
)
OLD_DEAL = (
    "INSERT INTO deal (workspace_id, team_id, owner_id, logged_by, amount_minor, currency,"
    " customer, stage, close_date, source, created_at, updated_at) VALUES ('{ws}', {n},"
    " {n}, {n}, 100, 'USD', 'Acme', 'won', '2026-11-20', 'slash', '2026-11-20 00:00:00',"
    " '2026-11-20 00:00:00')"
)
OLD_GOAL = (
    "INSERT INTO goal (workspace_id, scope, team_id, metric, period, starts_on, ends_on,"
    " target, created_by, created_at, updated_at) VALUES ('{ws}', 'team', {n}, 'revenue',"
    " '{period}', '{period}-01', '{period}-28', 100, 'U1', '2026-11-01 00:00:00',"
    " '2026-11-01 00:00:00')"
)


def _old_rows(eng: Engine) -> None:
    """TA and TB with deals, goals and feedback written alternately, as one sequence (ids
    from 1 in insertion order: TA's member and team are 1, TB's 2)."""
    with eng.begin() as conn:
        for n, ws in ((1, "TA"), (2, "TB")):
            for statement in OLD:
                conn.execute(text(statement.format(ws=ws, n=n)))
        for n, ws in ((1, "TA"), (2, "TB"), (1, "TA"), (1, "TA")):
            conn.execute(text(OLD_DEAL.format(ws=ws, n=n)))
        for n, ws, period in ((2, "TB", "2026-10"), (1, "TA", "2026-11")):
            conn.execute(text(OLD_GOAL.format(ws=ws, n=n, period=period)))
        conn.execute(
            text(
                "INSERT INTO feedback (workspace_id, goal_id, member_id, text, status,"
                " created_at) VALUES ('TA', 2, 1, 'too high', 'open', '2026-11-02 00:00:00')"
            )
        )


def _numbers(eng: Engine, table: str) -> list[tuple[str, int, int]]:
    with eng.connect() as conn:
        rows = conn.execute(text(f"SELECT workspace_id, id, number FROM {table} ORDER BY id"))
        return [(r[0], r[1], r[2]) for r in rows]


def _migrate_and_check(eng: Engine) -> None:
    upgrade(eng, "0006")
    _old_rows(eng)
    upgrade(eng)
    assert _numbers(eng, "deal") == [("TA", 1, 1), ("TB", 2, 1), ("TA", 3, 2), ("TA", 4, 3)]
    assert _numbers(eng, "goal") == [("TB", 1, 1), ("TA", 2, 1)]
    assert _numbers(eng, "feedback") == [("TA", 1, 1)]
    # New rows continue each workspace's sequence.
    assert _run(eng, ADMIN, "/pacer", "setup team add East <@UALICE|alice>", "TB").ok
    logged = _run(eng, "UALICE", "/deal", "1,000 Hooli", "TB")
    assert first_line(logged) == en("deal.logged", id=2, deal=described("$1,000", "Hooli"))
    downgrade(eng, "0006")
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM deal")).scalar_one() == 5
    upgrade(eng)
    assert _numbers(eng, "deal")[-1] == ("TB", 5, 2)


def test_0007_numbers_existing_rows_per_workspace_on_sqlite(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _migrate_and_check(eng)
    eng.dispose()


@pytest.mark.postgres
def test_0007_numbers_existing_rows_per_workspace_on_postgresql() -> None:
    eng, schema = _postgres_engine()
    try:
        _migrate_and_check(eng)
    finally:
        _drop(eng, schema)
