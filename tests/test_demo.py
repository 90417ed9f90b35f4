"""The demo workspace: who is in it, their goals and deals, and what the commands show on it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

import charts
from commands import demo, stats
from commands.demo import fill_demo
from commands.router import dispatch
from commands.types import Reply, Request
from storage import queries
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import Deal, Goal, Holiday, Member, Membership, Team

TODAY = date(2026, 11, 25)  # a Wednesday
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
WS = "TDEMO"
PNG = b"\x89PNG\r\n\x1a\n"


def fill(engine: Engine, today: date = TODAY, seed: int = 7) -> demo.DemoSummary:
    with session_scope(engine) as session:
        return fill_demo(session, workspace_id=WS, today=today, seed=seed)


def as_user(engine: Engine, user: str, command: str, text: str = "") -> Reply:
    req = Request(workspace_id=WS, user_id=user, text=text, now=NOW)
    with session_scope(engine) as session:
        return dispatch(command, req, session)


def rows_of(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.exec(select(func.count()).select_from(model)).one()
        for model in (Team, Member, Membership, Holiday, Goal, Deal)
    }


def test_two_teams_eight_reps_and_their_managers(engine: Engine) -> None:
    summary = fill(engine)
    assert summary.created
    assert (summary.teams, summary.reps, summary.managers) == (("East", "华东"), 8, 2)
    with Session(engine) as session:
        teams = {t.name: t for t in queries.list_teams(session, workspace_id=WS)}
        assert {(n, t.currency, t.tz) for n, t in teams.items()} == {
            ("East", "USD", "America/New_York"),
            ("华东", "CNY", "Asia/Shanghai"),
        }

        def names(team: str, role: str) -> set[str]:
            return {
                m.name
                for m in queries.team_members(session, team_id=teams[team].id or 0, role=role)
            }

        assert names("East", "rep") == {"Alice Johnson", "Bob Smith", "Carol Diaz", "Dan Lee"}
        assert names("华东", "rep") == {"王芳", "李雷", "张伟", "陈静"}
        assert names("East", "manager") == {"Mia Wong"}
        assert names("华东", "manager") == {"刘洋"}
        assert teams["East"].channel_id == "CDEMOEAST"
        rep_ids = {
            m.user_id
            for team in teams.values()
            for m in queries.team_members(session, team_id=team.id or 0, role="rep")
        }
        assert rep_ids == {f"UDEMO0{i}" for i in range(1, 9)}


def test_every_rep_and_team_has_month_quarter_and_year_goals(sqlite_engine: Engine) -> None:
    assert fill(sqlite_engine).goals == 30  # (4 reps + 1 team) x 3 periods x 2 teams
    with Session(sqlite_engine) as session:
        goals = session.exec(select(Goal).where(Goal.workspace_id == WS)).all()
        members = {m.id: m.name for m in session.exec(select(Member)).all()}
        teams = {t.id: t.name for t in session.exec(select(Team)).all()}
    targets = {
        (members[g.member_id] if g.member_id else teams[g.team_id], g.period): g.target
        for g in goals
        if g.metric == "revenue"
    }
    # Minor units: cents for USD, fen for CNY.
    assert targets[("Alice Johnson", "2026-11")] == 80_000_00
    assert targets[("Alice Johnson", "2026-Q4")] == 240_000_00
    assert targets[("Alice Johnson", "2026")] == 960_000_00
    assert targets[("王芳", "2026-11")] == 600_000_00
    assert targets[("East", "2026-11")] == 300_000_00  # 80k + 70k + 90k + 60k
    assert targets[("华东", "2026-Q4")] == 3 * 2_100_000_00
    periods_by_owner: dict[str, set[str]] = defaultdict(set)
    for owner, period in targets:
        periods_by_owner[owner].add(period)
    assert len(periods_by_owner) == 10
    assert all(p == {"2026-11", "2026-Q4", "2026"} for p in periods_by_owner.values())


def test_six_months_of_won_deals_on_working_days_none_in_the_future(engine: Engine) -> None:
    summary = fill(engine)
    with Session(engine) as session:
        deals = session.exec(select(Deal).where(Deal.workspace_id == WS)).all()
        teams = {t.id: t for t in session.exec(select(Team)).all()}
        hols = {tid: queries.holidays(session, workspace_id=WS, team_id=tid) for tid in teams}
    won = [d for d in deals if d.stage == "won"]
    assert (summary.won_deals, summary.open_deals) == (len(won), len(deals) - len(won))
    assert (summary.first_day, summary.last_day) == (date(2026, 6, 1), TODAY)
    assert {(d.close_date.year, d.close_date.month) for d in won} == {
        (2026, m) for m in range(6, 12)
    }
    assert all(d.close_date <= TODAY for d in won)
    assert all(d.close_date.weekday() < 5 for d in deals)
    assert not [d for d in deals if d.close_date in hols[d.team_id]]
    assert date(2026, 10, 1) in hols[next(i for i, t in teams.items() if t.name == "华东")]
    assert all(d.currency == teams[d.team_id].currency and d.amount_minor > 0 for d in deals)
    assert {d.source for d in deals} == {"import"}
    # Every rep sold in each of the six months, and has open deals in late stages this month.
    months_per_rep: dict[int, set[int]] = defaultdict(set)
    for d in won:
        months_per_rep[d.owner_id].add(d.close_date.month)
    assert len(months_per_rep) == 8
    assert all(len(months) == 6 for months in months_per_rep.values())
    pipeline = [d for d in deals if d.stage != "won"]
    assert {d.stage for d in pipeline} <= {"proposal", "negotiation"}
    assert all(TODAY < d.close_date <= date(2026, 11, 30) for d in pipeline)
    assert len({d.owner_id for d in pipeline}) == 8


def test_productivity_is_skewed_some_ahead_some_behind(sqlite_engine: Engine) -> None:
    fill(sqlite_engine)
    behind: dict[str, bool] = {}
    with Session(sqlite_engine) as session:
        for goal in session.exec(select(Goal).where(Goal.scope == "rep", Goal.period == "2026-11")):
            rep = session.get(Member, goal.member_id)
            team = queries.team_of(session, member_id=goal.member_id or 0)
            assert rep is not None and team is not None
            behind[rep.name] = stats.progress_of(session, goal, team, TODAY).behind
    assert behind["Alice Johnson"] is False and behind["王芳"] is False
    assert behind["Bob Smith"] is True and behind["张伟"] is True
    assert sum(behind.values()) in range(2, 7)


def test_amounts_vary_like_real_deals(sqlite_engine: Engine) -> None:
    fill(sqlite_engine)
    with Session(sqlite_engine) as session:
        amounts = sorted(
            session.exec(
                select(Deal.amount_minor).where(Deal.currency == "USD", Deal.stage == "won")
            ).all()
        )
    median = amounts[len(amounts) // 2]
    # Log-normal: a long right tail, big deals several times the median.
    assert amounts[-1] > 3 * median > 3 * amounts[0]
    assert all(a % 50_00 == 0 for a in amounts)  # rounded to $50


def test_filling_again_changes_nothing(engine: Engine) -> None:
    first = fill(engine)
    with Session(engine) as session:
        before = rows_of(session)
    again = fill(engine, seed=99)
    with Session(engine) as session:
        assert rows_of(session) == before
    assert not again.created
    assert (again.won_deals, again.goals, again.reps) == (
        first.won_deals,
        first.goals,
        first.reps,
    )


def _deal_tuples(seed: int) -> list[tuple[int, int, date, str, str]]:
    engine = make_engine("sqlite://")
    upgrade(engine)
    fill(engine, seed=seed)
    with Session(engine) as session:
        rows = session.exec(select(Deal).order_by(col(Deal.id))).all()
        result = [(d.owner_id, d.amount_minor, d.close_date, d.customer, d.stage) for d in rows]
    engine.dispose()
    return result


def test_the_same_seed_gives_the_same_deals() -> None:
    assert _deal_tuples(7) == _deal_tuples(7)
    assert _deal_tuples(7) != _deal_tuples(8)


def test_a_sunday_first_of_the_month_has_no_deals_yet_this_month(sqlite_engine: Engine) -> None:
    summary = fill(sqlite_engine, today=date(2026, 11, 1))
    assert summary.first_day == date(2026, 6, 1)
    assert summary.last_day is not None and summary.last_day <= date(2026, 10, 31)


def test_today_is_the_earliest_local_date_of_the_demo_teams() -> None:
    # 02:00 UTC on the 26th is already the 26th in Shanghai but still the 25th in New York.
    assert demo.today_for(datetime(2026, 11, 26, 2, 0, tzinfo=UTC)) == date(2026, 11, 25)


@pytest.mark.parametrize(
    ("user", "command", "text", "title"),
    [
        ("UDEMO01", "/leaderboard", "", "🏆 *East · 2026-11 · by attainment*"),
        ("UDEMO05", "/leaderboard", "2026-Q4 by revenue", "🏆 *华东 · 2026-Q4 · by revenue*"),
        ("UDEMO02", "/progress", "", "*Bob Smith · 2026-11* (revenue)"),
        ("UDEMO10", "/progress", "team 华东 quarter", "*华东 · 2026-Q4* (revenue)"),
    ],
)
def test_leaderboards_and_progress_on_the_demo_draw_charts(
    sqlite_engine: Engine, user: str, command: str, text: str, title: str
) -> None:
    fill(sqlite_engine)
    reply = as_user(sqlite_engine, user, command, text)
    assert reply.ok, reply.text
    assert reply.text.startswith(title)
    assert reply.chart is not None
    assert charts.render(reply.chart).startswith(PNG)


def test_the_demo_leaderboard_ranks_the_strong_rep_first(sqlite_engine: Engine) -> None:
    fill(sqlite_engine)
    lines = as_user(sqlite_engine, "UDEMO01", "/leaderboard").text.splitlines()
    assert lines[1].startswith("🥇 *Alice Johnson* ")
    assert lines[4].startswith("4. *Bob Smith* ")
