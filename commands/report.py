"""/pacer report [period] [team NAME]: a multi-page PDF a manager can forward.

Pages: the team's progress and pace (the text of /progress team), its chart, each rep's
row, the trend, the funnel, the mix by product, the leaderboard, the bonus projection and
the changes to targets in the period. The PDF is built after the acknowledgement (an export
kind, `report`: a file written from a read scope, like a CSV export) and arrives in the
requester's direct messages; the console writes it as a file.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import IO
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from charts.specs import ReportPage, ReportSpec, TablePage, TextPage
from commands import analysis, bonus, leaderboard, markup, progress, stats
from commands.args import Converter, PeriodRef, Subject, Words
from commands.context import Ctx, display_name, name_of
from commands.parsing import Refused
from commands.types import ExportQuery, FileOut, Reply, Request
from domain import periods
from domain.periods import Period
from storage import queries
from storage.models import AuditEntry, Goal, Member, Team


def _front_period(ctx: Ctx, words: Words) -> PeriodRef:
    two = len(words.tokens) >= 2 and periods.is_relative(" ".join(words.tokens[:2]))
    text = " ".join(words.tokens[:2]) if two else words.tokens[0]
    del words.tokens[: 2 if two else 1]
    ctx.period(PeriodRef(text), ctx.today(None))  # a bad one is refused here, named
    return PeriodRef(text)


def _starts_with_period(ws: list[str]) -> bool:
    return periods.looks_like_period(ws[0]) or ws[0].lower() in ("last", "this", "next")


# A period in front of `team NAME` (the name runs to the end).
LEADING_PERIOD = Converter("PERIOD", _front_period, _starts_with_period)


def report(ctx: Ctx, period: PeriodRef | None, team: Team | None) -> Reply:
    """/pacer report [PERIOD] [team NAME]: managers their teams', admins any."""
    team = team or ctx.my_team()
    if team is None:
        raise Refused("error.no_team")
    if not ctx.can_manage(team):
        raise Refused("report.managers_only", team=name_of(team))
    shown = ctx.period(period, ctx.today(team))
    query = query_for(ctx, team, shown)
    title = ctx.t("report.title", team=name_of(team), period=shown.label)
    file = FileOut(filename=file_name(team, shown), title=title, export=query)
    return Reply(text=ctx.t("report.on_its_way", team=name_of(team), period=shown.label), file=file)


def query_for(ctx: Ctx, team: Team, shown: Period) -> ExportQuery:
    return ExportQuery(
        kind="report",
        workspace_id=ctx.ws,
        start=shown.start,
        end=shown.end,
        team_ids=(team.id or 0,),
        owner_id=ctx.my_id,
        tz=team.tz,
        locale=ctx.fmt.locale,
        label=shown.label,
    )


def file_name(team: Team, shown: Period) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in team.name).strip("-") or "team"
    return f"pacer-report-{safe}-{shown.label}.pdf"


# --- the file, after the acknowledgement ------------------------------------------------------


PdfRenderer = Callable[[ReportSpec], bytes]  # charts.render_report, handed in by the edge


def write_pdf(session: Session, query: ExportQuery, out: IO[bytes], pdf: PdfRenderer) -> int:
    """The report's PDF to `out`, drawn by `pdf` (commands/ builds specs, never draws);
    its number of parts."""
    member = session.get(Member, query.owner_id or 0)
    team = session.get(Team, (query.team_ids or (0,))[0])
    if member is None or team is None or team.workspace_id != query.workspace_id:
        raise Refused("report.gone")
    req = Request(
        workspace_id=query.workspace_id,
        user_id=member.user_id,
        text="",
        now=_as_of(query, team),
        locale=query.locale,
    )
    ctx = Ctx.load(req, session)
    spec = build(ctx, team, PeriodRef(query.label))
    out.write(pdf(spec))
    return len(spec.pages)


def _as_of(query: ExportQuery, team: Team) -> datetime:
    """Now, or the period's last evening for a period over (a month's report, sent on the
    first working day of the next, reads as of its end)."""
    now = datetime.now(UTC)
    assert query.end is not None
    end = datetime.combine(query.end, time(23, 0), tzinfo=ZoneInfo(team.tz)).astimezone(UTC)
    return min(now, end)


def build(ctx: Ctx, team: Team, period: PeriodRef) -> ReportSpec:
    subject = Subject(team.name, team, None)
    shown = ctx.period(period, ctx.today(team))
    names = _names(ctx, team)
    pages: list[ReportPage] = []
    progress_reply = progress.handle(ctx, subject, period)
    pages.append(TextPage(_title(ctx, team, shown), _plain(progress_reply.text, names)))
    if progress_reply.chart is not None:
        pages.append(progress_reply.chart)
    pages += _rep_rows(ctx, team, subject, period)
    for reply in (
        analysis.trend(ctx, subject, "revenue", 6),
        analysis.funnel(ctx, subject, period),
        analysis.mix(ctx, subject, period, "product"),
        leaderboard.handle(ctx, team, period, None),
    ):
        pages.append(
            reply.chart or TextPage(_first_line(reply.text, names), _plain(reply.text, names)[1:])
        )
    pages += _bonus_page(ctx, team, period)
    pages.append(_changes_page(ctx, team, shown))
    return ReportSpec(title=_title(ctx, team, shown), pages=pages, footer=ctx.t("report.footer"))


def _title(ctx: Ctx, team: Team, shown: Period) -> str:
    return ctx.t(
        "report.title",
        team=team.name,
        period=ctx.fmt.period(shown, ctx.workspace.fiscal_start_month),
    )


def _names(ctx: Ctx, team: Team) -> dict[str, str]:
    return {
        m.user_id: display_name(m)
        for m, _ in queries.team_roster(ctx.session, team_id=team.id or 0)
    }


def _plain(text: str, names: dict[str, str]) -> list[str]:
    """Slack's markup off, and its emoji (no font of a PDF page has them): the words."""
    plain = markup.to_plain(text, names).replace("*", "")
    kept = "".join(c for c in plain if unicodedata.category(c) != "So" and c != "\ufe0f")
    return [line.strip() for line in kept.splitlines()]


def _first_line(text: str, names: dict[str, str]) -> str:
    lines = _plain(text, names)
    return lines[0] if lines else ""


def _rep_rows(ctx: Ctx, team: Team, subject: Subject, period: PeriodRef) -> list[ReportPage]:
    goals = progress.goals_of(ctx, subject, ctx.today(team), period)
    if not goals:
        return []
    goal = goals[0]
    cur = team.currency
    rows = []
    for r in stats.rep_standings(ctx.session, goal, team, ctx.today(team)):
        v = ctx.fmt.value
        if r.progress is None:
            rows.append([display_name(r.member), v(r.actual, goal.metric, cur), "—", "—", "—", "—"])
            continue
        p = r.progress
        gap = ctx.t(
            "report.behind" if p.gap > 0 else "report.ahead", gap=v(abs(p.gap), goal.metric, cur)
        )
        rows.append(
            [
                display_name(r.member),
                v(p.actual, goal.metric, cur),
                v(p.target, goal.metric, cur),
                ctx.fmt.pct(p.attainment),
                ctx.fmt.pct(p.pace),
                gap,
            ]
        )
    columns = [
        ctx.t(f"report.col_{c}") for c in ("rep", "actual", "target", "attainment", "pace", "gap")
    ]
    return [TablePage(ctx.t("report.reps_title"), columns, rows)]


def _bonus_page(ctx: Ctx, team: Team, period: PeriodRef) -> list[ReportPage]:
    plan = queries.bonus_plan(ctx.session, workspace_id=ctx.ws, team_id=team.id or 0)
    if plan is None:
        return []
    cur = team.currency
    rows = []
    reps = queries.team_members(ctx.session, team_id=team.id or 0, role="rep")
    for rep in sorted(reps, key=display_name):
        s = bonus.standing(ctx, rep, team, None)
        if s is None:
            continue
        rows.append(
            [
                display_name(rep),
                ctx.fmt.pct(s.attainment(s.actual_minor)),
                ctx.fmt.money(s.payout(s.actual_minor), cur),
                ctx.fmt.pct(s.attainment(s.forecast_minor)),
                ctx.fmt.money(s.payout(s.forecast_minor), cur),
            ]
        )
    columns = [
        ctx.t(f"report.col_{c}") for c in ("rep", "attainment", "payout", "forecast", "projected")
    ]
    note = markup.to_plain(bonus.describe(ctx, plan, team), {})
    return [TablePage(ctx.t("report.bonus_title"), columns, rows, note)]


def _changes_page(ctx: Ctx, team: Team, shown: Period) -> TablePage:
    """Every change made to the targets of the period's goals (a goal split, adjusted or
    replaced, with who, when and why), in order."""
    goals = {
        g.id: g
        for g in queries.team_goals_within(
            ctx.session, workspace_id=ctx.ws, team_id=team.id or 0, start=shown.start, end=shown.end
        )
    }
    zone = ZoneInfo(team.tz)
    entries = ctx.session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.workspace_id == ctx.ws,
            AuditEntry.entity == "goal",
            col(AuditEntry.entity_id).in_([i for i in goals if i is not None]),
            AuditEntry.action != "create",
        )
        .order_by(col(AuditEntry.id))
    ).all()
    people = {
        m.user_id: display_name(m)
        for m, _ in queries.team_roster(ctx.session, team_id=team.id or 0)
    }
    rows = []
    for e in entries:
        goal = goals.get(e.entity_id)
        if goal is None:
            continue
        before = json.loads(e.before).get("target") if e.before else None
        after = json.loads(e.after).get("target") if e.after else None
        rows.append(
            [
                e.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                people.get(e.actor, e.actor),
                f"#{goal.number} {goal.period} {ctx.t(f'metric.{goal.metric}')}",
                _target(ctx, goal, team, before),
                _target(ctx, goal, team, after),
                e.reason or "",
            ]
        )
    columns = [ctx.t(f"report.col_{c}") for c in ("when", "by", "goal", "from", "to", "reason")]
    note = "" if rows else ctx.t("report.no_changes")
    return TablePage(ctx.t("report.changes_title"), columns, rows, note)


def _target(ctx: Ctx, goal: Goal, team: Team, raw: object) -> str:
    if raw is None:
        return "—"
    return ctx.fmt.stored(int(str(raw)), goal.metric, team.currency)
