"""Properties of splitting an amount, for any amount and weights Hypothesis can find: the
parts add up exactly to the whole, a whole amount gives whole parts, no part is negative,
each part is within one step of its exact share, and the same input gives the same parts.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain import split as sp
from domain.money import split_exact, whole_step

# Weights as users give them (40, 33.5, 0.000001) and as working days or actuals are.
weight = st.decimals(
    min_value=Decimal(0), max_value=sp.MAX_WEIGHT, places=6, allow_nan=False, allow_infinity=False
)
weights = st.lists(weight, min_size=1, max_size=60).filter(lambda ws: sum(ws) > 0)
# Targets up to the largest amount a user may type (1e13) in cents.
cents = st.integers(min_value=0, max_value=10**15)
# No deadline: other tests share the machine's cores, and a slow run is not a failure.
relaxed = settings(deadline=None)
whole_dollars = st.integers(min_value=0, max_value=10**13).map(lambda d: d * 100)


@relaxed
@given(cents, weights)
@example(100, [Decimal(1)] * 3)
@example(10**15, [Decimal("0.000001"), sp.MAX_WEIGHT, Decimal(1)])
def test_the_parts_add_up_exactly_and_are_never_negative(total: int, ws: list[Decimal]) -> None:
    parts = split_exact(total, ws)
    assert sum(parts) == total
    assert len(parts) == len(ws)
    assert all(p >= 0 for p in parts)


@relaxed
@given(whole_dollars, weights)
@example(10_000_000, [Decimal(1)] * 3)  # $100,000 into three: 33,334 + 33,333 + 33,333
def test_a_whole_amount_splits_into_whole_amounts(total: int, ws: list[Decimal]) -> None:
    step = whole_step(total, "USD")
    assert step == 100
    parts = split_exact(total, ws, step)
    assert sum(parts) == total
    assert all(p % 100 == 0 and p >= 0 for p in parts)


@relaxed
@given(cents.filter(lambda c: c % 100), weights)
def test_only_an_amount_with_cents_splits_into_cents(total: int, ws: list[Decimal]) -> None:
    assert whole_step(total, "USD") == 1
    assert sum(split_exact(total, ws, whole_step(total, "USD"))) == total


@relaxed
@given(st.integers(min_value=0, max_value=10**9), weights)
def test_counts_and_yen_split_into_whole_units(total: int, ws: list[Decimal]) -> None:
    assert whole_step(total, None) == 1 == whole_step(total, "JPY")
    assert sum(split_exact(total, ws, 1)) == total


@relaxed
@given(cents, weights, st.sampled_from([1, 100]))
def test_each_part_is_within_one_step_of_its_exact_share(
    total: int, ws: list[Decimal], step: int
) -> None:
    total -= total % step
    parts = split_exact(total, ws, step)
    weight_sum = sum(ws, Decimal(0))
    for part, w in zip(parts, ws, strict=True):
        exact = Fraction(total) * Fraction(w) / Fraction(weight_sum)
        assert abs(part - exact) < step
        if w == 0:
            assert part == 0  # a part with no weight gets nothing


@relaxed
@given(cents, weights)
def test_the_same_input_gives_the_same_parts(total: int, ws: list[Decimal]) -> None:
    assert split_exact(total, ws) == split_exact(total, list(ws))
    # Scaling every weight by the same factor shares out the same way.
    assert split_exact(total, ws) == split_exact(total, [w * 7 for w in ws])


@relaxed
@given(
    st.integers(min_value=1, max_value=10**13).map(lambda d: d * 100),
    st.lists(st.tuples(weight, st.booleans(), st.integers(0, 10**12)), min_size=1, max_size=20),
)
def test_kept_parts_keep_their_amount_and_the_rest_adds_up(
    target: int, spec: list[tuple[Decimal, bool, int]]
) -> None:
    ws = [w for w, _, _ in spec]
    kept = {i: amount for i, (_, keep, amount) in enumerate(spec) if keep}
    try:
        amounts = sp.share_out(target, ws, kept, 100)
    except sp.SplitError as err:
        free = [w for i, w in enumerate(ws) if i not in kept]
        rest = target - sum(kept.values())
        assert (err.reason == "kept" and rest < 0) or (
            err.reason == "weights" and rest > 0 and sum(free) == 0
        )
        return
    assert all(amounts[i] == amount for i, amount in kept.items())
    assert all(a >= 0 for a in amounts)
    if len(kept) < len(ws):
        assert sum(amounts) == target
        rest = target - sum(kept.values())
        if rest % 100 == 0:
            assert all(amounts[i] % 100 == 0 for i in range(len(ws)) if i not in kept)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        split_exact(101, [Decimal(1)], 100)  # not a multiple of the step
    with pytest.raises(ValueError):
        split_exact(-1, [Decimal(1)])
    with pytest.raises(ValueError):
        split_exact(100, [Decimal(1), Decimal(-1), Decimal(1)])
