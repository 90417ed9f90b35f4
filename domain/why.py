"""Which deals a goal's actual counts, and why each other deal near it does not: pure.

A deal counts for a goal when it is won, not deleted, on the goal's team (and the goal's
rep's, for a rep goal) and closes in the goal's period. The deals a reader might expect to
count and that do not are given with the first reason that keeps them out, in this order:
it closes outside the period (though logged during it), it was deleted, it is for another
team, it is not won.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Generic, Protocol, TypeVar


class Fact(Protocol):
    @property
    def team_id(self) -> int: ...
    @property
    def close_date(self) -> date: ...
    @property
    def stage(self) -> str: ...
    @property
    def deleted(self) -> bool: ...


OUTSIDE, DELETED, OTHER_TEAM, NOT_WON = "outside", "deleted", "other_team", "not_won"
REASONS = (OUTSIDE, DELETED, OTHER_TEAM, NOT_WON)
_DAY = timedelta(days=1)


F = TypeVar("F", bound=Fact)


@dataclass(frozen=True)
class Sorted(Generic[F]):
    counted: list[F]
    left_out: list[tuple[F, str]]  # with its reason, one of REASONS


def sort_deals(
    deals: Iterable[F], *, team_id: int, start: date, end: date, logged_on: dict[int, date]
) -> Sorted[F]:
    """`logged_on` gives each deal's (by its position in `deals`) local day of logging: a
    deal closing outside the period is only mentioned when it was logged during it."""
    counted: list[F] = []
    left_out: list[tuple[F, str]] = []
    for i, deal in enumerate(deals):
        reason = _reason(deal, team_id, start, end)
        if reason is None:
            counted.append(deal)
        elif reason != OUTSIDE or start <= logged_on.get(i, start - _DAY) <= end:
            left_out.append((deal, reason))
    return Sorted(counted, left_out)


def _reason(deal: Fact, team_id: int, start: date, end: date) -> str | None:
    if not start <= deal.close_date <= end:
        return OUTSIDE
    if deal.deleted:
        return DELETED
    if deal.team_id != team_id:
        return OTHER_TEAM
    if deal.stage != "won":
        return NOT_WON
    return None
