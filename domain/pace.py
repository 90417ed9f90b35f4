"""Attainment, expected to date, pace, gap, run-rate and forecast, as PRODUCT.md defines them."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from domain import workdays
from domain.periods import Period

DEFAULT_BEHIND = Decimal("0.9")
# The forecast's daily rate is the actual over the last TRAILING_DAYS working days up to
# today, reaching back into the previous period: on the first day of a month one deal
# is one deal in ten days, not one deal a day for the whole month (PRODUCT.md leaves the
# window open; ten working days is two weeks).
TRAILING_DAYS = 10
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
    # (target - actual) / remaining working days, never negative; a count rounds up to a
    # whole (so run_rate x days_left covers what is left); None when no day remains
    run_rate: Decimal | None
    days_total: int
    days_elapsed: int  # today counts as elapsed
    days_left: int
    behind: bool
    over: bool  # today is after the period's last day
    forecast: Decimal  # actual + trailing daily rate x remaining working days
    # The actual over trailing_window() the rate came from; None: the period's own average
    pipeline_forecast: Decimal  # actual + open deals closing in the period x stage probability
    recent: Decimal | None = None

    @property
    def remaining(self) -> Decimal:
        """What is left to reach the target; never negative."""
        return max(self.target - self.actual, Decimal(0))


def elapsed_days(period: Period, today: date, holidays: Collection[date] = ()) -> int:
    return workdays.count(period.start, min(today, period.end), holidays)


def needed_per_day(remaining: Decimal, days_left: int, *, whole: bool = False) -> Decimal | None:
    """What each remaining working day needs; a count (`whole`) rounds up, since 0.3 of a
    deal is one more deal. None when no working day is left."""
    if days_left <= 0:
        return None
    per_day = max(remaining, Decimal(0)) / days_left
    return per_day.to_integral_value(ROUND_CEILING) if whole else per_day


def trailing_window(
    period: Period, today: date, holidays: Collection[date] = ()
) -> tuple[date, date] | None:
    """The last TRAILING_DAYS working days up to today (or the period's end), reaching back before
    the period's start; None before the period starts."""
    end = min(today, period.end)
    if end < period.start:
        return None
    start, found = end, 0
    for _ in range(TRAILING_DAYS * 7 + 366):  # bounded even if every day were a holiday
        if workdays.is_working_day(start, holidays):
            found += 1
            if found == TRAILING_DAYS:
                break
        start -= timedelta(days=1)
    return start, end


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
    trailing: Decimal | None = None,
    whole: bool = False,
) -> Progress:
    """`trailing` is the actual over trailing_window() (None: the period's own average so
    far); `whole` marks a count, whose needed run-rate rounds up."""
    total = workdays.count(period.start, period.end, holidays)
    elapsed = elapsed_days(period, today, holidays)
    left = total - elapsed
    expected = target * elapsed / total if total else Decimal(0)
    pace = actual / expected if expected else None
    if not elapsed:
        rate = Decimal(0)
    elif trailing is None:
        rate = actual / elapsed
    else:
        rate = trailing / TRAILING_DAYS
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
        run_rate=needed_per_day(target - actual, left, whole=whole),
        days_total=total,
        days_elapsed=elapsed,
        days_left=left,
        behind=pace is not None and pace < behind_below,
        over=today > period.end,
        forecast=actual + rate * left,
        pipeline_forecast=actual + pipeline,
        recent=trailing,
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
