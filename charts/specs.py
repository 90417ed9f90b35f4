"""What a chart shows: plain numbers and already-translated words, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgressChart:
    """Cumulative actual against target over a period's working days, with the pace line.

    `days` are the x labels (one per working day of the period, e.g. "11-03");
    `actual` holds the cumulative actual for each elapsed day (it may be shorter
    than `days`: the future has no actual); `pace` holds the expected cumulative
    value for every day (target x elapsed / total). Values are in display units
    (currency units or counts) as floats: charts only draw, they never compute money.
    """

    title: str
    days: list[str]
    actual: list[float]
    pace: list[float]
    target: float
    value_prefix: str = ""  # e.g. "$" or "¥"; "" for counts
    labels: dict[str, str] = field(default_factory=dict)  # keys: actual, pace, target, today
    alt_text: str = ""


@dataclass(frozen=True)
class LeaderboardChart:
    """Horizontal bars, best at the top.

    With `percent=True` values are attainment percentages (e.g. 87.5) and a
    `reference` line (the pace-expected percentage to date) and a 100% line are
    drawn; otherwise values are amounts or counts. `highlight` marks names (the
    caller) drawn in the accent colour. `notes` are per-bar texts shown at the
    end of each bar (e.g. "¥120k / ¥150k").
    """

    title: str
    names: list[str]
    values: list[float]
    percent: bool = True
    reference: float | None = None
    value_prefix: str = ""
    notes: list[str] = field(default_factory=list)
    highlight: frozenset[str] = frozenset()
    labels: dict[str, str] = field(default_factory=dict)  # keys: pace, target
    alt_text: str = ""


ChartSpec = ProgressChart | LeaderboardChart
