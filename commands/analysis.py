"""/pacer funnel, /pacer trend, /pacer mix: where deals stall, how months compare, what
the revenue is made of. Each answers with a chart whose values are the text's."""

from __future__ import annotations

from decimal import Decimal

from charts.numbers import compact
from charts.specs import FunnelChart
from commands.args import PeriodRef, Subject, me
from commands.context import Ctx
from commands.types import Reply
from domain import funnel as funnels
from domain import money, rounding
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
        currency=subject.team.currency,
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
