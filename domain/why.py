"""Which deals a goal's actual counts, and why each other deal near it does not: pure.

A deal counts for a goal when it is won, not deleted, on the goal's team (and the goal's
rep's, for a rep goal) and closes in the goal's period. The deals a reader might expect to
count and that do not are given with the first reason that keeps them out, in this order:
it closes outside the period (though logged during it, and no more than NEAR days
outside: a deal logged in November to close in March is next quarter's pipeline, not a
November deal), it was deleted, it is for another team, it is not won.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol


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
NEAR = timedelta(days=31)  # how far outside the period a deal logged during it is listed


def reason(deal: Fact, *, team_id: int, start: date, end: date) -> str:
    """'' for a deal the goal counts, else the first of REASONS that keeps it out."""
    return _reason(deal, team_id, start, end) or ""


def mentioned(deal: Fact, reason: str, *, logged_on: date, start: date, end: date) -> bool:
    """Whether a deal is listed at all: one closing outside the period only when it was
    logged (the team's local day) during it and closes within NEAR days of it."""
    if reason != OUTSIDE:
        return True
    near = start - NEAR <= deal.close_date <= end + NEAR
    return near and start <= logged_on <= end


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
