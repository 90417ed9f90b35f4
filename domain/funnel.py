"""The pipeline funnel from how far each deal got: pure arithmetic, no I/O.

A deal reached every stage up to the furthest one it was ever at (a deal that skipped
`qualified` on its way to `proposal` passed it all the same); a won deal reached them
all; a lost deal counts for the stages it passed. Conversion from a stage to the next is
the share of the deals that reached it that reached the next; the bottleneck is the step
with the lowest conversion (the earlier one on a tie), if it loses any deal. Win rate is
won / (won + lost): open deals are not decided yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Reach:
    """The deals that got as far as stage `furthest` (an index into the stages) and end
    `end` (won, lost or open), with their amount and, for won ones, their cycle days."""

    furthest: int
    end: str
    deals: int
    amount_minor: int
    cycle_days: float = 0.0


@dataclass(frozen=True)
class Step:
    stage: str
    deals: int  # that reached the stage
    amount_minor: int
    conversion: Decimal | None  # to the next stage; None for the last, or when none reached


@dataclass(frozen=True)
class Funnel:
    steps: list[Step]
    won: int
    lost: int
    open: int
    won_minor: int
    cycle_days: float  # summed over the won deals

    @property
    def deals(self) -> int:
        return self.won + self.lost + self.open

    @property
    def win_rate(self) -> Decimal | None:
        decided = self.won + self.lost
        return Decimal(self.won) / decided if decided else None

    @property
    def average_won_minor(self) -> Decimal | None:
        return Decimal(self.won_minor) / self.won if self.won else None

    @property
    def average_cycle_days(self) -> Decimal | None:
        if not self.won:
            return None
        return Decimal(repr(self.cycle_days)) / self.won

    @property
    def bottleneck(self) -> int | None:
        """The index of the step (stage to the next) converting least; None when no step
        loses a deal (every conversion 100%) or none was reached."""
        rated = [(s.conversion, i) for i, s in enumerate(self.steps) if s.conversion is not None]
        if not rated or min(rated)[0] >= 1:
            return None
        return min(rated)[1]


def funnel(stages: Sequence[str], reaches: Iterable[Reach]) -> Funnel:
    """The funnel over `stages` (in order, the last one `won`)."""
    rows = list(reaches)
    deals = [0] * len(stages)
    amounts = [0] * len(stages)
    for r in rows:
        for i in range(min(r.furthest, len(stages) - 1) + 1):
            deals[i] += r.deals
            amounts[i] += r.amount_minor
    steps = [
        Step(stage, deals[i], amounts[i], _conversion(deals, i)) for i, stage in enumerate(stages)
    ]
    by_end = {end: sum(r.deals for r in rows if r.end == end) for end in ("won", "lost", "open")}
    return Funnel(
        steps=steps,
        won=by_end["won"],
        lost=by_end["lost"],
        open=by_end["open"],
        won_minor=sum(r.amount_minor for r in rows if r.end == "won"),
        cycle_days=sum(r.cycle_days for r in rows if r.end == "won"),
    )


def _conversion(deals: list[int], i: int) -> Decimal | None:
    if i + 1 >= len(deals) or not deals[i]:
        return None
    return Decimal(deals[i + 1]) / deals[i]


STALL_MIN_DEALS = 3  # a step the rep's deals reached fewer times says nothing yet
STALL_MARGIN = Decimal("0.10")  # ten points under the team's conversion at least


@dataclass(frozen=True)
class Stall:
    """Where a rep's deals stall: the step (from `stage` to the next) whose conversion is
    furthest under the team's, with the counts behind the rep's."""

    stage: str
    next: str
    reached: int
    went_on: int
    mine: Decimal
    team: Decimal


def stall(mine: Funnel, team: Funnel) -> Stall | None:
    """The rep's step most under the team's conversion (by STALL_MARGIN or more), among
    those their deals reached STALL_MIN_DEALS times; None when none is."""
    found: tuple[Decimal, int] | None = None
    for i, (m, t) in enumerate(zip(mine.steps[:-1], team.steps[:-1], strict=True)):
        if m.conversion is None or t.conversion is None or m.deals < STALL_MIN_DEALS:
            continue
        under = t.conversion - m.conversion
        if under >= STALL_MARGIN and (found is None or under > found[0]):
            found = (under, i)
    if found is None:
        return None
    i = found[1]
    step, nxt = mine.steps[i], mine.steps[i + 1]
    return Stall(
        stage=step.stage,
        next=nxt.stage,
        reached=step.deals,
        went_on=nxt.deals,
        mine=step.conversion or Decimal(0),
        team=team.steps[i].conversion or Decimal(0),
    )
