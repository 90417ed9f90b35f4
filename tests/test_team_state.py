"""A stateful test over what changes who counts where: log, edit, delete and restore deals,
add reps to teams and move them, set goals and split them.

Hypothesis runs random sequences of these commands, typed as users type them, against a
model of what each should do; after every step it checks that each deal is credited where
the model says, that each team's total is the sum of its live deals, that each leaderboard
adds up to its team's total, that no goal someone set directly has gone, and that every
change has its audit entry. A failure shrinks to the shortest sequence that shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from commands import leaderboard
from storage.models import AuditEntry, Deal, Goal, Member, Team
from tests.conftest import ADMIN, NOW, Run

REPS = {"alice": "UALICE", "bob": "UBOB", "carol": "UCAROL"}
TEAMS = ("East", "West")
MANAGER = "UMIA"
YEAR_START, YEAR_END = date(2026, 1, 1), date(2027, 12, 31)


def mention(name: str) -> str:
    return f"<@{REPS[name]}|{name}>"


@dataclass
class ModelDeal:
    owner: str
    team: str
    amount: int  # dollars
    close: date
    live: bool = True
    changes: int = 1  # audit entries expected: the create, then one per change


class TeamChanges(RuleBasedStateMachine):
    def __init__(self, run: Run, engine: Engine, reset: Callable[[], None]) -> None:
        super().__init__()
        reset()
        self.run, self.engine = run, engine
        self.day = 0
        self.deals: dict[int, ModelDeal] = {}
        self.teams_of: dict[str, list[str]] = {}  # the first is the home team
        self.direct: dict[int, int] = {}  # goal number -> target in dollars
        self.customers = 0

    # --- helpers ----------------------------------------------------------------------------

    @property
    def now(self):  # type: ignore[no-untyped-def]
        return NOW + timedelta(days=self.day)

    @property
    def today(self) -> date:
        return (NOW + timedelta(days=self.day)).date()

    def say(self, user: str, command: str, text: str) -> str:
        return self.run(user, command, text, now=self.now).text

    def last_number(self, model: type[Deal] | type[Goal]) -> int:
        with Session(self.engine) as s:
            number = s.exec(select(func.max(col(model.number)))).one()
        return int(number or 0)

    def add(self, team: str, rep: str, role: str = "") -> None:
        role_option = f" as:{role}" if role else ""
        self.say(ADMIN, "/pacer", f"setup team add {team} {mention(rep)}{role_option}")
        if team not in self.teams_of.setdefault(rep, []):
            self.teams_of[rep].append(team)

    @initialize()
    def teams(self) -> None:
        for name in TEAMS:
            self.say(ADMIN, "/pacer", f"setup team create {name} tz:America/New_York")
        self.add("East", "alice")
        self.add("East", "bob")
        self.add("West", "carol")
        self.say(ADMIN, "/pacer", "setup team add East <@UMIA|mia> as:manager")

    # --- rules ------------------------------------------------------------------------------

    @rule()
    @precondition(lambda self: self.day < 12)
    def next_day(self) -> None:
        self.day += 1

    @rule(
        rep=st.sampled_from(sorted(REPS)),
        amount=st.integers(1, 90_000),
        pick=st.sampled_from([None, *TEAMS]),
    )
    def log(self, rep: str, amount: int, pick: str | None) -> None:
        self.customers += 1
        option = f" team:{pick}" if pick else ""
        before = self.last_number(Deal)
        self.say(REPS[rep], "/deal", f"{amount} Customer{self.customers}{option}")
        teams = self.teams_of.get(rep, [])
        credited = pick if pick else (teams[0] if teams else None)
        if credited is None or credited not in teams:
            assert self.last_number(Deal) == before, f"{rep} logged into {credited}"
            return
        self.deals[before + 1] = ModelDeal(rep, credited, amount, self.today)

    def _pick(self, data: st.DataObject, live: bool) -> int | None:
        choices = sorted(n for n, d in self.deals.items() if d.live == live)
        return data.draw(st.sampled_from(choices)) if choices else None

    @rule(data=st.data(), amount=st.integers(1, 90_000))
    def edit(self, data: st.DataObject, amount: int) -> None:
        number = self._pick(data, live=True)
        if number is None:
            return
        deal = self.deals[number]
        self.say(REPS[deal.owner], "/deal", f"edit {number} {amount}")
        if amount != deal.amount:
            deal.amount, deal.changes = amount, deal.changes + 1

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        number = self._pick(data, live=True)
        if number is None:
            return
        deal = self.deals[number]
        self.say(REPS[deal.owner], "/deal", f"delete {number}")
        deal.live, deal.changes = False, deal.changes + 1

    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        number = self._pick(data, live=False)
        if number is None:
            return
        deal = self.deals[number]
        self.say(REPS[deal.owner], "/deal", f"restore {number}")
        deal.live, deal.changes = True, deal.changes + 1

    @rule(rep=st.sampled_from(sorted(REPS)), team=st.sampled_from(TEAMS))
    def add_to_team(self, rep: str, team: str) -> None:
        self.add(team, rep)

    @rule(rep=st.sampled_from(sorted(REPS)), team=st.sampled_from(TEAMS))
    def move(self, rep: str, team: str) -> None:
        """From today on: the rep's deals won today for the home team move with the rep."""
        teams = self.teams_of.get(rep, [])
        self.say(ADMIN, "/pacer", f"setup team move {mention(rep)} to {team}")
        if not teams or teams[0] == team:
            return
        home = teams[0]
        self.teams_of[rep] = [team, *(t for t in teams[1:] if t != team)]
        for deal in self.deals.values():
            if deal.owner == rep and deal.team == home and deal.close >= self.today:
                deal.team, deal.changes = team, deal.changes + 1

    @rule(rep=st.sampled_from(sorted(REPS)), dollars=st.integers(1, 50).map(lambda k: k * 1000))
    def set_rep_goal(self, rep: str, dollars: int) -> None:
        if not self.teams_of.get(rep):
            return
        home = self.teams_of[rep][0]
        self.say(ADMIN, "/goal", f"set {mention(rep)} {dollars} 2026-12")
        # A new goal, or the rep's goal on the home team for December set again.
        with Session(self.engine) as s:
            goal = s.exec(
                select(Goal)
                .join(Member, col(Member.id) == col(Goal.member_id))
                .join(Team, col(Team.id) == col(Goal.team_id))
                .where(Member.user_id == REPS[rep], Team.name == home, Goal.period == "2026-12")
                .where(col(Goal.deleted_at).is_(None))
            ).one()
        self.direct[goal.number] = dollars

    @rule(team=st.sampled_from(TEAMS), dollars=st.integers(10, 500).map(lambda k: k * 1000))
    def split_team_goal(self, team: str, dollars: int) -> None:
        """A team goal set (again) and split into reps, then into weeks: a split replaces
        only what a split made."""
        self.say(ADMIN, "/goal", f"set team {team} {dollars} 2026-12")
        with Session(self.engine) as s:
            goal = s.exec(
                select(Goal)
                .join(Team, col(Team.id) == col(Goal.team_id))
                .where(Team.name == team, Goal.scope == "team", col(Goal.deleted_at).is_(None))
                .order_by(col(Goal.id).desc())
            ).first()
        assert goal is not None
        self.say(ADMIN, "/goal", f"split {goal.number} reps")
        self.say(ADMIN, "/goal", f"split {goal.number} weeks")

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def deals_where_the_model_says(self) -> None:
        with Session(self.engine) as s:
            rows = s.exec(select(Deal, Team.name).join(Team, col(Team.id) == col(Deal.team_id)))
            seen = {
                d.number: (name, d.amount_minor // 100, d.deleted_at is None) for d, name in rows
            }
        expected = {n: (d.team, d.amount, d.live) for n, d in self.deals.items()}
        assert seen == expected

    @invariant()
    def team_totals_and_leaderboards_add_up(self) -> None:
        with Session(self.engine) as s:
            for name in TEAMS:
                team = s.exec(select(Team).where(Team.name == name)).one()
                live = sum(d.amount for d in self.deals.values() if d.live and d.team == name)
                total = s.exec(
                    select(func.coalesce(func.sum(Deal.amount_minor), 0)).where(
                        Deal.team_id == team.id,
                        col(Deal.deleted_at).is_(None),
                        Deal.stage == "won",
                    )
                ).one()
                assert total == live * 100, name
                board = leaderboard.board_of(s, team, YEAR_START, YEAR_END)
                assert board.total_minor(team.currency) == live * 100, name

    @invariant()
    def goals_set_directly_stay(self) -> None:
        with Session(self.engine) as s:
            for number, target in self.direct.items():
                goal = s.exec(select(Goal).where(Goal.number == number)).one()
                assert goal.deleted_at is None, f"goal #{number} set directly was deleted"
                assert goal.target == target * 100, f"goal #{number} set directly changed"

    @invariant()
    def every_change_audited(self) -> None:
        with Session(self.engine) as s:
            ids = dict(s.exec(select(Deal.number, Deal.id)).all())
            counts = dict(
                s.exec(
                    select(AuditEntry.entity_id, func.count())
                    .where(AuditEntry.entity == "deal")
                    .group_by(col(AuditEntry.entity_id))
                ).all()
            )
            members = s.exec(select(func.count()).select_from(Member)).one()
        assert members >= 1
        for number, deal in self.deals.items():
            assert counts.get(ids[number], 0) == deal.changes, f"deal #{number}"
        with Session(self.engine) as s:
            goals = s.exec(select(Goal.number, Goal.id)).all()
            audited = set(
                s.exec(select(AuditEntry.entity_id).where(AuditEntry.entity == "goal")).all()
            )
        unaudited = [number for number, goal_id in goals if goal_id not in audited]
        assert not unaudited, f"goals without an audit entry: {unaudited}"


@pytest.fixture
def reset(engine: Engine, request: pytest.FixtureRequest) -> Callable[[], None]:
    """Empty the database again for each example Hypothesis runs."""
    if engine.dialect.name == "sqlite":
        from tests.conftest import restore_sqlite_memory

        template = request.getfixturevalue("sqlite_template")
        return lambda: restore_sqlite_memory(engine, template)
    schema = request.getfixturevalue("postgres_schema")
    return schema.empty  # type: ignore[no-any-return]


def test_team_changes_keep_every_figure(
    run: Run, engine: Engine, reset: Callable[[], None]
) -> None:
    examples = 25 if engine.dialect.name == "sqlite" else 10
    run_state_machine_as_test(
        lambda: TeamChanges(run, engine, reset),
        settings=settings(
            max_examples=examples,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
