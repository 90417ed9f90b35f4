"""What a change of fiscal start means, said in its reply (`/pacer setup fiscal-start`)."""

from __future__ import annotations

from commands import stats
from commands.context import Ctx
from domain import periods
from domain.periods import PeriodKind
from storage import queries


def changed(ctx: Ctx, month: int) -> str:
    """The new start, what this year and quarter are now called (with their dates), and
    that existing year and quarter goals keep their dates: they are stored with them."""
    today = ctx.today(ctx.my_team())
    year = periods.current(PeriodKind.YEAR, today, month)
    quarter = periods.current(PeriodKind.QUARTER, today, month)
    lines = [
        ctx.t("setup.fiscal_start_set", month=ctx.t(f"month.{month}")),
        ctx.t(
            "figures.fiscal_start_now",
            year=ctx.fmt.period(year, month),
            quarter=ctx.fmt.period(quarter, month),
        ),
    ]
    if month != 1:
        typed = quarter.label.removeprefix(periods.FISCAL_PREFIX)
        lines.append(ctx.t("figures.fiscal_start_typed", typed=typed, name=quarter.label))
    kept = [
        g
        for g in queries.live_goals(ctx.session, workspace_id=ctx.ws)
        if periods.kind_of(g.period) in (PeriodKind.YEAR, PeriodKind.QUARTER)
    ]
    if not kept:
        lines.append(ctx.t("figures.fiscal_start_no_goals"))
        return "\n".join(lines)
    example = stats.goal_period(kept[0])
    lines.append(
        ctx.t(
            "figures.fiscal_start_goals",
            n=len(kept),
            id=kept[0].number,
            period=ctx.fmt.period(example, month),
        )
    )
    return "\n".join(lines)
