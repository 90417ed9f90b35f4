"""Periods: years, quarters, months, ISO weeks, relative words and fiscal calendars."""

from __future__ import annotations

from datetime import date

import pytest

from domain import periods
from domain.periods import Period, PeriodError, PeriodKind

WED = date(2026, 11, 25)  # a Wednesday in ISO week 48 of 2026


def span(p: Period) -> tuple[date, date]:
    return p.start, p.end


@pytest.mark.parametrize(
    ("text", "start", "end", "kind", "label"),
    [
        ("2026", date(2026, 1, 1), date(2026, 12, 31), PeriodKind.YEAR, "2026"),
        ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30), PeriodKind.QUARTER, "2026-Q3"),
        ("2026q3", date(2026, 7, 1), date(2026, 9, 30), PeriodKind.QUARTER, "2026-Q3"),
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31), PeriodKind.MONTH, "2026-10"),
        # 2026 is not a leap year, 2028 is.
        ("2026-2", date(2026, 2, 1), date(2026, 2, 28), PeriodKind.MONTH, "2026-02"),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29), PeriodKind.MONTH, "2028-02"),
        # 1 Jan 2026 is a Thursday, so ISO week 1 starts Mon 29 Dec 2025;
        # week 44 starts 43 weeks later: 29 Dec 2025 + 301 days = Mon 26 Oct 2026.
        ("2026-W44", date(2026, 10, 26), date(2026, 11, 1), PeriodKind.WEEK, "2026-W44"),
        ("2026W01", date(2025, 12, 29), date(2026, 1, 4), PeriodKind.WEEK, "2026-W01"),
    ],
)
def test_parse_written_periods(
    text: str, start: date, end: date, kind: PeriodKind, label: str
) -> None:
    p = periods.parse(text, WED)
    assert (p.start, p.end, p.kind, p.label) == (start, end, kind, label)


@pytest.mark.parametrize(
    ("word", "start", "end", "label"),
    [
        # W44 starts 26 Oct; four weeks on, W48 runs Mon 23 Nov to Sun 29 Nov.
        ("week", date(2026, 11, 23), date(2026, 11, 29), "2026-W48"),
        ("month", date(2026, 11, 1), date(2026, 11, 30), "2026-11"),
        ("quarter", date(2026, 10, 1), date(2026, 12, 31), "2026-Q4"),
        ("year", date(2026, 1, 1), date(2026, 12, 31), "2026"),
        (" Month ", date(2026, 11, 1), date(2026, 11, 30), "2026-11"),
        ("WEEK", date(2026, 11, 23), date(2026, 11, 29), "2026-W48"),
    ],
)
def test_words_mean_the_current_period(word: str, start: date, end: date, label: str) -> None:
    p = periods.parse(word, WED)
    assert (p.start, p.end, p.label) == (start, end, label)
    assert p.contains(WED)


def test_week_word_on_a_sunday_is_the_week_that_started_monday() -> None:
    # Sun 29 Nov 2026 still belongs to W48 (Monday start).
    assert periods.parse("week", date(2026, 11, 29)).label == "2026-W48"
    assert periods.parse("week", date(2026, 11, 30)).label == "2026-W49"


def test_fiscal_year_starting_in_april() -> None:
    assert span(periods.parse("2026", WED, 4)) == (date(2026, 4, 1), date(2027, 3, 31))
    assert span(periods.parse("2026-Q1", WED, 4)) == (date(2026, 4, 1), date(2026, 6, 30))
    assert span(periods.parse("2026-Q2", WED, 4)) == (date(2026, 7, 1), date(2026, 9, 30))
    assert span(periods.parse("2026-Q3", WED, 4)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert span(periods.parse("2026-Q4", WED, 4)) == (date(2027, 1, 1), date(2027, 3, 31))
    # Months and weeks do not depend on the fiscal calendar.
    assert span(periods.parse("2026-10", WED, 4)) == (date(2026, 10, 1), date(2026, 10, 31))


def test_fiscal_words_in_april_calendar() -> None:
    feb = date(2027, 2, 10)  # still fiscal 2026, its fourth quarter
    assert periods.parse("year", feb, 4).label == "FY2026"
    assert span(periods.parse("year", feb, 4)) == (date(2026, 4, 1), date(2027, 3, 31))
    assert periods.parse("quarter", feb, 4).label == "FY2026-Q4"
    assert span(periods.parse("quarter", feb, 4)) == (date(2027, 1, 1), date(2027, 3, 31))
    # The last day of fiscal 2025 and the first day of fiscal 2026.
    assert periods.parse("quarter", date(2026, 3, 31), 4).label == "FY2025-Q4"
    assert periods.parse("year", date(2026, 3, 31), 4).label == "FY2025"
    assert periods.parse("quarter", date(2026, 4, 1), 4).label == "FY2026-Q1"
    # 25 Nov is in Oct-Dec, the third fiscal quarter.
    assert periods.parse("quarter", WED, 4).label == "FY2026-Q3"


def test_fiscal_year_starting_in_december() -> None:
    # FY2026 = Dec 2026 .. Nov 2027; Q1 = Dec, Jan, Feb (28 days in Feb 2027).
    assert span(periods.parse("2026", WED, 12)) == (date(2026, 12, 1), date(2027, 11, 30))
    assert span(periods.parse("2026-Q1", WED, 12)) == (date(2026, 12, 1), date(2027, 2, 28))
    assert periods.parse("year", WED, 12).label == "FY2025"


def test_iso_week_53() -> None:
    # 2026 starts on a Thursday: it has 53 ISO weeks, the last runs 28 Dec 2026 .. 3 Jan 2027.
    assert span(periods.parse("2026-W53", WED)) == (date(2026, 12, 28), date(2027, 1, 3))
    # 2020 is a leap year starting on a Wednesday: 53 weeks too.
    assert span(periods.parse("2020-W53", WED)) == (date(2020, 12, 28), date(2021, 1, 3))
    # Fri 1 Jan 2027 is in 2026-W53, and Tue 31 Dec 2024 already in 2025-W01.
    assert periods.parse("week", date(2027, 1, 1)).label == "2026-W53"
    assert periods.parse("week", date(2024, 12, 31)).label == "2025-W01"
    # 2027 starts on a Friday: only 52 weeks.
    with pytest.raises(PeriodError):
        periods.parse("2027-W53", WED)


BAD = ["", "next", "2026-13", "2026-00", "2026-Q0", "2026-Q5", "2026-W00", "2026-W54", "26"]


@pytest.mark.parametrize("text", [*BAD, "Q3", "2026-11-25", "month-1", "East"])
def test_bad_periods_raise_period_error(text: str) -> None:
    with pytest.raises(PeriodError):
        periods.parse(text, WED)


def test_year_zero_is_a_period_error() -> None:
    # Was a bare ValueError ("year 0 is out of range"), which commands turned into an
    # internal error instead of error.bad_period.
    with pytest.raises(PeriodError):
        periods.parse("0000", WED)


def test_last_fiscal_year_overflow_is_a_period_error() -> None:
    # FY9999 starting in April would end in March 10000.
    with pytest.raises(PeriodError):
        periods.parse("9999", WED, 4)


def test_looks_like_period() -> None:
    assert periods.looks_like_period("2026-Q4")
    assert periods.looks_like_period("month")
    assert not periods.looks_like_period("East")
    assert not periods.looks_like_period("<@UBOB|bob>")


def test_from_label_rebuilds_the_stored_period() -> None:
    assert span(periods.from_label("2026-Q4", 4)) == (date(2027, 1, 1), date(2027, 3, 31))
    assert span(periods.from_label("2026-W53")) == (date(2026, 12, 28), date(2027, 1, 3))
    with pytest.raises(PeriodError):
        periods.from_label("month-ish")


def test_contains_is_inclusive() -> None:
    nov = periods.month(2026, 11)
    assert nov.contains(date(2026, 11, 1))
    assert nov.contains(date(2026, 11, 30))
    assert not nov.contains(date(2026, 12, 1))
    assert not nov.contains(date(2026, 10, 31))


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # WED is 2026-11-25, in ISO week 48, Q4 and calendar year 2026.
        ("last month", "2026-10"),
        ("lastmonth", "2026-10"),
        ("Last-Month", "2026-10"),
        ("previous month", "2026-10"),
        ("last quarter", "2026-Q3"),
        ("last year", "2025"),
        ("previous week", "2026-W47"),
        ("prev_week", "2026-W47"),
        ("this quarter", "2026-Q4"),
        ("next month", "2026-12"),
        ("next year", "2027"),
        ("上个月", "2026-10"),
        ("上月", "2026-10"),
        ("上季度", "2026-Q3"),
        ("去年", "2025"),
        ("上周", "2026-W47"),
        ("本月", "2026-11"),
        ("下季度", "2027-Q1"),
    ],
)
def test_relative_periods(text: str, label: str) -> None:
    assert periods.parse(text, WED).label == label
    assert periods.looks_like_period(text.split()[-1]) or periods.is_relative(text)


def test_relative_periods_follow_the_fiscal_calendar() -> None:
    # Fiscal year from April: 2026-01-10 is in FY2025 Q4 (Jan-Mar); the one before is Q3.
    jan = date(2026, 1, 10)
    assert span(periods.parse("last quarter", jan, 4)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert periods.parse("last year", jan, 4).label == "FY2024"
    # Last month of January is December of the year before; last week crosses the year.
    assert periods.parse("last month", jan).label == "2025-12"
    assert periods.parse("last week", date(2026, 1, 1)).label == "2025-W52"


def test_a_bare_number_out_of_the_years_is_no_period() -> None:
    assert periods.looks_like_period("2026")
    assert not periods.looks_like_period("5000")  # `/goal set @bob 5000` lacks its period
    assert periods.looks_like_period("2026-Q5")  # a typo, said as a bad period


def test_fiscal_years_and_quarters_may_be_written_with_fy() -> None:
    assert periods.parse("FY2026", WED, 4) == periods.year(2026, 4)
    assert periods.parse("fy2026-q3", WED, 4) == periods.quarter(2026, 3, 4)
    assert periods.parse("FY2026Q1", WED) == periods.quarter(2026, 1)
    assert periods.looks_like_period("FY2026-Q3") and periods.looks_like_period("FY2026")
    with pytest.raises(PeriodError):
        periods.parse("FY2026-11", WED)


def test_fiscal_periods_are_named_fy_and_typed_either_way() -> None:
    # With a July start, FY2025-Q2 is Oct-Dec 2025; typing "2025-Q2" means the same period.
    typed = periods.parse("2025-Q2", WED, 7)
    assert (typed.label, span(typed)) == ("FY2025-Q2", (date(2025, 10, 1), date(2025, 12, 31)))
    assert periods.parse("fy2025-q2", WED, 7) == typed
    assert periods.parse("FY2025", WED, 7).label == "FY2025"
    # A January start is the calendar: no FY, and FY2025-Q2 typed is April-June.
    assert periods.parse("FY2025-Q2", WED).label == "2025-Q2"
    assert periods.kind_of("FY2025-Q2") is periods.PeriodKind.QUARTER
    assert periods.kind_of("FY2025") is periods.PeriodKind.YEAR


def test_names_and_dates_in_titles() -> None:
    fiscal_q = periods.quarter(2025, 2, 7)  # July start: Oct-Dec 2025
    assert periods.name(fiscal_q, 7) == "FY2025-Q2"
    assert periods.shows_dates(fiscal_q, 7)
    # The same dates in a January calendar are 2025-Q4, and in an April one FY2025-Q3.
    assert periods.name(fiscal_q, 1) == "2025-Q4" and not periods.shows_dates(fiscal_q, 1)
    assert periods.name(fiscal_q, 4) == "FY2025-Q3"
    # A goal stored as calendar 2025-Q1 (Jan-Mar) keeps its dates: FY2024-Q4 from April on.
    assert periods.name(periods.quarter(2025, 1), 4) == "FY2024-Q4"
    # A February-start quarter has no name in a January calendar: it goes by its dates.
    feb_q = periods.quarter(2025, 1, 2)
    assert periods.name(feb_q, 1) is None and periods.shows_dates(feb_q, 1)
    assert periods.name(periods.year(2025, 4), 1) is None
    assert not periods.shows_dates(periods.month(2025, 10), 7)
    assert periods.name(periods.week(2025, 3), 7) == "2025-W03"
