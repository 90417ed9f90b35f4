"""/progress [@rep | team NAME] [period]: where someone stands, with a chart."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from charts.specs import ProgressChart
from commands import feedback, goal_tree, stats, suggest
from commands.args import PeriodRef, Subject, me
from commands.context import Ctx, name_of, new_goal
from commands.formatter import MONEY_METRICS, to_value
from commands.parsing import Refused
from commands.types import Button, Reply
from domain import money, pace, rounding
from domain.periods import Period
from storage import queries
from storage.models import Goal, Team


def handle(ctx: Ctx, subject: Subject | None, period: PeriodRef | None, page: int = 1) -> Reply:
    """/progress [@rep | team NAME] [PERIOD]; `page`: of a team's reps, from a button."""
    subject = subject or me(ctx)
    today = ctx.today(subject.team)
    goals = goals_of(ctx, subject, today, period)
    if not goals:
        return Reply(text=no_goal(ctx, subject, ctx.period(period, today)))
    first, *others = goals
    text, prog = _section(ctx, subject, first, today)
    reps, buttons = _by_rep(ctx, subject, first, prog, today, page)
    text += "".join("\n" + line for line in reps)
    if others:
        text += "\n" + "\n".join(_other_line(ctx, subject, g, today) for g in others)
    if subject.rep is not None and subject.rep.id == ctx.my_id and first.id is not None:
        buttons.append(feedback.progress_button(ctx, first))  # the rep's own goal
    return Reply(text=text, chart=chart_of(ctx, subject, first, today), buttons=buttons)


def all_teams(ctx: Ctx, period: PeriodRef | None, page: int = 1) -> Reply:
    """/progress all [PERIOD]: every team's lead goal, one line each (most behind expected
    first), and which team accounts for most of the shortfall."""
    teams = [
        t for t in queries.list_teams(ctx.session, workspace_id=ctx.ws) if t.archived_at is None
    ]
    if not teams:
        raise Refused("error.no_teams_yet")
    shown = ctx.period(period, ctx.today(teams[0]))
    lines = [
        ctx.t("progress.all_title", period=ctx.fmt.period(shown, ctx.workspace.fiscal_start_month))
    ]
    standings: list[tuple[Team, Goal, pace.Progress]] = []
    idle = []
    for team in teams:
        today = ctx.today(team)
        goals = goals_of(ctx, Subject(team.name, team, None), today, period)
        if not goals:
            idle.append(ctx.t("progress.team_no_goal", name=name_of(team)))
            continue
        prog = stats.progress_of(ctx.session, goals[0], team, today, pipeline=False)
        standings.append((team, goals[0], prog))
    standings.sort(key=lambda s: (-s[2].gap, s[0].name))
    rows = [_standing_line(ctx, name_of(t), p, _unit(ctx, g, t)) for t, g, p in standings]
    label = period.text if period is not None else shown.label
    shown_rows, buttons, span = _paged(ctx, rows + idle, page, f"all:0:{label}")
    if span:
        lines[0] += " " + span
    lines += shown_rows
    lines += _most_behind_team(ctx, standings)
    return Reply(text="\n".join(lines), buttons=buttons)


PAGE_ROWS = 25  # reps (or teams) per message; the rest a button press away, never cut
PAGE_ACTION = "progress_page"


def _paged(ctx: Ctx, rows: list[str], page: int, what: str) -> tuple[list[str], list[Button], str]:
    """The page's rows, the buttons to the pages beside it (their value: `what:page`), and
    which rows these are ("26–50 of 60"; nothing when one page holds them all)."""
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    page = min(max(page, 1), pages)
    first = (page - 1) * PAGE_ROWS
    shown = rows[first : first + PAGE_ROWS]
    if pages == 1:
        return shown, [], ""
    span = ctx.t("progress.page_span", first=first + 1, last=first + len(shown), total=len(rows))
    buttons = []
    if page > 1:
        buttons.append(Button(PAGE_ACTION, ctx.t("progress.page_previous"), f"{what}:{page - 1}"))
    if page < pages:
        buttons.append(Button(PAGE_ACTION, ctx.t("progress.page_next"), f"{what}:{page + 1}"))
    return shown, buttons, span


def turn_page(ctx: Ctx, value: str) -> Reply:
    """A press of a page button: the same reply at another page of its rows, in place of
    the message (the chart was posted with the first page)."""
    try:
        kind, ident, label, number = value.split(":")
        page, period = int(number), PeriodRef(label)
    except ValueError:
        raise Refused("error.unknown_action") from None
    if kind == "all":
        if not ctx.me.is_admin:
            raise Refused("error.admins_only")
        return all_teams(ctx, period, page)
    team = ctx.session.get(Team, int(ident)) if ident.isdigit() else None
    if kind != "team" or team is None or team.workspace_id != ctx.ws:
        raise Refused("error.unknown_action")
    reply = handle(ctx, Subject(team.name, team, None), period, page)
    return dataclasses.replace(reply, chart=None)


def _suggestion(
    ctx: Ctx, subject: Subject, goal: Goal, prog: pace.Progress, today: date
) -> list[str]:
    """For a rep behind pace, one next step from their own deals (as the daily warning)."""
    if subject.rep is None or not prog.behind or prog.over or prog.gap <= 0:
        return []
    team = stats.goal_team(ctx.session, goal, subject.team) or subject.team
    source = suggest.rep_source(
        ctx.session,
        workspace_id=ctx.ws,
        team_id=team.id or 0,
        owner_id=subject.rep.id or 0,
        today=today,
        end=goal.ends_on,
    )
    gap = suggest.Gap(goal.metric, prog.gap, team.currency, today)
    return ["💡 " + suggest.suggestion(ctx.fmt, source, gap)]


def _unit(ctx: Ctx, goal: Goal, team: Team) -> Fmt:
    return lambda value: ctx.fmt.value(value, goal.metric, team.currency)


def _most_behind_team(ctx: Ctx, standings: list[tuple[Team, Goal, pace.Progress]]) -> list[str]:
    """Named only where the teams' gaps add up: one metric, one currency."""
    units = {(goal.metric, team.currency) for team, goal, _ in standings}
    if len(units) != 1:
        return []
    total = sum((prog.gap for _, _, prog in standings), Decimal(0))
    team, goal, prog = standings[0]  # most behind first
    if total <= 0 or prog.gap <= 0:
        return []
    v = _unit(ctx, goal, team)
    return [ctx.t("progress.all_gap_owner", gap=v(total), team=name_of(team), part=v(prog.gap))]


def goals_of(ctx: Ctx, subject: Subject, today: date, period_text: PeriodRef | None) -> list[Goal]:
    """The subject's goals for the period asked, or those containing today, in the shared
    order (stats.goal_order): the one to lead with first."""
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
    return stats.goal_order(goals, home_team=subject.team.id)


def _on_team(ctx: Ctx, subject: Subject, goal: Goal) -> str:
    """A rep's goal on another team than the one shown (their home team) names it: a rep on
    two teams has like goals in each, told apart by this alone."""
    if subject.rep is None or goal.team_id in (None, subject.team.id):
        return ""
    team = stats.goal_team(ctx.session, goal, subject.team)
    return ctx.t("review9.on_team", team=name_of(team)) if team else ""


def no_goal(ctx: Ctx, subject: Subject, period: Period) -> str:
    """No goal: what was won in the period all the same, then how to get a goal."""
    who = name_of(subject.rep or subject.team)
    title = ctx.fmt.period(period, ctx.workspace.fiscal_start_month)
    owners = None if subject.rep is None else (subject.rep.id or 0,)
    scope = stats.Scope(ctx.ws, subject.team.id, owners)
    won = stats.actuals(ctx.session, scope, period, subject.team.currency)
    text = ctx.t("progress.no_goal", who=who, period=period.label)
    if not won.deals:
        return text
    so_far = ctx.t(
        "figures.no_goal_actuals",
        who=who,
        period=title,
        revenue=ctx.fmt.amount(won.revenue, subject.team.currency),
        deals=ctx.fmt.count("deals", won.deals),
    )
    return so_far + "\n" + text


def _summed_rep_goals(
    ctx: Ctx, team: Team, today: date, period_text: PeriodRef | None
) -> list[Goal]:
    """Without a team goal, the team's target is the sum of its reps' goals."""
    period = ctx.period(period_text, today)
    reps = queries.team_members(ctx.session, team_id=team.id or 0, role="rep")
    # Only the reps' goals on this team (a rep on two teams has a goal in each currency),
    # summed by the database.
    sums = queries.scope_part_sums(
        ctx.session,
        workspace_id=ctx.ws,
        scope="rep",
        start=period.start,
        end=period.end,
        team_id=team.id,
        member_ids=[r.id for r in reps if r.id is not None],
    )
    totals = {metric: total for metric, (_, total) in sums.items()}
    # Not saved: a goal of the moment, shown with no ID.
    return [
        new_goal(ctx, "team", period, metric, target, team_id=team.id)
        for metric, target in totals.items()
    ]


def _title(ctx: Ctx, goal: Goal) -> str:
    return ctx.fmt.period(stats.goal_period(goal), ctx.workspace.fiscal_start_month)


def _currency(ctx: Ctx, subject: Subject, goal: Goal) -> str:
    team = stats.goal_team(ctx.session, goal, subject.team)
    return team.currency if team else subject.team.currency


def _section(ctx: Ctx, subject: Subject, goal: Goal, today: date) -> tuple[str, pace.Progress]:
    prog = stats.progress_of(ctx.session, goal, subject.team, today)
    cur = _currency(ctx, subject, goal)

    def v(value: Decimal) -> str:
        return ctx.fmt.value(value, goal.metric, cur)

    def needed(value: Decimal) -> str:
        return ctx.fmt.needed(value, goal.metric, cur)

    lines = [
        ctx.t(
            "progress.title",
            who=name_of(subject.rep or subject.team) + _on_team(ctx, subject, goal),
            period=_title(ctx, goal),
            metric=ctx.t(f"metric.{goal.metric}"),
        ),
        ctx.t(
            "progress.attainment",
            actual=v(prog.actual),
            target=v(prog.target),
            attainment=ctx.fmt.pct(prog.attainment),
        ),
    ]
    lines += _comparison_lines(ctx, subject, goal, prog, today, v)
    lines.append(pace_line(ctx, prog, v))
    lines.append(_run_rate_line(ctx, prog, needed))
    lines += _forecast_lines(ctx, prog, v)
    lines += _suggestion(ctx, subject, goal, prog, today)
    if goal.id is not None:
        lines.append(ctx.t("progress.goal_ref", id=goal.number))
        lines += goal_tree.flags(ctx, goal)
    return "\n".join(lines), prog


def _by_rep(
    ctx: Ctx, subject: Subject, goal: Goal, team_prog: pace.Progress, today: date, page: int
) -> tuple[list[str], list[Button]]:
    """Under a team's goal, each rep's part of it (most behind expected first, a page at a
    time), and who accounts for most of the team's shortfall."""
    if subject.rep is not None:
        return [], []
    reps = stats.rep_standings(ctx.session, goal, subject.team, today)
    if not reps:
        return [], []
    cur = subject.team.currency

    def v(value: Decimal) -> str:
        return ctx.fmt.value(value, goal.metric, cur)

    what = f"team:{subject.team.id}:{stats.goal_period(goal).label}"
    rows, buttons, span = _paged(ctx, [_rep_line(ctx, r, v) for r in reps], page, what)
    lines = [ctx.t("progress.by_rep") + (" " + span if span else ""), *rows]
    most = max(reps, key=lambda r: r.progress.gap if r.progress else Decimal(0))
    if team_prog.gap > 0 and most.progress is not None and most.progress.gap > 0:
        lines.append(
            ctx.t(
                "progress.gap_owner",
                team=name_of(subject.team),
                gap=v(team_prog.gap),
                rep=name_of(most.member),
                part=v(most.progress.gap),
            )
        )
    return lines, buttons


def _rep_line(ctx: Ctx, rep: stats.RepStanding, v: Fmt) -> str:
    if rep.progress is None:
        return ctx.t("progress.rep_no_goal", name=name_of(rep.member), actual=v(rep.actual))
    return _standing_line(ctx, name_of(rep.member), rep.progress, v)


def _standing_line(ctx: Ctx, name: str, prog: pace.Progress, v: Fmt) -> str:
    """One rep's or one team's line under a total: attainment, pace, gap to expected."""
    status = ""
    if prog.pace is not None:
        status = ctx.t("pace.behind") if prog.behind else ctx.t("pace.on_track")
    return ctx.t(
        "progress.rep_line",
        name=name,
        actual=v(prog.actual),
        target=v(prog.target),
        attainment=ctx.fmt.pct(prog.attainment),
        pace=ctx.fmt.pct(prog.pace),
        status=status,
        gap=v(abs(prog.gap)),
        gap_word=ctx.t("progress.gap_behind") if prog.gap > 0 else ctx.t("progress.gap_ahead"),
    )


def _comparison_lines(
    ctx: Ctx, subject: Subject, goal: Goal, prog: pace.Progress, today: date, v: Fmt
) -> list[str]:
    """The actual against the previous period and the same one a year earlier: like for
    like (as many working days in) while the period runs, whole against whole after."""
    fiscal = ctx.workspace.fiscal_start_month
    found = stats.comparisons(ctx.session, goal, subject.team, today, prog.actual, fiscal)
    lines = []
    for c in found:
        if c.change is None and not prog.actual:
            continue  # nothing then, nothing now: no news
        values = {"period": ctx.fmt.period(c.window.period, fiscal), "days": c.window.days}
        if c.change is None:
            key = (
                "progress.compare_new_closed" if c.window.whole else "progress.compare_new_running"
            )
            lines.append(ctx.t(key, **values))
            continue
        key = "progress.compare_closed" if c.window.whole else "progress.compare_running"
        lines.append(ctx.t(key, change=ctx.fmt.change(c.change), before=v(c.before), **values))
    return lines


def _forecast_lines(ctx: Ctx, prog: pace.Progress, v: Fmt) -> list[str]:
    """The run-rate forecast, and for revenue what is won plus the weighted open deals, said
    as that sum so it never reads as a second, lower forecast."""
    if not (prog.days_left and prog.days_elapsed):
        return []
    lines = [ctx.t("progress.forecast", forecast=v(prog.forecast), days=pace.TRAILING_DAYS)]
    weighted = prog.pipeline_forecast - prog.actual
    if weighted > 0:
        lines.append(
            ctx.t(
                "progress.forecast_pipeline",
                pipeline=v(prog.pipeline_forecast),
                actual=v(prog.actual),
                weighted=v(weighted),
            )
        )
    return lines


def _other_line(ctx: Ctx, subject: Subject, goal: Goal, today: date) -> str:
    """One line for each goal after the first: where it stands, and its ID."""
    prog = stats.progress_of(ctx.session, goal, subject.team, today, pipeline=False)
    cur = _currency(ctx, subject, goal)
    return ctx.t(
        "figures.other_goal",
        period=_title(ctx, goal) + _on_team(ctx, subject, goal),
        metric=ctx.t(f"metric.{goal.metric}"),
        actual=ctx.fmt.value(prog.actual, goal.metric, cur),
        target=ctx.fmt.value(prog.target, goal.metric, cur),
        attainment=ctx.fmt.pct(prog.attainment),
        pace=ctx.fmt.pct(prog.pace),
        ref=ctx.t("figures.goal_ref_short", id=goal.number) if goal.id is not None else "",
    )


Fmt = Callable[[Decimal], str]  # formats a value in the goal's unit (money or a count)


def pace_line(ctx: Ctx, prog: pace.Progress, v: Fmt) -> str:
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


def _run_rate_line(ctx: Ctx, prog: pace.Progress, needed: Fmt) -> str:
    if prog.actual >= prog.target:
        return ctx.t("progress.target_met", days=prog.days_left)
    if prog.over:
        return ctx.t("progress.period_over")
    if prog.run_rate is None:  # today is the last working day
        return ctx.t("progress.last_day", remaining=needed(prog.remaining))
    return ctx.t(
        "progress.run_rate",
        run_rate=needed(prog.run_rate),
        days=prog.days_left,
        remaining=needed(prog.remaining),
    )


def chart_of(ctx: Ctx, subject: Subject, goal: Goal, today: date) -> ProgressChart:
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
    title = ctx.t("progress.chart_title", who=subject.name, period=_title(ctx, goal))
    return ProgressChart(
        title=title,
        days=[d.strftime("%m-%d") for d in days],
        actual=[_shown(x, goal.metric, cur) for x in cumulative],
        pace=[float(target * (i + 1) / n) for i in range(n)],
        target=_shown(target, goal.metric, cur),
        value_prefix=money.symbol(cur, "en") if goal.metric in MONEY_METRICS else "",
        labels={k: ctx.t(f"chart.{k}") for k in ("actual", "pace", "target", "today")},
        alt_text=ctx.t(
            "progress.alt",
            who=subject.name,
            period=_title(ctx, goal),
            actual=ctx.fmt.value(cumulative[-1] if cumulative else Decimal(0), goal.metric, cur),
            target=ctx.fmt.value(target, goal.metric, cur),
        ),
    )


def _shown(value: Decimal, metric: str, currency: str) -> float:
    """A labelled chart value as the text shows it (the same rounding), for the chart."""
    if metric in MONEY_METRICS:
        return float(rounding.money(value, currency))
    return float(rounding.count(value))
