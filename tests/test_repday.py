"""Team and rep sums from the repday table, after every kind of change to the deals
(storage/queries/repdays.py keeps it on each flush). Each figure is worked out by hand in
the comments; each check also rebuilds the table from the deals and finds the same rows, so
the upkeep and the rebuild never drift apart."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlmodel import Session, select

from storage import queries
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Deal, Member, RepDay, Team, Workspace, utcnow
from storage.queries.metrics import _daily_statement, _totals_statement
from tests.old_rows import two_teams_two_reps

NOV = (date(2026, 11, 1), date(2026, 11, 30))
OCT = (date(2026, 10, 1), date(2026, 10, 31))
NOV2, NOV3, NOV10 = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 10)


@dataclass
class World:
    s: Session
    ws: str
    east: int
    west: int
    alice: int
    bob: int

    def deal(self, owner: int, day: date, amount: int, stage: str = "won", **kw: Any) -> Deal:
        deal = Deal(
            workspace_id=self.ws,
            team_id=kw.pop("team_id", self.east),
            owner_id=owner,
            logged_by=owner,
            amount_minor=amount,
            currency="USD",
            customer=kw.pop("customer", "Acme"),
            stage=stage,
            close_date=day,
        )
        return queries.add_deal(self.s, deal=deal, actor="UADMIN")

    def change(self, deal: Deal, action: str = "update", **changes: Any) -> None:
        queries.change_deal(self.s, deal=deal, actor="UADMIN", action=action, changes=changes)

    def totals(self, span: tuple[date, date] = NOV, **scope: Any) -> dict[int, tuple[int, int]]:
        return queries.totals_by_owner(
            self.s, workspace_id=self.ws, start=span[0], end=span[1], **scope
        )

    def daily(
        self, span: tuple[date, date] = NOV, metric: str = "revenue", **scope: Any
    ) -> dict[date, int]:
        return queries.daily_totals(
            self.s, workspace_id=self.ws, start=span[0], end=span[1], metric=metric, **scope
        )


def _world(s: Session, ws: str) -> World:
    s.add(Workspace(id=ws))
    s.flush()
    east, west = Team(workspace_id=ws, name="East"), Team(workspace_id=ws, name="West")
    alice = Member(workspace_id=ws, user_id="UALICE", name="alice")
    bob = Member(workspace_id=ws, user_id="UBOB", name="bob")
    s.add_all([east, west, alice, bob])
    s.flush()
    assert east.id and west.id and alice.id and bob.id
    return World(s, ws, east.id, west.id, alice.id, bob.id)


@pytest.fixture
def w(session: Session) -> World:
    return _world(session, "T1")


def rows(s: Session, ws: str) -> list[tuple[Any, ...]]:
    found = s.exec(select(RepDay).where(RepDay.workspace_id == ws)).all()
    return sorted((r.team_id, r.owner_id, r.day, r.won_minor, r.won_count) for r in found)


def kept_as_rebuilt(w: World) -> None:
    """The table as the flushes kept it is the table rebuilt from the deals."""
    w.s.flush()
    kept = rows(w.s, w.ws)
    queries.rebuild_repdays(w.s, workspace_id=w.ws)
    w.s.expire_all()
    assert rows(w.s, w.ws) == kept


def test_won_deals_sum_per_rep_and_per_day(w: World) -> None:
    w.deal(w.alice, NOV2, 100)
    w.deal(w.alice, NOV2, 250)  # same rep, same day: one row, 350 in 2
    w.deal(w.bob, NOV10, 40)
    w.deal(w.bob, NOV10, 999, stage="proposal")  # open: not summed
    w.deal(w.bob, NOV3, 777, stage="lost")
    w.deal(w.alice, date(2026, 10, 31), 5)  # October
    assert w.totals() == {w.alice: (350, 2), w.bob: (40, 1)}
    assert w.totals(team_id=w.east) == {w.alice: (350, 2), w.bob: (40, 1)}
    assert w.totals(owner_ids=[w.bob]) == {w.bob: (40, 1)}
    assert w.totals(team_id=w.west) == {}
    assert w.totals(OCT) == {w.alice: (5, 1)}
    assert w.daily() == {NOV2: 350, NOV10: 40}
    assert w.daily(metric="deals") == {NOV2: 2, NOV10: 1}
    assert w.daily(metric="deals", owner_ids=[w.alice], team_id=w.east) == {NOV2: 2}
    assert rows(w.s, w.ws) == [
        (w.east, w.alice, date(2026, 10, 31), 5, 1),
        (w.east, w.alice, NOV2, 350, 2),
        (w.east, w.bob, NOV10, 40, 1),
    ]
    kept_as_rebuilt(w)


def test_several_spans_sum_in_one_read_as_each_alone(w: World) -> None:
    w.deal(w.alice, NOV2, 100)
    w.deal(w.alice, NOV10, 250)
    w.deal(w.alice, date(2026, 10, 31), 5)
    w.deal(w.alice, NOV3, 7, team_id=w.west)  # another team: only in the unscoped sums
    w.deal(w.bob, NOV3, 40)
    q4 = (date(2026, 10, 1), date(2026, 12, 31))
    week = (date(2026, 11, 9), date(2026, 11, 15))
    empty = (date(2025, 1, 1), date(2025, 1, 31))
    spans = [NOV, q4, week, empty, OCT]

    def over(**scope: Any) -> list[tuple[int, int]]:
        return queries.totals_over(w.s, workspace_id=w.ws, spans=spans, **scope)

    # alice on East: November 100 + 250, Q4 and October add the 5, the week holds the 250.
    assert over(team_id=w.east, owner_ids=[w.alice]) == [
        (350, 2),
        (355, 3),
        (250, 1),
        (0, 0),
        (5, 1),
    ]
    assert over() == [(397, 4), (402, 5), (250, 1), (0, 0), (5, 1)]
    for scope in ({"team_id": w.west}, {"owner_ids": [w.bob]}, {"team_id": w.east}):
        alone = [w.totals(span, **scope).values() for span in spans]
        summed = [(sum(v[0] for v in t), sum(v[1] for v in t)) for t in alone]
        assert over(**scope) == summed
    assert queries.totals_over(w.s, workspace_id=w.ws, spans=[]) == []


def test_an_amount_edit_changes_its_day(w: World) -> None:
    deal = w.deal(w.alice, NOV2, 100)
    w.deal(w.alice, NOV2, 50)
    w.change(deal, amount_minor=300)  # 300 + 50
    assert (w.totals(), w.daily()) == ({w.alice: (350, 2)}, {NOV2: 350})
    kept_as_rebuilt(w)


def test_a_deal_lost_then_won_again(w: World) -> None:
    deal = w.deal(w.alice, NOV2, 100)
    w.deal(w.bob, NOV2, 30)
    w.change(deal, stage="lost")
    assert (w.totals(), w.daily()) == ({w.bob: (30, 1)}, {NOV2: 30})
    assert rows(w.s, w.ws) == [(w.east, w.bob, NOV2, 30, 1)]  # alice's row gone
    kept_as_rebuilt(w)
    w.change(deal, stage="won")
    assert (w.totals(), w.daily()) == ({w.alice: (100, 1), w.bob: (30, 1)}, {NOV2: 130})
    kept_as_rebuilt(w)


def test_a_backdated_deal_moves_across_days_and_months(w: World) -> None:
    deal = w.deal(w.alice, NOV10, 100)
    w.deal(w.alice, NOV10, 20)
    w.change(deal, close_date=NOV2)
    assert w.daily() == {NOV2: 100, NOV10: 20}
    w.change(deal, close_date=date(2026, 10, 15))
    assert (w.totals(), w.totals(OCT)) == ({w.alice: (20, 1)}, {w.alice: (100, 1)})
    assert w.daily(OCT) == {date(2026, 10, 15): 100}
    kept_as_rebuilt(w)


def test_a_deleted_deal_stops_counting_and_counts_again_restored(w: World) -> None:
    deal = w.deal(w.alice, NOV2, 100)
    w.deal(w.alice, NOV2, 7)
    w.change(deal, action="delete", deleted_at=utcnow())
    assert (w.totals(), w.daily()) == ({w.alice: (7, 1)}, {NOV2: 7})
    kept_as_rebuilt(w)
    w.change(deal, action="restore", deleted_at=None)
    assert (w.totals(), w.daily()) == ({w.alice: (107, 2)}, {NOV2: 107})
    kept_as_rebuilt(w)


def test_a_deal_removed_from_the_database_takes_its_sum_along(w: World) -> None:
    only = w.deal(w.alice, NOV2, 100)
    w.s.expire(only)  # as after a commit: its key is read before the row goes
    w.s.delete(only)
    w.s.flush()
    assert (w.totals(), rows(w.s, w.ws)) == ({}, [])


def test_a_team_move_credits_the_new_team(w: World) -> None:
    w.deal(w.alice, NOV2, 100)
    w.deal(w.alice, NOV10, 40)
    w.deal(w.alice, date(2026, 10, 20), 9)  # before the move: stays in East
    moved, kept = queries.recredit_deals(
        w.s,
        workspace_id=w.ws,
        owner_id=w.alice,
        from_team=w.east,
        to_team=w.west,
        since=date(2026, 11, 1),
        currency="USD",
        actor="UADMIN",
        reason="moved",
    )
    assert (len(moved), kept) == (2, [])
    assert (w.totals(team_id=w.east), w.totals(team_id=w.west)) == ({}, {w.alice: (140, 2)})
    assert w.totals(OCT, team_id=w.east) == {w.alice: (9, 1)}
    assert w.daily(team_id=w.west) == {NOV2: 100, NOV10: 40}
    kept_as_rebuilt(w)


def test_a_rep_on_two_teams_is_summed_per_team_and_in_all(w: World) -> None:
    w.deal(w.alice, NOV2, 100)
    w.deal(w.alice, NOV2, 60, team_id=w.west)  # same rep and day, the other team
    assert w.totals(team_id=w.east) == {w.alice: (100, 1)}
    assert w.totals(team_id=w.west) == {w.alice: (60, 1)}
    assert w.totals() == {w.alice: (160, 2)}
    assert w.daily(owner_ids=[w.alice]) == {NOV2: 160}
    assert w.daily(team_id=w.west) == {NOV2: 60}
    kept_as_rebuilt(w)


def test_two_workspaces_keep_their_sums_apart(w: World) -> None:
    other = _world(w.s, "T2")
    mine = w.deal(w.alice, NOV2, 100)
    other.deal(other.bob, NOV2, 5)
    assert (w.daily(), other.daily()) == ({NOV2: 100}, {NOV2: 5})
    w.change(mine, action="delete", deleted_at=utcnow())
    assert (w.totals(), other.totals()) == ({}, {other.bob: (5, 1)})
    kept_as_rebuilt(w)
    kept_as_rebuilt(other)


def test_a_random_run_of_writes_keeps_the_table_as_a_rebuild(w: World) -> None:
    rng = random.Random(20261202)
    days = [NOV2 + timedelta(days=n) for n in range(4)]
    deals: list[Deal] = []
    for _ in range(120):
        pick = rng.random()
        if pick < 0.35 or not deals:
            owner, team = rng.choice([w.alice, w.bob]), rng.choice([w.east, w.west])
            stage = rng.choice(["won", "won", "lost", "proposal"])
            deals.append(w.deal(owner, rng.choice(days), rng.randint(0, 500), stage, team_id=team))
            continue
        deal = rng.choice(deals)
        if pick < 0.85:
            field, value = rng.choice(
                [
                    ("amount_minor", rng.randint(0, 500)),
                    ("stage", rng.choice(["won", "lost", "negotiation"])),
                    ("close_date", rng.choice(days)),
                    ("team_id", rng.choice([w.east, w.west])),
                    ("owner_id", rng.choice([w.alice, w.bob])),
                ]
            )
            w.change(deal, **{field: value})
        elif deal.deleted_at is None:
            w.change(deal, action="delete", deleted_at=utcnow())
        else:
            w.change(deal, action="restore", deleted_at=None)
    live = [d for d in deals if d.stage == "won" and d.deleted_at is None]
    assert w.totals() == {
        owner: (
            sum(d.amount_minor for d in live if d.owner_id == owner),
            sum(1 for d in live if d.owner_id == owner),
        )
        for owner in {d.owner_id for d in live}
    }
    kept_as_rebuilt(w)


def test_a_new_deal_adds_to_its_days_row_without_reading_the_days_deals(w: World) -> None:
    # A rep's busy day: its row grows by one upsert per new deal, the 40 deals already in it
    # never summed again (a recompute would cost more with every deal of the day).
    for n in range(40):
        w.deal(w.alice, NOV2, 10 + n)
    w.s.flush()
    seen: list[str] = []
    conn = w.s.connection()
    listen = lambda *a: seen.append(a[2])  # noqa: E731
    event.listen(conn, "before_cursor_execute", listen)
    w.deal(w.alice, NOV2, 1000)
    w.deal(w.alice, NOV2, 999, stage="proposal")  # open: its row is left alone
    event.remove(conn, "before_cursor_execute", listen)
    # (on PostgreSQL after the rep's day lock, as every writer of the row takes it)
    touching = [" ".join(s.split()) for s in seen if "repday" in s and "advisory" not in s]
    assert len(touching) == 1, touching
    assert touching[0].startswith("INSERT INTO repday") and "ON CONFLICT" in touching[0]
    assert "FROM deal" not in touching[0]
    # 10 + 11 + ... + 49 = 1,180 for the forty, then 1,000 more
    assert w.totals() == {w.alice: (2180, 41)}
    kept_as_rebuilt(w)


def test_a_new_deal_and_an_edit_of_the_same_day_in_one_flush_count_once(w: World) -> None:
    first = w.deal(w.alice, NOV2, 100)
    first.amount_minor = 150  # changed and a second deal added, flushed together
    w.s.add(first)
    second = Deal(
        workspace_id=w.ws,
        team_id=w.east,
        owner_id=w.alice,
        logged_by=w.alice,
        amount_minor=40,
        currency="USD",
        customer="Acme",
        stage="won",
        close_date=NOV2,
    )
    w.s.add(second)
    w.s.flush()
    assert w.totals() == {w.alice: (190, 2)}
    kept_as_rebuilt(w)


YEAR = {"workspace_id": "T1", "start": date(2026, 1, 1), "end": date(2026, 12, 31)}


def _plan(engine: Engine, statement: Any, params: dict[str, Any]) -> str:
    """SQLite's plan for the statement as it runs (its expanding lists filled in)."""
    ran: list[tuple[str, Any]] = []

    def seen(_c: Any, _cur: Any, sql: str, values: Any, _ctx: Any, _many: bool) -> None:
        ran.append((sql, values))

    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", seen)
        conn.execute(statement, params)
        event.remove(conn, "before_cursor_execute", seen)
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {ran[-1][0]}", ran[-1][1])
        return " | ".join(str(row[-1]) for row in plan)


@pytest.mark.parametrize(
    ("statement", "scope", "index"),
    [
        (_totals_statement(True, False), {"team_id": 1}, "ix_repday_team_day"),
        (_daily_statement("revenue", True, False), {"team_id": 1}, "ix_repday_team_day"),
        (_daily_statement("deals", True, False), {"team_id": 1}, "ix_repday_team_day"),
        (_totals_statement(False, True), {"owner_ids": [1, 2]}, "ix_repday_owner_day"),
        (_daily_statement("revenue", False, True), {"owner_ids": [1]}, "ix_repday_owner_day"),
    ],
)
def test_a_years_sums_read_repday_alone(
    sqlite_engine: Engine, statement: Any, scope: dict[str, Any], index: str
) -> None:
    # A year of a team (the leaderboard, a team's progress) or of reps: a stretch of one
    # covering index of repday, by team (or rep) and day, and no deal read.
    steps = _plan(sqlite_engine, statement, {**YEAR, **scope})
    assert f"SEARCH repday USING COVERING INDEX {index} (workspace_id=? AND " in steps
    assert "(workspace_id=?)" not in steps
    assert "deal" not in steps.replace("repday", "")


def test_the_migration_fills_the_table_from_the_deals(tmp_path: Any) -> None:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0016")
    _rows_at_0016(engine)
    upgrade(engine)
    with Session(engine) as s:
        assert rows(s, "T1") == [
            (1, 1, NOV2, 350, 2),  # 100 + 250; the deleted 1000 left out
            (1, 2, NOV2, 0, 1),  # a won deal of 0 still counts
            (2, 1, NOV2, 60, 1),
        ]
        backfilled = rows(s, "T1")
        queries.rebuild_repdays(s, workspace_id="T1")
        assert rows(s, "T1") == backfilled
    engine.dispose()


def _rows_at_0016(engine: Engine) -> None:
    """Two teams, two reps and their deals, as a database at 0016 holds them."""
    with engine.begin() as conn:
        two_teams_two_reps(conn)
        for number, (team, owner, amount, stage, deleted) in enumerate(
            (
                (1, 1, 100, "won", None),
                (1, 1, 250, "won", None),
                (1, 1, 1000, "won", "2026-11-03 00:00:00"),  # deleted
                (1, 2, 0, "won", None),
                (1, 2, 500, "lost", None),
                (2, 1, 60, "won", None),
                (2, 2, 70, "proposal", None),
            ),
            start=1,
        ):
            conn.execute(
                text(
                    "INSERT INTO deal (workspace_id, number, team_id, owner_id, logged_by,"
                    " amount_minor, currency, customer, stage, close_date, source, created_at,"
                    " updated_at, deleted_at) VALUES ('T1', :no, :t, :o, :o, :a, 'USD', 'Acme',"
                    " :s, '2026-11-02', 'import', '2026-01-01 00:00:00', '2026-01-01 00:00:00',"
                    " :x)"
                ),
                {"no": number, "t": team, "o": owner, "a": amount, "s": stage, "x": deleted},
            )


def test_two_deals_of_one_rep_and_day_logged_at_once_both_count(engine: Engine) -> None:
    # On PostgreSQL each write reads its own snapshot: without a lock, bob's second deal
    # would recompute his day without the first, and the first without the second.
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    with Session(engine) as s:
        w = _world(s, "T1")
        s.commit()
    with Session(engine) as first:
        World(first, *_ids(w)).deal(w.bob, NOV2, 100, customer="Acme")  # flushed, locked
        second = threading.Thread(target=_log_in_own_session, args=(engine, w))
        second.start()
        second.join(0.5)
        assert second.is_alive()  # waits for the first writer of bob's day
        first.commit()
    second.join(10)
    with Session(engine) as s:
        after = World(s, *_ids(w))
        assert after.totals() == {w.bob: (130, 2)}
        kept_as_rebuilt(after)


def _ids(w: World) -> tuple[str, int, int, int, int]:
    return (w.ws, w.east, w.west, w.alice, w.bob)


def _log_in_own_session(engine: Engine, w: World) -> None:
    with Session(engine) as s:
        World(s, *_ids(w)).deal(w.bob, NOV2, 30, customer="Globex")  # another customer
        s.commit()
