"""Periods: fiscal year, quarter, month and ISO week, written 2026, 2026-Q3, 2026-10, 2026-W44.

A fiscal year is named after the calendar year it starts in: with a fiscal start
in April, 2026 runs from 2026-04-01 to 2027-03-31 and 2026-Q1 is April to June. With a
fiscal start other than January its years and quarters are labelled FY2026 and FY2026-Q1
(typing 2026-Q1 or FY2026-Q1 means the same), so one label always means one period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class PeriodKind(StrEnum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"
    WEEK = "week"


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive
    kind: PeriodKind
    label: str

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


class PeriodError(ValueError):
    """Text that is not a period."""


# A fiscal year or quarter may be written with FY in front: FY2026, FY2026-Q3.
_YEAR = re.compile(r"^(?:fy)?(\d{4})$", re.IGNORECASE | re.ASCII)
_QUARTER = re.compile(r"^(?:fy)?(\d{4})-?Q([1-4])$", re.IGNORECASE | re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII)
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE | re.ASCII)
# Years a period may fall in: a day past either end still has a date (9999-W52 has none).
FIRST_YEAR, LAST_YEAR = 1900, 2999
WORDS = {k.value: k for k in PeriodKind}
# Periods named relative to today: `last month`, `previous-week`, `lastquarter`, `next year`.
_RELATIVE = re.compile(
    r"^(last|previous|prev|this|current|next)[\s_-]*(week|month|quarter|year)$", re.ASCII
)
_STEPS = {"last": -1, "previous": -1, "prev": -1, "this": 0, "current": 0, "next": 1}
# The same in Chinese: 上个月, 本季度, 去年, 下周 … (offset from the current one, kind).
_ZH_WORDS = {
    **dict.fromkeys(("上周", "上个星期", "上星期", "上一周"), (-1, PeriodKind.WEEK)),
    **dict.fromkeys(("本周", "这周", "这个星期", "本星期"), (0, PeriodKind.WEEK)),
    **dict.fromkeys(("下周", "下个星期", "下星期", "下一周"), (1, PeriodKind.WEEK)),
    **dict.fromkeys(("上月", "上个月", "上一个月"), (-1, PeriodKind.MONTH)),
    **dict.fromkeys(("本月", "这个月", "当月"), (0, PeriodKind.MONTH)),
    **dict.fromkeys(("下月", "下个月", "下一个月"), (1, PeriodKind.MONTH)),
    **dict.fromkeys(("上季度", "上个季度", "上一季度"), (-1, PeriodKind.QUARTER)),
    **dict.fromkeys(("本季度", "这个季度", "当季"), (0, PeriodKind.QUARTER)),
    **dict.fromkeys(("下季度", "下个季度", "下一季度"), (1, PeriodKind.QUARTER)),
    **dict.fromkeys(("去年", "上一年"), (-1, PeriodKind.YEAR)),
    **dict.fromkeys(("今年", "本年"), (0, PeriodKind.YEAR)),
    **dict.fromkeys(("明年", "下一年"), (1, PeriodKind.YEAR)),
}


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> date:
    y, m = _add_months(year, month, 1)
    return date(y, m, 1) - timedelta(days=1)


FISCAL_PREFIX = "FY"


def _fiscal_name(fy: int, fiscal_start: int) -> str:
    return f"{FISCAL_PREFIX}{fy}" if fiscal_start != 1 else str(fy)


def year(fy: int, fiscal_start: int = 1) -> Period:
    start = date(fy, fiscal_start, 1)
    end_y, end_m = _add_months(fy, fiscal_start, 11)
    label = _fiscal_name(fy, fiscal_start)
    return Period(start, _month_end(end_y, end_m), PeriodKind.YEAR, label)


def quarter(fy: int, q: int, fiscal_start: int = 1) -> Period:
    y, m = _add_months(fy, fiscal_start, 3 * (q - 1))
    end_y, end_m = _add_months(y, m, 2)
    label = f"{_fiscal_name(fy, fiscal_start)}-Q{q}"
    return Period(date(y, m, 1), _month_end(end_y, end_m), PeriodKind.QUARTER, label)


def month(y: int, m: int) -> Period:
    return Period(date(y, m, 1), _month_end(y, m), PeriodKind.MONTH, f"{y}-{m:02d}")


def week(iso_year: int, iso_week: int) -> Period:
    start = date.fromisocalendar(iso_year, iso_week, 1)
    return Period(start, start + timedelta(days=6), PeriodKind.WEEK, f"{iso_year}-W{iso_week:02d}")


def fiscal_year_of(day: date, fiscal_start: int = 1) -> int:
    return day.year if day.month >= fiscal_start else day.year - 1


def current(kind: PeriodKind, today: date, fiscal_start: int = 1) -> Period:
    if kind is PeriodKind.WEEK:
        iso = today.isocalendar()
        return week(iso.year, iso.week)
    if kind is PeriodKind.MONTH:
        return month(today.year, today.month)
    fy = fiscal_year_of(today, fiscal_start)
    if kind is PeriodKind.YEAR:
        return year(fy, fiscal_start)
    months_in = (today.year * 12 + today.month) - (fy * 12 + fiscal_start)
    return quarter(fy, months_in // 3 + 1, fiscal_start)


def parse(text: str, today: date, fiscal_start: int = 1) -> Period:
    """Parse a period written by a user; raise PeriodError if it is not one."""
    try:
        found = _parse(text.strip().lower(), today, fiscal_start)
    except (ValueError, OverflowError) as err:  # e.g. year 0 or 9999-Q4 run past the calendar
        raise PeriodError(text) from err
    if not FIRST_YEAR <= found.start.year <= found.end.year <= LAST_YEAR:
        raise PeriodError(text)
    return found


def relative(kind: PeriodKind, steps: int, today: date, fiscal_start: int = 1) -> Period:
    """The period `steps` before (negative) or after the current one of its kind."""
    found = current(kind, today, fiscal_start)
    for _ in range(abs(steps)):
        day = found.start - timedelta(days=1) if steps < 0 else found.end + timedelta(days=1)
        found = current(kind, day, fiscal_start)
    return found


def _relative_words(t: str) -> tuple[int, PeriodKind] | None:
    if t in WORDS:
        return 0, WORDS[t]
    if m := _RELATIVE.match(" ".join(t.split())):
        return _STEPS[m[1]], WORDS[m[2]]
    return _ZH_WORDS.get(t)


def _parse(t: str, today: date, fiscal_start: int) -> Period:
    if (words := _relative_words(t)) is not None:
        return relative(words[1], words[0], today, fiscal_start)
    if m := _YEAR.match(t):
        return year(int(m[1]), fiscal_start)
    if m := _QUARTER.match(t):
        return quarter(int(m[1]), int(m[2]), fiscal_start)
    if (m := _MONTH.match(t)) and 1 <= int(m[2]) <= 12:
        return month(int(m[1]), int(m[2]))
    if m := _WEEK.match(t):
        return week(int(m[1]), int(m[2]))
    raise PeriodError(t)


def looks_like_period(text: str) -> bool:
    """Meant as a period (so a typo like 2026-Q5 gets the period error, not a usage one)."""
    t = text.strip().lower()
    if m := _YEAR.match(t):  # a bare number out of the years is a number, not a year
        return FIRST_YEAR <= int(m[1]) <= LAST_YEAR
    shaped = re.match(r"^(fy)?\d{4}-?[qw]?\d{1,2}$", t, re.ASCII) is not None
    return shaped or _relative_words(t) is not None


def is_relative(text: str) -> bool:
    """Named relative to today: `month`, `last month`, `上季度`."""
    return _relative_words(text.strip().lower()) is not None


def from_label(label: str, fiscal_start: int = 1) -> Period:
    """Rebuild a stored period from its label (no relative words)."""
    return parse(label, date(2000, 1, 1), fiscal_start)


def kind_of(label: str) -> PeriodKind:
    """The kind of a stored label: 2026, 2026-Q4, 2026-11 or 2026-W47 (FY2026, FY2026-Q4)."""
    upper = label.upper().removeprefix(FISCAL_PREFIX)
    if "W" in upper:
        return PeriodKind.WEEK
    if "Q" in upper:
        return PeriodKind.QUARTER
    return PeriodKind.MONTH if "-" in upper else PeriodKind.YEAR


def weeks_in_month(y: int, m: int) -> list[Period]:
    """The ISO weeks that touch a month, each clipped to the month's days.

    A week that crosses a month boundary is cut in two: each month keeps only its own
    days (under the week's ISO label), so a month's weeks tile it exactly.
    """
    whole = month(y, m)
    parts = []
    day = whole.start
    while day <= whole.end:
        iso = day.isocalendar()
        full = week(iso.year, iso.week)
        parts.append(Period(day, min(full.end, whole.end), PeriodKind.WEEK, full.label))
        day = full.end + timedelta(days=1)
    return parts


# --- names and titles (what a reader sees) ------------------------------------------------------


def name(period: Period, fiscal_start: int = 1) -> str | None:
    """The period's one name in the workspace's calendar: what a user types for it. A goal
    keeps its dates when the fiscal start changes, so its year or quarter is renamed to
    the one with those dates (calendar Jan-Mar 2026 is FY2025-Q4 with an April start), or
    has no name (None: it goes by its dates) when no period of the new calendar has them."""
    if period.kind not in (PeriodKind.YEAR, PeriodKind.QUARTER):
        return period.label
    same = current(period.kind, period.start, fiscal_start)
    return same.label if (same.start, same.end) == (period.start, period.end) else None


def shows_dates(period: Period, fiscal_start: int = 1) -> bool:
    """Titles carry the dates of years and quarters where the fiscal year does not start
    in January (FY2026-Q3 alone does not say Oct-Dec), and of any without a name."""
    if period.kind not in (PeriodKind.YEAR, PeriodKind.QUARTER):
        return False
    return fiscal_start != 1 or name(period, fiscal_start) is None
