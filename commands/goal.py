"""/goal: my goals; managers and admins set rep and team targets."""

from __future__ import annotations

from collections.abc import Callable

from commands import feedback, goal_tree, stats
from commands import format as fmt
from commands.context import Ctx, display_name
from commands.parsing import UsageError, mention
from commands.types import Reply
from domain import periods
from storage import queries
from storage.models import Goal, Member, Team

SETTABLE_METRICS = ("revenue", "deals", "new_customers", "collected")
FEEDBACK_SUBCOMMANDS: dict[str, Callable[[Ctx, str], Reply]] = {
    "adjust": feedback.adjust,
    "history": feedback.history,
    "feedback": feedback.feedback,
    "review": lambda ctx, _rest: feedback.review(ctx),
}


def handle(ctx: Ctx) -> Reply:
    text = ctx.req.text.strip()
    head, _, rest = text.partition(" ")
    sub = head.lower()
    if not text:
        return my_goals(ctx)
    if sub in ("help", "帮助"):
        return Reply(text=ctx.t("goal.help"))
    if sub == "set":
        return set_goal(ctx, rest)
    # The goal hierarchy (commands/goal_tree.py): splits, the tree, copies.
    if sub == "split":
        return goal_tree.split(ctx, rest)
    if sub == "tree":
        return goal_tree.tree(ctx, rest)
    if sub == "copy":
        return goal_tree.copy(ctx, rest)
    if sub in FEEDBACK_SUBCOMMANDS:  # adjusting targets and feedback: commands/feedback.py
        return FEEDBACK_SUBCOMMANDS[sub](ctx, rest)
    raise UsageError("error.goal_usage")


def my_goals(ctx: Ctx) -> Reply:
    team = ctx.my_team()
    today = ctx.today(team)
    goals = [
        g
        for g in queries.live_goals(ctx.session, workspace_id=ctx.ws, member_ids=[ctx.my_id])
        if g.ends_on >= today
    ]
    if team is not None:
        goals += [
            g
            for g in queries.live_goals(
                ctx.session, workspace_id=ctx.ws, scope="team", team_id=team.id
            )
            if g.ends_on >= today
        ]
    if not goals:
        return Reply(text=ctx.t("goal.none"))
    lines = [ctx.t("goal.title")]
    for goal in goals:
        lines.append(goal_line(ctx, goal, team))
        lines += goal_tree.flags(ctx, goal)  # parts that do not add up to this goal
    return Reply(text="\n".join(lines))


def goal_line(ctx: Ctx, goal: Goal, team: Team | None) -> str:
    team = stats.goal_team(ctx.session, goal, team)
    currency = team.currency if team else "USD"
    prog = stats.progress_of(ctx.session, goal, team, ctx.today(team))
    who = ctx.t("goal.scope_team", team=team.name) if goal.scope == "team" and team else ""
    return ctx.t(
        "goal.line",
        id=goal.id,
        period=goal.period,
        metric=ctx.t(f"metric.{goal.metric}"),
        who=who,
        actual=fmt.value(ctx, prog.actual, goal.metric, currency),
        target=fmt.value(ctx, prog.target, goal.metric, currency),
        attainment=fmt.pct(prog.attainment),
    )


def set_goal(ctx: Ctx, text: str) -> Reply:
    tokens = text.split()
    if len(tokens) < 3:
        raise UsageError("error.goal_set_usage")
    metric = "revenue"
    if tokens[-1].lower() in SETTABLE_METRICS:
        metric = tokens.pop().lower()
    if len(tokens) < 3:
        raise UsageError("error.goal_set_usage")
    period_text, amount_text = tokens.pop(), tokens.pop()
    if tokens[0].lower() == "workspace" and len(tokens) == 1:  # admins only
        return goal_tree.set_workspace(ctx, metric, period_text, amount_text)
    if tokens[0].lower() == "team":
        team, rep = ctx.team_named(" ".join(tokens[1:])), None
    else:
        who = mention(tokens[0]) if len(tokens) == 1 else None
        if who is None:
            raise UsageError("error.goal_set_usage")
        rep = ctx.member_for(*who)
        assert rep.id is not None
        found = queries.team_of(ctx.session, member_id=rep.id)
        if found is None:
            return ctx.error("error.rep_no_team", rep=display_name(rep))
        team = found
    # "month" means the team's current month, in the team's time zone.
    period = ctx.period(period_text, ctx.today(team))
    return _save(ctx, team, rep, metric, period, amount_text)


def _save(
    ctx: Ctx, team: Team, rep: Member | None, metric: str, period: periods.Period, amount: str
) -> Reply:
    if not ctx.can_manage(team):
        return ctx.error("error.not_manager_of", team=team.name)
    target = stats.parse_target(metric, amount, team.currency)
    scope = "rep" if rep else "team"
    existing = [
        g
        for g in queries.live_goals(
            ctx.session, workspace_id=ctx.ws, period=period, scope=scope, team_id=team.id
        )
        if g.metric == metric and (rep is None or g.member_id == rep.id)
    ]
    goal = existing[0] if existing else None
    before = queries.snapshot(goal) if goal else None
    if goal is None:
        goal = Goal(
            workspace_id=ctx.ws,
            scope=scope,
            team_id=team.id,
            member_id=rep.id if rep else None,
            metric=metric,
            period=period.label,
            starts_on=period.start,
            ends_on=period.end,
            target=target,
            created_by=ctx.req.user_id,
        )
    else:
        goal.target = target
    queries.save_goal(ctx.session, goal=goal, actor=ctx.req.user_id, before=before)
    value = fmt.value(ctx, stats.to_value(target, metric, team.currency), metric, team.currency)
    whom = display_name(rep) if rep else ctx.t("goal.team_who", team=team.name)
    key = "goal.updated" if before else "goal.created"
    return Reply(text=ctx.t(key, id=goal.id, who=whom, target=value, period=period.label))
