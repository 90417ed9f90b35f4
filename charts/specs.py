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


@dataclass(frozen=True)
class FunnelChart:
    """The pipeline funnel: one centred bar per stage, widest at the top, its width the
    deals that reached the stage. `notes` are per-stage texts beside the bar (e.g. "15 ·
    $600k · 75%"); `bottleneck` is the index of the stage whose step to the next converts
    least (that bar is drawn in the warning colour), or None."""

    title: str
    stages: list[str]
    deals: list[float]
    notes: list[str] = field(default_factory=list)
    bottleneck: int | None = None
    alt_text: str = ""


@dataclass(frozen=True)
class TrendChart:
    """Months as bars, with the target of each month as a line where there is one.

    `months` are the x labels ("2026-07"); `actual` one value per month; `target` one per
    month or None where the month had no target. `notes` label each bar (e.g. "+12%")."""

    title: str
    months: list[str]
    actual: list[float]
    target: list[float | None] = field(default_factory=list)
    value_prefix: str = ""
    notes: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # keys: actual, target
    alt_text: str = ""


@dataclass(frozen=True)
class MixChart:
    """Shares of a total: horizontal bars, largest at the top, `notes` beside each bar
    (e.g. "$120k · 35%"). Values are amounts in display units."""

    title: str
    names: list[str]
    values: list[float]
    notes: list[str] = field(default_factory=list)
    value_prefix: str = ""
    alt_text: str = ""


@dataclass(frozen=True)
class WhyChart:
    """The deals behind a figure (/progress why): a bar for the deals counted, drawn in the
    accent colour, then one for each reason others were left out, in the order given. A
    bar's length is its number of deals (amounts in several currencies never share an
    axis); `notes` beside each bar give the count and the amounts (e.g. "12 deals ·
    $26,200")."""

    title: str
    names: list[str]
    deals: list[float]
    notes: list[str] = field(default_factory=list)
    alt_text: str = ""


ChartSpec = ProgressChart | LeaderboardChart | FunnelChart | TrendChart | MixChart | WhyChart


def kind(spec: ChartSpec) -> str:
    """What the chart is, for its file name: progress, leaderboard, funnel, trend, mix, why."""
    return type(spec).__name__.removesuffix("Chart").lower()


@dataclass(frozen=True)
class TextPage:
    """A page of lines: a heading, then the lines in order (a long list runs on over pages)."""

    title: str
    lines: list[str]


@dataclass(frozen=True)
class TablePage:
    """A page holding a table: column headings, then rows of cells, already formatted."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


ReportPage = TextPage | TablePage | ChartSpec


@dataclass(frozen=True)
class ReportSpec:
    """A multi-page PDF: one page per entry, charts drawn as the app draws them."""

    title: str
    pages: list[ReportPage]
    footer: str = ""
