"""Numbers behind progress and leaderboards: SQL totals turned into domain Progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from sqlmodel import Session

from commands.formatter import MONEY_METRICS, to_value
from commands.parsing import UsageError
from domain import compare, money, pace, periods
from domain.periods import Period
from storage import queries
from storage.models import Goal, Member, Team

T = TypeVar("T")
MAX_COUNT = 1_000_000  # deals or customers in one goal


@dataclass(frozen=True)
class Scope:
    """Whose deals count: one rep's, a team's, or the whole workspace's."""

    workspace_id: str
    team_id: int | None = None
    owner_ids: tuple[int, ...] | None = None


def scope_of(goal: Goal) -> Scope:
    if goal.scope == "rep" and goal.member_id is not None:
        # Only the deals the rep won for the goal's team: a rep who changes teams starts
        # afresh there, and amounts in two currencies are never added up.
        return Scope(goal.workspace_id, goal.team_id, (goal.member_id,))
    if goal.scope == "team":
        return Scope(goal.workspace_id, goal.team_id, None)
    return Scope(goal.workspace_id)


def actual(session: Session, scope: Scope, metric: str, period: Period) -> int:
    """Minor units for money metrics, a count otherwise."""
    if metric == "collected":
        return in_scope(queries.collected, session, scope, period)
    if metric == "new_customers":
        return in_scope(queries.new_customers, session, scope, period)
    totals = in_scope(queries.totals_by_owner, session, scope, period)
    index = 1 if metric == "deals" else 0
    return sum(v[index] for v in totals.values())


SUMMED = ("revenue", "deals")  # the metrics read off repday's sums


def actuals_of(session: Session, goals: Sequence[Goal]) -> list[int]:
    """actual() of each goal, in order: the revenue and deal goals of one scope (a rep's
    month, quarter and year) from one statement over all their periods."""
    found: dict[int, int] = {}
    by_scope: dict[Scope, list[int]] = {}
    for i, goal in enumerate(goals):
        if goal.metric in SUMMED:
            by_scope.setdefault(scope_of(goal), []).append(i)
        else:
            found[i] = actual(session, scope_of(goal), goal.metric, goal_period(goal))
    for scope, indexes in by_scope.items():
        spans = [(goals[i].starts_on, goals[i].ends_on) for i in indexes]
        for i, (won, count) in zip(indexes, _summed(session, scope, spans), strict=True):
            found[i] = count if goals[i].metric == "deals" else won
    return [found[i] for i in range(len(goals))]


def in_scope(
    query: Callable[..., T], session: Session, scope: Scope, period: Period, **extra: object
) -> T:
    """Run one of the scoped aggregate queries (storage/queries/metrics.py) for a scope and
    a period."""
    return query(
        session,
        workspace_id=scope.workspace_id,
        start=period.start,
        end=period.end,
        team_id=scope.team_id,
        owner_ids=scope.owner_ids,
        **extra,
    )


def goal_period(goal: Goal) -> Period:
    """The goal's own dates (a week split from a month may be clipped to it), its kind."""
    return Period(goal.starts_on, goal.ends_on, periods.kind_of(goal.period), goal.period)


def goal_team(session: Session, goal: Goal, fallback: Team | None) -> Team | None:
    """The team whose currency and holidays a goal counts in."""
    if goal.team_id is None:
        return fallback
    return session.get(Team, goal.team_id) or fallback


def goal_order(
    goals: Iterable[Goal], metric: str = "revenue", *, home_team: int | None = None
) -> list[Goal]:
    """Which goal a reply leads with, and the order of the others: the metric the command
    is about, then the shortest period (of those given: the ones containing today, or the
    period asked), revenue before the other metrics. Which goals happen to exist besides
    never changes which one leads (a new weekly deals goal does not displace the month's
    revenue goal). Of a rep's like goals on several teams, the one on `home_team` leads.
    /deal, /progress and the daily warnings all order goals here."""
    return sorted(
        goals,
        key=lambda g: (
            g.metric != metric,
            g.ends_on - g.starts_on,
            g.metric != "revenue",
            g.metric,
            home_team is not None and g.team_id != home_team,
            g.number or 0,
        ),
    )


def progress_of(
    session: Session,
    goal: Goal,
    team: Team | None,
    today: date,
    *,
    pipeline: bool = True,
    known: int | None = None,
) -> pace.Progress:
    """The goal's progress today; without `pipeline`, no forecasts (two queries less where
    only attainment and pace are shown). `known`: its actual, read already (actuals_of)."""
    team = goal_team(session, goal, team)
    currency = team.currency if team else "USD"
    period = goal_period(goal)
    scope = scope_of(goal)
    hols = queries.holidays(session, workspace_id=goal.workspace_id, team_id=goal.team_id)
    open_deals: dict[str, Decimal] = {}
    window = pace.trailing_window(period, today, hols) if pipeline else None
    spans = [(period.start, period.end)] if known is None else []
    if window is not None:
        spans.append(window)
    # The period's actual and the trailing window's, in one statement where summed.
    found = actuals_over(session, scope, goal.metric, spans) if spans else []
    raw_actual = known if known is not None else found[0]
    trailing = None if window is None else to_value(found[-1], goal.metric, currency)
    if pipeline and goal.metric == "revenue":
        raw = in_scope(queries.open_pipeline, session, scope, period)
        open_deals = {stage: money.from_minor(v, currency) for stage, v in raw.items()}
    behind = Decimal(team.behind_pct if team else 90) / 100
    return pace.progress(
        target=to_value(goal.target, goal.metric, currency),
        actual=to_value(raw_actual, goal.metric, currency),
        period=period,
        today=today,
        holidays=hols,
        behind_below=behind,
        open_pipeline=open_deals,
        trailing=trailing,
        whole=goal.metric not in MONEY_METRICS,
    )


@dataclass(frozen=True)
class Comparison:
    """The goal's actual against an earlier period's over `window` (domain/compare.py), in
    the goal's unit; `change` None when the earlier value is zero."""

    window: compare.Window
    before: Decimal
    change: Decimal | None


def comparisons(
    session: Session,
    goal: Goal,
    team: Team | None,
    today: date,
    now: Decimal,
    fiscal_start: int = 1,
) -> list[Comparison]:
    """`now` (the goal's actual) against the previous period and the same one a year
    earlier, like for like while the goal's period runs: both read in one statement for the
    summed metrics."""
    team = goal_team(session, goal, team)
    currency = team.currency if team else "USD"
    shown = goal_period(goal)
    hols = queries.holidays(session, workspace_id=goal.workspace_id, team_id=goal.team_id)
    windows = [
        w
        for before in compare.earlier(shown, fiscal_start)
        if (w := compare.window(before, shown, today, hols)) is not None
    ]
    spans = [(w.period.start, w.end) for w in windows]
    raw = actuals_over(session, scope_of(goal), goal.metric, spans)
    found = []
    for w, value in zip(windows, raw, strict=True):
        before = to_value(value, goal.metric, currency)
        found.append(Comparison(w, before, compare.change(now, before)))
    return found


def actuals_over(
    session: Session, scope: Scope, metric: str, spans: Sequence[tuple[date, date]]
) -> list[int]:
    """actual() over each span: one statement for the metrics summed off repday."""
    if metric not in SUMMED:
        return [
            actual(session, scope, metric, Period(s, e, periods.PeriodKind.MONTH, ""))
            for s, e in spans
        ]
    totals = _summed(session, scope, spans)
    return [count if metric == "deals" else won for won, count in totals]


def _summed(
    session: Session, scope: Scope, spans: Sequence[tuple[date, date]]
) -> list[tuple[int, int]]:
    """(won amount, won count) of the scope over each span, in one statement."""
    return queries.totals_over(
        session,
        workspace_id=scope.workspace_id,
        spans=spans,
        team_id=scope.team_id,
        owner_ids=scope.owner_ids,
    )


@dataclass(frozen=True)
class RepStanding:
    """One rep's part of a team goal: the rep's goal of the same metric and dates, if any."""

    member: Member
    actual: Decimal
    progress: pace.Progress | None  # None: no goal of the rep for it


def rep_standings(session: Session, goal: Goal, team: Team, today: date) -> list[RepStanding]:
    """Each current rep of the team (and anyone with a goal of it) on a team goal: what they
    did for the team in its period against their own goal of the same metric and dates.
    Three statements whatever the number of reps: the members, their targets, their
    actuals. Most behind expected first, then those without a goal."""
    assert team.id is not None
    period = goal_period(goal)
    start, end = period.start, period.end
    targets = queries.rep_targets(
        session,
        workspace_id=team.workspace_id,
        team_id=team.id,
        start=start,
        end=end,
        metric=goal.metric,
    )
    totals = queries.by_owner(
        session,
        metric=goal.metric,
        workspace_id=team.workspace_id,
        start=start,
        end=end,
        team_id=team.id,
    )
    people = [
        m
        for m, row in queries.members_during(session, team_id=team.id, start=start)
        if (row.left_on is None and row.role == "rep") or m.id in targets
    ]
    hols = queries.holidays(session, workspace_id=team.workspace_id, team_id=team.id)
    behind = Decimal(team.behind_pct) / 100
    found = []
    for member in people:
        actual = to_value(totals.get(member.id or 0, 0), goal.metric, team.currency)
        prog = None
        if member.id in targets:
            prog = pace.progress(
                target=to_value(targets[member.id], goal.metric, team.currency),
                actual=actual,
                period=period,
                today=today,
                holidays=hols,
                behind_below=behind,
                whole=goal.metric not in MONEY_METRICS,
            )
        found.append(RepStanding(member, actual, prog))
    return sorted(found, key=_most_behind_first)


def _most_behind_first(r: RepStanding) -> tuple[bool, Decimal, str]:
    return (r.progress is None, -(r.progress.gap if r.progress else Decimal(0)), r.member.name)


@dataclass(frozen=True)
class Actuals:
    """What someone won in a period without a goal: revenue (display units) and deals."""

    revenue: Decimal
    deals: int


def actuals(session: Session, scope: Scope, period: Period, currency: str) -> Actuals:
    totals = in_scope(queries.totals_by_owner, session, scope, period)
    revenue = sum(v[0] for v in totals.values())
    return Actuals(money.from_minor(revenue, currency), sum(v[1] for v in totals.values()))


def parse_target(metric: str, text: str, currency: str) -> int:
    """A target as typed: an amount (minor units) for money metrics, a whole count otherwise."""
    if metric in MONEY_METRICS:
        return money.to_minor(money.parse_amount(text, currency), currency)
    try:
        count = Decimal(text.replace(",", ""))
    except InvalidOperation as err:
        raise UsageError("error.bad_count", value=text) from err
    if not count.is_finite() or not 0 < count <= MAX_COUNT or count != count.to_integral_value():
        raise UsageError("error.bad_count", value=text)
    return int(count)
