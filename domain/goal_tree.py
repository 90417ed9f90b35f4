"""The shape of a goal hierarchy: which goals are parts of which. Pure: no I/O.

Goals nest two ways: by scope (workspace > team > rep, same period) and by time
(year > quarter > month > week, same owner). A goal's parts are its goals one step down
either way; `parent_id` records which goal a split made them from. Works on anything with
a goal's fields (storage.models.Goal in Pacer).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol, TypeVar

from domain import periods
from domain import split as splitting
from domain.periods import PeriodKind

UNIT_KIND = {"quarters": PeriodKind.QUARTER, "months": PeriodKind.MONTH, "weeks": PeriodKind.WEEK}
SCOPE_RANK = {"workspace": 0, "team": 1, "rep": 2}


class GoalShape(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def scope(self) -> str: ...
    @property
    def team_id(self) -> int | None: ...
    @property
    def member_id(self) -> int | None: ...
    @property
    def metric(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def starts_on(self) -> date: ...
    @property
    def ends_on(self) -> date: ...
    @property
    def parent_id(self) -> int | None: ...


G = TypeVar("G", bound=GoalShape)


def same_owner(a: G, b: G) -> bool:
    return (a.scope, a.team_id, a.member_id, a.metric) == (
        b.scope,
        b.team_id,
        b.member_id,
        b.metric,
    )


def same_span(a: G, b: G) -> bool:
    return (a.starts_on, a.ends_on, a.metric) == (b.starts_on, b.ends_on, b.metric)


def scope_parts(goal: G, pool: Sequence[G]) -> list[G]:
    """A team goal's rep goals, a workspace goal's team goals, for the same period."""
    if goal.scope == "team":
        return [
            g for g in pool if g.scope == "rep" and g.team_id == goal.team_id and same_span(g, goal)
        ]
    if goal.scope == "workspace":
        return [g for g in pool if g.scope == "team" and same_span(g, goal)]
    return []


def time_parts(goal: G, pool: Sequence[G]) -> tuple[str, list[G]]:
    """The same owner's goals one step down in time (a year's quarters, else its months)."""
    inside = [
        g
        for g in pool
        if g.id != goal.id
        and same_owner(g, goal)
        and goal.starts_on <= g.starts_on
        and g.ends_on <= goal.ends_on
    ]
    whole = (goal.ends_on - goal.starts_on).days + 1
    for unit in splitting.UNITS_OF[periods.kind_of(goal.period)]:
        parts = [g for g in inside if periods.kind_of(g.period) is UNIT_KIND[unit]]
        covered = sum((g.ends_on - g.starts_on).days + 1 for g in parts)
        # Parts: a split of this goal, or goals that tile its whole period. A lone Q4 goal
        # under a year goal is a goal of its own, not three quarters missing.
        if parts and (covered >= whole or any(g.parent_id == goal.id for g in parts)):
            return unit, parts
    return "", []


def order(goal: G) -> tuple[bool, str, date, int, int]:
    return (
        goal.metric != "revenue",
        goal.metric,
        goal.starts_on,
        SCOPE_RANK[goal.scope],
        goal.id or 0,
    )


def parent_of(goal: G, pool: Sequence[G]) -> G | None:
    """The split it came from, else the same period one scope up, else the smallest goal of
    the same owner whose period holds it."""
    by_id = {g.id: g for g in pool}
    if goal.parent_id in by_id:
        return by_id[goal.parent_id]
    up = {"rep": "team", "team": "workspace"}.get(goal.scope)
    for g in pool:
        if (
            g.scope == up
            and same_span(g, goal)
            and (up == "workspace" or g.team_id == goal.team_id)
        ):
            return g
    holders = [
        g
        for g in pool
        if same_owner(g, goal)
        and g.starts_on <= goal.starts_on
        and goal.ends_on <= g.ends_on
        and (g.starts_on, g.ends_on) != (goal.starts_on, goal.ends_on)
    ]
    return min(holders, key=lambda g: g.ends_on - g.starts_on, default=None)


def children_of(pool: Sequence[G]) -> dict[int | None, list[G]]:
    kids: dict[int | None, list[G]] = {}
    for goal in pool:
        up = parent_of(goal, pool)
        if up is not None:
            kids.setdefault(up.id, []).append(goal)
    return kids
