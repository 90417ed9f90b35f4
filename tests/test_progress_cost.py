"""What /progress, /goal and /leaderboard read of the goals: only those of the owners shown.

Team East (USD, America/New_York): reps alice and bob, manager mia; NOW is Wed 25 Nov 2026.
Around them the workspace fills up with other reps, each with a year goal and its quarters
and months (17 goals): on East (revenue $10,000 a year, $5,000 for Q1) and on a team West.
The number of Goal rows a command builds must not grow with them, and the figures (targets,
roll-up flags) are worked out by hand from the goals set here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from commands.i18n import t
from domain import periods
from storage.models import Goal, Member, Membership, Team
from tests.conftest import Run

ALICE = "<@UALICE|alice>"
BOB = "<@UBOB|bob>"
YEAR = periods.year(2026)
QUARTERS = [periods.quarter(2026, q) for q in range(1, 5)]
MONTHS = [periods.month(2026, m) for m in range(1, 13)]


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def flag_under(period: str, parts: str, total: str, whose: str, target: str, diff: str) -> str:
    return en(
        "tree.flag_under",
        period=period,
        parts=en(f"tree.unit_{parts}"),
        sum=total,
        whose=whose,
        target=target,
        diff=diff,
    )


@contextmanager
def goal_rows() -> Iterator[list[int]]:
    """Counts the Goal objects the ORM builds from rows while the block runs."""
    loaded = [0]

    def count(target: Any, context: Any) -> None:
        loaded[0] += 1

    event.listen(Goal, "load", count)
    try:
        yield loaded
    finally:
        event.remove(Goal, "load", count)


class Others:
    """Reps added straight into the tables, each with 17 revenue goals of 2026."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.number = 10_000
        with Session(engine) as s:
            west = Team(workspace_id="T1", name="West", tz="America/New_York")
            s.add(west)
            s.commit()
            assert west.id is not None
            self.west = west.id
            east = s.exec(select(Team).where(Team.name == "East")).one()
            assert east.id is not None
            self.east = east.id
        self.on_east = 0

    def add(self, east: int, west: int) -> None:
        with Session(self.engine) as s:
            for team_id, n in ((self.east, east), (self.west, west)):
                for _ in range(n):
                    self._rep(s, team_id)
            s.commit()
        self.on_east += east

    def _rep(self, s: Session, team_id: int) -> None:
        self.count += 1
        rep = Member(workspace_id="T1", user_id=f"UOTHER{self.count}", name=f"o{self.count}")
        s.add(rep)
        s.flush()
        assert rep.id is not None
        s.add(Membership(team_id=team_id, member_id=rep.id, role="rep", home=True))
        targets = [(YEAR, 1_000_000)]  # $10,000 a year, $5,000 in Q1: minor units
        targets += [(q, 500_000 if q.label.endswith("Q1") else 166_700) for q in QUARTERS]
        targets += [(m, 100_000) for m in MONTHS]
        for period, target in targets:
            s.add(self._goal(team_id, rep.id, period, target))

    def _goal(self, team_id: int, rep_id: int, period: periods.Period, target: int) -> Goal:
        self.number += 1
        return Goal(
            workspace_id="T1",
            number=self.number,  # far above the goals set by command
            scope="rep",
            team_id=team_id,
            member_id=rep_id,
            metric="revenue",
            period=period.label,
            starts_on=period.start,
            ends_on=period.end,
            target=target,
            created_by="UADMIN",
        )


@pytest.fixture
def goals(team: Run, engine: Engine) -> Others:
    """East: a $1,000,000 year goal; alice $300,000 for the year, its quarters $70,000,
    $70,000, $70,000 and $80,000 ($290,000: $10,000 short), November $25,000; bob
    $200,000 for the year."""
    for line in (
        "set team East 1000000 2026",
        f"set {ALICE} 300000 2026",
        f"set {ALICE} 70000 2026-Q1",
        f"set {ALICE} 70000 2026-Q2",
        f"set {ALICE} 70000 2026-Q3",
        f"set {ALICE} 80000 2026-Q4",
        f"set {ALICE} 25000 2026-11",
        f"set {BOB} 200000 2026",
    ):
        assert team("UMIA", "/goal", line).ok, line
    return Others(engine)


def money(dollars: int) -> str:
    return f"${dollars:,}"


def loads(run: Run, user: str, command: str, text: str) -> tuple[int, str]:
    with goal_rows() as loaded:
        reply = run(user, command, text)
    assert reply.ok, reply.text
    return loaded[0], reply.text


@pytest.mark.parametrize("period", ["2026", "2026-Q4", "2026-11"])
def test_a_reps_progress_reads_only_their_own_goals(team: Run, goals: Others, period: str) -> None:
    goals.add(east=2, west=2)
    few, text = loads(team, "UALICE", "/progress", period)
    goals.add(east=10, west=15)
    many, again = loads(team, "UALICE", "/progress", period)
    assert many == few
    assert again == text


def test_a_reps_year_says_its_quarters_fall_short(team: Run, goals: Others) -> None:
    goals.add(east=3, west=3)
    count, text = loads(team, "UALICE", "/progress", "2026")
    # Her year goal and her goals inside it (4 quarters, November) for the roll-up.
    assert count == 6
    whose = en("tree.whose_rep", name="alice")
    flag = flag_under("2026", "quarters", money(290_000), whose, money(300_000), money(10_000))
    lines = text.splitlines()
    # The only flag, after the goal's ID (the team goal is #1): November is no part of it.
    assert lines[lines.index(en("progress.goal_ref", id=2)) + 1 :] == [flag]


@pytest.mark.parametrize(("east", "west"), [(2, 3), (9, 20)])
def test_a_team_goal_sums_its_reps_in_sql(team: Run, goals: Others, east: int, west: int) -> None:
    goals.add(east=east, west=west)
    count, text = loads(team, "UMIA", "/progress", "team East 2026")
    assert count == 1  # the team goal alone: the reps' targets are summed by the database
    # alice $300,000 + bob $200,000 + $10,000 for each other rep on East.
    total = 500_000 + 10_000 * east
    flag = flag_under(
        "2026",
        "reps",
        money(total),
        en("tree.whose_team"),
        money(1_000_000),
        money(1_000_000 - total),
    )
    assert flag in text.splitlines()


@pytest.mark.parametrize(("east", "west"), [(2, 3), (9, 20)])
def test_a_team_without_a_goal_adds_up_its_reps_goals(
    team: Run, goals: Others, east: int, west: int
) -> None:
    goals.add(east=east, west=west)
    count, text = loads(team, "UMIA", "/progress", "team East 2026-Q1")
    assert count == 0  # no team goal for Q1: its reps' Q1 targets, summed in SQL
    # alice $70,000 + $5,000 for each other rep on East; bob has no Q1 goal.
    target = 70_000 + 5_000 * east
    assert en("progress.attainment", actual="$0", target=money(target), attainment="0%") in text


def test_my_goals_read_only_mine_and_my_teams(team: Run, goals: Others) -> None:
    goals.add(east=2, west=2)
    few, text = loads(team, "UALICE", "/goal", "")
    goals.add(east=10, west=10)
    many, again = loads(team, "UALICE", "/goal", "")
    assert many == few
    # The team goal's reps now add up to $500,000 + 12 x $10,000 instead of + 2 x $10,000.
    assert money(620_000) in again
    assert again == text.replace(money(520_000), money(620_000)).replace(
        money(480_000), money(380_000)
    )


def test_the_leaderboard_reads_no_goal_rows_for_its_targets(team: Run, goals: Others) -> None:
    goals.add(east=2, west=5)
    count, text = loads(team, "UALICE", "/leaderboard", "2026")
    assert count == 0
    assert "alice" in text


def test_the_tree_of_a_team_reads_none_of_another_teams_goals(team: Run, goals: Others) -> None:
    goals.add(east=1, west=1)
    few, text = loads(team, "UMIA", "/goal", "tree team East")
    goals.add(east=0, west=10)
    many, again = loads(team, "UMIA", "/goal", "tree team East")
    assert (many, again) == (few, text)


@pytest.mark.parametrize("west", [2, 15])
def test_a_teams_copy_reads_only_its_own_goals(team: Run, goals: Others, west: int) -> None:
    goals.add(east=2, west=west)
    count, text = loads(team, "UMIA", "/goal", "copy 2026-Q1 to 2027-Q1")
    assert count == 3  # alice's Q1 and the two other East reps': West's are not read
    assert text.splitlines()[0] == en("tree.copy_done", count=3, source="2026-Q1", dest="2027-Q1")
