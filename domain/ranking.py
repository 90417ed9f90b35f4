"""Leaderboard ranking: ties share a rank (1, 1, 3)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypeVar

T = TypeVar("T")


def competition_ranks(items: Sequence[T], key: Callable[[T], Decimal]) -> list[tuple[int, T]]:
    """Sort by key descending and rank them; equal keys share the better rank."""
    ordered = sorted(items, key=key, reverse=True)
    ranked: list[tuple[int, T]] = []
    for i, item in enumerate(ordered):
        if i and key(item) == key(ordered[i - 1]):
            ranked.append((ranked[-1][0], item))
        else:
            ranked.append((i + 1, item))
    return ranked
