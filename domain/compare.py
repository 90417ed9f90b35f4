"""A period against earlier ones: the one before it and the same one a year earlier.

While the shown period runs, the comparison is like for like: its actual to date against
the earlier period's actual over as many working days from its start (the team's holidays
skipped in both). Once the shown period is over, whole against whole.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from domain import periods, workdays
from domain.periods import Period, PeriodKind


@dataclass(frozen=True)
class Window:
    """What an earlier period is compared over: [period.start, end]."""

    period: Period
    end: date  # period.end when whole
    whole: bool  # the shown period is over: whole against whole
    days: int  # working days counted, the same number in both while the shown one runs


def earlier(period: Period, fiscal_start: int = 1) -> list[Period]:
    """The period before, then the same period a year earlier (for a year, they are one)."""
    before = periods.current(period.kind, period.start - timedelta(days=1), fiscal_start)
    if period.kind is PeriodKind.YEAR:
        return [before]
    if period.kind is PeriodKind.WEEK:
        return [before, _week_a_year_back(period.start)]
    return [before, periods.current(period.kind, _year_back(period.start), fiscal_start)]


def _week_a_year_back(day: date) -> Period:
    """The ISO week of the same number a year earlier; for a week 53, that year's last."""
    iso = day.isocalendar()
    last = date(iso.year - 1, 12, 28).isocalendar().week  # 28 Dec is in the last ISO week
    return periods.week(iso.year - 1, min(iso.week, last))


def _year_back(day: date) -> date:
    """The same day a year earlier; 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def window(
    before: Period, shown: Period, today: date, holidays: Collection[date] = ()
) -> Window | None:
    """How `before` is compared with `shown` today; None before a working day of `shown`
    has passed (nothing to compare yet)."""
    if today > shown.end:
        return Window(before, before.end, True, workdays.count(before.start, before.end, holidays))
    elapsed = workdays.count(shown.start, today, holidays)
    if elapsed == 0:
        return None
    end = nth_working_day(before.start, elapsed, before.end, holidays)
    return Window(before, end, False, elapsed)


def nth_working_day(start: date, n: int, last: date, holidays: Collection[date] = ()) -> date:
    """The n-th working day from `start` (itself the first if it is one); `last` if the
    days up to it hold fewer (a short February against a long January)."""
    for i, day in enumerate(workdays.working_days(start, last, holidays), start=1):
        if i == n:
            return day
    return last


def change(now: Decimal, before: Decimal) -> Decimal | None:
    """The change as a ratio ((now - before) / before); None when there was nothing before,
    which reads "new" rather than a division by zero."""
    if before == 0:
        return None
    return (now - before) / before
