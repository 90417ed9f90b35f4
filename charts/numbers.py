"""Short number texts for chart axes and bar ends (no matplotlib: commands use them too)."""

from __future__ import annotations

_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "k"), (1.0, ""))


def compact(value: float, prefix: str = "") -> str:
    """Short number text for axes and bars: 0, 7.5, 950, 1.25k, 120k, 1.2M, -$3k."""
    magnitude = abs(value)
    scaled, unit = magnitude, ""
    for size, suffix in _UNITS:
        # 0.9995 so that 999_960 reads "1M", not "1000k".
        if magnitude >= size * 0.9995:
            scaled, unit = magnitude / size, suffix
            break
    digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
    text = f"{scaled:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    sign = "-" if value < 0 and text != "0" else ""
    return f"{sign}{prefix}{text}{unit}"


def percent(value: float) -> str:
    return f"{value:.0f}%"
