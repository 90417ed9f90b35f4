"""/progress [@rep | team NAME] [period]: where someone stands, with a chart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from charts.specs import ProgressChart
from commands import feedback, goal_tree, stats
from commands.args import PeriodRef, Subject, me
from commands.context import Ctx, name_of, new_goal
from commands.formatter import MONEY_METRICS, to_value
from commands.types import Reply
from domain import money, pace
from storage import queries
from storage.models import Goal, Team


def handle(ctx: Ctx, subject: Subject | None, period: PeriodRef | None) -> Reply:
    """/progress [@rep | team NAME] [PERIOD]"""
    subject = subject or me(ctx)
    today = ctx.today(subject.team)
    goals = _goals(ctx, subject, today, period)
    if not goals:
        shown = ctx.period(period, today)
        who = name_of(subject.rep or subject.team)
        return Reply(text=ctx.t("progress.no_goal", who=who, period=shown.label))
    sections = [_section(ctx, subject, goal, today) for goal in goals]
    first = goals[0]
    buttons = []
    if subject.rep is not None and subject.rep.id == ctx.my_id and first.id is not None:
        buttons.append(feedback.progress_button(ctx, first))  # the rep's own goal
    return Reply(
        text="\n\n".join(sections),
        chart=_chart(ctx, subject, first, today),
        buttons=buttons,
    )


def _goals(ctx: Ctx, subject: Subject, today: date, period_text: PeriodRef | None) -> list[Goal]:
    """The subject's goals for the period asked, or its shortest current ones; revenue first."""
    kwargs: dict[str, object] = {"workspace_id": ctx.ws}
    if subject.rep is not None:
        kwargs.update(scope="rep", member_ids=[subject.rep.id])
    else:
        kwargs.update(scope="team", team_id=subject.team.id)
    if period_text is not None:
        kwargs["period"] = ctx.period(period_text, today)
    else:
        kwargs["covering"] = today
    goals = list(queries.live_goals(ctx.session, **kwargs))  # type: ignore[arg-type]
    if subject.rep is None and not goals:
        goals = _summed_rep_goals(ctx, subject.team, today, period_text)
    if period_text is None and goals:
        shortest = min(g.ends_on - g.starts_on for g in goals)
        goals = [g for g in goals if g.ends_on - g.starts_on == shortest]
    return sorted(goals, key=lambda g: (g.metric != "revenue", g.metric))


def _summed_rep_goals(
    ctx: Ctx, team: Team, today: date, period_text: PeriodRef | None
) -> list[Goal]:
    """Without a team goal, the team's target is the sum of its reps' goals."""
    period = ctx.period(period_text, today)
    reps = queries.team_members(ctx.session, team_id=team.id or 0, role="rep")
    rep_goals = queries.live_goals(
        ctx.session,
        workspace_id=ctx.ws,
        scope="rep",
        period=period,
        member_ids=[r.id for r in reps if r.id is not None],
    )
    totals: dict[str, int] = {}
    for goal in rep_goals:
        totals[goal.metric] = totals.get(goal.metric, 0) + goal.target
    # Not saved: a goal of the moment, shown with no ID.
    return [
        new_goal(ctx, "team", period, metric, target, team_id=team.id)
        for metric, target in totals.items()
    ]


def _section(ctx: Ctx, subject: Subject, goal: Goal, today: date) -> str:
    prog = stats.progress_of(ctx.session, goal, subject.team, today)
    team = stats.goal_team(ctx.session, goal, subject.team)
    cur = team.currency if team else subject.team.currency

    def v(value: Decimal) -> str:
        return ctx.fmt.value(value, goal.metric, cur, whole=True)

    lines = [
        ctx.t(
            "progress.title",
            who=name_of(subject.rep or subject.team),
            period=goal.period,
            metric=ctx.t(f"metric.{goal.metric}"),
        ),
        ctx.t(
            "progress.attainment",
            actual=v(prog.actual),
            target=v(prog.target),
            attainment=ctx.fmt.pct(prog.attainment),
        ),
    ]
    lines.append(_pace_line(ctx, prog, v))
    lines.append(_run_rate_line(ctx, prog, v))
    if prog.days_left and prog.days_elapsed:
        key = "progress.forecast_pipeline" if goal.metric == "revenue" else "progress.forecast"
        lines.append(ctx.t(key, forecast=v(prog.forecast), pipeline=v(prog.pipeline_forecast)))
    if goal.id is not None:
        lines.append(ctx.t("progress.goal_ref", id=goal.number))
        lines += goal_tree.flags(ctx, goal)
    return "\n".join(lines)


Fmt = Callable[[Decimal], str]  # formats a value in the goal's unit (money or a count)


def _pace_line(ctx: Ctx, prog: pace.Progress, v: Fmt) -> str:
    if prog.pace is None:
        return ctx.t("progress.not_started", days=prog.days_total)
    status = ctx.t("pace.behind") if prog.behind else ctx.t("pace.on_track")
    return ctx.t(
        "progress.pace",
        expected=v(prog.expected),
        pace=ctx.fmt.pct(prog.pace),
        status=status,
        gap=v(abs(prog.gap)),
        gap_word=ctx.t("progress.gap_behind") if prog.gap > 0 else ctx.t("progress.gap_ahead"),
    )


def _run_rate_line(ctx: Ctx, prog: pace.Progress, v: Fmt) -> str:
    if prog.actual >= prog.target:
        return ctx.t("progress.target_met", days=prog.days_left)
    if prog.over:
        return ctx.t("progress.period_over")
    if prog.run_rate is None:  # today is the last working day
        return ctx.t("progress.last_day", remaining=v(prog.target - prog.actual))
    return ctx.t(
        "progress.run_rate",
        run_rate=v(prog.run_rate),
        days=prog.days_left,
        remaining=v(prog.target - prog.actual),
    )


def _chart(ctx: Ctx, subject: Subject, goal: Goal, today: date) -> ProgressChart:
    period = stats.goal_period(goal)
    scope = stats.scope_of(goal)
    team = stats.goal_team(ctx.session, goal, subject.team) or subject.team
    hols = queries.holidays(ctx.session, workspace_id=ctx.ws, team_id=team.id)
    daily_raw = stats.in_scope(queries.daily_totals, ctx.session, scope, period, metric=goal.metric)
    cur = team.currency
    daily = {d: to_value(v, goal.metric, cur) for d, v in daily_raw.items()}
    days, cumulative = pace.cumulative_by_day(period, today, daily, hols)
    target = to_value(goal.target, goal.metric, cur)
    n = len(days)
    title = ctx.t("progress.chart_title", who=subject.name, period=goal.period)
    return ProgressChart(
        title=title,
        days=[d.strftime("%m-%d") for d in days],
        actual=[float(x) for x in cumulative],
        pace=[float(target * (i + 1) / n) for i in range(n)],
        target=float(target),
        value_prefix=money.symbol(cur, "en") if goal.metric in MONEY_METRICS else "",
        labels={k: ctx.t(f"chart.{k}") for k in ("actual", "pace", "target", "today")},
        alt_text=ctx.t(
            "progress.alt",
            who=subject.name,
            period=goal.period,
            actual=ctx.fmt.value(cumulative[-1] if cumulative else Decimal(0), goal.metric, cur),
            target=ctx.fmt.value(target, goal.metric, cur),
        ),
    )
