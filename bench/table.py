"""The results table: one row per figure, with its target and PASS/FAIL where it has one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

HEADERS = ("metric", "value", "target", "result")


@dataclass(frozen=True)
class Row:
    metric: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: a figure for information, without a target

    @property
    def result(self) -> str:
        if self.ok is None:
            return ""
        return "PASS" if self.ok else "FAIL"


def ms(seconds: float) -> str:
    if seconds < 0.001:  # a query of a small team: tenths of a millisecond say nothing
        return f"{seconds * 1000:.3f} ms"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def mb(size_bytes: float) -> str:
    return f"{size_bytes / 2**20:.0f} MB"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def format_table(rows: Sequence[Row]) -> str:
    cells = [HEADERS, *((r.metric, r.value, r.target, r.result) for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADERS))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(c) for c in cells[1:])])


def failures(rows: Sequence[Row]) -> list[Row]:
    return [r for r in rows if r.ok is False]


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * pct / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
