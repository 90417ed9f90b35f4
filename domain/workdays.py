"""Working days: Monday to Friday minus holidays."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date, timedelta


def is_working_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def working_days(start: date, end: date, holidays: Collection[date] = ()) -> Iterator[date]:
    """Working days from start to end, both included."""
    day = start
    while day <= end:
        if is_working_day(day, holidays):
            yield day
        day += timedelta(days=1)


def count(start: date, end: date, holidays: Collection[date] = ()) -> int:
    if end < start:
        return 0
    full_weeks, extra = divmod((end - start).days + 1, 7)
    weekdays = full_weeks * 5 + sum(
        1 for i in range(extra) if (start + timedelta(days=i)).weekday() < 5
    )
    return weekdays - sum(1 for h in set(holidays) if start <= h <= end and h.weekday() < 5)
