"""The big-deal threshold stays exact when kept per team and day, and /deal reads no history.

The unset threshold is twice the median live won deal of the team's last 90 days, the deal
being judged left out, none with fewer than 5 deals (commands/celebrate.py). It is read
from a per-day band (storage/queries/teamdays.py): these tests pin its values by hand
through every write that can change it, and check that the SQL of a /deal searches an index
and reads the same whatever the history.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from commands import stats
from commands.router import dispatch
from commands.types import Reply, Request
from storage import queries
from storage.engine import session_scope
from storage.models import Deal, Delivery, Goal, Member, SentMessage, Team, TeamDay, Workspace
from storage.queries import teamdays
from tests.conftest import ADMIN, NOW

TODAY = date(2026, 11, 25)
START = TODAY - timedelta(days=89)  # the 90-day window: 2026-08-28 .. 2026-11-25


@pytest.fixture
def east(session: Session) -> tuple[Team, Member]:
    session.add(Workspace(id="T1"))
    session.flush()
    team = Team(workspace_id="T1", name="East")
    alice = Member(workspace_id="T1", user_id="UALICE", name="alice")
    session.add_all([team, alice])
    session.flush()
    return team, alice


def add(s: Session, who: tuple[Team, Member], dollars: int, day: date, **kw: Any) -> Deal:
    """A deal written as /deal writes it (queries.add_deal), `dollars` in whole dollars."""
    team, owner = who
    assert team.id is not None and owner.id is not None
    deal = Deal(
        workspace_id=team.workspace_id,
        team_id=team.id,
        owner_id=owner.id,
        logged_by=owner.id,
        amount_minor=dollars * 100,
        currency="USD",
        customer="Acme",
        close_date=day,
        **kw,
    )
    return queries.add_deal(s, deal=deal, actor="UALICE")


def change(s: Session, deal: Deal, **changes: Any) -> None:
    queries.change_deal(s, deal=deal, actor="UALICE", action="update", changes=changes)


def threshold(s: Session, team: Team, exclude: int = 0, today: date = TODAY) -> int | None:
    """In whole dollars, as the judged deal sees it."""
    assert team.id is not None
    found = queries.twice_median_won(
        s,
        team_id=team.id,
        start=today - timedelta(days=89),
        end=today,
        exclude_id=exclude,
        least=5,
        workspace_id=team.workspace_id,
    )
    return None if found is None else found // 100


def stored_days(s: Session, team: Team) -> list[tuple[date, int]]:
    """(day, deals counted) of the team's kept bands."""
    rows = s.exec(select(TeamDay).where(TeamDay.team_id == team.id)).all()
    return [(r.day, r.count) for r in rows]


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


# --- exact values -----------------------------------------------------------------------------


def test_odd_and_even_counts_and_the_deal_itself_left_out(
    session: Session, east: tuple[Team, Member]
) -> None:
    team = east[0]
    for dollars, ago in ((10, 80), (20, 40), (30, 10), (40, 3), (100, 1)):
        add(session, east, dollars, days_ago(ago))
    # 10 20 30 40 100: the median is 30.
    assert threshold(session, team) == 60
    fifty = add(session, east, 50, TODAY)
    # 10 20 30 40 50 100: (30 + 40) / 2 twice.
    assert threshold(session, team) == 70
    # Judging the 50 itself: it is left out, back to 10 20 30 40 100.
    assert fifty.id is not None
    assert threshold(session, team, exclude=fifty.id) == 60
    deals = session.exec(select(Deal).order_by(col(Deal.amount_minor))).all()
    ten, hundred = deals[0], deals[-1]
    assert ten.id is not None and hundred.id is not None
    # Leaving out a deal of the kept days: 20 30 40 50 100, and 10 20 30 40 50.
    assert threshold(session, team, exclude=ten.id) == 80
    assert threshold(session, team, exclude=hundred.id) == 60
    # One band kept for the day, counting the deals closed up to two days back.
    assert stored_days(session, team) == [(TODAY, 4)]


def test_fewer_than_five_counted_deals_give_no_threshold(
    session: Session, east: tuple[Team, Member]
) -> None:
    team = east[0]
    for dollars, ago in ((10, 89), (20, 50), (30, 2), (40, 0)):
        add(session, east, dollars, days_ago(ago))
    # None of these counts: 90 days back, lost, deleted, closing after today.
    add(session, east, 1000, days_ago(90))
    add(session, east, 1000, days_ago(5), stage="lost")
    add(session, east, 1000, days_ago(5), deleted_at=datetime(2026, 11, 20, tzinfo=UTC))
    add(session, east, 1000, TODAY + timedelta(days=1), stage="proposal")
    assert threshold(session, team) is None
    fifth = add(session, east, 50, days_ago(30))
    assert fifth.id is not None
    assert threshold(session, team) == 60  # 10 20 30 40 50
    assert threshold(session, team, exclude=fifth.id) is None  # the deal itself: four


def test_another_teams_or_workspaces_deals_never_count(
    session: Session, east: tuple[Team, Member]
) -> None:
    team, alice = east
    west = Team(workspace_id="T1", name="West")
    session.add_all([west, Workspace(id="T2")])
    session.flush()
    elsewhere = Team(workspace_id="T2", name="East")
    bob = Member(workspace_id="T2", user_id="UBOB", name="bob")
    session.add_all([elsewhere, bob])
    session.flush()
    for dollars in (10, 20, 30, 40, 50):
        add(session, east, dollars, days_ago(20))
        add(session, (west, alice), dollars * 100, days_ago(20))
        add(session, (elsewhere, bob), dollars * 1000, days_ago(20))
    assert threshold(session, team) == 60
    assert threshold(session, west) == 6000
    assert threshold(session, elsewhere) == 60000


# --- writes forget the kept band ----------------------------------------------------------------


def test_deleting_editing_restoring_and_backdating_change_it_at_once(
    session: Session, east: tuple[Team, Member]
) -> None:
    team = east[0]
    deals = [add(session, east, d, days_ago(ago)) for d, ago in ((10, 60), (20, 50), (30, 40))]
    deals += [add(session, east, d, days_ago(ago)) for d, ago in ((40, 30), (100, 20))]
    assert threshold(session, team) == 60  # 10 20 30 40 100
    assert stored_days(session, team) == [(TODAY, 5)]

    change(session, deals[2], deleted_at=datetime(2026, 11, 24, tzinfo=UTC))
    assert stored_days(session, team) == []  # the deleted deal's day is in the kept window
    assert threshold(session, team) is None  # four left
    change(session, deals[2], deleted_at=None)  # restored
    assert threshold(session, team) == 60

    change(session, deals[2], amount_minor=9000)  # 30 -> 90: 10 20 40 90 100
    assert threshold(session, team) == 80
    change(session, deals[0], stage="lost")  # 20 40 90 100: too few
    assert threshold(session, team) is None
    change(session, deals[0], stage="won")
    add(session, east, 70, days_ago(45))  # backdated: 10 20 40 70 90 100
    assert threshold(session, team) == 110
    change(session, deals[4], close_date=days_ago(95))  # out of the window: 10 20 40 70 90
    assert threshold(session, team) == 80
    change(session, deals[4], close_date=days_ago(70))  # back in: 10 20 40 70 90 100
    assert threshold(session, team) == 110
    # A deal not counted changing does not touch the band: a lost one, a note.
    lost = add(session, east, 5000, days_ago(30), stage="lost")
    assert stored_days(session, team) == [(TODAY, 6)]
    change(session, lost, amount_minor=600000)
    change(session, deals[1], note="called back")
    assert stored_days(session, team) == [(TODAY, 6)]
    assert threshold(session, team) == 110


def test_a_deal_of_today_or_yesterday_keeps_the_band(
    session: Session, east: tuple[Team, Member]
) -> None:
    """Today's and yesterday's deals are read live: writing them keeps the stored row."""
    team = east[0]
    for dollars, ago in ((10, 60), (20, 50), (30, 40), (40, 30), (100, 20)):
        add(session, east, dollars, days_ago(ago))
    assert threshold(session, team) == 60
    late = add(session, east, 35, days_ago(1))  # 10 20 30 35 40 100
    assert threshold(session, team) == 65
    change(session, late, amount_minor=500)  # 5 10 20 30 40 100
    assert threshold(session, team) == 50
    add(session, east, 200, TODAY)  # 5 10 20 30 40 100 200
    assert threshold(session, team) == 60
    assert stored_days(session, team) == [(TODAY, 5)]


def test_a_new_day_keeps_a_band_of_its_own(session: Session, east: tuple[Team, Member]) -> None:
    team = east[0]
    for dollars, ago in ((10, 89), (20, 50), (30, 40), (40, 30), (100, 1)):
        add(session, east, dollars, days_ago(ago))
    assert threshold(session, team) == 60  # 10 20 30 40 100
    tomorrow = TODAY + timedelta(days=1)
    # Tomorrow the 10 is out of the window: 20 30 40 100.
    assert threshold(session, team, today=tomorrow) is None
    add(session, east, 25, TODAY)
    assert threshold(session, team, today=tomorrow) == 60  # 20 25 30 40 100
    assert stored_days(session, team) == [(tomorrow, 4)]  # the day before was dropped


def test_moving_deals_to_another_team_moves_them_out_of_its_threshold(
    session: Session, east: tuple[Team, Member]
) -> None:
    team, alice = east
    west = Team(workspace_id="T1", name="West")
    bob = Member(workspace_id="T1", user_id="UBOB", name="bob")
    session.add_all([west, bob])
    session.flush()
    for dollars, ago in ((10, 60), (20, 50), (30, 40)):
        add(session, (team, bob), dollars, days_ago(ago))
    for dollars, ago in ((40, 30), (100, 20), (200, 10)):
        add(session, east, dollars, days_ago(ago))
    for dollars in (1, 2, 3):
        add(session, (west, bob), dollars, days_ago(15))
    assert threshold(session, team) == 70  # 10 20 30 40 100 200
    assert threshold(session, west) is None  # 1 2 3
    assert team.id is not None and west.id is not None and alice.id is not None
    queries.recredit_deals(
        session,
        workspace_id="T1",
        owner_id=alice.id,
        from_team=team.id,
        to_team=west.id,
        since=days_ago(25),
        currency="USD",
        actor=ADMIN,
        reason="moved",
    )
    assert threshold(session, team) is None  # 10 20 30 40
    assert threshold(session, west) == 6  # 1 2 3 100 200


def test_many_deals_of_the_day_move_the_median_out_of_the_band_and_it_follows(
    session: Session, east: tuple[Team, Member], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(teamdays, "_exact", _never)
    team = east[0]
    for n in range(1, 101):  # $2, $4 … $200 over the kept days
        add(session, east, 2 * n, days_ago(3 + n % 80))
    assert threshold(session, team) == 202  # the 50th and 51st: 100 + 102
    for n in range(201, 281):  # $201 … $280 today: far more than the band holds
        add(session, east, n, TODAY)
    # 180 deals: the 90th and 91st are 180 and 182.
    assert threshold(session, team) == 362
    assert stored_days(session, team) == [(TODAY, 100)]


@pytest.mark.parametrize("band", [1, 3, teamdays.BAND])
def test_a_random_history_of_writes_always_gives_the_plain_median(
    session: Session, east: tuple[Team, Member], monkeypatch: pytest.MonkeyPatch, band: int
) -> None:
    """Against the median of every counted deal read back, after each kind of write, over
    four days; a narrow band is fetched again often."""
    monkeypatch.setattr(teamdays, "BAND", band)
    monkeypatch.setattr(teamdays, "_exact", _never)  # the band always answers
    team = east[0]
    rnd = random.Random(band)
    deals: list[Deal] = []
    for step in range(240):
        today = TODAY + timedelta(days=step // 60)
        kind = rnd.choice(["add", "add", "today", "amount", "delete", "restore", "date", "stage"])
        if kind in ("add", "today") or not deals:
            ago = 0 if kind == "today" else rnd.randrange(0, 100)
            deals.append(add(session, east, rnd.randrange(1, 60), today - timedelta(days=ago)))
        else:
            deal = rnd.choice(deals)
            if kind == "amount":
                change(session, deal, amount_minor=rnd.randrange(1, 60) * 100)
            elif kind in ("delete", "restore"):
                gone = datetime(2026, 11, 1, tzinfo=UTC) if kind == "delete" else None
                change(session, deal, deleted_at=gone)
            elif kind == "date":
                change(session, deal, close_date=today - timedelta(days=rnd.randrange(0, 100)))
            else:
                change(session, deal, stage=rnd.choice(["won", "lost"]))
        judged = rnd.choice(deals)
        assert judged.id is not None
        expected = _plain(session, team, today, judged.id)
        assert threshold(session, team, judged.id, today) == expected, step


def _never(*_: object) -> int:
    raise AssertionError("the median was not in the band fetched around it")


def _plain(s: Session, team: Team, today: date, exclude: int) -> int | None:
    """Twice the median of the counted deals, read back one by one."""
    rows = s.exec(select(Deal).where(Deal.team_id == team.id)).all()
    amounts = sorted(
        d.amount_minor
        for d in rows
        if d.stage == "won"
        and d.deleted_at is None
        and today - timedelta(days=89) <= d.close_date <= today
        and d.id != exclude
    )
    if len(amounts) < 5:
        return None
    n = len(amounts)
    return (amounts[(n - 1) // 2] + amounts[n // 2]) // 100


# --- /deal: the celebration the threshold decides -------------------------------------------------


def cmd(engine: Engine, user: str, command: str, text: str) -> Reply:
    """A command as the adapters run it: one session, committed."""
    req = Request(workspace_id="T1", user_id=user, text=text, now=NOW, admin_ids=frozenset({ADMIN}))
    with session_scope(engine) as s:
        return dispatch(command, req, s)


def deal(engine: Engine, user: str, text: str) -> Reply:
    return cmd(engine, user, "/deal", text)


@pytest.fixture
def workspace(engine: Engine) -> Engine:
    """Team East (New York, channel CEAST) with alice and bob."""
    cmd(engine, ADMIN, "/pacer", "setup team create East <#CEAST|sales-east> tz:America/New_York")
    cmd(engine, ADMIN, "/pacer", "setup team add East <@UALICE|alice> <@UBOB|bob>")
    return engine


def test_deal_commands_that_change_the_history_change_the_next_judgement(
    workspace: Engine,
) -> None:
    for text in (
        "10000 H1 date:2026-09-01",
        "20000 H2 date:2026-10-01",
        "30000 H3 date:2026-11-01",
    ):
        deal(workspace, "UALICE", text)
    deal(workspace, "UBOB", "40000 H4 date:2026-11-10")
    deal(workspace, "UBOB", "100000 H5 date:2026-11-20")
    # 10k 20k 30k 40k 100k: the threshold is 60k.
    assert deal(workspace, "UALICE", "59,999 Almost").notices == []
    assert deal(workspace, "UALICE", "delete 6").ok
    [notice] = deal(workspace, "UALICE", "60,000 Exactly").notices
    assert "*$60,000* with Exactly" in notice.text
    # H3 (30k, in the kept days) deleted: 10k 20k 40k 60k 100k, the threshold is 80k.
    assert deal(workspace, "UALICE", "delete 3").ok
    assert deal(workspace, "UALICE", "79,999 Under").notices == []
    # … and restored, with 79,999 now counted: 10k 20k 30k 40k 60k 79,999 100k: 80k.
    assert deal(workspace, "UALICE", "restore 3").ok
    assert deal(workspace, "UALICE", "edit 1 date:2026-08-01").ok  # H1 leaves the window
    # 20k 30k 40k 60k 79,999 100k: (40k + 60k) / 2 twice, 100k.
    assert deal(workspace, "UBOB", "99,999 Nearly").notices == []
    # 20k 30k 40k 60k 79,999 99,999 100k: 60k twice.
    [big] = deal(workspace, "UBOB", "120,000 Initech").notices
    assert "*$120,000* with Initech" in big.text


# --- the cost of a /deal --------------------------------------------------------------------------


@pytest.fixture
def statements(workspace: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement the engine runs while the list is being filled, with parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        seen.append((sql, params))

    event.listen(workspace, "before_cursor_execute", record)
    yield seen
    event.remove(workspace, "before_cursor_execute", record)


def history(engine: Engine, deals: int) -> None:
    """`deals` won deals of East over the last 90 days and more before."""
    with session_scope(engine) as s:
        team = s.exec(select(Team)).one()
        alice = s.exec(select(Member).where(Member.user_id == "UALICE")).one()
        for n in range(deals):
            add(s, (team, alice), 1000 + n, TODAY - timedelta(days=2 + n % 200))


def warm_deal(engine: Engine, seen: list[tuple[str, Any]], text: str) -> list[tuple[str, Any]]:
    """The statements of a /deal once the day's band is kept."""
    deal(engine, "UALICE", "1,001 First of the day")
    seen.clear()
    assert deal(engine, "UALICE", text).ok
    return list(seen)


def test_a_deal_of_the_day_reads_no_window_once_the_band_is_kept(
    workspace: Engine, statements: list[tuple[str, Any]]
) -> None:
    history(workspace, 20)
    small = [sql for sql, _ in warm_deal(workspace, statements, "1,002 Acme")]
    history(workspace, 150)
    large = [sql for sql, _ in warm_deal(workspace, statements, "1,003 Acme")]
    for sql in (small, large):
        assert not [s for s in sql if "ORDER BY deal.amount_minor" in s]
        assert not [
            s
            for s in sql
            if re.match(r"SELECT count\(\*\) AS count_1 \nFROM deal \nWHERE.*close_date", s, re.S)
        ]
    # The same statements whatever the history (20 deals or 170): counted, never timed.
    assert large == small


def test_a_deal_reads_the_reps_teams_once_and_never_reads_itself_back(
    workspace: Engine, statements: list[tuple[str, Any]]
) -> None:
    # Its team is found from the rep's memberships, and the reply says which team it
    # counted for from the same rows; the threshold leaves the new deal out as flushed.
    history(workspace, 20)
    sql = [s for s, _ in warm_deal(workspace, statements, "1,002 Acme")]
    assert len([s for s in sql if re.search(r"(FROM|JOIN) membership\b", s)]) == 1, sql
    assert not [s for s in sql if re.search(r"FROM deal \nWHERE deal\.id = ", s)]


def test_a_deal_and_its_audit_entry_are_written_in_one_flush(
    workspace: Engine, statements: list[tuple[str, Any]]
) -> None:
    # Each flush runs every upkeep listener (repday, customers, teamday): the audit entry
    # as a second ORM object cost a second pass of them on every /deal.
    history(workspace, 20)
    flushes: list[int] = []

    def count(_session: Any, _context: Any) -> None:
        flushes.append(1)

    event.listen(OrmSession, "after_flush", count)
    try:
        sql = [s for s, _ in warm_deal(workspace, statements, "1,002 Acme")]
    finally:
        event.remove(OrmSession, "after_flush", count)
    assert len([s for s in sql if s.startswith("INSERT INTO auditentry")]) == 1
    assert len(flushes) == 2  # the warm-up deal's flush and this one's, one each


def test_the_sql_of_a_deal_searches_indexes_and_never_scans_deals(
    workspace: Engine, statements: list[tuple[str, Any]]
) -> None:
    if workspace.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; the small tables make PostgreSQL scan")
    history(workspace, 30)  # $1,000 … $1,029: the threshold is about $2,030
    statements.clear()
    deal(workspace, "UALICE", "5000 First")  # big: the day's cap is counted
    deal(workspace, "UALICE", "4000 Second date:2026-10-01")  # the band forgotten, built again
    assert deal(workspace, "UALICE", "edit 31 2500").ok
    assert deal(workspace, "UALICE", "delete 32").ok
    assert deal(workspace, "UALICE", "restore 32").ok
    assert deal(workspace, "UALICE", "list").ok
    with Session(workspace) as s:
        team = s.exec(select(Team)).one()
        assert team.id is not None
        day = (datetime(2026, 11, 25, 5, tzinfo=UTC), datetime(2026, 11, 26, 5, tzinfo=UTC))
        queries.celebrated_between(
            s, workspace_id="T1", channel_id="CEAST", since=day[0], until=day[1]
        )
        queries.uncelebrated_big_deals(s, team_id=team.id, least=1, since=day[0], until=day[1])
    scans = [
        (sql, line)
        for sql, params in statements
        for line in _plan(workspace, sql, params)
        if _reads_history(line)
    ]
    assert scans == []


def _reads_history(line: str) -> bool:
    """A plan step reading every deal (or notice) of a table or of a whole workspace. The
    highest deal number (storage/numbering.py) reads one entry of ux_deal_number: SQLite's
    min/max optimisation, which the plan does not show."""
    if re.match(r"SCAN (deal|teamday|sentmessage)\b", line):
        return True
    whole = re.match(r"SEARCH (deal|teamday|sentmessage) .*\(workspace_id=\?\)$", line)
    return bool(whole) and "ux_deal_number" not in line


def _plan(engine: Engine, sql: str, params: Any) -> list[str]:
    if not re.match(r"\s*(SELECT|UPDATE|DELETE|INSERT)", sql):
        return []
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
    return [str(row[-1]) for row in rows]


def test_the_band_is_built_once_a_day(workspace: Engine) -> None:
    history(workspace, 40)
    for n in range(3):
        deal(workspace, "UALICE", f"{1000 + n} Acme {n}")
    with Session(workspace) as s:
        rows = s.exec(select(TeamDay)).all()
        assert [(r.day, r.count, r.start) for r in rows] == [(TODAY, 40, START)]
        assert s.exec(select(func.count()).select_from(Deal)).one() == 43


# --- PostgreSQL: a band built while a deal is written -------------------------------------------


def _committed_history(engine: Engine) -> tuple[int, int]:
    """East with 10 20 30 40 100 in its kept days, committed: (team id, alice's id)."""
    with Session(engine, expire_on_commit=False) as s:
        s.add(Workspace(id="T1"))
        s.flush()
        team = Team(workspace_id="T1", name="East")
        alice = Member(workspace_id="T1", user_id="UALICE", name="alice")
        s.add_all([team, alice])
        s.flush()
        for dollars, ago in ((10, 60), (20, 50), (30, 40), (40, 30), (100, 20)):
            add(s, (team, alice), dollars, days_ago(ago))
        s.commit()
        assert team.id is not None and alice.id is not None
        return team.id, alice.id


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)
    thread.start()
    return thread, out


def _judge(engine: Engine, team_id: int) -> int | None:
    with Session(engine) as s:
        team = s.get(Team, team_id)
        assert team is not None
        found = threshold(s, team)
        s.commit()
        return found


def test_a_band_built_while_an_older_deal_is_written_waits_for_it(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    team_id, alice_id = _committed_history(engine)
    with Session(engine) as writer:
        team, alice = writer.get(Team, team_id), writer.get(Member, alice_id)
        assert team is not None and alice is not None
        add(writer, (team, alice), 35, days_ago(45))  # flushed: the team's lock is taken
        thread, found = _in_thread(lambda: _judge(engine, team_id))
        thread.join(0.5)
        assert thread.is_alive()  # the band is not built from the history without it
        writer.commit()
    thread.join(10)
    assert found == [65]  # 10 20 30 35 40 100
    assert _judge(engine, team_id) == 65


def test_an_older_deal_written_while_a_band_is_built_forgets_it(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    team_id, alice_id = _committed_history(engine)

    def write() -> None:
        with Session(engine) as s:
            team, alice = s.get(Team, team_id), s.get(Member, alice_id)
            assert team is not None and alice is not None
            add(s, (team, alice), 35, days_ago(45))
            s.commit()

    with Session(engine) as builder:
        team = builder.get(Team, team_id)
        assert team is not None
        assert threshold(builder, team) == 60  # built: 10 20 30 40 100
        thread, _ = _in_thread(write)
        thread.join(0.5)
        assert thread.is_alive()  # waits for the band to be committed …
        builder.commit()
    thread.join(10)
    assert not thread.is_alive()
    assert _judge(engine, team_id) == 65  # … then forgets it


def test_the_standing_sums_of_a_deal_read_no_deal_row(
    workspace: Engine, statements: list[tuple[str, Any]]
) -> None:
    """The standing line after a /deal sums the rep's deals of each current goal (a month,
    a quarter, a year): off the rep's days in repday, a covering index led by the rep,
    whatever the team sold; the deal's own day gains it in one upsert, no deal summed."""
    if workspace.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    for period, target in (("2026-11", "10k"), ("2026-Q4", "30k"), ("2026", "120k")):
        assert cmd(workspace, ADMIN, "/goal", f"set <@UALICE|alice> {target} {period}").ok
    history(workspace, 40)
    statements.clear()
    reply = deal(workspace, "UALICE", "1,500 Acme")
    assert reply.ok
    # 40 deals of $1,000..$1,039 spread over 200 days before yesterday, and this one.
    assert "2026" in reply.text and "$120,000" in reply.text
    sums = [(sql, p) for sql, p in statements if re.search(r"\bFROM repday\b", sql)]
    assert len(sums) == 1  # month, quarter and year in one statement
    plans = [line for sql, p in sums for line in _plan(workspace, sql, p) if " repday " in line]
    # A rep's days only (not the team's of the period), and none read from the table.
    assert plans and all("COVERING INDEX" in line and "owner_id=?" in line for line in plans), plans
    assert not [sql for sql, _ in statements if re.search(r"sum\(deal\.amount_minor\)", sql)]
    assert [sql for sql, _ in statements if sql.startswith("INSERT INTO repday")]


def test_the_daily_cap_counts_the_channels_posts_of_the_day_not_its_deals(
    workspace: Engine, statements: list[tuple[str, Any]]
) -> None:
    """The deals of the day grow with the team's volume (3,000 in a busy bench run, each
    big deal read them all); the channel's posts of the day are a handful."""
    history(workspace, 20)
    for n in range(30):
        assert deal(workspace, "UALICE", f"{1001 + n} Small {n}").ok
    big = [deal(workspace, "UALICE", f"9000 Big {n}") for n in range(4)]
    assert all(r.ok for r in big)
    with session_scope(workspace) as s:
        ids = [d.id for d in s.exec(select(Deal).where(col(Deal.customer).like("Big %")))]
        yesterday = s.exec(select(Deal).where(Deal.customer == "Big 3")).one()
        yesterday.created_at = NOW - timedelta(days=1)  # logged yesterday, posted today
        for deal_id, status in zip(ids, ("sent", "pending", "failed", "sent"), strict=True):
            s.add(
                SentMessage(
                    workspace_id="T1",
                    key=f"celebrate:{deal_id}",
                    channel_id="CEAST",
                    status=status,
                    created_at=NOW,
                )
            )
    day = (datetime(2026, 11, 25, 5, tzinfo=UTC), datetime(2026, 11, 26, 5, tzinfo=UTC))
    with Session(workspace) as s:
        statements.clear()
        count = queries.celebrated_between(
            s, workspace_id="T1", channel_id="CEAST", since=day[0], until=day[1]
        )
        assert count == 2  # sent and pending; the failed post and yesterday's deal do not count
        other = queries.celebrated_between(
            s, workspace_id="T1", channel_id="CWEST", since=day[0], until=day[1]
        )
        assert other == 0
    if workspace.dialect.name != "sqlite":
        return  # EXPLAIN QUERY PLAN is SQLite's
    plans = [line for sql, params in statements for line in _plan(workspace, sql, params)]
    assert any("ix_sentmessage_channel_created" in p for p in plans), plans
    assert not [p for p in plans if "ix_deal_created" in p or p.startswith("SCAN")], plans


def test_the_standing_sums_every_period_of_the_rep_in_one_read(
    workspace: Engine, statements: list[tuple[str, Any]]
) -> None:
    # Month, quarter and year revenue and a month's deal count: one repday statement for
    # all four, each sum as hand-computed (bob's deal and alice's lost one never count).
    for text in (
        "set <@UALICE|alice> 10000 2026-11",
        "set <@UALICE|alice> 30000 2026-Q4",
        "set <@UALICE|alice> 100000 2026",
        "set <@UALICE|alice> 10 2026-11 deals",
    ):
        assert cmd(workspace, ADMIN, "/goal", text).ok
    for user, text in (
        ("UALICE", "2000 Acme date:2026-11-02"),
        ("UALICE", "3000 Bolt date:2026-10-15"),
        ("UALICE", "4500 Core date:2026-03-10"),
        ("UALICE", "5000 Dyno date:2026-11-03 stage:lost"),
        ("UBOB", "1000 Echo date:2026-11-03"),
    ):
        assert deal(workspace, user, text).ok
    statements.clear()
    reply = deal(workspace, "UALICE", "1500 Now")
    lines = reply.text.split("\n")
    assert "$3,500 of $10,000 (35%)" in lines[1], lines
    assert "$6,500 of $30,000 (22%)" in lines[2], lines
    assert "$11,000 of $100,000 (11%)" in lines[3], lines
    assert "2 deals of 10 deals (20%)" in lines[4], lines
    reads = [s for s, _ in statements if re.search(r"\bFROM repday\b", s)]
    assert len(reads) == 1, reads


def test_a_deal_is_written_without_a_savepoint_and_its_key_still_guards_it(
    workspace: Engine, statements: list[tuple[str, Any]]
) -> None:
    # The delivery's claim keeps a second delivery out, so the deal needs no savepoint of
    # its own; a deal already holding the key (written another way) still stops a second.
    history(workspace, 5)
    sql = [s for s, _ in warm_deal(workspace, statements, "1,002 Acme")]
    assert not [s for s in sql if "SAVEPOINT" in s], sql
    req = Request(workspace_id="T1", user_id="UALICE", text="900 Again", now=NOW, request_key="K1")
    with session_scope(workspace) as s:
        first = s.exec(select(Deal).order_by(col(Deal.id).desc())).first()
        assert first is not None
        first.request_key = "K1"
    with session_scope(workspace) as s:
        reply = dispatch("/deal", req, s)
    assert not reply.ok
    with Session(workspace) as s:
        assert (
            s.exec(select(func.count()).select_from(Deal).where(Deal.request_key == "K1")).one()
            == 1
        )
        assert (
            s.exec(select(func.count()).select_from(Deal).where(Deal.customer == "Again")).one()
            == 0
        )
        assert s.exec(select(Delivery).where(Delivery.request_key == "K1")).all() == []


def test_a_deal_reads_the_reps_teams_with_the_memberships(
    workspace: Engine, statements: list[tuple[str, Any]]
) -> None:
    # The team comes loaded with the membership that names it: no statement of its own.
    history(workspace, 5)
    sql = [s for s, _ in warm_deal(workspace, statements, "1,002 Acme")]
    assert not [
        s for s in sql if re.match(r"SELECT team\.id, .*FROM team\s+WHERE team\.id = ", s, re.S)
    ], sql
    with session_scope(workspace) as s:
        alice = s.exec(select(Member).where(Member.user_id == "UALICE")).one()
        assert alice.id is not None
        [(team, role)] = queries.memberships_of(s, member_id=alice.id)
        assert (team.name, role) == ("East", "rep")
        home = queries.team_of(s, member_id=alice.id)
        assert home is not None and home.name == "East"


def test_a_goals_progress_reads_its_period_and_last_working_days_in_one_statement(
    workspace: Engine, statements: list[tuple[str, Any]]
) -> None:
    # Today is Wed 25 Nov: the last ten working days are 12-25 Nov, 3 are left (26, 27, 30).
    assert cmd(workspace, ADMIN, "/goal", "set <@UALICE|alice> 100000 2026-11").ok
    for text in ("2000 Early date:2026-11-02", "3000 Late date:2026-11-20"):
        assert deal(workspace, "UALICE", text).ok
    text = cmd(workspace, "UALICE", "/progress", "").text
    assert "$5,000 of $100,000 — *5%* attained" in text, text
    # $5,000 won + $3,000 over the last 10 working days / 10 x the 3 days left.
    assert "Forecast at the rate of the last 10 working days: $5,900." in text, text
    with Session(workspace) as s:
        goal = s.exec(select(Goal)).one()
        statements.clear()
        prog = stats.progress_of(s, goal, None, NOW.date())
    assert (prog.actual, prog.recent, prog.forecast) == (5000, 3000, 5900)
    reads = [sql for sql, _ in statements if re.search(r"\bFROM repday\b", sql)]
    assert len(reads) == 1, reads
