"""/progress against the previous period and the same one a year earlier (domain/compare.py).

NOW is Wed 25 Nov 2026 in New York. With 11 Nov 2026 a holiday, 17 working days of
November have elapsed (2-6, 9-10, 12-13, 16-20, 23-25). October 2026 starts on a
Thursday; with 12 Oct a holiday its first 17 working days end on Mon 26 Oct (1-2, 5-9,
13-16, 19-23, 26). November 2025 starts on a Saturday: its first 17 working days end on
Tue 25 Nov 2025 (3-7, 10-14, 17-21, 24-25).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from commands.i18n import t
from domain import compare, periods
from tests.conftest import ADMIN, Run

ALICE, BOB = "<@UALICE|alice>", "<@UBOB|bob>"
NOV = periods.month(2026, 11)


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


# --- the periods and windows --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "fiscal", "expected"),
    [
        ("2026-11", 1, ["2026-10", "2025-11"]),
        ("2026-01", 1, ["2025-12", "2025-01"]),
        ("2026-Q1", 1, ["2025-Q4", "2025-Q1"]),
        ("2026", 1, ["2025"]),  # the year before is both
        ("2026-W01", 1, ["2025-W52", "2025-W01"]),
        ("2020-W53", 1, ["2020-W52", "2019-W52"]),  # no week 53 in 2019: its last
        ("FY2026-Q1", 4, ["FY2025-Q4", "FY2025-Q1"]),  # April-June against January-March
    ],
)
def test_the_earlier_periods(label: str, fiscal: int, expected: list[str]) -> None:
    shown = periods.parse(label, date(2026, 1, 1), fiscal)
    assert [p.label for p in compare.earlier(shown, fiscal)] == expected


def test_a_running_period_is_compared_over_as_many_working_days() -> None:
    october = periods.month(2026, 10)
    holidays = {date(2026, 11, 11), date(2026, 10, 12)}
    w = compare.window(october, NOV, date(2026, 11, 25), holidays)
    assert w == compare.Window(october, date(2026, 10, 26), False, 17)
    # Without October's holiday, its 17th working day is Fri 23 Oct.
    w = compare.window(october, NOV, date(2026, 11, 25), {date(2026, 11, 11)})
    assert w == compare.Window(october, date(2026, 10, 23), False, 17)
    # On a Saturday, the week's five days are in: the same as on Friday.
    saturday = compare.window(october, NOV, date(2026, 11, 28))
    assert saturday == compare.window(october, NOV, date(2026, 11, 27))


def test_a_shorter_earlier_period_counts_whole() -> None:
    # March 2027 has 23 working days; February 2027 only 20: all of it, to the 28th.
    w = compare.window(periods.month(2027, 2), periods.month(2027, 3), date(2027, 3, 31))
    assert w == compare.Window(periods.month(2027, 2), date(2027, 2, 28), False, 23)


def test_a_closed_period_is_compared_whole_and_an_unstarted_one_not_at_all() -> None:
    october = periods.month(2026, 10)
    w = compare.window(periods.month(2026, 9), october, date(2026, 11, 25))
    assert w == compare.Window(periods.month(2026, 9), date(2026, 9, 30), True, 22)
    assert compare.window(october, NOV, date(2026, 11, 1)) is None  # a Sunday: none elapsed
    assert compare.window(october, NOV, date(2026, 10, 30)) is None


def test_the_change_and_nothing_before() -> None:
    assert compare.change(Decimal(112), Decimal(100)) == Decimal("0.12")
    assert compare.change(Decimal(0), Decimal(50)) == Decimal(-1)
    assert compare.change(Decimal(5), Decimal(0)) is None


# --- what /progress says ------------------------------------------------------------------------


@pytest.fixture
def history(team: Run) -> Run:
    for text in ("setup holidays add 2026-11-11", "setup holidays add 2026-10-12"):
        assert team(ADMIN, "/pacer", text).ok
    assert team("UMIA", "/goal", f"set {ALICE} 100000 2026-11").ok
    for user, text in (
        ("UALICE", "10,000 Acme date:2026-10-09"),
        ("UALICE", "4,000 Globex date:2026-10-26"),  # the 17th working day: counted
        ("UALICE", "50,000 Initech date:2026-10-27"),  # the 18th: not
        ("UALICE", "20,000 Hooli date:2025-11-10"),
        ("UALICE", "30,000 Umbrella date:2025-11-26"),  # after the 17th: not
        ("UALICE", "15,680 Stark date:2026-11-02"),
        ("UBOB", "6,000 Wayne date:2026-10-20"),
        ("UBOB", "8,320 Tyrell date:2026-11-03"),
    ):
        assert team(user, "/deal", text).ok, text
    return team


def test_a_rep_sees_the_change_like_for_like(history: Run) -> None:
    lines = history("UALICE", "/progress").text.splitlines()
    # October to the 26th: 10,000 + 4,000 = 14,000; 15,680 / 14,000 = 1.12: +12%.
    # November 2025 to the 25th: 20,000; 15,680 / 20,000 = 0.784: -21.6%, shown -22%.
    assert lines[2:4] == [
        en(
            "progress.compare_running",
            change="+12%",
            period="2026-10",
            before="$14,000",
            days=17,
        ),
        en(
            "progress.compare_running",
            change="-22%",
            period="2025-11",
            before="$20,000",
            days=17,
        ),
    ]


def test_a_team_sees_the_change_of_all_its_reps(history: Run) -> None:
    assert history("UMIA", "/goal", f"set {BOB} 50000 2026-11").ok
    lines = history("UMIA", "/progress", "team East").text.splitlines()
    # Now 15,680 + 8,320 = 24,000. October to the 26th: 14,000 + 6,000 = 20,000: +20%.
    # November 2025 to the 25th: 20,000: +20%.
    assert lines[2:4] == [
        en("progress.compare_running", change="+20%", period=p, before="$20,000", days=17)
        for p in ("2026-10", "2025-11")
    ]


def test_a_closed_period_is_whole_against_whole_and_nothing_then_is_new(history: Run) -> None:
    assert history("UMIA", "/goal", f"set {ALICE} 60000 2026-10").ok
    assert history("UALICE", "/deal", "32,000 Cyberdyne date:2026-09-15").ok
    lines = history("UALICE", "/progress", "2026-10").text.splitlines()
    # October whole: 10,000 + 4,000 + 50,000 = 64,000 against September's 32,000: +100%.
    # October 2025 had nothing: new.
    assert lines[2:4] == [
        en("progress.compare_closed", change="+100%", period="2026-09", before="$32,000"),
        en("progress.compare_new_closed", period="2025-10"),
    ]


def test_nothing_then_and_nothing_now_says_nothing(team: Run) -> None:
    assert team("UMIA", "/goal", f"set {ALICE} 100000 2026-11").ok
    text = team("UALICE", "/progress").text
    assert "2026-10" not in text and "2025-11" not in text


def test_the_comparison_reads_in_chinese(history: Run) -> None:
    lines = history("UALICE", "/progress", "", locale="zh-CN").text.splitlines()
    assert lines[2:4] == [
        "对比 2026-10 同期 +12%（其前 17 个工作日：$14,000）",
        "对比 2025-11 同期 -22%（其前 17 个工作日：$20,000）",
    ]
