"""Attainment, expected to date, pace, gap, run-rate and forecast against hand arithmetic.

November 2026 starts on a Sunday: its working days are 2-6, 9-13, 16-20, 23-27 and 30,
21 in all. On Wednesday 25 November, 18 have elapsed (today counts) and 3 remain.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from domain import pace, periods

NOV = periods.month(2026, 11)
WED = date(2026, 11, 25)


def six(x: D | None) -> D:
    assert x is not None
    return round(x, 6)


def test_behind_pace_numbers() -> None:
    p = pace.progress(target=D(120000), actual=D(90000), period=NOV, today=WED)
    assert (p.days_total, p.days_elapsed, p.days_left) == (21, 18, 3)
    assert p.attainment == D("0.75")  # 90000 / 120000
    # expected = 120000 x 18 / 21 = 102857.142857...
    assert six(p.expected) == D("102857.142857")
    # pace = 90000 / (120000 x 18/21) = 90000 x 21 / 2160000 = 0.875 < 0.9
    assert six(p.pace) == D("0.875000")
    assert p.behind
    # gap = 102857.142857 - 90000
    assert six(p.gap) == D("12857.142857")
    # run-rate = (120000 - 90000) / 3 = 10000
    assert p.run_rate == D(10000)
    # forecast = 90000 + (90000 / 18) x 3 = 90000 + 15000
    assert p.forecast == D(105000)


def test_exactly_the_threshold_is_not_behind() -> None:
    # target 210000: expected = 210000 x 18 / 21 = 180000; 0.9 x 180000 = 162000.
    at = pace.progress(target=D(210000), actual=D(162000), period=NOV, today=WED)
    assert at.expected == D(180000)
    assert at.pace == D("0.9")
    assert not at.behind
    assert at.gap == D(18000)
    assert at.run_rate == D(16000)  # (210000 - 162000) / 3
    assert at.forecast == D(189000)  # 162000 + 9000 x 3
    below = pace.progress(target=D(210000), actual=D(161999), period=NOV, today=WED)
    assert below.behind  # 161999 / 180000 = 0.899994...


def test_configurable_threshold() -> None:
    # pace 0.9 is behind when the team draws the line at 95%.
    p = pace.progress(
        target=D(210000), actual=D(162000), period=NOV, today=WED, behind_below=D("0.95")
    )
    assert p.behind


def test_ahead_of_pace_and_target_met() -> None:
    # expected = 100000 x 18 / 21 = 85714.285714...; actual 120000 is past the target.
    p = pace.progress(target=D(100000), actual=D(120000), period=NOV, today=WED)
    assert p.attainment == D("1.2")
    assert six(p.gap) == D("-34285.714286")  # 85714.285714 - 120000
    assert six(p.pace) == D("1.400000")  # 120000 / 85714.2857 = 1.4
    assert not p.behind
    assert p.run_rate == D(0)  # nothing left to make up


def test_before_the_period_starts() -> None:
    dec = periods.month(2026, 12)  # 23 working days, none elapsed on 25 Nov
    p = pace.progress(target=D(230000), actual=D(0), period=dec, today=WED)
    assert (p.days_total, p.days_elapsed, p.days_left) == (23, 0, 23)
    assert p.expected == D(0)
    assert p.pace is None
    assert not p.behind
    assert p.run_rate == D(10000)  # 230000 / 23
    assert p.forecast == D(0)


def test_after_the_period_ends() -> None:
    # October 2026: Thu 1, Fri 2, then four full weeks 5-30 = 22 working days, all elapsed.
    octo = periods.month(2026, 10)
    p = pace.progress(target=D(110000), actual=D(88000), period=octo, today=WED)
    assert (p.days_total, p.days_elapsed, p.days_left) == (22, 22, 0)
    assert p.expected == D(110000)
    assert p.pace == D("0.8")  # 88000 / 110000
    assert p.behind
    assert p.run_rate is None
    assert p.forecast == D(88000)


def test_today_on_a_weekend() -> None:
    # Sat 28 Nov: Mon 2 .. Fri 27 = 20 elapsed, 1 left (Mon 30).
    p = pace.progress(target=D(210000), actual=D(0), period=NOV, today=date(2026, 11, 28))
    assert (p.days_elapsed, p.days_left) == (20, 1)
    assert p.expected == D(200000)  # 210000 x 20 / 21


def test_holidays_change_expected() -> None:
    # Thanksgiving and the day after: 19 working days, still 18 elapsed on 25 Nov.
    hols = {date(2026, 11, 26), date(2026, 11, 27)}
    p = pace.progress(target=D(190000), actual=D(0), period=NOV, today=WED, holidays=hols)
    assert (p.days_total, p.days_elapsed, p.days_left) == (19, 18, 1)
    assert p.expected == D(180000)  # 190000 x 18 / 19
    assert p.run_rate == D(190000)


def test_zero_target_has_no_attainment() -> None:
    p = pace.progress(target=D(0), actual=D(500), period=NOV, today=WED)
    assert p.attainment is None
    assert p.pace is None


def test_pipeline_forecast_uses_stage_probabilities() -> None:
    open_deals = {
        "lead": D(10000),  # x 10% = 1000
        "qualified": D(20000),  # x 25% = 5000
        "proposal": D(40000),  # x 50% = 20000
        "negotiation": D(8000),  # x 75% = 6000
    }
    p = pace.progress(
        target=D(120000), actual=D(90000), period=NOV, today=WED, open_pipeline=open_deals
    )
    assert p.pipeline_forecast == D(122000)  # 90000 + 1000 + 5000 + 20000 + 6000
    assert p.forecast == D(105000)  # the run-rate projection is unaffected


def test_pipeline_with_custom_probabilities_and_unknown_stage() -> None:
    p = pace.progress(
        target=D(1),
        actual=D(100),
        period=NOV,
        today=WED,
        open_pipeline={"proposal": D(1000), "lost": D(5000)},
        probabilities={"proposal": D("0.3")},
    )
    assert p.pipeline_forecast == D(400)  # 100 + 1000 x 0.3; "lost" weighs nothing


def test_time_zone_changes_today_and_elapsed_days() -> None:
    # 2026-11-30 20:00 UTC is Tue 1 Dec 04:00 in Shanghai but Mon 30 Nov 12:00 in Los Angeles.
    instant = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    shanghai = instant.astimezone(ZoneInfo("Asia/Shanghai")).date()
    los_angeles = instant.astimezone(ZoneInfo("America/Los_Angeles")).date()
    assert (shanghai, los_angeles) == (date(2026, 12, 1), date(2026, 11, 30))
    q4 = periods.quarter(2026, 4)
    # Q4 2026: October 22 + November 21 + December 23 = 66 working days.
    sh = pace.progress(target=D(660000), actual=D(0), period=q4, today=shanghai)
    la = pace.progress(target=D(660000), actual=D(0), period=q4, today=los_angeles)
    assert (sh.days_total, sh.days_elapsed, la.days_elapsed) == (66, 44, 43)
    assert (sh.expected, la.expected) == (D(440000), D(430000))  # 660000 x 44|43 / 66


def test_cumulative_by_day_carries_weekend_deals_forward() -> None:
    daily = {
        date(2026, 11, 1): D(5),  # a Sunday: shown on Mon 2 Nov
        date(2026, 11, 2): D(100),
        date(2026, 11, 21): D(50),  # a Saturday: shown on Mon 23 Nov
        date(2026, 11, 23): D(25),
        date(2026, 11, 25): D(10),
        date(2026, 11, 26): D(999),  # after today: not shown
    }
    days, cumulative = pace.cumulative_by_day(NOV, WED, daily)
    assert len(days) == 21 and days[0] == date(2026, 11, 2) and days[-1] == date(2026, 11, 30)
    assert len(cumulative) == 18  # one value per elapsed working day
    assert cumulative[0] == D(105)  # 5 + 100
    assert cumulative[14] == D(105)  # Fri 20 Nov
    assert cumulative[15] == D(180)  # Mon 23: 105 + 50 + 25
    assert cumulative[16] == D(180)
    assert cumulative[17] == D(190)  # Wed 25: + 10


def test_cumulative_includes_a_weekend_deal_logged_today() -> None:
    # On Sat 28 Nov the last working day shown is Fri 27; a deal today still counts there.
    daily = {date(2026, 11, 27): D(40), date(2026, 11, 28): D(7)}
    _, cumulative = pace.cumulative_by_day(NOV, date(2026, 11, 28), daily)
    assert len(cumulative) == 20
    assert cumulative[-2] == D(0)
    assert cumulative[-1] == D(47)


def test_cumulative_before_the_period_is_empty() -> None:
    days, cumulative = pace.cumulative_by_day(periods.month(2026, 12), WED, {})
    assert len(days) == 23
    assert cumulative == []


def test_counts_needed_per_day_round_up() -> None:
    # 5 deals to go over 21 working days is 0.24 a day: one a day, not "0 a day".
    assert pace.needed_per_day(D(5), 21, whole=True) == D(1)
    # 7 to go over 3 days is 2.33: 3 a day (2 a day would leave one short).
    assert pace.needed_per_day(D(7), 3, whole=True) == D(3)
    assert pace.needed_per_day(D(6), 3, whole=True) == D(2)  # exact stays exact
    assert pace.needed_per_day(D(-4), 3, whole=True) == D(0)  # ahead: nothing needed
    assert pace.needed_per_day(D(7), 0, whole=True) is None
    p = pace.progress(target=D(12), actual=D(5), period=NOV, today=WED, whole=True)
    assert (p.remaining, p.run_rate) == (D(7), D(3))


def test_trailing_window_reaches_into_the_previous_period() -> None:
    dec = periods.month(2026, 12)
    # Tue 1 Dec: Dec 1, Nov 30, 27, 26, 25, 24, 23, 20, 19, 18 are the last 10 working days.
    assert pace.trailing_window(dec, date(2026, 12, 1)) == (date(2026, 11, 18), date(2026, 12, 1))
    # Thanksgiving and the day after off: two more days back, to Mon 16 Nov.
    hols = {date(2026, 11, 26), date(2026, 11, 27)}
    assert pace.trailing_window(dec, date(2026, 12, 1), hols) == (
        date(2026, 11, 16),
        date(2026, 12, 1),
    )
    assert pace.trailing_window(dec, WED) is None  # December has not started
    # After the period, the window ends on its last day.
    after = pace.trailing_window(periods.month(2026, 10), WED)
    assert after is not None and after[1] == date(2026, 10, 31)


def test_first_day_forecast_uses_the_trailing_rate() -> None:
    # 1 Dec: one $10,000 deal today; $5,000 more in the 10-day window. 22 days left.
    # Old: 10000 + 10000 x 22 = 230000. Now: 10000 + (15000 / 10) x 22 = 43000.
    dec = periods.month(2026, 12)
    p = pace.progress(
        target=D(100000), actual=D(10000), period=dec, today=date(2026, 12, 1), trailing=D(15000)
    )
    assert (p.days_elapsed, p.days_left) == (1, 22)
    assert p.forecast == D(43000)
