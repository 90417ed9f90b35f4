"""The goal hierarchy: /goal split, /goal tree, /goal copy, workspace goals and roll-up flags.

How goals nest (which goals are parts of which) is domain/goal_tree.py; this module
reads and writes them.

Splitting again replaces only what a split made. Each goal records its origin: "set" by
someone (/goal set, /goal adjust), "split" from its parent, or "copy". A split of a goal
over time replaces the parts an earlier split of it over time made (and the parts those
were split into), a split between reps the earlier split between reps; the other kind of
split is left alone. An earlier part with the same owner and dates keeps its ID (open
feedback and history stay attached) and gets its new target; the earlier parts the new
split no longer has are soft-deleted, each with an audit entry naming what replaced it,
and `/goal history` still shows them.

Any other goal with a part's owner and dates, one set directly, copied, or made by
another goal's split, is kept as it is: its target is taken off the parent's and the
rest is split among the other parts (the reply lists what was kept; the goal's history
gets a "kept" entry). When the kept goals leave nothing, or take more than the parent,
the split is refused and names them: nothing is overwritten silently.

Parts whose period is over (ended before today in the team's time zone) are skipped: no
goal is created for them, an earlier part of them keeps its target, and the reply says
how much of the target that leaves unassigned, so the parts still add up to the parent.
`include:past` splits into them too.

Amounts are whole units of the currency when what is split is whole ($100,000 into three
is $33,334 + $33,333 + $33,333), cents only when it has cents, whole counts for counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from commands import stats
from commands.args import PeriodRef, me
from commands.context import Ctx, name_of, new_goal
from commands.formatter import MONEY_METRICS, to_value
from commands.parsing import Refused, UsageError
from commands.types import Reply
from domain import money, periods
from domain import split as splitting
from domain.goal_tree import (
    SCOPE_RANK,
    children_of,
    order,
    parent_of,
    same_owner,
    scope_parts,
    time_parts,
)
from domain.periods import Period, PeriodKind
from storage import queries
from storage.models import Goal, Member, Team

UNIT_KEYS = {
    "quarters": "tree.unit_quarters",
    "months": "tree.unit_months",
    "weeks": "tree.unit_weeks",
    "reps": "tree.unit_reps",
    "teams": "tree.unit_teams",
}
METHOD_KEYS = {
    "even": "tree.method_even",
    "workdays": "tree.method_workdays",
    "seasonal": "tree.method_seasonal",
    "weights": "tree.method_weights",
}
INDENT = "\u2003"  # an em space: Slack keeps it at the start of a line


# --- shared -------------------------------------------------------------------------------------


def currency_of(ctx: Ctx, goal: Goal) -> str:
    team = ctx.session.get(Team, goal.team_id) if goal.team_id is not None else None
    return team.currency if team else workspace_currency(ctx)


def workspace_currency(ctx: Ctx) -> str:
    """Workspace goals count in the first team's currency (USD before there is a team)."""
    teams = queries.list_teams(ctx.session, workspace_id=ctx.ws)
    return teams[0].currency if teams else "USD"


def show(ctx: Ctx, goal: Goal, amount: int) -> str:
    cur = currency_of(ctx, goal)
    return ctx.fmt.value(to_value(amount, goal.metric, cur), goal.metric, cur)


def who(ctx: Ctx, goal: Goal) -> str:
    if goal.scope == "rep" and goal.member_id is not None:
        member = ctx.session.get(Member, goal.member_id)
        return name_of(member) if member else "?"
    if goal.scope == "team" and goal.team_id is not None:
        team = ctx.session.get(Team, goal.team_id)
        return ctx.t("tree.who_team", team=name_of(team) if team else "?")
    return ctx.t("tree.who_workspace")


def period_text(goal: Goal) -> str:
    """The label, with the dates when a week is clipped to a month (2026-W49 (11-30))."""
    if periods.kind_of(goal.period) is not PeriodKind.WEEK:
        return goal.period
    full = periods.from_label(goal.period)
    if (full.start, full.end) == (goal.starts_on, goal.ends_on):
        return goal.period
    days = f"{goal.starts_on:%m-%d}"
    if goal.ends_on != goal.starts_on:
        days += f"–{goal.ends_on:%m-%d}"
    return f"{goal.period} ({days})"


def require_manager(ctx: Ctx, goal: Goal) -> None:
    """Managers of the goal's team and admins; workspace goals, admins only."""
    team = ctx.session.get(Team, goal.team_id) if goal.team_id is not None else None
    if team is not None:
        ctx.require_manager(team)
    elif not ctx.me.is_admin:
        raise Refused("tree.workspace_admins_only")


def find_goal(ctx: Ctx, goal_id: int) -> Goal:
    goal = queries.get_goal(ctx.session, workspace_id=ctx.ws, number=goal_id)
    if goal is None:
        raise Refused("tree.no_such_goal", id=str(goal_id))
    return goal


# --- roll-up ------------------------------------------------------------------------------------


def flags(ctx: Ctx, goal: Goal, pool: Sequence[Goal] | None = None) -> list[str]:
    """One line per group of parts that does not add up to the goal, with the difference.
    Without a pool (the goals a tree shows), reads only the goal's possible parts."""
    lines = []
    for unit, count, total in _part_totals(ctx, goal, pool):
        if count and total != goal.target:
            lines.append(_flag(ctx, goal, unit, total))
    return lines


def _part_totals(ctx: Ctx, goal: Goal, pool: Sequence[Goal] | None) -> list[tuple[str, int, int]]:
    """(unit, how many parts, their summed target): parts by scope, then over time."""
    by_scope = "teams" if goal.scope == "workspace" else "reps"
    if pool is None:
        scoped = _scope_part_total(ctx, goal)
        pool = queries.owner_goals_inside(
            ctx.session,
            workspace_id=ctx.ws,
            scope=goal.scope,
            team_id=goal.team_id,
            member_id=goal.member_id,
            metric=goal.metric,
            start=goal.starts_on,
            end=goal.ends_on,
        )
    else:
        parts = scope_parts(goal, pool)
        scoped = (len(parts), sum(p.target for p in parts))
    unit, parts = time_parts(goal, pool)
    return [(by_scope, *scoped), (unit, len(parts), sum(p.target for p in parts))]


def _scope_part_total(ctx: Ctx, goal: Goal) -> tuple[int, int]:
    """A team goal's rep goals (a workspace goal's team goals) of the same dates and
    metric, counted and summed by the database: a team of many reps builds no goals."""
    if goal.scope not in ("team", "workspace"):
        return 0, 0
    sums = queries.scope_part_sums(
        ctx.session,
        workspace_id=ctx.ws,
        scope="rep" if goal.scope == "team" else "team",
        start=goal.starts_on,
        end=goal.ends_on,
        team_id=goal.team_id if goal.scope == "team" else None,
    )
    return sums.get(goal.metric, (0, 0))


def _flag(ctx: Ctx, goal: Goal, unit: str, total: int) -> str:
    key = "tree.flag_under" if total < goal.target else "tree.flag_over"
    return ctx.t(
        key,
        period=period_text(goal),
        parts=ctx.t(UNIT_KEYS[unit]),
        sum=show(ctx, goal, total),
        whose=_whose(ctx, goal),
        target=show(ctx, goal, goal.target),
        diff=show(ctx, goal, abs(goal.target - total)),
    )


def _whose(ctx: Ctx, goal: Goal) -> str:
    if goal.scope == "rep":
        return ctx.t("tree.whose_rep", name=who(ctx, goal))
    return ctx.t("tree.whose_team" if goal.scope == "team" else "tree.whose_workspace")


# --- split --------------------------------------------------------------------------------------


@dataclass
class Part:
    period: Period
    rep: Member | None = None


@dataclass
class Plan:
    unit: str
    parts: list[Part]
    weights: list[Decimal]
    method: str
    note: str | None = None  # e.g. why seasonal fell back to working days


SPLIT_UNITS = ("months", "quarters", "weeks", "reps")
WRITTEN = ("new", "reuse")  # the states of parts a split writes
MADE = ("split", "copy")  # origins of goals a split (or a copy of one) made, not a person


def split(ctx: Ctx, goal_id: int, unit: str, method: str | None, options: dict[str, str]) -> Reply:
    """/goal split ID months|quarters|weeks|reps [even|workdays|seasonal|weights:3,3,4]
    [include:past]"""
    include = options.get("include", "").strip().lower()
    if "weights" in options:  # `weights:3,3,4` reads as an option: the method, with its list
        method = f"weights:{options['weights'].strip()}"
    if include not in ("", "past"):
        raise UsageError("tree.bad_include", value=include)
    goal = find_goal(ctx, goal_id)
    require_manager(ctx, goal)
    if unit == "reps":
        plan = _rep_plan(ctx, goal, method or "even")
    else:
        plan = _time_plan(ctx, goal, unit, method or "workdays")
    return _apply(ctx, goal, plan, include_past=include == "past")


def _rep_plan(ctx: Ctx, goal: Goal, method: str) -> Plan:
    if goal.scope != "team" or goal.team_id is None:
        raise Refused("tree.reps_team_only", id=str(goal.number))
    reps = queries.team_members(ctx.session, team_id=goal.team_id, role="rep")
    if not reps:
        raise Refused("tree.no_reps")
    period = stats.goal_period(goal)
    parts = [Part(period, rep) for rep in reps]
    names = ", ".join(name_of(r) for r in reps)
    if method.lower() == "even":
        return Plan("reps", parts, splitting.even(len(parts)), "even")
    if method.lower().startswith("weights:"):
        return Plan("reps", parts, _weights(method, names, len(parts)), "weights")
    raise UsageError("tree.reps_method", method=method)


def _time_plan(ctx: Ctx, goal: Goal, unit: str, method: str) -> Plan:
    period = stats.goal_period(goal)
    try:
        whole = splitting.parts_of(period, unit)
    except splitting.SplitError as err:
        raise UsageError("tree.bad_unit", period=goal.period, units=_units(period)) from err
    hols = queries.holidays(ctx.session, workspace_id=ctx.ws, team_id=goal.team_id)
    periods_ = splitting.with_working_days(whole, hols)
    parts = [Part(p) for p in periods_]
    m = method.lower()
    if m == "even":
        return Plan(unit, parts, splitting.even(len(parts)), "even")
    if m == "workdays":
        return Plan(unit, parts, splitting.by_workdays(periods_, hols), "workdays")
    if m == "seasonal":
        return _seasonal(ctx, goal, unit, parts, hols)
    if m.startswith("weights:"):
        labels = ", ".join(p.label for p in periods_)
        return Plan(unit, parts, _weights(method, labels, len(parts)), "weights")
    raise UsageError("tree.bad_method", method=method)


def _units(period: Period) -> str:
    units = splitting.UNITS_OF[period.kind]
    return ", ".join(units) if units else "—"


def _seasonal(ctx: Ctx, goal: Goal, unit: str, parts: list[Part], hols: frozenset[date]) -> Plan:
    scope = stats.scope_of(goal)
    history = [
        stats.actual(ctx.session, scope, goal.metric, splitting.last_year(p.period)) for p in parts
    ]
    weights = splitting.seasonal(history)
    if weights is not None:
        return Plan(unit, parts, weights, "seasonal")
    missing = [p.period.label for p, h in zip(parts, history, strict=True) if h <= 0]
    note = ctx.t("tree.seasonal_fallback", parts=", ".join(missing))
    days = splitting.by_workdays([p.period for p in parts], hols)
    return Plan(unit, parts, days, "workdays", note)


def _weights(method: str, names: str, count: int) -> list[Decimal]:
    text = method.partition(":")[2]
    try:
        weights = splitting.parse_weights(text)
    except splitting.SplitError as err:
        raise UsageError("tree.bad_weights", value=text) from err
    if len(weights) != count:
        raise UsageError(
            "tree.weights_count", given=str(len(weights)), count=str(count), parts=names
        )
    return weights


@dataclass
class Slot:
    """One part of a split and what the split does with it."""

    part: Part
    goal: Goal | None  # the live goal with the part's owner and dates, if any
    # new | reuse (an earlier part of this split) | kept (a goal this split did not make) |
    # closed (an earlier part, its period over) | skipped (period over, no goal)
    state: str
    amount: int = 0

    @property
    def kept(self) -> bool:
        return self.state in ("kept", "closed")


def _apply(ctx: Ctx, goal: Goal, plan: Plan, include_past: bool) -> Reply:
    assert goal.id is not None
    mine = _own_parts(ctx, goal, plan.unit)
    today = ctx.today(ctx.session.get(Team, goal.team_id) if goal.team_id else None)
    slots = [_slot(ctx, goal, part, mine, today, include_past) for part in plan.parts]
    _share(ctx, goal, plan, slots)
    made = [g for g in (_write(ctx, goal, slot) for slot in slots) if g is not None]
    reason = ctx.t("tree.reason_kept", id=goal.number)
    for kept in (s.goal for s in slots if s.kept and s.goal is not None):
        queries.keep_goal(ctx.session, goal=kept, actor=ctx.req.user_id, reason=reason)
    stay = {s.goal.id for s in slots if s.goal is not None}
    gone = [g for g in mine.values() if g.id not in stay]
    for old in gone:
        _replace(ctx, goal, old, made)
    return _split_reply(ctx, goal, plan, slots, len(gone))


def _share(ctx: Ctx, goal: Goal, plan: Plan, slots: list[Slot]) -> None:
    """Each slot's amount; refused, before anything is written, when kept goals leave
    nothing for the parts to write."""
    kept = {i: s.goal.target for i, s in enumerate(slots) if s.kept and s.goal is not None}
    unit = 10 ** money.minor_digits(currency_of(ctx, goal)) if goal.metric in MONEY_METRICS else 1
    try:
        amounts = splitting.share_out(goal.target, plan.weights, kept, unit)
    except splitting.SplitError as err:
        raise _refusal(ctx, goal, slots, err.reason) from err
    if kept and sum(kept.values()) == goal.target and any(s.state in WRITTEN for s in slots):
        raise _refusal(ctx, goal, slots, "kept")  # the parts to write would all be 0
    for slot, amount in zip(slots, amounts, strict=True):
        slot.amount = amount


def _own_parts(ctx: Ctx, goal: Goal, unit: str) -> dict[int | None, Goal]:
    """The parts an earlier split of this goal made the same way (over time, or between
    reps), with the parts splits made of those in turn: what this split replaces. Goals
    someone set directly are never among them, even when an old split adopted them."""
    assert goal.id is not None
    over_time = unit != "reps"
    todo = [
        g
        for g in queries.live_children(ctx.session, workspace_id=ctx.ws, parent_id=goal.id)
        if g.origin in MADE and same_owner(g, goal) == over_time
    ]
    found: dict[int | None, Goal] = {}
    while todo:
        part = todo.pop(0)
        found[part.id] = part
        assert part.id is not None
        todo += [
            g
            for g in queries.live_children(ctx.session, workspace_id=ctx.ws, parent_id=part.id)
            if g.origin in MADE and g.id not in found
        ]
    return found


def _slot(
    ctx: Ctx, parent: Goal, part: Part, mine: dict[int | None, Goal], today: date, past: bool
) -> Slot:
    """Whether the part is new, an earlier part of this split, a goal to keep, or skipped."""
    closed = part.period.end < today and not past
    scope = "rep" if part.rep is not None else parent.scope
    member_id = part.rep.id if part.rep is not None else parent.member_id
    there = next(
        (
            g
            for g in queries.live_goals(
                ctx.session,
                workspace_id=ctx.ws,
                period=part.period,
                scope=scope,
                team_id=parent.team_id,
                # A rep's part reads that rep's goals, not the team's (a split between reps
                # would read them all once per rep).
                member_ids=None if member_id is None else [member_id],
            )
            if g.metric == parent.metric and g.member_id == member_id and g.id != parent.id
        ),
        None,
    )
    if there is not None:
        # A closed period's target stays as it was, unless the user asked (include:past).
        if there.id not in mine:
            return Slot(part, there, "kept")
        return Slot(part, there, "closed" if closed else "reuse")
    return Slot(part, None, "skipped" if closed else "new")


def _write(ctx: Ctx, parent: Goal, slot: Slot) -> Goal | None:
    """The part's goal as this split leaves it: created, given its new target, or None."""
    if slot.state == "new":
        slot.goal = _create(ctx, parent, slot.part, slot.amount)
        return slot.goal
    if slot.state != "reuse" or slot.goal is None:
        return None
    goal = slot.goal
    if (goal.target, goal.parent_id) == (slot.amount, parent.id):
        return goal
    before = queries.snapshot(goal)
    goal.target, goal.parent_id, goal.origin = slot.amount, parent.id, "split"
    reason = ctx.t("tree.reason_split", id=parent.number)
    return queries.save_goal(
        ctx.session, goal=goal, actor=ctx.req.user_id, before=before, reason=reason
    )


def _create(ctx: Ctx, parent: Goal, part: Part, amount: int) -> Goal:
    goal = new_goal(
        ctx,
        "rep" if part.rep is not None else parent.scope,
        part.period,
        parent.metric,
        amount,
        team_id=parent.team_id,
        member_id=part.rep.id if part.rep is not None else parent.member_id,
        parent_id=parent.id,
    )
    goal.origin = "split"
    reason = ctx.t("tree.reason_split", id=parent.number)
    return queries.save_goal(
        ctx.session, goal=goal, actor=ctx.req.user_id, before=None, reason=reason
    )


def _replace(ctx: Ctx, parent: Goal, old: Goal, made: list[Goal]) -> None:
    """Soft-delete an earlier part; its audit entry names the parts that now cover its dates."""
    covering = [
        g
        for g in made
        if same_owner(g, old) and g.starts_on <= old.ends_on and old.starts_on <= g.ends_on
    ]
    if covering:
        ids = ", ".join(f"#{g.number}" for g in covering)
        reason = ctx.t("tree.reason_replaced_by", id=parent.number, parts=ids)
    else:
        reason = ctx.t("tree.reason_replaced", id=parent.number)
    queries.delete_goal(ctx.session, goal=old, actor=ctx.req.user_id, reason=reason)


def _refusal(ctx: Ctx, goal: Goal, slots: list[Slot], reason: str) -> Refused:
    if reason == "weights":
        return Refused("tree.split_no_weight", id=goal.number)
    kept = [s for s in slots if s.kept]
    return Refused(
        "tree.split_kept_over",
        id=goal.number,
        kept=show(ctx, goal, sum(s.goal.target for s in kept if s.goal)),
        target=show(ctx, goal, goal.target),
        goals="; ".join(_kept_text(ctx, s) for s in kept),
    )


def _kept_text(ctx: Ctx, slot: Slot, key: str = "tree.kept_named") -> str:
    goal = slot.goal
    assert goal is not None
    return ctx.t(
        key,
        id=goal.number,
        period=period_text(goal),
        who=who(ctx, goal),
        target=show(ctx, goal, goal.target),
        why=_why_kept(ctx, slot.state, goal),
    )


def _why_kept(ctx: Ctx, state: str, goal: Goal) -> str:
    if state == "closed":
        return ctx.t("tree.kept_closed")
    if goal.origin == "copy":
        return ctx.t("tree.kept_copy")
    if goal.origin == "split" and goal.parent_id is not None:
        up = ctx.session.get(Goal, goal.parent_id)
        return ctx.t("tree.kept_split", id=up.number if up else "?")
    return ctx.t("tree.kept_set")


def _split_reply(ctx: Ctx, goal: Goal, plan: Plan, slots: list[Slot], gone: int) -> Reply:
    lines = [
        ctx.t(
            "tree.split_done",
            id=goal.number,
            who=who(ctx, goal),
            period=period_text(goal),
            target=show(ctx, goal, goal.target),
            count=len(slots),
            unit=ctx.t(UNIT_KEYS[plan.unit]),
            method=ctx.t(METHOD_KEYS[plan.method]),
        )
    ]
    if plan.note:
        lines.append(plan.note)
    for slot in slots:
        if slot.state in WRITTEN and slot.goal is not None:
            lines.append(_part_line(ctx, slot.goal))
        elif slot.kept:
            lines.append(_kept_text(ctx, slot, "tree.kept_line"))
    kept = sum(s.amount for s in slots if s.kept)
    if kept and not all(s.kept for s in slots):
        rest = show(ctx, goal, goal.target - kept)
        lines.append(ctx.t("tree.split_rest", kept=show(ctx, goal, kept), rest=rest))
    skipped = [s for s in slots if s.state == "skipped"]
    if skipped:
        lines.append(
            ctx.t(
                "tree.split_skipped",
                parts=", ".join(_slot_label(ctx, s) for s in skipped),
                amount=show(ctx, goal, sum(s.amount for s in skipped)),
            )
        )
    if gone:
        lines.append(ctx.t("tree.split_replaced", count=gone))
    return Reply(text="\n".join(lines))


def _slot_label(ctx: Ctx, slot: Slot) -> str:
    if slot.part.rep is None:
        return slot.part.period.label
    return f"{name_of(slot.part.rep)} {slot.part.period.label}"


def _part_line(ctx: Ctx, goal: Goal) -> str:
    return ctx.t(
        "tree.part_line",
        id=goal.number,
        period=period_text(goal),
        who=who(ctx, goal),
        target=show(ctx, goal, goal.target),
    )


# --- tree ---------------------------------------------------------------------------------------


def tree(ctx: Ctx, team: Team | None, period: PeriodRef | None) -> Reply:
    """/goal tree [team NAME] [PERIOD]: the whole hierarchy, this fiscal year by default."""
    team = team or me(ctx).team
    today = ctx.today(team)
    if period is None:
        shown = periods.current(PeriodKind.YEAR, today, ctx.workspace.fiscal_start_month)
    else:
        shown = ctx.period(period, today)
    return _tree(ctx, team, shown, today)


def _tree(ctx: Ctx, team: Team, period: Period, today: date) -> Reply:
    pool = queries.team_goals_within(
        ctx.session, workspace_id=ctx.ws, team_id=team.id or 0, start=period.start, end=period.end
    )
    if not pool:
        return Reply(text=ctx.t("tree.empty", team=name_of(team), period=period.label))
    lines = [ctx.t("tree.title", team=name_of(team), period=period.label)]
    kids = children_of(pool)
    roots = sorted((g for g in pool if parent_of(g, pool) is None), key=order)
    for root in roots:
        lines += _node_lines(ctx, root, kids, pool, today, 0)
    return Reply(text="\n".join(lines))


def _node_lines(
    ctx: Ctx,
    goal: Goal,
    kids: dict[int | None, list[Goal]],
    pool: Sequence[Goal],
    today: date,
    depth: int,
) -> list[str]:
    lines = [INDENT * depth + _tree_line(ctx, goal)]
    lines += [INDENT * (depth + 1) + flag for flag in flags(ctx, goal, pool)]
    for child in sorted(kids.get(goal.id, []), key=order):
        lines += _node_lines(ctx, child, kids, pool, today, depth + 1)
    return lines


def _tree_line(ctx: Ctx, goal: Goal) -> str:
    done = stats.actual(ctx.session, stats.scope_of(goal), goal.metric, stats.goal_period(goal))
    ratio = Decimal(done) / Decimal(goal.target) if goal.target else None
    return ctx.t(
        "tree.line",
        id=goal.number,
        period=period_text(goal),
        who=who(ctx, goal),
        metric=ctx.t(f"metric.{goal.metric}"),
        actual=show(ctx, goal, done),
        target=show(ctx, goal, goal.target),
        attainment=ctx.fmt.pct(ratio),
    )


# --- copy ---------------------------------------------------------------------------------------


def copy(ctx: Ctx, source: PeriodRef, to: str, dest: PeriodRef, team: Team | None) -> Reply:
    """/goal copy PERIOD to PERIOD [team NAME]: admins without a team copy workspace goals too."""
    named = team is not None
    team = team or ctx.my_team()
    with_workspace = ctx.me.is_admin and not named
    if team is None and not with_workspace:
        raise Refused("error.no_team")
    if team is not None:
        ctx.require_manager(team)
    today = ctx.today(team)
    return _copy(ctx, team, with_workspace, ctx.period(source, today), ctx.period(dest, today))


def _copy(ctx: Ctx, team: Team | None, with_workspace: bool, source: Period, dest: Period) -> Reply:
    if source.kind is not dest.kind or source == dest:
        raise UsageError("tree.copy_kinds", source=source.label, dest=dest.label)
    goals = _goals_of(ctx, team, with_workspace, source)
    if not goals:
        return Reply(text=ctx.t("tree.copy_nothing", source=source.label))
    there = _goals_of(ctx, team, with_workspace, dest)  # only these can have a copy's owner
    ordered = sorted(goals, key=lambda g: SCOPE_RANK[g.scope])
    return _copy_goals(ctx, ordered, there, source, dest)


def _goals_of(ctx: Ctx, team: Team | None, with_workspace: bool, period: Period) -> list[Goal]:
    """The period's goals of the team (its own and its reps') and, with_workspace, the
    workspace's: not the other teams'."""
    goals: list[Goal] = []
    if team is not None:
        goals += queries.live_goals(
            ctx.session, workspace_id=ctx.ws, period=period, team_id=team.id
        )
    if with_workspace:
        goals += queries.live_goals(
            ctx.session, workspace_id=ctx.ws, period=period, scope="workspace"
        )
    return sorted(goals, key=lambda g: g.id or 0)  # as one query ordered them (same dates)


def _copy_goals(
    ctx: Ctx, goals: list[Goal], there: Sequence[Goal], source: Period, dest: Period
) -> Reply:
    copies: dict[int | None, Goal] = {}
    skipped: list[str] = []
    for goal in goals:
        clash = next((g for g in there if same_owner(g, goal)), None)
        if clash is not None:
            skipped.append(ctx.t("tree.copy_skipped_line", who=who(ctx, goal), id=clash.number))
            continue
        copies[goal.id] = _copy_one(ctx, goal, dest, copies)
    lines = []
    if copies:
        lines.append(
            ctx.t("tree.copy_done", count=len(copies), source=source.label, dest=dest.label)
        )
        lines += [_part_line(ctx, g) for g in copies.values()]
    if skipped:
        lines.append(ctx.t("tree.copy_skipped", dest=dest.label, goals="; ".join(skipped)))
    return Reply(text="\n".join(lines))


def _copy_one(ctx: Ctx, goal: Goal, dest: Period, copies: dict[int | None, Goal]) -> Goal:
    parent = copies.get(goal.parent_id) if goal.parent_id is not None else None
    new = new_goal(
        ctx,
        goal.scope,
        dest,
        goal.metric,
        goal.target,
        team_id=goal.team_id,
        member_id=goal.member_id,
        parent_id=parent.id if parent else None,
    )
    new.origin = "copy"
    reason = ctx.t("tree.reason_copied", id=goal.number)
    return queries.save_goal(
        ctx.session, goal=new, actor=ctx.req.user_id, before=None, reason=reason
    )


# --- workspace goals ----------------------------------------------------------------------------


def set_workspace(ctx: Ctx, metric: str, period_ref: PeriodRef, amount: str) -> Reply:
    """`/goal set workspace 5m 2026 [metric]`: admins only."""
    if not ctx.me.is_admin:
        raise Refused("tree.workspace_admins_only")
    period = ctx.period(period_ref, ctx.today(None))
    currency = workspace_currency(ctx)
    target = stats.parse_target(metric, amount, currency)
    goal = next(
        (
            g
            for g in queries.live_goals(
                ctx.session, workspace_id=ctx.ws, period=period, scope="workspace"
            )
            if g.metric == metric
        ),
        None,
    )
    before = queries.snapshot(goal) if goal else None
    if goal is None:
        goal = new_goal(ctx, "workspace", period, metric, target)
    goal.target, goal.origin = target, "set"  # set by hand: a re-split of its parent keeps it
    queries.save_goal(ctx.session, goal=goal, actor=ctx.req.user_id, before=before)
    key = "goal.updated" if before else "goal.created"
    value = show(ctx, goal, target)
    return Reply(
        text=ctx.t(
            key, id=goal.number, who=ctx.t("tree.who_workspace"), target=value, period=period.label
        )
    )
