"""Pure split rules: parts of a period, weights, and exact amounts, against hand counts.

Calendar facts used below: 1 Apr 2026 is a Wednesday, 1 Nov 2026 a Sunday, 1 Dec 2026
a Tuesday; 1 Jan 2026 is a Thursday, so ISO 2026 has a week 53 (28 Dec 2026 - 3 Jan 2027).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain import periods
from domain import split as sp
from domain.money import split_exact
from domain.periods import Period, PeriodKind


def spans(parts: list[Period]) -> list[tuple[str, date, date]]:
    return [(p.label, p.start, p.end) for p in parts]


def test_a_fiscal_year_starting_in_april_splits_into_its_quarters() -> None:
    fy = periods.year(2026, fiscal_start=4)  # FY2026 = Apr 2026 - Mar 2027
    assert spans(sp.parts_of(fy, "quarters")) == [
        ("FY2026-Q1", date(2026, 4, 1), date(2026, 6, 30)),
        ("FY2026-Q2", date(2026, 7, 1), date(2026, 9, 30)),
        ("FY2026-Q3", date(2026, 10, 1), date(2026, 12, 31)),
        ("FY2026-Q4", date(2027, 1, 1), date(2027, 3, 31)),
    ]


def test_a_fiscal_year_starting_in_april_splits_into_twelve_months() -> None:
    months = sp.parts_of(periods.year(2026, fiscal_start=4), "months")
    assert [p.label for p in months] == [
        "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09",
        "2026-10", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03",
    ]  # fmt: skip
    assert (months[-1].start, months[-1].end) == (date(2027, 3, 1), date(2027, 3, 31))


def test_working_days_of_the_april_fiscal_quarters_and_the_exact_split() -> None:
    quarters = sp.parts_of(periods.year(2026, fiscal_start=4), "quarters")
    # Apr 22 + May 21 + Jun 22; Jul 23 + Aug 21 + Sep 22; Oct 22 + Nov 21 + Dec 23;
    # Jan 21 + Feb 20 + Mar 23: 261 working days in all.
    weights = sp.by_workdays(quarters, ())
    assert weights == [Decimal(65), Decimal(66), Decimal(66), Decimal(64)]
    # 120,000,000 cents x 65/261 = 29,885,057.47; x 66/261 = 30,344,827.59 (twice);
    # x 64/261 = 29,425,287.36. Floors sum to 119,999,998; the two cents left go to the
    # largest remainders (.59, .59).
    parts = split_exact(120_000_000, weights)
    assert parts == [29_885_057, 30_344_828, 30_344_828, 29_425_287]
    assert sum(parts) == 120_000_000


def test_a_quarter_splits_into_months_and_a_month_into_weeks() -> None:
    q4 = periods.quarter(2026, 4)
    assert [p.label for p in sp.parts_of(q4, "months")] == ["2026-10", "2026-11", "2026-12"]
    with pytest.raises(sp.SplitError):
        sp.parts_of(q4, "weeks")
    with pytest.raises(sp.SplitError):
        sp.parts_of(periods.month(2026, 11), "quarters")
    with pytest.raises(sp.SplitError):
        sp.parts_of(periods.week(2026, 48), "months")


def test_weeks_of_a_month_are_clipped_to_it() -> None:
    weeks = periods.weeks_in_month(2026, 11)
    assert spans(weeks) == [
        ("2026-W44", date(2026, 11, 1), date(2026, 11, 1)),  # Sun 1 Nov; the week began 26 Oct
        ("2026-W45", date(2026, 11, 2), date(2026, 11, 8)),
        ("2026-W46", date(2026, 11, 9), date(2026, 11, 15)),
        ("2026-W47", date(2026, 11, 16), date(2026, 11, 22)),
        ("2026-W48", date(2026, 11, 23), date(2026, 11, 29)),
        ("2026-W49", date(2026, 11, 30), date(2026, 11, 30)),  # Mon 30 Nov; runs on in December
    ]
    assert all(w.kind is PeriodKind.WEEK for w in weeks)
    # The Sunday scrap has no working day, so it gets no part of the target.
    working = sp.with_working_days(weeks, ())
    assert [w.label for w in working] == [
        "2026-W45",
        "2026-W46",
        "2026-W47",
        "2026-W48",
        "2026-W49",
    ]


def test_december_weeks_with_two_team_holidays() -> None:
    holidays = {date(2026, 12, 24), date(2026, 12, 25)}  # Thursday and Friday of W52
    weeks = sp.parts_of(periods.month(2026, 12), "weeks")
    assert [w.label for w in weeks] == ["2026-W49", "2026-W50", "2026-W51", "2026-W52", "2026-W53"]
    assert (weeks[0].start, weeks[-1].end) == (date(2026, 12, 1), date(2026, 12, 31))
    # Tue-Fri 1-4 Dec: 4; two full weeks: 5 and 5; 21-25 Dec less two holidays: 3; 28-31: 4.
    weights = sp.by_workdays(weeks, holidays)
    assert weights == [4, 5, 5, 3, 4]
    assert split_exact(2_100_000, weights) == [400_000, 500_000, 500_000, 300_000, 400_000]


def test_uneven_splits_add_up_exactly() -> None:
    # $100,000 in three: 33,333.34 + 33,333.33 + 33,333.33 (the first gets the spare cent).
    assert split_exact(10_000_000, sp.even(3)) == [3_333_334, 3_333_333, 3_333_333]
    # November by working days: 5, 5, 5, 5 and the lone Monday 30 Nov: 21 days.
    # 10,000,000 x 5/21 = 2,380,952.38 (x4); x 1/21 = 476,190.48: two cents left, to the
    # .48 and then the first .38.
    days = sp.by_workdays(sp.with_working_days(periods.weeks_in_month(2026, 11), ()), ())
    assert split_exact(10_000_000, days) == [2_380_953, 2_380_952, 2_380_952, 2_380_952, 476_191]


def test_seasonal_shares_need_history_for_every_part() -> None:
    assert sp.seasonal([2_000_000, 3_000_000, 5_000_000]) == [2_000_000, 3_000_000, 5_000_000]
    assert split_exact(20_000_000, [Decimal(2), Decimal(3), Decimal(5)]) == [
        4_000_000,
        6_000_000,
        10_000_000,
    ]
    assert sp.seasonal([0, 0, 0]) is None
    assert sp.seasonal([2_000_000, 0, 5_000_000]) is None  # a zero share would mean no target


def test_last_year_of_a_part() -> None:
    m = sp.last_year(periods.month(2026, 11))
    assert (m.start, m.end) == (date(2025, 11, 1), date(2025, 11, 30))
    leap = sp.last_year(periods.month(2028, 2))
    assert (leap.start, leap.end) == (date(2027, 2, 1), date(2027, 2, 28))
    w = sp.last_year(periods.week(2026, 48))  # Mon 23 Nov 2026 -> Mon 24 Nov 2025
    assert (w.start, w.end) == (date(2025, 11, 24), date(2025, 11, 30))


@pytest.mark.parametrize(
    ("text", "weights"),
    [
        ("50,30,20", [50, 30, 20]),
        ("40%,30%,30%", [40, 30, 30]),
        ("1.5,1,0", [Decimal("1.5"), 1, 0]),
        ("3，2", [3, 2]),
    ],
)
def test_weights_are_read(text: str, weights: list[Decimal]) -> None:
    assert sp.parse_weights(text) == weights


@pytest.mark.parametrize("text", ["", "a,b", "50,-10", "0,0", "NaN,1", "Infinity"])
def test_bad_weights_are_refused(text: str) -> None:
    with pytest.raises(sp.SplitError):
        sp.parse_weights(text)


def test_kind_of_a_stored_label() -> None:
    assert [periods.kind_of(x) for x in ("2026", "2026-Q4", "2026-11", "2026-W47")] == [
        PeriodKind.YEAR,
        PeriodKind.QUARTER,
        PeriodKind.MONTH,
        PeriodKind.WEEK,
    ]


def test_kept_parts_keep_their_amounts_and_the_rest_splits_in_whole_dollars() -> None:
    # $100,000 over three parts, the second kept at $40,000: $60,000 over two parts 1:2.
    weights = [Decimal(1), Decimal(5), Decimal(2)]
    assert sp.share_out(10_000_000, weights, {1: 4_000_000}, 100) == [
        2_000_000,
        4_000_000,
        4_000_000,
    ]
    # The $69,999.50 a kept $30,000.50 leaves has cents, so it splits in cents: 6,999,950
    # x 1/3 = 2,333,316.67 and x 2/3 = 4,666,633.33; the spare cent to the larger remainder.
    assert sp.share_out(10_000_000, [Decimal(1), Decimal(1), Decimal(2)], {0: 3_000_050}, 100) == [
        3_000_050,
        2_333_317,
        4_666_633,
    ]
    # Whole dollars into three: 33,334 + 33,333 + 33,333.
    assert sp.share_out(10_000_000, sp.even(3), {}, 100) == [3_333_400, 3_333_300, 3_333_300]


def test_kept_parts_taking_more_than_the_target_or_nothing_to_weigh_by_are_refused() -> None:
    with pytest.raises(sp.SplitError) as over:
        sp.share_out(5_000_000, sp.even(2), {0: 3_000_000, 1: 2_500_000}, 100)
    assert over.value.reason == "kept"
    with pytest.raises(sp.SplitError) as zero:
        sp.share_out(5_000_000, [Decimal(0), Decimal(1)], {1: 1_000_000}, 100)
    assert zero.value.reason == "weights"
    # Kept parts that take exactly the target leave 0 for the others.
    assert sp.share_out(5_000_000, sp.even(2), {0: 5_000_000}, 100) == [5_000_000, 0]
