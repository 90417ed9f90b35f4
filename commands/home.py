"""The App Home tab: a rep's dashboard, and for a manager their teams' view too.

The rep sees their lead goal for the period picked (this month, quarter or year) with its
chart, attainment, pace, gap, run-rate, rank on the team's leaderboard, bonus tier, last
deals and the next step, with Log a deal and Feedback on this target. A manager also sees
each team they manage: every rep's attainment and pace, who is behind, the team's
forecast, and the open feedback with Review. Slack shows it as the Home tab's blocks; the
console prints the same sections (`home`).
"""

from __future__ import annotations

from decimal import Decimal

from charts.specs import ChartSpec
from commands import bonus, deal, feedback, markup, progress, stats, suggest
from commands.args import PeriodRef, Subject
from commands.context import Ctx, display_name, name_of
from commands.leaderboard import board_of
from commands.parsing import Refused
from commands.types import Button, Home, HomeSection, Reply
from domain import pace, ranking
from storage import queries
from storage.models import Goal, Team

PERIODS = ("month", "quarter", "year")
PERIOD_ACTION = "home_period"
LOG_DEAL = "home_log_deal"
REVIEW = "home_review"
LAST_DEALS = 5
MANAGED_REPS = 30  # rep lines per team on the tab; the rest are a /progress team away


def dashboard(ctx: Ctx, period: str | None = None) -> Reply:
    """The Home tab of whoever asks, for `period` (month by default)."""
    period = period if period in PERIODS else "month"
    sections: list[HomeSection] = []
    chart = None
    team = ctx.my_team()
    if team is None:
        sections.append(HomeSection(ctx.t("home.no_team")))
    else:
        mine, chart = _mine(ctx, team, period)
        sections += mine
    for managed in _managed_teams(ctx):
        sections.append(_team_section(ctx, managed, period))
    sections.append(HomeSection(ctx.t("home.help")))
    home = Home(
        sections=sections,
        chart=chart,
        periods=[(p, ctx.t(f"home.period_{p}")) for p in PERIODS],
        period=period,
        picker_label=ctx.t("home.period_label"),
    )
    return Reply(text=as_text(home), home=home)


def pick_period(ctx: Ctx, value: str) -> Reply:
    """The period picker: the tab again for the period picked."""
    if value not in PERIODS:
        raise Refused("error.unknown_action")
    return dashboard(ctx, value)


def as_text(home: Home) -> str:
    """The tab as plain sections (the console, and the text beside the blocks)."""
    return "\n\n".join(s.text for s in home.sections if s.text)


# --- the rep's part -----------------------------------------------------------------------------


def _mine(ctx: Ctx, team: Team, period: str) -> tuple[list[HomeSection], ChartSpec | None]:
    me_ = Subject(display_name(ctx.me), team, ctx.me)
    today = ctx.today(team)
    goals = progress.goals_of(ctx, me_, today, PeriodRef(period))
    if not goals:
        return [
            HomeSection(
                ctx.t("home.no_goal", period=ctx.t(f"home.period_{period}")), [_log_button(ctx)]
            )
        ], None
    goal = goals[0]
    prog = stats.progress_of(ctx.session, goal, team, today)
    cur = team.currency

    def v(value: Decimal) -> str:
        return ctx.fmt.value(value, goal.metric, cur)

    lines = [
        ctx.t(
            "progress.title",
            who=name_of(ctx.me),
            period=ctx.fmt.period(stats.goal_period(goal), ctx.workspace.fiscal_start_month),
            metric=ctx.t(f"metric.{goal.metric}"),
        ),
        ctx.t(
            "progress.attainment",
            actual=v(prog.actual),
            target=v(prog.target),
            attainment=ctx.fmt.pct(prog.attainment),
        ),
    ]
    if prog.pace is not None:
        lines.append(progress.pace_line(ctx, prog, v))
    if prog.run_rate is not None and prog.remaining > 0:
        lines.append(
            ctx.t(
                "progress.run_rate",
                run_rate=ctx.fmt.needed(prog.run_rate, goal.metric, cur),
                days=prog.days_left,
                remaining=ctx.fmt.needed(prog.remaining, goal.metric, cur),
            )
        )
    lines += _rank(ctx, team, goal)
    lines += _bonus(ctx, team)
    buttons = [_log_button(ctx)]
    if goal.id is not None:
        buttons.append(feedback.progress_button(ctx, goal))
    sections = [HomeSection("\n".join(lines), buttons)]
    sections.append(HomeSection(_last_deals(ctx)))
    sections.append(HomeSection(_next_step(ctx, team, goal, prog)))
    return sections, progress.chart_of(ctx, me_, goal, today)


def _rank(ctx: Ctx, team: Team, goal: Goal) -> list[str]:
    """My place on the team's leaderboard of the goal's period, by attainment."""
    board = board_of(ctx.session, team, goal.starts_on, goal.ends_on)
    rated = [r for r in board.rows if r.target]
    ranked = ranking.competition_ranks(rated, key=lambda r: r.attainment or Decimal(0))
    for rank, row in ranked:
        if row.member.id == ctx.my_id:
            return [ctx.t("home.rank", rank=rank, of=len(ranked), team=name_of(team))]
    return []


def _bonus(ctx: Ctx, team: Team) -> list[str]:
    found = bonus.standing(ctx, ctx.me, team, None)
    if found is None:
        return []
    return [
        ctx.t(
            "home.bonus",
            tier=bonus.tier_text(ctx, found, found.actual_minor),
            payout=ctx.fmt.money(found.payout(found.actual_minor), team.currency),
        )
    ]


def _last_deals(ctx: Ctx) -> str:
    deals = queries.recent_deals(
        ctx.session, workspace_id=ctx.ws, owner_id=ctx.my_id, limit=LAST_DEALS
    )
    if not deals:
        return ctx.t("home.no_deals")
    lines = [ctx.t("home.last_deals")]
    for d in deals:
        stage = "" if d.stage == "won" else f" [{ctx.t(f'stage.{d.stage}')}]"
        lines.append(
            f"• `#{d.number}` {d.close_date.isoformat()} · {markup.escape(d.customer)} · "
            f"{ctx.fmt.money(d.amount_minor, d.currency)}{stage}"
        )
    return "\n".join(lines)


def _next_step(ctx: Ctx, team: Team, goal: Goal, prog: pace.Progress) -> str:
    if prog.actual >= prog.target:
        return ctx.t("home.next_met")
    if not prog.behind or prog.gap <= 0:
        return ctx.t("home.next_on_track")
    source = suggest.rep_source(
        ctx.session,
        workspace_id=ctx.ws,
        team_id=team.id or 0,
        owner_id=ctx.my_id,
        today=ctx.today(team),
        end=goal.ends_on,
    )
    gap = suggest.Gap(goal.metric, prog.gap, team.currency, ctx.today(team))
    return "💡 " + suggest.suggestion(ctx.fmt, source, gap)


def _log_button(ctx: Ctx) -> Button:
    return Button(LOG_DEAL, ctx.t("home.log_deal"), "home", "primary")


# --- a manager's teams --------------------------------------------------------------------------


def _managed_teams(ctx: Ctx) -> list[Team]:
    return [
        t
        for t, role in queries.memberships_of(ctx.session, member_id=ctx.my_id)
        if role == "manager" and t.archived_at is None
    ]


def _team_section(ctx: Ctx, team: Team, period: str) -> HomeSection:
    subject = Subject(team.name, team, None)
    today = ctx.today(team)
    goals = progress.goals_of(ctx, subject, today, PeriodRef(period))
    lines = [ctx.t("home.team_title", team=name_of(team))]
    if goals:
        goal = goals[0]
        prog = stats.progress_of(ctx.session, goal, team, today)
        cur = team.currency

        def v(value: Decimal) -> str:
            return ctx.fmt.value(value, goal.metric, cur)

        lines.append(
            ctx.t(
                "home.team_line",
                actual=v(prog.actual),
                target=v(prog.target),
                attainment=ctx.fmt.pct(prog.attainment),
                forecast=v(prog.forecast),
            )
        )
        reps = stats.rep_standings(ctx.session, goal, team, today)
        behind = [name_of(r.member) for r in reps if r.progress and r.progress.behind]
        for r in reps[:MANAGED_REPS]:
            lines.append(_rep_line(ctx, r, v))
        if len(reps) > MANAGED_REPS:
            lines.append(ctx.t("home.more_reps", n=len(reps) - MANAGED_REPS, team=name_of(team)))
        lines.append(
            ctx.t("home.behind", names=", ".join(behind)) if behind else ctx.t("home.none_behind")
        )
    else:
        lines.append(ctx.t("progress.team_no_goal", name=name_of(team)))
    open_count = _open_feedback(ctx, team)
    buttons = []
    if open_count:
        lines.append(ctx.t("home.open_feedback", n=open_count))
        buttons.append(Button(REVIEW, ctx.t("home.review"), str(team.id)))
    return HomeSection("\n".join(lines), buttons)


def _rep_line(ctx: Ctx, r: stats.RepStanding, v: progress.Fmt) -> str:
    if r.progress is None:
        return ctx.t("progress.rep_no_goal", name=name_of(r.member), actual=v(r.actual))
    mark = " ⚠️" if r.progress.behind else ""
    return ctx.t(
        "home.rep_line",
        name=name_of(r.member),
        attainment=ctx.fmt.pct(r.progress.attainment),
        pace=ctx.fmt.pct(r.progress.pace),
        mark=mark,
    )


def _open_feedback(ctx: Ctx, team: Team) -> int:
    return len(
        queries.open_feedback_of_team(
            ctx.session, workspace_id=ctx.ws, team_id=team.id or 0, created_before=ctx.req.now
        )
    )


def review(ctx: Ctx, _value: str) -> Reply:
    """Review on the tab: the open feedback to answer, as `/goal review` lists it."""
    return feedback.review(ctx)


def log_deal(ctx: Ctx, _value: str) -> Reply:
    """Log a deal on the tab: the deal form."""
    return deal.open_form(ctx)
