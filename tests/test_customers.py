"""New customers and quiet customers from the customer table, after every kind of change to
the deals (storage/queries/customers.py keeps it on each flush). Each figure is worked out
by hand in the comments; each check also rebuilds the table from the deals and finds the
same rows, so the upkeep and the rebuild never drift apart."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlmodel import Session, col, select

from storage import queries
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Customer, Deal, Member, Team, Workspace, utcnow
from tests.old_rows import two_teams_two_reps

NOV = (date(2026, 11, 1), date(2026, 11, 30))
OCT = (date(2026, 10, 1), date(2026, 10, 31))


@dataclass
class World:
    s: Session
    ws: str
    east: int
    west: int
    alice: int
    bob: int

    def deal(self, owner: int, customer: str, day: date, stage: str = "won", **kw: Any) -> Deal:
        deal = Deal(
            workspace_id=self.ws,
            team_id=kw.pop("team_id", self.east),
            owner_id=owner,
            logged_by=owner,
            amount_minor=kw.pop("amount_minor", 100_000),
            currency="USD",
            customer=customer,
            stage=stage,
            close_date=day,
        )
        return queries.add_deal(self.s, deal=deal, actor="UADMIN")

    def change(self, deal: Deal, action: str = "update", **changes: Any) -> None:
        queries.change_deal(self.s, deal=deal, actor="UADMIN", action=action, changes=changes)

    def new(self, span: tuple[date, date] = NOV, **scope: Any) -> int:
        return queries.new_customers(
            self.s, workspace_id=self.ws, start=span[0], end=span[1], **scope
        )

    def daily(self, span: tuple[date, date] = NOV, **scope: Any) -> dict[date, int]:
        return queries.daily_totals(
            self.s,
            workspace_id=self.ws,
            start=span[0],
            end=span[1],
            metric="new_customers",
            **scope,
        )

    def quiet(self, team_id: int | None = None) -> dict[int, list[tuple[str, date]]]:
        """Quiet on 30 Nov as the lag job asks: dealt with since 3 Jun, not since 31 Oct."""
        return queries.quiet_customers_of_team(
            self.s,
            workspace_id=self.ws,
            team_id=team_id or self.east,
            owner_ids=[self.alice, self.bob],
            since=date(2026, 6, 3),
            before=date(2026, 10, 31),
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
    found = s.exec(select(Customer).where(Customer.workspace_id == ws)).all()
    return sorted((c.key, c.team_id, c.owner_id, c.name, c.first_won, c.last_deal) for c in found)


def kept_as_rebuilt(w: World) -> None:
    """The table as the flushes kept it is the table rebuilt from the deals."""
    w.s.flush()
    kept = rows(w.s, w.ws)
    queries.rebuild_customers(w.s, workspace_id=w.ws)
    w.s.expire_all()
    assert rows(w.s, w.ws) == kept


def test_a_customer_is_new_on_its_first_win_for_that_rep_and_team(w: World) -> None:
    w.deal(w.alice, "Acme", date(2026, 11, 2))
    w.deal(w.bob, "acme", date(2026, 11, 10))  # the same customer, won again
    w.deal(w.bob, "ACME", date(2026, 11, 12), stage="proposal")
    w.deal(w.bob, "Globex", date(2026, 11, 5), stage="lost")  # never won: not a customer
    assert w.new() == 1
    assert (w.new(owner_ids=[w.alice]), w.new(owner_ids=[w.bob])) == (1, 0)
    assert (w.new(team_id=w.east), w.new(team_id=w.west)) == (1, 0)
    assert w.daily() == {date(2026, 11, 2): 1}
    assert w.daily(owner_ids=[w.bob]) == {}
    assert w.new(OCT) == 0
    kept_as_rebuilt(w)


def test_two_first_wins_on_one_day_count_for_both_reps_and_once_in_all(w: World) -> None:
    w.deal(w.alice, "Acme", date(2026, 11, 2))
    w.deal(w.bob, "acme", date(2026, 11, 2), team_id=w.west)
    # One new customer in all, for each rep and team that won it that day.
    assert w.new() == 1
    assert (w.new(owner_ids=[w.alice]), w.new(owner_ids=[w.bob])) == (1, 1)
    assert w.new(owner_ids=[w.alice, w.bob]) == 1
    assert (w.new(team_id=w.east), w.new(team_id=w.west)) == (1, 1)
    assert w.daily() == {date(2026, 11, 2): 1}
    kept_as_rebuilt(w)


def test_edits_move_the_first_win(w: World) -> None:
    first = w.deal(w.alice, "Acme", date(2026, 11, 2))
    w.deal(w.bob, "Acme", date(2026, 11, 10))
    w.change(first, amount_minor=999_999)  # the amount changes nothing
    assert (w.new(owner_ids=[w.alice]), w.daily()) == (1, {date(2026, 11, 2): 1})
    # Lost: Acme is first won by bob on 10 Nov.
    w.change(first, stage="lost")
    assert (w.new(owner_ids=[w.alice]), w.new(owner_ids=[w.bob])) == (0, 1)
    assert w.daily() == {date(2026, 11, 10): 1}
    kept_as_rebuilt(w)
    # Won again, closing on the 20th: bob's 10 Nov stays the first.
    w.change(first, stage="won", close_date=date(2026, 11, 20))
    assert (w.new(owner_ids=[w.alice]), w.daily()) == (0, {date(2026, 11, 10): 1})
    # Back on the 2nd, then renamed Initech: Initech new on 2 Nov (alice), Acme on the 10th.
    w.change(first, close_date=date(2026, 11, 2))
    w.change(first, customer="Initech")
    assert w.new() == 2
    assert (w.new(owner_ids=[w.alice]), w.new(owner_ids=[w.bob])) == (1, 1)
    assert w.daily() == {date(2026, 11, 2): 1, date(2026, 11, 10): 1}
    kept_as_rebuilt(w)


def test_a_deleted_deal_stops_counting_and_counts_again_restored(w: World) -> None:
    first = w.deal(w.alice, "Acme", date(2026, 11, 2))
    w.deal(w.bob, "acme", date(2026, 11, 10))
    w.change(first, action="delete", deleted_at=utcnow())
    assert (w.new(owner_ids=[w.alice]), w.daily()) == (0, {date(2026, 11, 10): 1})
    kept_as_rebuilt(w)
    w.change(first, action="restore", deleted_at=None)
    assert (w.new(owner_ids=[w.alice]), w.daily()) == (1, {date(2026, 11, 2): 1})
    kept_as_rebuilt(w)


def test_a_deal_removed_from_the_database_takes_its_customer_along(w: World) -> None:
    only = w.deal(w.alice, "Acme", date(2026, 11, 2))
    w.s.expire(only)  # as after a commit: its customer is read before the row goes
    w.s.delete(only)
    w.s.flush()
    assert (w.new(), rows(w.s, w.ws)) == (0, [])


def test_a_backdated_first_deal_makes_the_customer_new_earlier(w: World) -> None:
    w.deal(w.alice, "Acme", date(2026, 11, 2))
    w.deal(w.bob, "ACME", date(2026, 10, 15))  # logged late, closed in October
    assert (w.new(), w.new(OCT), w.new(OCT, owner_ids=[w.bob])) == (0, 1, 1)
    assert w.daily(OCT) == {date(2026, 10, 15): 1}
    kept_as_rebuilt(w)


def test_a_move_credits_the_new_team_with_its_new_customers(w: World) -> None:
    w.deal(w.alice, "Acme", date(2026, 11, 2))
    w.deal(w.alice, "Globex", date(2026, 10, 20))  # before the move: stays in East
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
    assert (len(moved), kept) == (1, [])
    assert (w.new(team_id=w.east), w.new(team_id=w.west)) == (0, 1)
    assert (w.new(OCT, team_id=w.east), w.new(OCT, team_id=w.west)) == (1, 0)
    kept_as_rebuilt(w)


def test_two_workspaces_keep_their_customers_apart(w: World) -> None:
    other = _world(w.s, "T2")
    mine = w.deal(w.alice, "Acme", date(2026, 11, 2))
    other.deal(other.bob, "acme", date(2026, 11, 10))
    assert (w.daily(), other.daily()) == ({date(2026, 11, 2): 1}, {date(2026, 11, 10): 1})
    w.change(mine, action="delete", deleted_at=utcnow())
    assert (w.new(), other.new()) == (0, 1)
    kept_as_rebuilt(w)
    kept_as_rebuilt(other)


def test_quiet_customers_are_the_three_longest_quiet_per_rep(w: World) -> None:
    # alice: Acme last seen 1 Jul (won), Globex 1 Aug (lost counts as contact), Initech
    # 1 Sep, Hooli 1 Oct; Umbrella closes in November (not quiet), Wonka only before June
    # (out of the lookback). Three per rep, longest quiet first.
    for customer, day, stage in (
        ("Hooli", date(2026, 10, 1), "won"),
        ("Acme", date(2026, 5, 1), "won"),
        ("acme", date(2026, 7, 1), "won"),
        ("Globex", date(2026, 8, 1), "lost"),
        ("Initech", date(2026, 9, 1), "won"),
        ("Umbrella", date(2026, 7, 1), "won"),
        ("Umbrella", date(2026, 11, 3), "proposal"),
        ("Wonka", date(2026, 5, 1), "won"),
    ):
        w.deal(w.alice, customer, day, stage)
    bob_acme = w.deal(w.bob, "ACME", date(2026, 9, 15))  # bob's own, whatever alice did
    w.deal(w.bob, "Soylent", date(2026, 8, 1), team_id=w.west)  # another team
    assert w.quiet() == {
        w.alice: [
            ("Acme", date(2026, 7, 1)),
            ("Globex", date(2026, 8, 1)),
            ("Initech", date(2026, 9, 1)),
        ],
        w.bob: [("ACME", date(2026, 9, 15))],
    }
    assert w.quiet(w.west) == {w.bob: [("Soylent", date(2026, 8, 1))]}
    only_bob = queries.quiet_customers_of_team(
        w.s,
        workspace_id=w.ws,
        team_id=w.east,
        owner_ids=[w.bob],
        since=date(2026, 6, 3),
        before=date(2026, 10, 31),
    )
    assert only_bob == {w.bob: [("ACME", date(2026, 9, 15))]}
    # bob's Acme deleted: he has no quiet customer left in East; a new Globex deal of alice
    # in November makes Hooli her third.
    w.change(bob_acme, action="delete", deleted_at=utcnow())
    w.deal(w.alice, "GLOBEX", date(2026, 11, 20), stage="lead")
    assert w.quiet() == {
        w.alice: [
            ("Acme", date(2026, 7, 1)),
            ("Initech", date(2026, 9, 1)),
            ("Hooli", date(2026, 10, 1)),
        ]
    }
    kept_as_rebuilt(w)


def test_the_migration_fills_the_table_from_the_deals(tmp_path: Any) -> None:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0010")
    _rows_at_0010(engine)
    upgrade(engine)
    nov2, nov20, dec1 = date(2026, 11, 2), date(2026, 11, 20), date(2026, 12, 1)
    with Session(engine) as s:
        assert rows(s, "T1") == [
            ("acme", 1, 1, "Acme", nov2, nov2),
            ("acme", 1, 2, "ACME", None, nov20),
            ("acme", 2, 2, "acme", nov2, nov2),
            ("globex", 1, 2, "Globex", None, dec1),
        ]
        backfilled = rows(s, "T1")
        queries.rebuild_customers(s, workspace_id="T1")
        assert rows(s, "T1") == backfilled
        plan = s.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM deal"
            " WHERE workspace_id = 'T1' AND lower(customer) IN (lower('Acme'))"
        )
        assert "ix_deal_customer" in " ".join(str(row) for row in plan)
    engine.dispose()


def _rows_at_0010(engine: Engine) -> None:
    """Two teams, two reps and their deals, as a database at 0010 holds them."""
    with engine.begin() as conn:
        two_teams_two_reps(conn)
        for number, (team, owner, customer, stage, day, deleted) in enumerate(
            (
                (1, 1, "Acme", "won", "2026-11-02", None),
                (2, 2, "acme", "won", "2026-11-02", None),  # a tie: both credited
                (1, 2, "ACME", "lost", "2026-11-20", None),
                (1, 1, "Globex", "won", "2026-10-01", "2026-10-02 00:00:00"),  # deleted
                (1, 2, "Globex", "proposal", "2026-12-01", None),
            ),
            start=1,
        ):
            conn.execute(
                text(
                    "INSERT INTO deal (workspace_id, number, team_id, owner_id, logged_by,"
                    " amount_minor, currency, customer, stage, close_date, source, created_at,"
                    " updated_at, deleted_at) VALUES ('T1', :no, :t, :o, :o, 100, 'USD', :c,"
                    " :s, :d, 'import', '2026-01-01 00:00:00', '2026-01-01 00:00:00', :x)"
                ),
                {
                    "no": number,
                    "t": team,
                    "o": owner,
                    "c": customer,
                    "s": stage,
                    "d": day,
                    "x": deleted,
                },
            )


def test_a_new_deal_merges_into_its_row_without_reading_the_customers_deals(w: World) -> None:
    # A customer with a long history: a new deal updates its rep's row from what the row
    # holds, whatever the number of deals behind it.
    for n in range(30):
        w.deal(w.alice, "Acme", date(2026, 10, 1) + timedelta(days=n))
    w.s.flush()
    seen: list[str] = []
    conn = w.s.connection()
    listen = lambda *a: seen.append(a[2])  # noqa: E731
    event.listen(conn, "before_cursor_execute", listen)
    w.deal(w.bob, "ACME", date(2026, 11, 4))  # bob's first Acme deal: not a new customer
    event.remove(conn, "before_cursor_execute", listen)
    touching = [" ".join(s.split()) for s in seen if "customer" in s.split("VALUES")[0]]
    touching = [s for s in touching if "advisory" not in s and not s.startswith("INSERT INTO deal")]
    assert len(touching) == 2, touching  # later first wins cleared, then the upsert
    assert not any("FROM deal" in s for s in touching)
    assert (w.new(OCT), w.new(), w.new(owner_ids=[w.bob])) == (1, 0, 0)
    kept_as_rebuilt(w)


def test_a_random_run_of_writes_keeps_the_table_as_a_rebuild(w: World) -> None:
    rng = random.Random(20261203)
    days = [date(2026, 11, 2) + timedelta(days=n) for n in range(4)]
    names = ["Acme", "acme", "ACME", "Globex", "globex", "Initech"]
    deals: list[Deal] = []
    for step in range(150):
        pick = rng.random()
        if pick < 0.4 or not deals:
            owner, team = rng.choice([w.alice, w.bob]), rng.choice([w.east, w.west])
            stage = rng.choice(["won", "won", "lost", "proposal"])
            day = rng.choice(days)
            deals.append(w.deal(owner, rng.choice(names), day, stage, team_id=team))
        else:
            deal = rng.choice(deals)
            w.s.refresh(deal)  # loaded, as /deal edit loads it (the check expires them)
            if pick < 0.85:
                field, value = rng.choice(
                    [
                        ("customer", rng.choice(names)),
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
        if step % 10 == 9:
            kept_as_rebuilt(w)
    kept_as_rebuilt(w)


def test_customers_count_only_live_deals(w: World) -> None:
    w.deal(w.alice, "Acme", date(2026, 11, 2))
    found = w.s.exec(select(Deal).where(col(Deal.customer) == "Acme")).one()
    w.change(found, action="delete", deleted_at=utcnow())
    assert (w.new(), w.quiet(), rows(w.s, w.ws)) == (0, {}, [])


def test_two_deals_of_one_customer_logged_at_once_both_count(engine: Engine) -> None:
    # On PostgreSQL each write reads its own snapshot: without a lock, bob's deal would
    # recompute Acme without alice's, alice's without bob's, and alice would count as new
    # on the 5th although bob won Acme on the 2nd.
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    with Session(engine) as s:
        w = _world(s, "T1")
        s.commit()
    with Session(engine) as first:
        World(first, *_ids(w)).deal(w.alice, "Acme", date(2026, 11, 5))  # flushed, locked
        second = threading.Thread(target=_log_in_own_session, args=(engine, w))
        second.start()
        second.join(0.5)
        assert second.is_alive()  # waits for the first writer of Acme
        first.commit()
    second.join(10)
    with Session(engine) as s:
        after = World(s, *_ids(w))
        assert (after.new(owner_ids=[w.alice]), after.new(owner_ids=[w.bob])) == (0, 1)
        assert after.daily() == {date(2026, 11, 2): 1}
        kept_as_rebuilt(after)


def _ids(w: World) -> tuple[str, int, int, int, int]:
    return (w.ws, w.east, w.west, w.alice, w.bob)


def _log_in_own_session(engine: Engine, w: World) -> None:
    with Session(engine) as s:
        World(s, *_ids(w)).deal(w.bob, "acme", date(2026, 11, 2))
        s.commit()
