"""Working days: Monday to Friday minus holidays, counted and listed the same way."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import workdays

THANKSGIVING = date(2026, 11, 26)  # Thursday
BLACK_FRIDAY = date(2026, 11, 27)
SATURDAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Fri 20 Nov .. Mon 23 Nov: Fri and Mon; the weekend between does not count.
        (date(2026, 11, 20), date(2026, 11, 23), 2),
        (date(2026, 11, 21), date(2026, 11, 22), 0),  # Sat .. Sun
        (date(2026, 11, 23), date(2026, 11, 23), 1),  # one Monday
        (date(2026, 11, 21), date(2026, 11, 21), 0),  # one Saturday
        # Across a month boundary: Thu 29, Fri 30 Oct, (Sat 31, Sun 1), Mon 2, Tue 3 Nov.
        (date(2026, 10, 29), date(2026, 11, 3), 4),
        # November 2026 starts on a Sunday: 2-6, 9-13, 16-20, 23-27 and 30 = 21.
        (date(2026, 11, 1), date(2026, 11, 30), 21),
        # December 2026: 1-4, 7-11, 14-18, 21-25, 28-31 = 4 + 5 + 5 + 5 + 4 = 23.
        (date(2026, 12, 1), date(2026, 12, 31), 23),
        # 2026 = 52 weeks + 1 day (Thu 1 Jan): 52 x 5 + 1 = 261.
        (date(2026, 1, 1), date(2026, 12, 31), 261),
        # Leap year 2028 starts on a Saturday: 52 weeks + Sat 30, Sun 31 Dec = 260.
        (date(2028, 1, 1), date(2028, 12, 31), 260),
    ],
)
def test_count_without_holidays(start: date, end: date, expected: int) -> None:
    assert workdays.count(start, end) == expected
    assert len(list(workdays.working_days(start, end))) == expected


def test_empty_range() -> None:
    assert workdays.count(date(2026, 11, 25), date(2026, 11, 24)) == 0
    assert list(workdays.working_days(date(2026, 11, 25), date(2026, 11, 24))) == []


def test_holidays_are_removed() -> None:
    nov = (date(2026, 11, 1), date(2026, 11, 30))
    # 21 working days minus Thanksgiving and the Friday after = 19.
    assert workdays.count(*nov, {THANKSGIVING, BLACK_FRIDAY}) == 19


def test_holiday_on_a_weekend_does_not_count_twice() -> None:
    nov = (date(2026, 11, 1), date(2026, 11, 30))
    # Saturday is already not a working day: 21 - 1 (Thursday only) = 20.
    assert workdays.count(*nov, {THANKSGIVING, SATURDAY}) == 20
    assert len(list(workdays.working_days(*nov, {THANKSGIVING, SATURDAY}))) == 20


def test_duplicate_holidays_count_once() -> None:
    nov = (date(2026, 11, 1), date(2026, 11, 30))
    assert workdays.count(*nov, [THANKSGIVING, THANKSGIVING]) == 20


def test_holidays_outside_the_range_are_ignored() -> None:
    # Mon 23 .. Wed 25 Nov: 3 days; Thanksgiving is the day after.
    assert workdays.count(date(2026, 11, 23), date(2026, 11, 25), {THANKSGIVING}) == 3


def test_working_days_lists_the_dates() -> None:
    days = list(workdays.working_days(date(2026, 11, 25), date(2026, 12, 1), {THANKSGIVING}))
    # Wed 25, (Thu 26 holiday), Fri 27, (weekend), Mon 30, Tue 1 Dec.
    assert days == [date(2026, 11, 25), BLACK_FRIDAY, date(2026, 11, 30), date(2026, 12, 1)]


def test_is_working_day() -> None:
    assert workdays.is_working_day(date(2026, 11, 25))
    assert not workdays.is_working_day(SATURDAY)
    assert not workdays.is_working_day(THANKSGIVING, {THANKSGIVING})


def test_count_agrees_with_iterating_for_every_range() -> None:
    # Every start/end pair over five weeks, with weekday and weekend holidays.
    holidays = {THANKSGIVING, BLACK_FRIDAY, SATURDAY, date(2026, 12, 25), date(2026, 11, 11)}
    first = date(2026, 11, 1)
    days = [first + timedelta(days=i) for i in range(35)]
    for start in days:
        for end in days:
            listed = len(list(workdays.working_days(start, end, holidays)))
            assert workdays.count(start, end, holidays) == listed, (start, end)
