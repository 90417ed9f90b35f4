"""What the scheduled jobs send: for one team and one local day, the notices to deliver.

Pure of Slack: bot/scheduler.py and `pacer jobs run` deliver the notices through
bot/notices.py, which records each key before sending, so every notice goes out once.
Each kind checks its own day (working day, Monday, first working day of the month).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session

from charts.specs import LeaderboardChart
from commands import markup, report, stats, suggest
from commands.context import display_name, name_of
from commands.formatter import MONEY_METRICS, Formatter, to_value
from commands.leaderboard import Row, bar_chart, board_of
from commands.types import ExportQuery, FileOut, Notice
from domain import pace, periods, ranking, workdays
from domain.periods import Period
from storage import queries
from storage.models import Goal, Member, Team, Workspace

T = TypeVar("T")

KINDS = ("lag-warnings", "weekly-leaderboard", "month-end", "feedback-reminders")
LAG_METRICS = ("revenue", "deals")  # the metrics a team's daily sums measure
FEEDBACK_EVERY = 2  # working days an answer may wait before (and between) reminders


@dataclass
class TeamDay:
    session: Session
    team: Team
    day: date
    holidays: frozenset[date]
    roster: list[tuple[Member, str]]
    cache: dict[str, Any] = field(default_factory=dict)
    behind: list[Behind] = field(default_factory=list)

    @property
    def ws(self) -> str:
        return self.team.workspace_id

    @property
    def team_id(self) -> int:
        assert self.team.id is not None
        return self.team.id

    def members(self, role: str) -> list[Member]:
        return [m for m, r in self.roster if r == role]

    def listeners(self, role: str) -> list[Member]:
        """Members of a role who take direct messages (active is implied by the roster)."""
        return [m for m in self.members(role) if m.notify]

    def channel_locale(self) -> str:
        """A channel has no locale: the managers' language, English without one."""
        return next((m.locale for m in self.members("manager") if m.locale), "en")


def notices_for(session: Session, team: Team, kind: str, day: date) -> list[Notice]:
    """The notices `kind` sends for `team` on its local `day`; none on a day off."""
    if kind not in KINDS:
        raise ValueError(f"unknown job {kind!r}; kinds: {', '.join(KINDS)}")
    assert team.id is not None
    if team.archived_at is not None:  # an archived team keeps its figures, gets no notices
        return []
    hols = queries.holidays(session, workspace_id=team.workspace_id, team_id=team.id)
    if not workdays.is_working_day(day, hols):
        return []
    roster = queries.team_roster(session, team_id=team.id)
    job: Callable[[TeamDay], list[Notice]] = {
        "lag-warnings": lag_warnings,
        "weekly-leaderboard": weekly_leaderboard,
        "month-end": month_end,
        "feedback-reminders": feedback_reminders,
    }[kind]
    return job(TeamDay(session, team, day, hols, roster))


# --- daily lag warnings -----------------------------------------------------------------------


@dataclass(frozen=True)
class Behind:
    member: Member
    goal: Goal
    progress: pace.Progress


def lag_warnings(td: TeamDay) -> list[Notice]:
    behind = td.behind = behind_reps(td)
    told = _recorded(td, [b.member for b in behind if b.member.notify])
    notices = [_rep_warning(td, b, b.member.user_id not in told) for b in behind if b.member.notify]
    if behind:
        notices += [_digest(td, behind, m) for m in td.listeners("manager")]
    return notices


def behind_reps(td: TeamDay) -> list[Behind]:
    """Reps behind pace on the goal they lead with (stats.goal_order, as /deal and /progress
    do), with one totals query per period."""
    reps = {m.id: m for m in td.members("rep") if m.id is not None}
    # The reps' goals on this team only: the totals below are this team's deals.
    goals = queries.live_goals(
        td.session,
        workspace_id=td.ws,
        scope="rep",
        team_id=td.team_id,
        member_ids=list(reps),
        covering=td.day,
    )
    chosen: dict[int, Goal] = {}
    for goal in stats.goal_order(g for g in goals if g.metric in LAG_METRICS and g.target > 0):
        chosen.setdefault(goal.member_id or 0, goal)
    totals: dict[tuple[date, date], dict[int, tuple[int, int]]] = {}
    found = []
    for member_id, goal in chosen.items():
        span = (goal.starts_on, goal.ends_on)
        if span not in totals:
            totals[span] = queries.totals_by_owner(
                td.session, workspace_id=td.ws, start=span[0], end=span[1], team_id=td.team_id
            )
        won, count = totals[span].get(member_id, (0, 0))
        progress = _progress(td, goal, won if goal.metric == "revenue" else count)
        if progress.behind:
            found.append(Behind(reps[member_id], goal, progress))
    return sorted(found, key=lambda b: (display_name(b.member).lower(), b.member.user_id))


def _progress(td: TeamDay, goal: Goal, actual: int) -> pace.Progress:
    period = Period(goal.starts_on, goal.ends_on, periods.kind_of(goal.period), goal.period)
    return pace.progress(
        target=_value(td, goal, goal.target),
        actual=_value(td, goal, actual),
        period=period,
        today=td.day,
        holidays=td.holidays,
        behind_below=Decimal(td.team.behind_pct) / 100,
        whole=goal.metric not in MONEY_METRICS,
    )


def _fiscal_start(td: TeamDay) -> int:
    """The workspace's fiscal start, for period titles (a fiscal quarter carries its dates)."""
    return _cached(td, "fiscal", lambda: _workspace_fiscal_start(td))


def _workspace_fiscal_start(td: TeamDay) -> int:
    workspace = td.session.get(Workspace, td.ws)
    return workspace.fiscal_start_month if workspace else 1


def _value(td: TeamDay, goal: Goal, raw: int) -> Decimal:
    return to_value(raw, goal.metric, td.team.currency)


def _show(td: TeamDay, goal: Goal, value: Decimal, out: Formatter) -> str:
    return out.value(value, goal.metric, td.team.currency)


def _needed(td: TeamDay, goal: Goal, value: Decimal, out: Formatter) -> str:
    """A count still needed rounds up: 0.3 deal a day is one deal a day."""
    return out.needed(value, goal.metric, td.team.currency)


def _recorded(td: TeamDay, reps: list[Member]) -> set[str]:
    """The reps whose warning of the day an earlier run recorded (one query): a re-run
    leaves out their suggestion, the costly part; the outbox skips the notice anyway."""
    keys = {_lag_key(td, rep): rep.user_id for rep in reps}
    found = queries.recorded_keys(td.session, workspace_id=td.ws, keys=list(keys))
    return {keys[key] for key in found}


def _lag_key(td: TeamDay, rep: Member) -> str:
    return f"lag:{td.day}:{rep.user_id}"


def _rep_warning(td: TeamDay, b: Behind, suggest: bool = True) -> Notice:
    out = Formatter(b.member.locale or "en")
    p, goal = b.progress, b.goal
    text = out.t(
        "jobs.lag.rep",
        period=out.period(stats.goal_period(goal), _fiscal_start(td)),
        actual=_show(td, goal, p.actual, out),
        target=_show(td, goal, p.target, out),
        attainment=out.pct(p.attainment),
        expected=_show(td, goal, p.expected, out),
        gap=_show(td, goal, p.gap, out),
        run_rate=_needed(td, goal, p.run_rate or Decimal(0), out),
        remaining=_needed(td, goal, p.remaining, out),
        days=p.days_left,
        suggestion=suggestion(td, b, out) if suggest else "",
    )
    return Notice(
        key=_lag_key(td, b.member),
        text=text,
        user_id=b.member.user_id,
        locale=out.locale,
    )


def suggestion(td: TeamDay, b: Behind, out: Formatter) -> str:
    """One concrete next step from the rep's own deals (commands/suggest.py), from facts
    read once for the whole team."""
    owner = b.member.id or 0
    source = suggest.Source(
        open_deals=lambda: _open_deals(td).get(owner, []),
        stall=lambda: suggest.rep_stall(_stall_funnels(td), owner),
        quiet=lambda: _quiet(td).get(owner, []),
        recent_won=lambda: _recent_won(td).get(owner, (0, 0)),
    )
    gap = suggest.Gap(b.goal.metric, b.progress.gap, td.team.currency, td.day)
    return suggest.suggestion(out, source, gap)


def _stall_funnels(td: TeamDay) -> dict[int, list[queries.FunnelRow]]:
    return _cached(
        td,
        "stall",
        lambda: suggest.stall_funnels(
            td.session, workspace_id=td.ws, team_id=td.team_id, today=td.day
        ),
    )


def _open_deals(td: TeamDay) -> dict[int, list[tuple[str, int]]]:
    """Open deals of the reps behind that close between a month ago and their goals' end."""
    return _cached(
        td,
        "open",
        lambda: queries.open_deals_of_team(
            td.session,
            workspace_id=td.ws,
            team_id=td.team_id,
            owner_ids=[b.member.id for b in td.behind if b.member.id is not None],
            start=td.day - suggest.OPEN_LOOKBACK,
            end=max(b.goal.ends_on for b in td.behind),
        ),
    )


def _quiet(td: TeamDay) -> dict[int, list[tuple[str, date]]]:
    """The customers gone quiet of the reps behind, three each (as the suggestion names)."""
    return _cached(
        td,
        "quiet",
        lambda: queries.quiet_customers_of_team(
            td.session,
            workspace_id=td.ws,
            team_id=td.team_id,
            owner_ids=[b.member.id for b in td.behind if b.member.id is not None],
            since=td.day - suggest.QUIET_LOOKBACK,
            before=td.day - suggest.QUIET_AFTER,
        ),
    )


def _recent_won(td: TeamDay) -> dict[int, tuple[int, int]]:
    return _cached(
        td,
        "won",
        lambda: queries.totals_by_owner(
            td.session,
            workspace_id=td.ws,
            start=td.day - suggest.AVERAGE_LOOKBACK,
            end=td.day,
            team_id=td.team_id,
        ),
    )


def _cached(td: TeamDay, name: str, load: Callable[[], T]) -> T:
    """Each team-wide query runs at most once per team run, and only when a rep needs it."""
    if name not in td.cache:
        td.cache[name] = load()
    value: T = td.cache[name]
    return value


def _digest(td: TeamDay, behind: list[Behind], manager: Member) -> Notice:
    out = Formatter(manager.locale or "en")
    lines = [
        out.t("jobs.lag.digest_title", team=name_of(td.team), day=td.day.isoformat(), n=len(behind))
    ]
    for b in behind:
        lines.append(
            out.t(
                "jobs.lag.digest_line",
                name=name_of(b.member),
                attainment=out.pct(b.progress.attainment),
                target=_show(td, b.goal, b.progress.target, out),
                gap=_show(td, b.goal, b.progress.gap, out),
                pace=out.pct(b.progress.pace),
            )
        )
    return Notice(
        key=f"lag-digest:{td.day}:{manager.user_id}",
        text="\n".join(lines),
        user_id=manager.user_id,
        locale=out.locale,
    )


# --- weekly leaderboard -------------------------------------------------------------------------


def weekly_leaderboard(td: TeamDay) -> list[Notice]:
    """On Mondays: last week's won revenue by rep, to the team's channel."""
    if td.day.weekday() != 0 or not td.team.channel_id:
        return []
    last = td.day - timedelta(days=7)
    iso = last.isocalendar()
    week = periods.week(iso.year, iso.week)
    rows = _rows(td, week.start, week.end)
    if not rows:
        return []
    out = Formatter(td.channel_locale())
    lines = [out.t("jobs.weekly.title", team=name_of(td.team), week=week.label)]
    ranked = ranking.competition_ranks(rows, lambda r: r.revenue)
    for place, row in ranked:
        lines.append(
            out.t(
                "jobs.weekly.line",
                place=place,
                name=name_of(row.member),
                amount=out.amount(row.revenue, td.team.currency),
                deals=out.count("deals", row.deals),
            )
        )
    key = f"weekly:{td.team_id}:{week.label}"
    chart = _weekly_chart(td, [row for _, row in ranked], week.label, out)
    text = "\n".join(lines)
    return [
        Notice(key=key, text=text, channel_id=td.team.channel_id, locale=out.locale, chart=chart)
    ]


def _weekly_chart(td: TeamDay, rows: list[Row], week: str, out: Formatter) -> LeaderboardChart:
    """The week's won revenue as bars, in the order of the text's ranking."""
    title = out.t("jobs.weekly.chart_title", team=td.team.name, week=week)
    return bar_chart(out, title, rows, "revenue", td.team.currency, alt_key="jobs.weekly.alt")


def _rows(td: TeamDay, start: date, end: date, targets: dict[int, int] | None = None) -> list[Row]:
    """The leaderboard's rows of the period: who was on the team then, not only now."""
    rows = board_of(td.session, td.team, start, end, targets).rows
    return sorted(rows, key=lambda r: display_name(r.member).lower())


# --- month end ----------------------------------------------------------------------------------


def month_end(td: TeamDay) -> list[Notice]:
    """On the first working day of a month: last month's champion, biggest deal and totals
    in the team's channel, and last month's report to each of its managers."""
    if not _first_working_day(td.day, td.holidays):
        return []
    last = td.day.replace(day=1) - timedelta(days=1)
    month = periods.month(last.year, last.month)
    reports = [_month_report(td, month, m) for m in td.listeners("manager")]
    if not td.team.channel_id:
        return reports
    return [_month_post(td, month), *reports]


def _month_report(td: TeamDay, month: Period, manager: Member) -> Notice:
    """The month's PDF for one manager, sent once (its key is the month's and theirs); its
    bytes are drawn when it is sent."""
    out = Formatter(manager.locale or "en")
    query = ExportQuery(
        kind="report",
        workspace_id=td.ws,
        start=month.start,
        end=month.end,
        team_ids=(td.team_id,),
        owner_id=manager.id,
        tz=td.team.tz,
        locale=out.locale,
        label=month.label,
    )
    title = out.t("report.title", team=td.team.name, period=month.label)
    file = FileOut(filename=report.file_name(td.team, month), title=title, export=query)
    return Notice(
        key=f"month-report:{td.team_id}:{month.label}:{manager.user_id}",
        text=out.t("report.monthly", team=name_of(td.team), period=month.label),
        user_id=manager.user_id,
        locale=out.locale,
        file=file,
    )


def _month_post(td: TeamDay, month: Period) -> Notice:
    """Last month's champion, biggest deal and totals, with its chart."""
    # The team's own rep goals: another team's are in its currency, for its deals.
    goals = queries.rep_targets(
        td.session,
        workspace_id=td.ws,
        team_id=td.team_id,
        start=month.start,
        end=month.end,
        metric="revenue",
    )
    targets = {member_id: target for member_id, target in goals.items() if target > 0}
    rows = _rows(td, month.start, month.end, targets)
    out = Formatter(td.channel_locale())
    cur = td.team.currency
    total = sum((r.revenue for r in rows), Decimal(0))
    count = sum(r.deals for r in rows)
    lines = [out.t("jobs.month.title", team=name_of(td.team), month=month.label)]
    rated = [r for r in rows if r.attainment is not None]
    best = max(rated, key=lambda r: (r.attainment or Decimal(0), r.revenue)) if rated else None
    if best is not None:
        lines.append(
            out.t(
                "jobs.month.champion",
                name=name_of(best.member),
                attainment=out.pct(best.attainment),
                amount=out.amount(best.revenue, cur),
            )
        )
    big = queries.biggest_won_deal(
        td.session, workspace_id=td.ws, team_id=td.team_id, start=month.start, end=month.end
    )
    if big is not None:
        owner = td.session.get(Member, big.owner_id)  # on the team then, maybe not now
        lines.append(
            out.t(
                "jobs.month.biggest",
                name=name_of(owner) if owner else "—",
                customer=markup.escape(big.customer),
                amount=out.money(big.amount_minor, td.team.currency),
            )
        )
    target_sum = sum((r.target or Decimal(0) for r in rows), Decimal(0))
    lines.append(
        out.t(
            "jobs.month.report",
            total=out.amount(total, cur),
            deals=out.count("deals", count),
            attainment=out.pct(total / target_sum if target_sum else None),
        )
    )
    key = f"month-end:{td.team_id}:{month.label}"
    chart = _month_chart(td, rated, best, month.label, out) if rated else None
    text = "\n".join(lines)
    return Notice(key=key, text=text, channel_id=td.team.channel_id, locale=out.locale, chart=chart)


def _month_chart(
    td: TeamDay, rated: list[Row], best: Row | None, month: str, out: Formatter
) -> LeaderboardChart:
    """Each rep's attainment of the finished month, best first, the champion highlighted."""
    order = sorted(rated, key=lambda r: (-(r.attainment or Decimal(0)), -r.revenue))
    title = out.t("jobs.month.chart_title", team=td.team.name, month=month)
    champion = frozenset({display_name(best.member)}) if best is not None else frozenset()
    return bar_chart(
        out,
        title,
        order,
        "attainment",
        td.team.currency,
        alt_key="jobs.month.alt",
        highlight=champion,
    )


def _first_working_day(day: date, holidays: frozenset[date]) -> bool:
    before = day - timedelta(days=1)
    return day.day == 1 or workdays.count(day.replace(day=1), before, holidays) == 0


# --- feedback reminders -------------------------------------------------------------------------


def feedback_reminders(td: TeamDay) -> list[Notice]:
    """Every second working day a rep's feedback waits, its team's managers are reminded."""
    managers = td.listeners("manager")
    if not managers:
        return []
    tz = ZoneInfo(td.team.tz)
    midnight = datetime.combine(td.day, time(0), tzinfo=tz)
    waiting = queries.open_feedback_of_team(
        td.session, workspace_id=td.ws, team_id=td.team_id, created_before=midnight
    )
    notices = []
    for row, goal, rep in waiting:
        written = row.created_at.astimezone(tz).date()
        days = workdays.count(written + timedelta(days=1), td.day, td.holidays)
        if days < FEEDBACK_EVERY or days % FEEDBACK_EVERY:
            continue
        for manager in managers:
            out = Formatter(manager.locale or "en")
            text = out.t(
                "jobs.feedback.reminder",
                name=name_of(rep),
                period=goal.period,
                days=days,
                text=markup.escape(row.text),
                id=row.number,
            )
            key = f"feedback-reminder:{row.id}:{td.day}:{manager.user_id}"
            notices.append(Notice(key=key, text=text, user_id=manager.user_id, locale=out.locale))
    return notices
