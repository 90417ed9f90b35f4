"""The pure shape of a goal hierarchy (domain/goal_tree.py), on plain goal records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.goal_tree import children_of, order, parent_of, same_owner, scope_parts, time_parts


@dataclass(frozen=True)
class G:
    id: int
    scope: str
    period: str
    starts_on: date
    ends_on: date
    team_id: int | None = 1
    member_id: int | None = None
    metric: str = "revenue"
    parent_id: int | None = None


YEAR = dict(period="2026", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
QUARTER_ENDS = {
    1: date(2026, 3, 31),
    2: date(2026, 6, 30),
    3: date(2026, 9, 30),
    4: date(2026, 12, 31),
}
Q = {
    n: dict(period=f"2026-Q{n}", starts_on=date(2026, 3 * n - 2, 1), ends_on=QUARTER_ENDS[n])
    for n in range(1, 5)
}
NOV = dict(period="2026-11", starts_on=date(2026, 11, 1), ends_on=date(2026, 11, 30))


def test_a_team_goal_has_its_reps_goals_of_the_same_span_as_parts() -> None:
    team = G(1, "team", **NOV)
    alice = G(2, "rep", member_id=10, **NOV)
    bob = G(3, "rep", member_id=11, **NOV)
    other_team = G(4, "rep", team_id=2, member_id=12, **NOV)
    deals = G(5, "rep", member_id=10, metric="deals", **NOV)
    assert scope_parts(team, [team, alice, bob, other_team, deals]) == [alice, bob]
    assert scope_parts(alice, [team, alice, bob]) == []


def test_a_year_splits_into_quarters_when_they_tile_it_or_came_from_its_split() -> None:
    year = G(1, "team", **YEAR)
    quarters = [G(10 + n, "team", **Q[n]) for n in range(1, 5)]
    assert time_parts(year, [year, *quarters]) == ("quarters", quarters)
    # A lone Q4 goal is a goal of its own, not three quarters missing ...
    assert time_parts(year, [year, quarters[3]]) == ("", [])
    # ... unless the year was split into it.
    split_q4 = G(14, "team", parent_id=1, **Q[4])
    assert time_parts(year, [year, split_q4]) == ("quarters", [split_q4])


def test_parents_by_split_then_scope_then_the_smallest_period_holding_it() -> None:
    year = G(1, "team", **YEAR)
    q4 = G(2, "team", **Q[4])
    nov_team = G(3, "team", **NOV)
    nov_alice = G(4, "rep", member_id=10, **NOV)
    split_child = G(5, "rep", member_id=11, parent_id=1, **NOV)
    pool = [year, q4, nov_team, nov_alice, split_child]
    assert parent_of(split_child, pool) is year  # the split it came from wins
    assert parent_of(nov_alice, pool) is nov_team  # same span, one scope up
    assert parent_of(nov_team, pool) is q4  # the smallest holder, not the year
    assert parent_of(year, pool) is None
    assert children_of(pool) == {1: [q4, split_child], 2: [nov_team], 3: [nov_alice]}


def test_order_puts_revenue_first_then_by_date_and_scope() -> None:
    rep = G(3, "rep", member_id=10, **NOV)
    team = G(2, "team", **NOV)
    deals = G(1, "team", metric="deals", **NOV)
    year = G(4, "team", **YEAR)
    assert sorted([deals, rep, team, year], key=order) == [year, team, rep, deals]
    assert same_owner(team, G(9, "team", **YEAR)) and not same_owner(team, rep)
