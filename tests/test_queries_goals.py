"""queries.new_goal: one factory for a goal of a period, saved with its audit entry."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import Session

from domain import periods
from storage import queries
from storage.models import Goal, Team, Workspace


def test_new_goal_takes_label_and_dates_from_the_period() -> None:
    # Fiscal year from April: FY2026-Q1 is April to June, and the label says so.
    q1 = periods.quarter(2026, 1, fiscal_start=4)
    goal = queries.new_goal(
        workspace_id="T1",
        scope="rep",
        metric="deals",
        period=q1,
        target=12,
        created_by="UMIA",
        team_id=3,
        member_id=7,
        parent_id=5,
    )
    assert isinstance(goal, Goal) and goal.id is None
    assert (goal.period, goal.starts_on, goal.ends_on) == ("FY2026-Q1", date(2026, 4, 1), q1.end)
    assert q1.end == date(2026, 6, 30)
    assert (goal.workspace_id, goal.scope, goal.metric, goal.target) == ("T1", "rep", "deals", 12)
    assert (goal.team_id, goal.member_id, goal.parent_id, goal.created_by) == (3, 7, 5, "UMIA")
    assert goal.deleted_at is None


def test_new_goal_leaves_team_member_and_parent_unset() -> None:
    goal = queries.new_goal(
        workspace_id="T1",
        scope="workspace",
        metric="revenue",
        period=periods.month(2026, 11),
        target=5_000_000,
        created_by="UADMIN",
    )
    assert (goal.team_id, goal.member_id, goal.parent_id) == (None, None, None)
    assert (goal.starts_on, goal.ends_on) == (date(2026, 11, 1), date(2026, 11, 30))


def test_a_new_goal_saves_with_a_create_entry(session: Session) -> None:
    session.add(Workspace(id="T1"))
    session.flush()
    team = Team(workspace_id="T1", name="East")
    session.add(team)
    session.flush()
    week = periods.week(2026, 48)
    goal = queries.new_goal(
        workspace_id="T1",
        scope="team",
        metric="revenue",
        period=week,
        target=100_000,
        created_by="UMIA",
        team_id=team.id,
    )
    queries.save_goal(session, goal=goal, actor="UMIA", before=None)
    assert goal.id is not None
    [found] = queries.live_goals(session, workspace_id="T1", period=week, team_id=team.id)
    assert found.id == goal.id and found.period == "2026-W48"
    [entry] = queries.audit_trail(session, workspace_id="T1", entity="goal", entity_id=goal.id)
    assert (entry.action, entry.actor, entry.before) == ("create", "UMIA", None)
    assert entry.after is not None and json.loads(entry.after)["starts_on"] == "2026-11-23"
