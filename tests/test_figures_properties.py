"""Properties of the figures a reader sees (Hypothesis): pace and run-rate, the one money
rounding rule shared by text and charts, and the leaderboard ranking."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from charts.numbers import compact, percent
from commands.formatter import Formatter
from domain import pace, periods, rounding
from domain.ranking import competition_ranks

EN = Formatter("en")
MONTHS = st.builds(periods.month, st.integers(2020, 2030), st.integers(1, 12))
DAYS = st.dates(date(2019, 12, 1), date(2031, 1, 31))
COUNTS = st.integers(0, 5_000).map(Decimal)
CENTS = st.integers(0, 10**11).map(lambda c: Decimal(c).scaleb(-2))
HOLIDAYS = st.frozensets(st.dates(date(2020, 1, 1), date(2030, 12, 31)), max_size=8)

FIGURES = settings(max_examples=300, deadline=None)


def _number(text: str) -> Decimal:
    """The number in a formatted amount or count: "$12,500.50" -> 12500.50."""
    kept = "".join(ch for ch in text if ch.isdigit() or ch in ".-")
    return Decimal(kept)


# --- pace and run-rate ---------------------------------------------------------------------


@FIGURES
@given(target=COUNTS, actual=COUNTS, period=MONTHS, today=DAYS, holidays=HOLIDAYS)
def test_counts_needed_per_day_cover_what_is_left(
    target: Decimal, actual: Decimal, period: periods.Period, today: date, holidays: frozenset[date]
) -> None:
    p = pace.progress(
        target=target, actual=actual, period=period, today=today, holidays=holidays, whole=True
    )
    assert p.remaining >= 0
    if p.run_rate is None:
        assert p.days_left == 0
        return
    assert p.run_rate >= 0 and p.run_rate == p.run_rate.to_integral_value()
    # Every remaining day at the run-rate covers what is left, and one a day less would not.
    assert p.run_rate * p.days_left >= p.remaining
    if p.run_rate > 0:
        assert (p.run_rate - 1) * p.days_left < p.remaining
    # What the reader is told is that same whole number.
    assert _number(EN.needed(p.run_rate, "deals", "USD")) == p.run_rate


@FIGURES
@given(target=CENTS, actual=CENTS, period=MONTHS, today=DAYS)
def test_money_needed_per_day_is_never_negative_and_adds_up(
    target: Decimal, actual: Decimal, period: periods.Period, today: date
) -> None:
    p = pace.progress(target=target, actual=actual, period=period, today=today)
    assert p.gap == p.expected - actual
    if p.run_rate is None:
        return
    assert p.run_rate >= 0
    assert abs(p.run_rate * p.days_left - p.remaining) < Decimal("1e-15") * (1 + p.remaining)


@FIGURES
@given(value=st.decimals(-1000, 10**6, places=4, allow_nan=False, allow_infinity=False))
def test_needed_counts_round_up_and_never_go_negative(value: Decimal) -> None:
    shown = _number(EN.needed(value, "deals", "USD"))
    assert shown >= 0 and shown == shown.to_integral_value()
    assert shown >= value and shown - 1 < max(value, Decimal(0))


@FIGURES
@given(actual=COUNTS, period=MONTHS, today=DAYS, holidays=HOLIDAYS)
def test_the_trailing_window_reaches_back_ten_working_days(
    actual: Decimal, period: periods.Period, today: date, holidays: frozenset[date]
) -> None:
    window = pace.trailing_window(period, today, holidays)
    if today < period.start:
        assert window is None
        return
    assert window is not None
    start, end = window
    assert end == min(today, period.end)
    from domain import workdays

    assert workdays.count(start, end, holidays) == pace.TRAILING_DAYS
    assert workdays.is_working_day(start, holidays)
    # The forecast projects that rate: actual + trailing / 10 x days left.
    p = pace.progress(
        target=Decimal(1), actual=actual, period=period, today=today, holidays=holidays,
        trailing=actual,
    )  # fmt: skip
    if p.days_elapsed:
        assert p.forecast == actual + actual / pace.TRAILING_DAYS * p.days_left


# --- one rounding rule for money, in text and on charts -------------------------------------


AMOUNTS = st.decimals(0, 10**9, places=4, allow_nan=False, allow_infinity=False)


@FIGURES
@given(amount=AMOUNTS)
def test_money_text_rounds_half_up_to_cents(amount: Decimal) -> None:
    text = EN.amount(amount, "USD")
    assert _number(text) == amount.quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert _number(EN.amount(amount, "JPY")) == amount.quantize(Decimal(1), ROUND_HALF_UP)


@FIGURES
@given(amount=AMOUNTS)
def test_chart_labels_agree_with_the_text(amount: Decimal) -> None:
    text_value = _number(EN.amount(amount, "USD"))
    shown = rounding.money(amount, "USD")
    # The chart gets the value the text shows; its label, from a float, is the same text.
    assert compact(float(shown), "$") == compact(text_value, "$")
    if text_value < 10:  # no unit and two decimals: the label is the text's number
        assert _number(compact(float(shown), "$")) == text_value
    # A compact label is the text's value rounded half up at the label's precision.
    label = compact(text_value)
    unit = {"k": 3, "M": 6, "B": 9}.get(label[-1], 0)
    if _number(label) == 1 and unit and text_value < Decimal(10) ** unit:
        unit -= 3  # rounded up into this unit from the one below
    scaled = text_value.scaleb(-unit)
    digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
    expected = scaled.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    # (or, from 999.5 of a unit on, 1 of the next: 999,500 is "1M", not "1000k")
    assert _number(label) == expected or (expected == 1000 and _number(label) == 1)


@FIGURES
@given(ratio=st.decimals(0, 50, places=5, allow_nan=False, allow_infinity=False))
def test_percentages_read_the_same_in_text_and_charts(ratio: Decimal) -> None:
    assert EN.pct(ratio) == percent(ratio * 100) == percent(float(ratio * 100))
    if ratio < 1:
        assert EN.pct(ratio) != "100%"


# --- ranking ---------------------------------------------------------------------------------


SCORES = st.lists(st.integers(0, 20).map(lambda n: Decimal(n) / 4), max_size=30)


@FIGURES
@given(scores=SCORES)
def test_ranks_order_by_attainment_and_ties_share_a_rank(scores: list[Decimal]) -> None:
    items = list(enumerate(scores))
    ranked = competition_ranks(items, key=lambda item: item[1])
    assert sorted(item for _, item in ranked) == items  # everyone, once
    values = [item[1] for _, item in ranked]
    assert values == sorted(values, reverse=True)
    for rank, (_, score) in ranked:
        # A rank is one more than the number of strictly better scores: ties share it.
        assert rank == 1 + sum(1 for s in scores if s > score)


@FIGURES
@given(target=st.integers(1, 10**6), factor=st.integers(1, 1000), won=st.integers(0, 10**6))
def test_equal_attainments_tie_however_the_targets_differ(
    target: int, factor: int, won: int
) -> None:
    # won / target and (won x factor) / (target x factor) are one attainment: one rank.
    a = Decimal(won) / Decimal(target)
    b = Decimal(won * factor) / Decimal(target * factor)
    ranked = competition_ranks(["a", "b"], key=lambda name: a if name == "a" else b)
    assert [rank for rank, _ in ranked] == [1, 1]


def test_days_strategy_spans_period_edges() -> None:
    # Sanity for the strategies above: a month's day before and after it are drawn too.
    nov = periods.month(2026, 11)
    assert nov.start - timedelta(days=1) >= date(2019, 12, 1)
