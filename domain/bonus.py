"""Bonus tiers, payouts and the what-if: pure arithmetic on exact money, no I/O.

A team's tiers say which share of a rep's target bonus an attainment pays. The default is
the source material's: under 80% pays nothing; from 80% up to and including 100% pays 50%;
above 100% pays 100%. A tier starts at its floor, included ("80") or excluded (">100").
Payouts are the target bonus times the tier's share, half up to the minor unit. The what-if
is the smallest amount, in minor units, whose win reaches the next tier.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
MAX_TIERS = 10


class TierError(ValueError):
    """A tiers text that cannot be read; the message names the part."""


@dataclass(frozen=True)
class Tier:
    floor: Decimal  # attainment as a ratio: 0.8 is 80%
    above: bool  # True: strictly above the floor (">100"); False: from it, included
    share: Decimal  # of the target bonus: 0.5 pays half

    def reached(self, attainment: Decimal) -> bool:
        return attainment > self.floor if self.above else attainment >= self.floor

    def text(self) -> str:
        return f"{'>' if self.above else ''}{_pct(self.floor)}:{_pct(self.share)}"


DEFAULT_TIERS = (
    Tier(Decimal("0.8"), False, Decimal("0.5")),
    Tier(Decimal(1), True, Decimal(1)),
)


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """`80:50,>100:100`: each tier's floor in percent (`>` in front: above it) and its
    payout in percent of the target bonus, floors rising."""
    tiers = []
    for part in (p.strip() for p in text.split(",")):
        floor_text, _, share_text = part.partition(":")
        above = floor_text.startswith(">")
        try:
            floor = Decimal(floor_text.lstrip(">").rstrip("%")) / HUNDRED
            share = Decimal(share_text.rstrip("%")) / HUNDRED
        except ArithmeticError:
            raise TierError(part) from None
        if not share_text or not floor.is_finite() or not share.is_finite():
            raise TierError(part)
        if floor < 0 or share < 0 or floor > 10 or share > 10:
            raise TierError(part)
        tiers.append(Tier(floor, above, share))
    if not tiers or len(tiers) > MAX_TIERS:
        raise TierError(text)
    for before, after in itertools.pairwise(tiers):
        if (after.floor, after.above) <= (before.floor, before.above):
            raise TierError(after.text())
    return tuple(tiers)


def tiers_text(tiers: Sequence[Tier]) -> str:
    return ",".join(t.text() for t in tiers)


def tier_of(tiers: Sequence[Tier], attainment: Decimal | None) -> int | None:
    """The index of the highest tier the attainment reaches; None below the first."""
    if attainment is None:
        return None
    found = None
    for i, tier in enumerate(tiers):
        if tier.reached(attainment):
            found = i
    return found


def payout(tiers: Sequence[Tier], attainment: Decimal | None, target_bonus_minor: int) -> int:
    index = tier_of(tiers, attainment)
    if index is None:
        return 0
    share = tiers[index].share * target_bonus_minor
    return int(share.quantize(Decimal(1), ROUND_HALF_UP))


@dataclass(frozen=True)
class WhatIf:
    tier: int  # the index of the next tier
    more_minor: int  # the smallest win that reaches it
    attainment: Decimal  # with it won


def next_tier(tiers: Sequence[Tier], actual_minor: int, target_minor: int) -> WhatIf | None:
    """The smallest amount (minor units) whose win lifts the attainment into the next tier
    up; None at the top tier or without a target."""
    if target_minor <= 0:
        return None
    now = tier_of(tiers, Decimal(actual_minor) / target_minor)
    start = 0 if now is None else now + 1
    if start >= len(tiers):
        return None
    tier = tiers[start]
    line = tier.floor * target_minor  # the actual, in minor units, at the floor
    if tier.above:  # strictly above: one minor unit past the line
        needed = int(line.to_integral_value(ROUND_FLOOR)) + 1 - actual_minor
    else:
        needed = int(-(-line).to_integral_value(ROUND_FLOOR)) - actual_minor
    needed = max(needed, 1)
    return WhatIf(start, needed, Decimal(actual_minor + needed) / target_minor)


def _pct(ratio: Decimal) -> str:
    value = (ratio * HUNDRED).normalize()
    return f"{value:f}"
