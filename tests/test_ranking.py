"""Competition ranking: ties share the better rank and the next rank skips."""

from __future__ import annotations

from decimal import Decimal as D

from domain.ranking import competition_ranks


def ranks(scores: dict[str, D]) -> list[tuple[int, str]]:
    return competition_ranks(list(scores), key=lambda name: scores[name])


def test_ties_share_a_rank() -> None:
    assert ranks({"alice": D(10), "bob": D(10), "carol": D(5)}) == [
        (1, "alice"),
        (1, "bob"),
        (3, "carol"),
    ]


def test_sorted_descending_whatever_the_input_order() -> None:
    scores = {"e": D(3), "a": D(5), "b": D(10), "c": D(10), "d": D(10)}
    assert ranks(scores) == [(1, "b"), (1, "c"), (1, "d"), (4, "a"), (5, "e")]


def test_tie_below_the_top() -> None:
    scores = {"a": D("0.9"), "b": D("0.5"), "c": D("0.5"), "d": D("0.1")}
    assert ranks(scores) == [(1, "a"), (2, "b"), (2, "c"), (4, "d")]


def test_equal_ratios_tie() -> None:
    # 50000/100000 and 100000/200000 are the same attainment.
    scores = {"x": D(50000) / D(100000), "y": D(100000) / D(200000), "z": D(1) / D(3)}
    assert [r for r, _ in ranks(scores)] == [1, 1, 3]


def test_all_equal_and_empty() -> None:
    assert [r for r, _ in ranks({"a": D(0), "b": D(0), "c": D(0)})] == [1, 1, 1]
    assert ranks({}) == []
