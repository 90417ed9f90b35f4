"""Months side by side, each against the month before: pure date arithmetic, no I/O.

The month still running is compared like for like (domain/compare.py): its actual to date
against the month before over as many working days from its start. Every closed month is
compared whole against whole.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain import compare, periods
from domain.periods import Period, PeriodKind

MAX_MONTHS = 24


def months_back(today: date, n: int) -> list[Period]:
    """The `n` months ending with today's, oldest first."""
    month = periods.current(PeriodKind.MONTH, today)
    found = [month]
    while len(found) < n:
        month = periods.relative(PeriodKind.MONTH, -1, month.start)
        found.append(month)
    return found[::-1]


@dataclass(frozen=True)
class Spans:
    """What to sum for a trend of `months`: each month, the month before the first (its
    change), and for a running last month the month before it up to the same point."""

    months: list[Period]
    before: Period
    like: compare.Window | None  # None: the last month is over, or has no working day yet

    def all(self) -> list[tuple[date, date]]:
        spans = [(self.before.start, self.before.end), *((m.start, m.end) for m in self.months)]
        if self.like is not None:
            spans.append((self.like.period.start, self.like.end))
        return spans


def spans(months: list[Period], today: date, holidays: Collection[date] = ()) -> Spans:
    before = periods.relative(PeriodKind.MONTH, -1, months[0].start)
    last = months[-1]
    like = None
    if today <= last.end:
        earlier = months[-2] if len(months) > 1 else before
        like = compare.window(earlier, last, today, holidays)
    return Spans(months, before, like)


@dataclass(frozen=True)
class Month:
    period: Period
    actual: Decimal
    target: Decimal | None
    change: Decimal | None  # against the month before (like for like if running); None: new
    before: Decimal  # what the change is against
    running: bool
    days: int = 0  # working days compared, for a running month

    @property
    def attainment(self) -> Decimal | None:
        return self.actual / self.target if self.target else None


def months(
    found: Spans, sums: Sequence[Decimal], targets: dict[date, Decimal], today: date
) -> list[Month]:
    """The trend's months from the sums of `found.all()`, in that order."""
    before, *by_month = sums[: len(found.months) + 1]
    rows = []
    for i, (period, actual) in enumerate(zip(found.months, by_month, strict=True)):
        previous = by_month[i - 1] if i else before
        running = today <= period.end
        days = 0
        if running and found.like is not None and i == len(found.months) - 1:
            previous, days = sums[-1], found.like.days
        rows.append(
            Month(
                period=period,
                actual=actual,
                target=targets.get(period.start),
                change=compare.change(actual, previous),
                before=previous,
                running=running,
                days=days,
            )
        )
    return rows
