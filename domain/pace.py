"""Attainment, expected to date, pace, gap, run-rate and forecast, as PRODUCT.md defines them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from domain import workdays
from domain.periods import Period

DEFAULT_BEHIND = Decimal("0.9")
STAGE_PROBABILITY: Mapping[str, Decimal] = {
    "lead": Decimal("0.10"),
    "qualified": Decimal("0.25"),
    "proposal": Decimal("0.50"),
    "negotiation": Decimal("0.75"),
}


@dataclass(frozen=True)
class Progress:
    target: Decimal
    actual: Decimal
    attainment: Decimal | None  # actual / target; None without a target
    expected: Decimal  # target x elapsed working days / working days in the period
    pace: Decimal | None  # actual / expected; None before the first working day
    gap: Decimal  # expected - actual (negative when ahead)
    run_rate: Decimal | None  # (target - actual) / remaining working days; None when none remain
    days_total: int
    days_elapsed: int  # today counts as elapsed
    days_left: int
    behind: bool
    over: bool  # today is after the period's last day
    forecast: Decimal  # actual + trailing daily rate x remaining working days
    pipeline_forecast: Decimal  # actual + open deals closing in the period x stage probability


def elapsed_days(period: Period, today: date, holidays: Collection[date] = ()) -> int:
    return workdays.count(period.start, min(today, period.end), holidays)


def progress(
    *,
    target: Decimal,
    actual: Decimal,
    period: Period,
    today: date,
    holidays: Collection[date] = (),
    behind_below: Decimal = DEFAULT_BEHIND,
    open_pipeline: Mapping[str, Decimal] | None = None,
    probabilities: Mapping[str, Decimal] = STAGE_PROBABILITY,
) -> Progress:
    total = workdays.count(period.start, period.end, holidays)
    elapsed = elapsed_days(period, today, holidays)
    left = total - elapsed
    expected = target * elapsed / total if total else Decimal(0)
    pace = actual / expected if expected else None
    trailing = actual / elapsed if elapsed else Decimal(0)
    pipeline = sum(
        (
            amount * probabilities.get(stage, Decimal(0))
            for stage, amount in (open_pipeline or {}).items()
        ),
        Decimal(0),
    )
    return Progress(
        target=target,
        actual=actual,
        attainment=actual / target if target else None,
        expected=expected,
        pace=pace,
        gap=expected - actual,
        run_rate=max(target - actual, Decimal(0)) / left if left else None,
        days_total=total,
        days_elapsed=elapsed,
        days_left=left,
        behind=pace is not None and pace < behind_below,
        over=today > period.end,
        forecast=actual + trailing * left,
        pipeline_forecast=actual + pipeline,
    )


def cumulative_by_day(
    period: Period, today: date, daily: Mapping[date, Decimal], holidays: Collection[date] = ()
) -> tuple[list[date], list[Decimal]]:
    """Working days of the period and the cumulative actual up to each elapsed one.

    Amounts on weekends or holidays count toward the next working day shown.
    """
    days = list(workdays.working_days(period.start, period.end, holidays))
    running = Decimal(0)
    cumulative: list[Decimal] = []
    day = period.start
    last = min(today, period.end)
    for wd in days:
        if wd > last:
            break
        while day <= wd:
            running += daily.get(day, Decimal(0))
            day += timedelta(days=1)
        cumulative.append(running)
    if cumulative:
        while day <= last:  # a weekend deal logged today, after the last working day shown
            running += daily.get(day, Decimal(0))
            day += timedelta(days=1)
        cumulative[-1] = running
    return days, cumulative
