"""Short number texts for chart axes and bar ends (no matplotlib: commands use them too).

They round as the text does (domain/rounding.py): half up, on the decimal value, so a bar
labelled $7.13 stands beside a message saying $7.13 (binary floats rounded 7.125 to 7.12).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from domain import rounding

_UNITS = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(1000), "k"), (Decimal(1), ""))
# 999_500 rounds up to 1,000k: it is "1M" (the next unit from this share of it on).
_NEXT_UNIT_FROM = Decimal("0.9995")


def _decimal(value: float | Decimal) -> Decimal:
    """The float's shortest decimal form (0.1 is 0.1, not 0.1000000000000000055)."""
    return value if isinstance(value, Decimal) else Decimal(repr(float(value)))


def compact(value: float | Decimal, prefix: str = "") -> str:
    """Short number text for axes and bars: 0, 7.5, 950, 1.25k, 120k, 1.2M, -$3k."""
    number = _decimal(value)
    magnitude = abs(number)
    scaled, unit = magnitude, ""
    for size, suffix in _UNITS:
        if magnitude >= size * _NEXT_UNIT_FROM:
            scaled, unit = magnitude / size, suffix
            break
    digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
    shown = scaled.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    text = f"{shown:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    sign = "-" if number < 0 and text != "0" else ""
    return f"{sign}{prefix}{text}{unit}"


def percent(value: float | Decimal) -> str:
    """A percentage (87.5 for 87.5%) as the text shows it: 99.6 is 99%, short of 100."""
    return f"{rounding.percent(_decimal(value) / 100):,}%"
