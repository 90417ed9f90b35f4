"""/goal: my goals; managers and admins set rep and team targets."""

from __future__ import annotations

from commands import deal, goal_tree, stats
from commands.args import PeriodRef, Subject
from commands.context import Ctx, name_of, new_goal
from commands.formatter import to_value
from commands.types import Reply
from domain import periods
from storage import queries
from storage.models import Goal, Member, Team

SETTABLE_METRICS = ("revenue", "deals", "new_customers", "collected")


def my_goals(ctx: Ctx) -> Reply:
    team = ctx.my_team()
    today = ctx.today(team)
    goals = list(
        queries.live_goals(
            ctx.session, workspace_id=ctx.ws, member_ids=[ctx.my_id], ending_from=today
        )
    )
    if team is not None:
        goals += queries.live_goals(
            ctx.session, workspace_id=ctx.ws, scope="team", team_id=team.id, ending_from=today
        )
    if not goals:
        return Reply(text=ctx.t("goal.none"))
    lines = [ctx.t("goal.title")]
    for goal in goals:
        lines.append(goal_line(ctx, goal, team))
        lines += goal_tree.flags(ctx, goal)  # parts that do not add up to this goal
    return Reply(text="\n".join(lines))


def goal_line(ctx: Ctx, goal: Goal, team: Team | None) -> str:
    home = team
    team = stats.goal_team(ctx.session, goal, team)
    currency = team.currency if team else "USD"
    prog = stats.progress_of(ctx.session, goal, team, ctx.today(team), pipeline=False)
    who = ctx.t("goal.scope_team", team=name_of(team)) if goal.scope == "team" and team else ""
    if goal.scope == "rep" and team and home and team.id != home.id:
        who = ctx.t("review9.on_team", team=name_of(team))  # a rep's goal on another team
    return ctx.t(
        "goal.line",
        id=goal.number,
        period=ctx.fmt.period(stats.goal_period(goal), ctx.workspace.fiscal_start_month),
        metric=ctx.t(f"metric.{goal.metric}"),
        who=who,
        actual=ctx.fmt.value(prog.actual, goal.metric, currency),
        target=ctx.fmt.value(prog.target, goal.metric, currency),
        attainment=ctx.fmt.pct(prog.attainment),
    )


def set_goal(
    ctx: Ctx,
    owner: Subject | None,
    amount: str,
    period: PeriodRef,
    metric: str | None,
    options: dict[str, str],
) -> Reply:
    """/goal set (@rep | team NAME | workspace) AMOUNT PERIOD [METRIC] [team:NAME]"""
    metric = metric or "revenue"
    if owner is None:  # the workspace: admins only
        return goal_tree.set_workspace(ctx, metric, period, amount)
    team = owner.team
    if owner.rep is not None and "team" in options:
        # A rep on several teams has a goal on each: `team:` names which (default: home).
        team = deal.team_for(ctx, owner.rep, options, missing="error.rep_no_team")
    # "month" means the team's current month, in the team's time zone.
    return save_target(ctx, team, owner.rep, metric, ctx.period(period, ctx.today(team)), amount)


def live_goal(
    ctx: Ctx, team: Team, rep: Member | None, metric: str, period: periods.Period
) -> Goal | None:
    """The live goal a /goal set replaces, if any."""
    goals = queries.live_goals(
        ctx.session,
        workspace_id=ctx.ws,
        period=period,
        scope="rep" if rep else "team",
        team_id=team.id,
    )
    mine = [g for g in goals if g.metric == metric and (rep is None or g.member_id == rep.id)]
    return mine[0] if mine else None


def save_target(
    ctx: Ctx, team: Team, rep: Member | None, metric: str, period: periods.Period, amount: str
) -> Reply:
    """Set the rep's (or, rep None, the team's) target: /goal set and the goals import."""
    ctx.require_manager(team)
    target = stats.parse_target(metric, amount, team.currency)
    scope = "rep" if rep else "team"
    goal = live_goal(ctx, team, rep, metric, period)
    before = queries.snapshot(goal) if goal else None
    if goal is None:
        goal = new_goal(
            ctx, scope, period, metric, target, team_id=team.id, member_id=rep.id if rep else None
        )
        if not queries.add_goal(ctx.session, goal=goal, actor=ctx.req.user_id):
            goal = live_goal(ctx, team, rep, metric, period)  # set meanwhile by another
            assert goal is not None
            before = queries.snapshot(goal)
    if before is not None:
        goal.target = target
        goal.origin = "set"  # a person chose it now: a re-split of its parent keeps it
        queries.save_goal(ctx.session, goal=goal, actor=ctx.req.user_id, before=before)
    value = ctx.fmt.value(to_value(target, metric, team.currency), metric, team.currency)
    whom = name_of(rep) if rep else ctx.t("goal.team_who", team=name_of(team))
    key = "goal.updated" if before else "goal.created"
    return Reply(text=ctx.t(key, id=goal.number, who=whom, target=value, period=period.label))
