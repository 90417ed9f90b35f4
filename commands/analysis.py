"""/pacer funnel, /pacer trend, /pacer mix: where deals stall, how months compare, what
the revenue is made of. Each answers with a chart whose values are the text's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from charts.numbers import compact
from charts.specs import FunnelChart, MixChart, TrendChart
from commands import markup, stats
from commands.args import PeriodRef, Subject, me
from commands.context import Ctx
from commands.formatter import MONEY_METRICS, to_value
from commands.types import Reply
from domain import funnel as funnels
from domain import money, rounding
from domain import trend as trends
from domain.periods import Period
from storage import queries

# --- funnel --------------------------------------------------------------------------------


def funnel(ctx: Ctx, subject: Subject | None, period: PeriodRef | None) -> Reply:
    """/pacer funnel [@rep | team NAME] [PERIOD]: the deals closing (expected or actual) in
    the period, stage by stage."""
    subject = subject or me(ctx)
    shown = ctx.period(period, ctx.today(subject.team))
    found = funnel_of(ctx, subject, shown)
    title = _title(ctx, "analysis.funnel_title", subject, shown)
    if not found.deals:
        return Reply(text=title + "\n" + ctx.t("analysis.funnel_empty"))
    cur = subject.team.currency
    lines = [title, *(_step_line(ctx, found, i, cur) for i in range(len(found.steps)))]
    lines.append(_outcome_line(ctx, found, cur))
    neck = found.bottleneck
    if neck is not None:
        step = found.steps[neck]
        lines.append(
            ctx.t(
                "analysis.funnel_bottleneck",
                stage=ctx.t(f"stage.{step.stage}"),
                next=ctx.t(f"stage.{found.steps[neck + 1].stage}"),
                conversion=ctx.fmt.pct(step.conversion),
            )
        )
    return Reply(text="\n".join(lines), chart=_funnel_chart(ctx, found, title, cur))


def funnel_of(ctx: Ctx, subject: Subject, period: Period) -> funnels.Funnel:
    rows = queries.funnel_rows(
        ctx.session,
        workspace_id=ctx.ws,
        team_id=subject.team.id or 0,
        start=period.start,
        end=period.end,
        owner_ids=None if subject.rep is None else [subject.rep.id or 0],
    )
    reaches = [
        funnels.Reach(r.furthest, r.end, r.deals, r.amount_minor, r.cycle_days) for r in rows
    ]
    return funnels.funnel(queries.FUNNEL_STAGES, reaches)


def _title(ctx: Ctx, key: str, subject: Subject, period: Period) -> str:
    return ctx.t(
        key, who=subject.name, period=ctx.fmt.period(period, ctx.workspace.fiscal_start_month)
    )


def _step_line(ctx: Ctx, found: funnels.Funnel, i: int, cur: str) -> str:
    step = found.steps[i]
    values = {
        "stage": ctx.t(f"stage.{step.stage}"),
        "deals": ctx.fmt.count("deals", step.deals),
        "amount": ctx.fmt.money(step.amount_minor, cur),
    }
    if step.conversion is None:
        return ctx.t("analysis.funnel_last_step", **values)
    nxt = found.steps[i + 1]
    return ctx.t(
        "analysis.funnel_step",
        conversion=ctx.fmt.pct(step.conversion),
        next=ctx.t(f"stage.{nxt.stage}"),
        reached=nxt.deals,
        of=step.deals,
        **values,
    )


def _outcome_line(ctx: Ctx, found: funnels.Funnel, cur: str) -> str:
    parts = [
        ctx.t(
            "analysis.funnel_win_rate",
            rate=ctx.fmt.pct(found.win_rate),
            won=found.won,
            lost=found.lost,
            open=found.open,
        )
    ]
    average = found.average_won_minor
    if average is not None:
        size = ctx.fmt.amount(average.scaleb(-money.minor_digits(cur)), cur)
        parts.append(ctx.t("analysis.funnel_average_won", amount=size))
    days = found.average_cycle_days
    if days is not None:
        parts.append(ctx.t("analysis.funnel_cycle", days=_days(days)))
    return " · ".join(parts)


def _days(days: Decimal) -> str:
    """Days to one decimal, half up, as the chart would show them."""
    return f"{rounding.count(days):,}"


def _funnel_chart(ctx: Ctx, found: funnels.Funnel, title: str, cur: str) -> FunnelChart:
    symbol = money.symbol(cur, "en")
    notes = []
    for step in found.steps:
        amount = compact(float(money.from_minor(step.amount_minor, cur)), symbol)
        note = f"{step.deals:,} · {amount}"
        if step.conversion is not None:
            note += f" · → {ctx.fmt.pct(step.conversion)}"
        notes.append(note)
    return FunnelChart(
        title=title,
        stages=[ctx.t(f"stage.{s.stage}") for s in found.steps],
        deals=[float(s.deals) for s in found.steps],
        notes=notes,
        bottleneck=found.bottleneck,
        alt_text=title,
    )


# --- trend -----------------------------------------------------------------------------------

TREND_METRICS = ("revenue", "deals", "new_customers", "collected")
DEFAULT_MONTHS = 6
MAX_MONTHS = trends.MAX_MONTHS


def trend(ctx: Ctx, subject: Subject | None, metric: str | None, months: int | None) -> Reply:
    """/pacer trend [@rep | team NAME] [METRIC] [months N]: the last N months as bars, the
    target of each month as a line, and each month against the one before."""
    subject = subject or me(ctx)
    metric = metric or "revenue"
    today = ctx.today(subject.team)
    rows = trend_of(ctx, subject, metric, months or DEFAULT_MONTHS, today)
    cur = subject.team.currency
    title = ctx.t(
        "analysis.trend_title",
        metric=ctx.t(f"metric.{metric}").capitalize(),
        who=subject.name,
        months=len(rows),
    )
    lines = [title, *(_month_line(ctx, m, metric, cur) for m in rows)]
    return Reply(text="\n".join(lines), chart=_trend_chart(ctx, rows, metric, cur, title))


def trend_of(ctx: Ctx, subject: Subject, metric: str, n: int, today: date) -> list[trends.Month]:
    """The months' actuals in one statement for revenue and deals (one per month for the
    others), and their month targets in one more."""
    hols = queries.holidays(ctx.session, workspace_id=ctx.ws, team_id=subject.team.id)
    found = trends.spans(trends.months_back(today, n), today, hols)
    owners = None if subject.rep is None else (subject.rep.id or 0,)
    scope = stats.Scope(ctx.ws, subject.team.id, owners)
    cur = subject.team.currency
    raw = stats.actuals_over(ctx.session, scope, metric, found.all())
    sums = [to_value(v, metric, cur) for v in raw]
    targets = {
        day: to_value(t, metric, cur)
        for day, t in queries.month_targets(
            ctx.session,
            workspace_id=ctx.ws,
            team_id=subject.team.id or 0,
            member_id=None if subject.rep is None else subject.rep.id,
            metric=metric,
            start=found.months[0].start,
            end=found.months[-1].end,
        ).items()
    }
    return trends.months(found, sums, targets, today)


def _month_line(ctx: Ctx, m: trends.Month, metric: str, cur: str) -> str:
    v = ctx.fmt.value
    parts = [f"{m.period.label}: {v(m.actual, metric, cur)}"]
    if m.target is not None:
        parts[0] += " " + ctx.t(
            "analysis.trend_of_target",
            target=v(m.target, metric, cur),
            attainment=ctx.fmt.pct(m.attainment),
        )
    parts.append(_month_change(ctx, m, metric, cur))
    return " · ".join(p for p in parts if p)


def _month_change(ctx: Ctx, m: trends.Month, metric: str, cur: str) -> str:
    if m.running and not m.days:
        return ctx.t("analysis.trend_just_started")
    if m.change is None:
        return ctx.t("analysis.trend_new") if m.actual else ""
    key = "analysis.trend_change_running" if m.running else "analysis.trend_change"
    return ctx.t(
        key,
        change=ctx.fmt.change(m.change),
        before=ctx.fmt.value(m.before, metric, cur),
        days=m.days,
    )


def _trend_chart(
    ctx: Ctx, rows: list[trends.Month], metric: str, cur: str, title: str
) -> TrendChart:
    def shown(value: Decimal) -> float:
        if metric in MONEY_METRICS:
            return float(rounding.money(value, cur))
        return float(rounding.count(value))

    notes = []
    for m in rows:
        if m.running and not m.days:
            notes.append("")
        elif m.change is None:
            notes.append(ctx.t("analysis.trend_new_short") if m.actual else "")
        else:
            notes.append(ctx.fmt.change(m.change))
    return TrendChart(
        title=title,
        months=[m.period.label for m in rows],
        actual=[shown(m.actual) for m in rows],
        target=[None if m.target is None else shown(m.target) for m in rows],
        value_prefix=money.symbol(cur, "en") if metric in MONEY_METRICS else "",
        notes=notes,
        labels={"actual": ctx.t("chart.actual"), "target": ctx.t("chart.target")},
        alt_text=title,
    )


# --- mix -------------------------------------------------------------------------------------

MIX_TOP = 8  # parts named; past them, the rest is one "other"


def mix(ctx: Ctx, subject: Subject | None, period: PeriodRef | None, by: str | None) -> Reply:
    """/pacer mix [@rep | team NAME] [PERIOD] [by product|region|customer]: what the won
    revenue of the period is made of, largest first."""
    subject = subject or me(ctx)
    by = by or "product"
    shown = ctx.period(period, ctx.today(subject.team))
    cur = subject.team.currency
    found = queries.mix(
        ctx.session,
        workspace_id=ctx.ws,
        team_id=subject.team.id or 0,
        start=shown.start,
        end=shown.end,
        currency=cur,
        by=by,
        top=MIX_TOP,
        owner_ids=None if subject.rep is None else [subject.rep.id or 0],
    )
    title = ctx.t(
        "analysis.mix_title",
        by=ctx.t(f"analysis.by_{by}"),
        who=subject.name,
        period=ctx.fmt.period(shown, ctx.workspace.fiscal_start_month),
    )
    if not found.deals:
        return Reply(text=title + "\n" + ctx.t("analysis.mix_empty"))
    rows = _mix_rows(ctx, found, by)
    lines = [
        title,
        ctx.t(
            "analysis.mix_total",
            total=ctx.fmt.money(found.total_minor, cur),
            deals=ctx.fmt.count("deals", found.deals),
        ),
    ]
    for i, (name, part) in enumerate(rows, 1):
        share = Decimal(part.amount_minor) / found.total_minor if found.total_minor else None
        lines.append(
            ctx.t(
                "analysis.mix_line",
                rank=i,
                name=markup.escape(name),  # as typed; the chart draws it as it is
                amount=ctx.fmt.money(part.amount_minor, cur),
                share=ctx.fmt.pct(share),
                deals=ctx.fmt.count("deals", part.deals),
            )
        )
    return Reply(text="\n".join(lines), chart=_mix_chart(ctx, found, rows, cur, title))


def _mix_rows(ctx: Ctx, found: queries.Mix, by: str) -> list[tuple[str, queries.Part]]:
    """The named parts, and past the eighth, one for the rest ("other: 5 more")."""
    named = found.top if found.parts <= MIX_TOP else found.top[:MIX_TOP]
    rows = [(p.name or ctx.t(f"analysis.mix_no_{by}"), p) for p in named]
    rest = found.parts - len(named)
    if rest > 0:
        other = queries.Part(
            "",
            found.total_minor - sum(p.amount_minor for p in named),
            found.deals - sum(p.deals for p in named),
        )
        rows.append((ctx.t("analysis.mix_other", count=rest), other))
    return rows


def _mix_chart(
    ctx: Ctx, found: queries.Mix, rows: list[tuple[str, queries.Part]], cur: str, title: str
) -> MixChart:
    symbol = money.symbol(cur, "en")
    values = [float(rounding.money(money.from_minor(p.amount_minor, cur), cur)) for _, p in rows]
    notes = []
    for value, (_, part) in zip(values, rows, strict=True):
        share = Decimal(part.amount_minor) / found.total_minor if found.total_minor else None
        notes.append(f"{compact(value, symbol)} · {ctx.fmt.pct(share)}")
    return MixChart(
        title=title,
        names=[name for name, _ in rows],
        values=values,
        notes=notes,
        value_prefix=symbol,
        alt_text=title,
    )
