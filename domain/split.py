"""Splitting a target: into which parts, and how much weight each part gets.

Pure rules, no I/O: callers bring the team's holidays and last year's actuals.
The amounts themselves are cut with money.split_exact, so the parts add up exactly.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from domain import money, periods, workdays
from domain.periods import Period, PeriodKind

TIME_UNITS = ("quarters", "months", "weeks")
METHODS = ("even", "workdays", "seasonal")
# Shares are relative: beyond these, Decimal arithmetic overflows or the parts all round to 0.
MAX_WEIGHT, MIN_WEIGHT = Decimal(10) ** 9, Decimal(10) ** -6
# Which units each kind of period splits into.
UNITS_OF: dict[PeriodKind, tuple[str, ...]] = {
    PeriodKind.YEAR: ("quarters", "months"),
    PeriodKind.QUARTER: ("months",),
    PeriodKind.MONTH: ("weeks",),
    PeriodKind.WEEK: (),
}


class SplitError(ValueError):
    """A split that cannot be made; `reason` names what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _months_from(start: date, count: int) -> list[Period]:
    index = start.year * 12 + start.month - 1
    return [periods.month((index + i) // 12, (index + i) % 12 + 1) for i in range(count)]


def parts_of(period: Period, unit: str) -> list[Period]:
    """The sub-periods of a year, quarter or month (weeks clipped to the month)."""
    if unit not in UNITS_OF[period.kind]:
        raise SplitError("unit")
    if unit == "quarters":
        # A fiscal year is named after the year it starts in; its start month is the fiscal start.
        fy, first = period.start.year, period.start.month
        return [periods.quarter(fy, q, first) for q in range(1, 5)]
    if unit == "months":
        return _months_from(period.start, 12 if period.kind is PeriodKind.YEAR else 3)
    return periods.weeks_in_month(period.start.year, period.start.month)


def with_working_days(parts: Sequence[Period], holidays: Collection[date]) -> list[Period]:
    """Parts that have a working day: a weekend-only scrap of a week gets no target."""
    return [p for p in parts if workdays.count(p.start, p.end, holidays)]


def even(count: int) -> list[Decimal]:
    return [Decimal(1)] * count


def by_workdays(parts: Sequence[Period], holidays: Collection[date]) -> list[Decimal]:
    return [Decimal(workdays.count(p.start, p.end, holidays)) for p in parts]


def last_year(part: Period) -> Period:
    """The same stretch a year earlier: 52 weeks back for a week (same weekdays), else the
    same calendar dates (29 February becomes the 28th)."""
    if part.kind is PeriodKind.WEEK:
        back = timedelta(weeks=52)
        return Period(part.start - back, part.end - back, part.kind, part.label)
    return Period(_year_back(part.start), _year_back(part.end), part.kind, part.label)


def _year_back(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def seasonal(history: Sequence[int]) -> list[Decimal] | None:
    """Shares of last year's actuals, or None unless every part had some: a part with no
    history would get a zero target, so the caller falls back to working days."""
    if not history or any(h <= 0 for h in history):
        return None
    return [Decimal(h) for h in history]


def _sensible(weight: Decimal) -> bool:
    return weight.is_finite() and (weight == 0 or MIN_WEIGHT <= weight <= MAX_WEIGHT)


def parse_weights(text: str) -> list[Decimal]:
    """`40,30,30` or `40%,30%,30%` or `1.5,1,1`: non-negative shares, not all zero."""
    try:
        weights = [Decimal(w.strip().rstrip("%")) for w in re.split(r"[,，]", text) if w.strip()]
    except InvalidOperation as err:
        raise SplitError("weights") from err
    if not weights or not all(_sensible(w) for w in weights):
        raise SplitError("weights")
    if sum(weights) <= 0:
        raise SplitError("weights")
    return weights


def share_out(
    target: int, weights: Sequence[Decimal], kept: Mapping[int, int], unit: int
) -> list[int]:
    """Each part's amount: a kept part (index -> its own target) keeps it, and what is left
    of the target is split among the other parts by their weights, exactly, in whole units
    (`unit` minor units: 100 for dollars, 1 for counts) when what is left is whole.

    SplitError("kept") when the kept parts take more than the target; SplitError("weights")
    when there is something to split but the other parts' weights are all zero."""
    free = [i for i in range(len(weights)) if i not in kept]
    rest = target - sum(kept.values())
    if rest < 0:
        raise SplitError("kept")
    amounts = [kept.get(i, 0) for i in range(len(weights))]
    if not free or rest == 0:
        return amounts
    free_weights = [weights[i] for i in free]
    if sum(free_weights) <= 0:
        raise SplitError("weights")
    step = unit if rest % unit == 0 else 1
    for i, amount in zip(free, money.split_exact(rest, free_weights, step), strict=True):
        amounts[i] = amount
    return amounts
