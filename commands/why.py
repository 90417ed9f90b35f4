"""/progress why [@rep | team NAME] [period]: every figure of /progress with its workings,
so a rep can check each by hand: the deals counted and those left out (with why), the
working days and the holidays skipped, and each formula with its numbers filled in."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from charts.specs import WhyChart
from commands import markup, progress, stats
from commands.args import PeriodRef, Subject, me
from commands.context import Ctx
from commands.formatter import MONEY_METRICS
from commands.types import ExportQuery, FileOut, Reply
from domain import csvio, pace, workdays
from domain import why as whys
from domain.periods import Period
from storage import queries
from storage.models import Goal, Team

LISTED = 10  # deals shown in the message, of each list; every one of them is in the CSV


def why(ctx: Ctx, subject: Subject | None, period: PeriodRef | None) -> Reply:
    subject = subject or me(ctx)
    today = ctx.today(subject.team)
    goals = progress.goals_of(ctx, subject, today, period)
    if not goals:
        return Reply(text=progress.no_goal(ctx, subject, ctx.period(period, today)))
    goal = goals[0]
    team = stats.goal_team(ctx.session, goal, subject.team) or subject.team
    prog = stats.progress_of(ctx.session, goal, subject.team, today)
    shown = stats.goal_period(goal)
    fiscal = ctx.workspace.fiscal_start_month
    lines = [
        ctx.t(
            "why.title",
            who=subject.name,
            metric=ctx.t(f"metric.{goal.metric}"),
            period=ctx.fmt.period(shown, fiscal),
        )
    ]
    chart = None
    if goal.metric in stats.SUMMED:
        bars, counted, file = _deals(ctx, subject, goal, team, shown)
        if any(n for _, n, _ in bars):  # no deals at all: no chart of nothing
            chart = _chart(ctx, bars, subject.name, goal.metric, ctx.fmt.period(shown, fiscal))
    elif goal.metric == "new_customers":
        counted, file = _customers(ctx, goal, shown)
    else:
        counted, file = _payments(ctx, goal, team, shown)
    lines += counted
    lines += _days(ctx, shown, today, team)
    lines += _formulas(ctx, goal, team, prog, today)
    return Reply(text="\n".join(lines), file=file, chart=chart)


# --- the deals -----------------------------------------------------------------------------------


def _deals(
    ctx: Ctx, subject: Subject, goal: Goal, team: Team, shown: Period
) -> tuple[list[Bar], list[str], FileOut | None]:
    """The deals counted and left out: how many for each reason, the lines, the file."""
    query = ExportQuery(
        kind="why",
        workspace_id=ctx.ws,
        start=shown.start,
        end=shown.end,
        team_ids=(team.id or 0,),
        owner_id=None if subject.rep is None else subject.rep.id,
        tz=team.tz,
    )
    summary = queries.why_summary(
        ctx.session, _near(query), counted_team=team.id or 0, listed=LISTED
    )
    lines = [
        ctx.t(
            "why.counted",
            deals=ctx.fmt.count("deals", summary.counted),
            total=ctx.fmt.money(summary.counted_minor, team.currency),
        )
    ]
    show_owner = subject.rep is None
    lines += [_deal_line(ctx, d, show_owner) for d in summary.first_counted]
    bars = _by_reason(ctx, summary, team.currency)
    if summary.left_out:
        parts = ctx.t("why.part_sep").join(
            ctx.t(
                "why.part",
                reason=ctx.t(f"why.bar_{reason}"),
                deals=ctx.fmt.count("deals", n),
                amount=amount,
            )
            for reason, n, amount in bars[1:]
        )
        deals = ctx.fmt.count("deals", summary.left_out)
        lines.append(ctx.t("why.left_out", deals=deals, parts=parts))
        lines += [
            _deal_line(ctx, d, show_owner) + ": " + _reason(ctx, d, reason, team)
            for d, reason in summary.first_left_out
        ]
    if max(summary.counted, summary.left_out) <= LISTED:
        return bars, lines, None
    lines.append(ctx.t("why.in_the_file", listed=LISTED))
    # Written after the acknowledgement, as an export is: a team's year is thousands of rows.
    file = FileOut(_file_name(shown), ctx.t("why.file_title", period=shown.label), export=query)
    return bars, lines, file


Bar = tuple[str, int, str]  # reason ('' for the deals counted), deals, amounts as shown


def _by_reason(ctx: Ctx, summary: queries.Summary, currency: str) -> list[Bar]:
    """The deals counted (always first, in the team's currency), then each reason any deal
    was left out for, with the amounts of each currency apart (never added together)."""
    found: dict[str, list[queries.ReasonPart]] = {}
    for part in summary.parts:
        if part.reason:
            found.setdefault(part.reason, []).append(part)
    bars = [("", summary.counted, ctx.fmt.money(summary.counted_minor, currency))]
    for reason, parts in found.items():
        amounts = " + ".join(ctx.fmt.money(p.minor, p.currency) for p in parts)
        bars.append((reason, sum(p.deals for p in parts), amounts))
    return bars


def _chart(ctx: Ctx, bars: list[Bar], who: str, metric: str, period: str) -> WhyChart:
    """The bars with the text's own counts and amounts."""
    title = ctx.t("why.chart_title", who=who, metric=ctx.t(f"metric.{metric}"), period=period)
    return WhyChart(
        title=title,
        names=[ctx.t(f"why.bar_{reason or 'counted'}") for reason, _, _ in bars],
        deals=[float(n) for _, n, _ in bars],
        notes=[
            ctx.t("why.chart_note", deals=ctx.fmt.count("deals", n), amount=amount)
            for _, n, amount in bars
        ],
        alt_text=title,
    )


def _near(query: ExportQuery) -> queries.Near:
    """The deals a why query looks at: in the period, or logged in it (the team's days)."""
    assert query.start is not None and query.end is not None and query.team_ids
    zone = ZoneInfo(query.tz)
    return queries.Near(
        workspace_id=query.workspace_id,
        start=query.start,
        end=query.end,
        logged_from=_midnight(query.start, zone),
        logged_to=_midnight(query.end + timedelta(days=1), zone),
        team_id=query.team_ids[0] if query.owner_id is None else None,
        owner_id=query.owner_id,
    )


def csv_rows(session: Session, query: ExportQuery) -> Iterator[list[str]]:
    """The why file's rows: every deal counted, then every one left out, with its reason."""
    team_id = (query.team_ids or (0,))[0]
    for row in queries.why_rows(session, _near(query), counted_team=team_id):
        number, _, _, close, logged, customer, amount, cur, stage, _, rep, team, reason = row
        yield [
            "no" if reason else "yes",
            reason,
            str(number),
            csvio.date_cell(close),
            csvio.time_cell(logged),
            csvio.text_cell(customer),
            csvio.money_cell(amount, cur),
            cur,
            stage,
            csvio.text_cell(team),
            csvio.text_cell(rep),
        ]


def _customers(ctx: Ctx, goal: Goal, shown: Period) -> tuple[list[str], FileOut | None]:
    found = stats.in_scope(queries.new_customer_list, ctx.session, stats.scope_of(goal), shown)
    lines = [
        ctx.t("why.counted_new_customers", customers=ctx.fmt.count("new_customers", len(found)))
    ]
    lines += [
        "• " + ctx.t("why.customer_line", customer=markup.escape(name), day=day.isoformat())
        for name, day in found[:LISTED]
    ]
    if len(found) <= LISTED:
        return lines, None
    lines.append(ctx.t("why.in_the_file", listed=LISTED))
    rows = [[csvio.text_cell(name), csvio.date_cell(day)] for name, day in found]
    return lines, _file(ctx, shown, ["customer", "first_won"], rows)


def _payments(ctx: Ctx, goal: Goal, team: Team, shown: Period) -> tuple[list[str], FileOut | None]:
    found = stats.in_scope(queries.payment_list, ctx.session, stats.scope_of(goal), shown)
    cur = team.currency
    total = sum(amount for _, amount, _, _ in found)
    lines = [
        ctx.t(
            "why.counted_collected",
            payments=ctx.fmt.count("payments", len(found)),
            total=ctx.fmt.money(total, cur),
        )
    ]
    lines += [
        "• "
        + ctx.t(
            "why.payment_line",
            day=day.isoformat(),
            amount=ctx.fmt.money(amount, cur),
            deal=number,
            customer=markup.escape(customer),
        )
        for day, amount, number, customer in found[:LISTED]
    ]
    if len(found) <= LISTED:
        return lines, None
    lines.append(ctx.t("why.in_the_file", listed=LISTED))
    rows = [
        [csvio.date_cell(day), csvio.money_cell(amount, cur), cur, number, csvio.text_cell(c)]
        for day, amount, number, c in found
    ]
    return lines, _file(ctx, shown, ["paid_on", "amount", "currency", "deal", "customer"], rows)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of the team's local day, in UTC (as times are stored)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _deal_line(ctx: Ctx, d: queries.DealFact, show_owner: bool) -> str:
    parts = [
        f"`#{d.number}`",
        d.close_date.isoformat(),
        markup.escape(d.customer),
        ctx.fmt.money(d.amount_minor, d.currency),
    ]
    if show_owner:
        parts.append(markup.escape(d.rep_name))
    return "• " + " · ".join(parts)


def _reason(ctx: Ctx, d: queries.DealFact, reason: str, team: Team) -> str:
    if reason == whys.OUTSIDE:
        return ctx.t("why.reason_outside")
    if reason == whys.OTHER_TEAM:
        other = markup.escape(d.team_name)
        if d.currency != team.currency:
            return ctx.t("why.reason_other_currency", team=other, currency=d.currency)
        return ctx.t("why.reason_other_team", team=other)
    if reason == whys.NOT_WON:
        return ctx.t("why.reason_not_won", stage=ctx.t(f"stage.{d.stage}"))
    return ctx.t("why.reason_deleted")


COLUMNS = (
    "counted",
    "reason",
    "deal",
    "close_date",
    "logged_at",
    "customer",
    "amount",
    "currency",
    "stage",
    "team",
    "rep",
)


def _file_name(shown: Period) -> str:
    return f"pacer-why-{shown.label}.csv"


def _file(ctx: Ctx, shown: Period, header: list[str], rows: Sequence[Sequence[object]]) -> FileOut:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return FileOut(
        filename=_file_name(shown),
        title=ctx.t("why.file_title", period=shown.label),
        content=text.getvalue().encode(csvio.ENCODING),
    )


# --- days and formulas ---------------------------------------------------------------------------


def _days(ctx: Ctx, shown: Period, today: date, team: Team) -> list[str]:
    hols = queries.holidays(ctx.session, workspace_id=ctx.ws, team_id=team.id)
    skipped = sorted(h for h in hols if shown.start <= h <= shown.end and h.weekday() < 5)
    total = workdays.count(shown.start, shown.end, hols)
    elapsed = pace.elapsed_days(shown, today, hols)
    lines = [
        ctx.t(
            "why.days",
            total=total,
            start=shown.start.isoformat(),
            end=shown.end.isoformat(),
            elapsed=elapsed,
            today=min(today, shown.end).isoformat(),
            left=total - elapsed,
        )
    ]
    if skipped:
        days = ", ".join(h.isoformat() for h in skipped)
        lines.append(ctx.t("why.holidays", count=len(skipped), days=days))
    return lines


def _formulas(ctx: Ctx, goal: Goal, team: Team, prog: pace.Progress, today: date) -> list[str]:
    cur = team.currency

    def v(value: Decimal) -> str:
        return ctx.fmt.value(value, goal.metric, cur)

    lines = [
        ctx.t(
            "why.attainment",
            actual=v(prog.actual),
            target=v(prog.target),
            attainment=ctx.fmt.pct(prog.attainment),
        )
    ]
    if prog.days_elapsed:
        lines.append(
            ctx.t(
                "why.expected",
                target=v(prog.target),
                elapsed=prog.days_elapsed,
                total=prog.days_total,
                expected=v(prog.expected),
            )
        )
        lines.append(
            ctx.t(
                "why.pace",
                actual=v(prog.actual),
                expected=v(prog.expected),
                pace=ctx.fmt.pct(prog.pace),
            )
        )
        word = "progress.gap_behind" if prog.gap > 0 else "progress.gap_ahead"
        lines.append(
            ctx.t(
                "why.gap",
                expected=v(prog.expected),
                actual=v(prog.actual),
                gap=v(abs(prog.gap)),
                gap_word=ctx.t(word),
            )
        )
    if prog.run_rate is not None and prog.remaining > 0:
        lines.append(
            ctx.t(
                "why.run_rate",
                remaining=v(prog.remaining),
                left=prog.days_left,
                run_rate=ctx.fmt.needed(prog.run_rate, goal.metric, cur),
            )
        )
    lines += _forecast(ctx, goal, team, prog, today, v)
    return lines


def _forecast(
    ctx: Ctx, goal: Goal, team: Team, prog: pace.Progress, today: date, v: Fmt
) -> list[str]:
    if not (prog.days_left and prog.days_elapsed):
        return []
    shown = stats.goal_period(goal)
    hols = queries.holidays(ctx.session, workspace_id=ctx.ws, team_id=team.id)
    window = pace.trailing_window(shown, today, hols)
    if window is None or prog.recent is None:
        return []
    recent = prog.recent
    lines = [
        ctx.t(
            "why.forecast",
            days=pace.TRAILING_DAYS,
            start=window[0].isoformat(),
            actual=v(prog.actual),
            recent=v(recent),
            left=prog.days_left,
            forecast=v(prog.forecast),
        )
    ]
    if goal.metric in MONEY_METRICS and prog.pipeline_forecast > prog.actual:
        lines.append(
            ctx.t(
                "why.pipeline",
                actual=v(prog.actual),
                chances=", ".join(
                    f"{ctx.t(f'stage.{s}')} {ctx.fmt.pct(p)}"
                    for s, p in pace.STAGE_PROBABILITY.items()
                ),
                pipeline=v(prog.pipeline_forecast),
            )
        )
    return lines


Fmt = progress.Fmt
