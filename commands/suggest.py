"""One next step for a rep behind pace, from their own deals, with the number behind it:
the open deals that would close the gap, the stage where their deals stall against the
team's, customers gone quiet, or how many deals of their usual size close the gap.

The daily warning (commands/jobs.py) and /progress ask the same question of different
sources: the job reads each fact once for the whole team, /progress for the one rep.
Each fact is read only when the ones before it found nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from sqlmodel import Session

from commands import markup
from commands.formatter import Formatter
from domain import funnel, money
from storage import queries

OPEN_LOOKBACK = timedelta(days=30)  # open deals overdue by more than this are not suggested
QUIET_AFTER = timedelta(days=30)  # a customer with no deal for this long is worth a call
QUIET_LOOKBACK = timedelta(days=180)
AVERAGE_LOOKBACK = timedelta(days=90)
STALL_LOOKBACK = timedelta(days=90)  # the deals whose funnel is compared with the team's


@dataclass(frozen=True)
class Source:
    """How the facts about one rep are read (each a callable, called at most once)."""

    open_deals: Callable[[], list[tuple[str, int]]]  # (customer, minor), largest first
    stall: Callable[[], funnel.Stall | None]
    quiet: Callable[[], list[tuple[str, date]]]  # (customer, last deal), longest quiet first
    recent_won: Callable[[], tuple[int, int]]  # (minor, count) over AVERAGE_LOOKBACK


@dataclass(frozen=True)
class Gap:
    """What the suggestion measures against: the goal's metric, the gap to expected (in its
    unit, > 0 when behind), the team's currency and today."""

    metric: str
    gap: Decimal
    currency: str
    today: date


def suggestion(out: Formatter, source: Source, gap: Gap) -> str:
    open_deals = source.open_deals()
    if open_deals:
        return _open(out, open_deals, gap)
    stalled = source.stall()
    if stalled is not None:
        return out.t(
            "jobs.lag.suggest_stall",
            stage=out.t(f"stage.{stalled.stage}"),
            next=out.t(f"stage.{stalled.next}"),
            went_on=stalled.went_on,
            reached=stalled.reached,
            mine=out.pct(stalled.mine),
            team=out.pct(stalled.team),
            days=STALL_LOOKBACK.days,
        )
    quiet = source.quiet()
    if quiet:
        names = ", ".join(markup.escape(c) for c, _ in quiet[:3])
        last = quiet[0][1]
        return out.t(
            "jobs.lag.suggest_quiet",
            customers=names,
            days=(gap.today - last).days,
            day=last.isoformat(),
        )
    won, count = source.recent_won()
    if gap.metric == "revenue" and count and gap.gap > 0:
        average = money.from_minor(won, gap.currency) / count
        needed = (gap.gap / average).to_integral_value(ROUND_CEILING)
        return out.t(
            "jobs.lag.suggest_size",
            average=out.amount(average.quantize(Decimal(1)), gap.currency),
            n=needed,
        )
    return out.t("jobs.lag.suggest_pipeline")


def _open(out: Formatter, deals: list[tuple[str, int]], gap: Gap) -> str:
    listed = ", ".join(f"{markup.escape(c)} ({out.money(a, gap.currency)})" for c, a in deals)
    if gap.metric != "revenue" or gap.gap <= 0:
        return out.t("jobs.lag.suggest_open", deals=listed)
    total = money.from_minor(sum(a for _, a in deals), gap.currency)
    values = {
        "deals": listed,
        "total": out.amount(total, gap.currency),
        "gap": out.amount(gap.gap, gap.currency),
    }
    if total >= gap.gap:
        return out.t("jobs.lag.suggest_open_enough", **values)
    return out.t("jobs.lag.suggest_open_share", share=out.pct(total / gap.gap), **values)


def rep_source(
    session: Session, *, workspace_id: str, team_id: int, owner_id: int, today: date, end: date
) -> Source:
    """The facts of one rep on one team, each read on its own (for /progress)."""
    owners = [owner_id]

    def open_deals() -> list[tuple[str, int]]:
        found = queries.open_deals_of_team(
            session,
            workspace_id=workspace_id,
            team_id=team_id,
            owner_ids=owners,
            start=today - OPEN_LOOKBACK,
            end=end,
        )
        return found.get(owner_id, [])

    def quiet() -> list[tuple[str, date]]:
        found = queries.quiet_customers_of_team(
            session,
            workspace_id=workspace_id,
            team_id=team_id,
            owner_ids=owners,
            since=today - QUIET_LOOKBACK,
            before=today - QUIET_AFTER,
        )
        return found.get(owner_id, [])

    def recent_won() -> tuple[int, int]:
        found = queries.totals_by_owner(
            session,
            workspace_id=workspace_id,
            start=today - AVERAGE_LOOKBACK,
            end=today,
            team_id=team_id,
            owner_ids=owners,
        )
        return found.get(owner_id, (0, 0))

    def stalled() -> funnel.Stall | None:
        by_owner = stall_funnels(session, workspace_id=workspace_id, team_id=team_id, today=today)
        return rep_stall(by_owner, owner_id)

    return Source(open_deals, stalled, quiet, recent_won)


def stall_funnels(
    session: Session, *, workspace_id: str, team_id: int, today: date
) -> dict[int, list[queries.FunnelRow]]:
    """The team's funnel rows by rep over the stall window."""
    return queries.funnel_rows_by_owner(
        session,
        workspace_id=workspace_id,
        team_id=team_id,
        start=today - STALL_LOOKBACK,
        end=today,
    )


def rep_stall(by_owner: dict[int, list[queries.FunnelRow]], owner_id: int) -> funnel.Stall | None:
    """The rep's stall against the whole team's funnel (every rep's rows summed)."""
    mine = by_owner.get(owner_id)
    if not mine:
        return None
    everyone = [row for rows in by_owner.values() for row in rows]
    return funnel.stall(_funnel(mine), _funnel(everyone))


def _funnel(rows: list[queries.FunnelRow]) -> funnel.Funnel:
    reaches = [funnel.Reach(r.furthest, r.end, r.deals, r.amount_minor, r.cycle_days) for r in rows]
    return funnel.funnel(queries.FUNNEL_STAGES, reaches)
