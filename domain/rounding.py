"""One rounding rule for every figure a reader sees, in text and on charts alike.

Money rounds half up to the currency's display precision (cents for USD, whole yen);
percentages half up to a whole percent, except that short of 100% never reads as 100%;
counts that are averages (expected, forecast) show one decimal, counts needed round up.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision

ONE = Decimal(1)
TENTH = Decimal("0.1")


def money(value: Decimal, currency: str) -> Decimal:
    """Half up to the currency's minor units: 0.125 USD -> 0.13, 0.5 JPY -> 1."""
    digits = int(get_currency_precision(currency))
    return value.quantize(ONE.scaleb(-digits), ROUND_HALF_UP)


def percent(ratio: Decimal) -> Decimal:
    """A ratio as a whole percent, half up; 0.996 is 99 (short of the target), not 100."""
    shown = (ratio * 100).quantize(ONE, ROUND_HALF_UP)
    if ratio < 1 and shown >= 100:
        shown = (ratio * 100).quantize(ONE, ROUND_DOWN)
    return shown


def change_percent(ratio: Decimal) -> Decimal:
    """A change as a whole percent, half away from zero (0.125 is 13, -0.125 is -13)."""
    return (ratio * 100).quantize(ONE, ROUND_HALF_UP)


def count(value: Decimal) -> Decimal:
    """A count as shown: one decimal half up (10.29 expected deals read 10.3), no decimal
    when that is whole."""
    shown = value.quantize(TENTH, ROUND_HALF_UP)
    return shown.quantize(ONE) if shown == shown.to_integral_value() else shown


def needed(value: Decimal) -> Decimal:
    """A count still needed: up to the next whole one, never below zero."""
    return max(value, Decimal(0)).to_integral_value(ROUND_CEILING)
