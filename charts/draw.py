"""Chart specs to PNG bytes with matplotlib's object API (Figure + Agg canvas), never pyplot.

Margins are fixed with subplots_adjust: tight_layout and bbox_inches="tight"
each cost an extra full draw, which would dominate the render time.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from io import BytesIO
from typing import TYPE_CHECKING, Any, cast

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patheffects import AbstractPathEffect, withStroke
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import Transform, blended_transform_factory, offset_copy

from charts.fonts import ensure_fonts
from charts.numbers import compact, percent
from charts.specs import (
    ChartSpec,
    FunnelChart,
    LeaderboardChart,
    MixChart,
    ProgressChart,
    TrendChart,
    WhyChart,
)

if TYPE_CHECKING:
    from matplotlib.typing import LineStyleType, RcKeyType

WIDTH_IN = 8.0
HEIGHT_IN = 5.0
DPI = 150

# Okabe-Ito colours: they stay distinguishable with the common colour-vision deficiencies.
ACTUAL = "#0072B2"
BAR = "#56B4E9"
SUCCESS = "#009E73"
ACCENT = "#E69F00"
TARGET = "#D55E00"
PACE = "#333333"
INK = "#1A1A1A"
MUTED = "#666666"
GRID = "#DDDDDD"

TITLE_PT = 17.0
TICK_PT = 12.0
LABEL_PT = 12.0
TITLE_TOP_IN = 0.22
PACE_DASHES = (0, (5, 3))
# Keeps labels readable where they cross a pace or target line.
TEXT_BOX = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}

PROGRESS_LABELS = {"actual": "Actual", "pace": "Pace", "target": "Target", "today": "Today"}
LEADERBOARD_LABELS = {"pace": "Pace", "target": "Target"}
NO_DATA = "No data"
MAX_NAME_CHARS = 22

# Matplotlib's font caches and rcParams are not thread-safe: one chart at a time.
_lock = threading.Lock()


def draw_into(fig: Figure, spec: ChartSpec) -> None:
    """Draw the chart on `fig` (a page of a report; the size of its own figure)."""
    if isinstance(spec, ProgressChart):
        _draw_progress(fig, spec)
    elif isinstance(spec, FunnelChart):
        _draw_funnel(fig, spec)
    elif isinstance(spec, TrendChart):
        _draw_trend(fig, spec)
    else:
        _draw_leaderboard(fig, _bars(spec))


def drawing_lock() -> threading.Lock:
    """The one lock every drawing holds (matplotlib's caches are not thread-safe)."""
    return _lock


def rc() -> dict[RcKeyType, Any]:
    return _rc()


def bold(colour: str = INK) -> list[AbstractPathEffect]:
    return _bold(colour)


def render(spec: ChartSpec) -> bytes:
    """PNG bytes for any chart spec."""
    if isinstance(spec, ProgressChart):
        return render_progress(spec)
    if isinstance(spec, FunnelChart):
        return render_funnel(spec)
    if isinstance(spec, TrendChart):
        return render_trend(spec)
    return render_leaderboard(_bars(spec))


def height_of(spec: ChartSpec) -> float:
    """The figure height the chart is drawn at (inches)."""
    if isinstance(spec, LeaderboardChart | MixChart | WhyChart):
        return _leaderboard_height(len(spec.names))
    return HEIGHT_IN


def render_progress(spec: ProgressChart) -> bytes:
    with _figure(HEIGHT_IN) as fig:
        _draw_progress(fig, spec)
        return _png(fig)


def render_leaderboard(spec: LeaderboardChart) -> bytes:
    with _figure(_leaderboard_height(len(spec.names))) as fig:
        _draw_leaderboard(fig, spec)
        return _png(fig)


def render_empty() -> bytes:
    """An empty figure of the standard size: the floor for any chart's render time."""
    with _figure(HEIGHT_IN) as fig:
        return _png(fig)


# Common Chinese surnames and name characters, and the Latin alphabet: the glyphs most
# names are made of, cached by the warm-up instead of by the first requests.
_WARM_NAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩晨欣怡佳琪子轩梓涵雨"
)
_WARM_LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789$¥€£%·—…:,."


def warm_up() -> None:
    """Draw full-size charts once: fonts, glyphs, code paths and buffers reach their working
    size before the first request, so neither its time nor the memory after it is an outlier."""
    chunks = [_WARM_NAMES[i : i + 3] for i in range(0, len(_WARM_NAMES), 3)]
    latin = [_WARM_LATIN[i : i + 12] for i in range(0, len(_WARM_LATIN), 12)]
    names = (chunks + latin)[:30]
    values = [150.0 - 5 * i for i in range(len(names))]
    notes = [f"{v:.0f}%  $1.2M ¥8万" for v in values]
    render(
        LeaderboardChart(
            title="预热 warm-up · 2026-11", names=names, values=values, reference=60.0, notes=notes
        )
    )
    render(LeaderboardChart(title="预热", names=names[:12], values=values[:12], notes=notes[:12]))
    days = [f"11-{d:02d}" for d in range(1, 24)]
    render(
        ProgressChart(
            title="预热 warm-up",
            days=days,
            actual=[float(i * 1000) for i in range(15)],
            pace=[float(i * 1200) for i in range(23)],
            target=27600.0,
            value_prefix="¥",
        )
    )


# --- figure plumbing -------------------------------------------------------------------


@contextmanager
def _figure(height_in: float) -> Iterator[Figure]:
    with _lock, matplotlib.rc_context(_rc()):
        fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI)
        FigureCanvasAgg(fig)
        yield fig


def _rc() -> dict[RcKeyType, Any]:
    return {
        # Layout engines redraw the figure; margins are fixed instead.
        "figure.autolayout": False,
        "figure.constrained_layout.use": False,
        "font.family": ensure_fonts(),
        "font.size": TICK_PT,
        # Spec texts are words and money ("$120k / $150k"), never TeX.
        "text.parse_math": False,
        "text.color": INK,
        "axes.edgecolor": INK,
        "axes.linewidth": 1.2,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": INK,
        "ytick.color": INK,
        "xtick.labelsize": TICK_PT,
        "ytick.labelsize": TICK_PT,
        "xtick.major.width": 1.2,
        "ytick.major.width": 1.2,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
    }


def _png(fig: Figure) -> bytes:
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _renderer(fig: Figure) -> RendererAgg:
    # Cached on the canvas and reused by savefig, so measuring text costs no extra buffer.
    return cast(FigureCanvasAgg, fig.canvas).get_renderer()


def _text_px(fig: Figure, text: str, size: float) -> float:
    prop = FontProperties(family=ensure_fonts(), size=size)
    width, _, _ = _renderer(fig).get_text_width_height_descent(text, prop, ismath=False)
    return float(width)


def _bold(colour: str) -> list[AbstractPathEffect]:
    # A thin outline instead of fontweight="bold": the CJK font has no bold face, and
    # mixing DejaVu Bold with Noto Regular in one string looks broken.
    return [withStroke(linewidth=0.7, foreground=colour)]


def _title(fig: Figure, title: str) -> None:
    height_in = fig.get_figheight()
    y = 1 - TITLE_TOP_IN / height_in
    fig.text(0.03, y, title, ha="left", va="top", fontsize=TITLE_PT, path_effects=_bold(INK))


def _no_data(fig: Figure, text: str) -> None:
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=TITLE_PT, color=MUTED)


def _margins(fig: Figure, top_in: float, bottom_in: float, left: float, right: float) -> None:
    height_in = fig.get_figheight()
    fig.subplots_adjust(
        left=left, right=right, top=1 - top_in / height_in, bottom=bottom_in / height_in
    )


def _points(fig: Figure, base: Transform, x: float = 0, y: float = 0) -> Transform:
    return offset_copy(base, fig=fig, x=x, y=y, units="points")


# --- progress chart --------------------------------------------------------------------


def _draw_progress(fig: Figure, spec: ProgressChart) -> None:
    labels = {**PROGRESS_LABELS, **spec.labels}
    _title(fig, spec.title)
    days = spec.days
    if not days:
        _no_data(fig, labels.get("no_data", NO_DATA))
        return
    _margins(fig, top_in=0.8, bottom_in=1.0, left=0.11, right=0.97)
    ax = fig.add_subplot()
    actual = list(spec.actual[: len(days)])
    pace = list(spec.pace[: len(days)])
    _progress_axes(ax, spec, actual, pace)
    _day_ticks(fig, ax, days)
    handles = _progress_lines(ax, spec, actual, pace, labels)
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.54, 0.0),
        ncol=len(handles),
        frameon=False,
        fontsize=LABEL_PT,
        handlelength=2.4,
        columnspacing=1.6,
    )


def _progress_axes(ax: Axes, spec: ProgressChart, actual: list[float], pace: list[float]) -> None:
    values = [*actual, *pace, spec.target, 0.0]
    top = max(values)
    bottom = min(values)
    if top - bottom <= 0:
        top = 1.0
    ax.set_ylim(bottom, top + (top - bottom) * 0.12)
    last = len(spec.days) - 1
    pad = 0.5 if last == 0 else last * 0.02
    ax.set_xlim(-pad, last + pad)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v, spec.value_prefix)))
    ax.grid(axis="y", color=GRID, linewidth=1.0)
    ax.set_axisbelow(True)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0, pad=6)


def _day_ticks(fig: Figure, ax: Axes, days: Sequence[str]) -> None:
    longest = max(days, key=len)
    label_px = _text_px(fig, longest, TICK_PT) + 0.25 * DPI
    axes_px = ax.get_position().width * fig.get_figwidth() * DPI
    most = max(2, min(8, int(axes_px // label_px)))
    ticks = _thinned(len(days), most)
    ax.set_xticks(ticks, [days[i] for i in ticks])


def _thinned(count: int, most: int) -> list[int]:
    """At most about `most` evenly spaced indices, always the first, the last when it fits."""
    step = max(1, math.ceil(count / most))
    ticks = list(range(0, count, step))
    if count - 1 - ticks[-1] >= step * 0.75:
        ticks.append(count - 1)
    return ticks


def _progress_lines(
    ax: Axes, spec: ProgressChart, actual: list[float], pace: list[float], labels: dict[str, str]
) -> list[Line2D]:
    handles: list[Line2D] = []
    if actual:
        xs = range(len(actual))
        ax.fill_between(xs, actual, color=ACTUAL, alpha=0.12, linewidth=0)
        handles += ax.plot(xs, actual, color=ACTUAL, linewidth=3.5, label=labels["actual"])
    if pace:
        handles += ax.plot(
            range(len(pace)),
            pace,
            color=PACE,
            linewidth=2.2,
            linestyle=PACE_DASHES,
            label=labels["pace"],
        )
    if spec.target > 0:
        handles.append(_target_line(ax, spec, labels["target"]))
    if actual:
        handles.append(_today(ax, spec, actual, pace, labels["today"]))
    return handles


def _target_line(ax: Axes, spec: ProgressChart, label: str) -> Line2D:
    line = ax.axhline(spec.target, color=TARGET, linewidth=2.2, label=label)
    text = f"{label} {compact(spec.target, spec.value_prefix)}"
    ax.annotate(
        text,
        xy=(0.0, spec.target),
        xycoords=ax.get_yaxis_transform(),
        xytext=(4, 4),
        textcoords="offset points",
        ha="left",
        va="bottom",
        color=TARGET,
        fontsize=LABEL_PT,
        path_effects=_bold(TARGET),
    )
    return line


def _today(
    ax: Axes, spec: ProgressChart, actual: list[float], pace: list[float], label: str
) -> Line2D:
    x, y = len(actual) - 1, actual[-1]
    (marker,) = ax.plot(
        [x],
        [y],
        "o",
        markersize=11,
        color=ACTUAL,
        markeredgecolor="white",
        markeredgewidth=2,
        label=label,
        zorder=5,
    )
    dx, dy = _today_offset(ax, spec, x, y, pace)
    ax.annotate(
        f"{label}: {compact(y, spec.value_prefix)}",
        xy=(x, y),
        xytext=(dx, dy),
        textcoords="offset points",
        ha="left" if dx > 0 else "right",
        va="bottom" if dy > 0 else "center",
        fontsize=LABEL_PT,
        color=ACTUAL,
        path_effects=_bold(ACTUAL),
        bbox=TEXT_BOX,
        zorder=6,
    )
    return marker


def _today_offset(
    ax: Axes, spec: ProgressChart, x: int, y: float, pace: list[float]
) -> tuple[float, float]:
    """Offset (points) of the today label, placed where the lines are not.

    The cumulative actual only rises towards the point and the pace line rises
    to the right, so: right of the point and level when behind pace (pace is
    above); above-right when ahead (pace is below); on the last days, to the
    left and a little up, which stays above the actual line.
    """
    if x / max(1, len(spec.days) - 1) > 0.7:
        return (-14.0, 6.0)
    behind = x < len(pace) and y < pace[x]
    low, high = ax.get_ylim()
    near_top = (y - low) / (high - low) > 0.85
    return (14.0, 0.0) if behind or near_top else (12.0, 12.0)


# --- leaderboard chart -----------------------------------------------------------------

Mark = tuple[float, str, float]  # x, text drawn to its right, font size

LEADER_TOP_IN = 0.85
LEADER_BOTTOM_IN = 0.5
LEADER_MIN_ROWS = 5


def _leaderboard_height(count: int) -> float:
    row_in = 0.3 if count <= 12 else 0.26
    return max(HEIGHT_IN, LEADER_TOP_IN + LEADER_BOTTOM_IN + count * row_in)


def _name_pt(count: int) -> float:
    return 13.0 if count <= 12 else max(10.5, 13.0 - (count - 12) * 0.2)


def _draw_leaderboard(fig: Figure, spec: LeaderboardChart) -> None:
    labels = {**LEADERBOARD_LABELS, **spec.labels}
    _title(fig, spec.title)
    if not spec.names:
        _no_data(fig, labels.get("no_data", NO_DATA))
        return
    count = len(spec.names)
    names = [_shorten(name) for name in spec.names]
    values = [float(v) for v in spec.values[:count]] + [0.0] * (count - len(spec.values))
    name_pt = _name_pt(count)
    left = _name_margin(fig, names, name_pt)
    _margins(fig, top_in=LEADER_TOP_IN, bottom_in=LEADER_BOTTOM_IN, left=left, right=0.97)
    ax = fig.add_subplot()
    texts = [_bar_text(spec, i, v) for i, v in enumerate(values)]
    marks = [(v, text, name_pt - 1) for v, text in zip(values, texts, strict=True)]
    _bar_axes(fig, ax, spec, values, marks + _line_marks(spec, labels))
    ax.barh(range(count), values, height=0.68, color=_bar_colours(spec, values), zorder=2)
    _bar_labels(fig, ax, spec, values, texts, name_pt)
    _name_ticks(ax, spec, names, name_pt)
    if spec.percent:
        _percent_lines(fig, ax, spec, labels)


def _line_marks(spec: LeaderboardChart, labels: dict[str, str]) -> list[Mark]:
    if not spec.percent:
        return []
    marks = [(100.0, labels["target"], LABEL_PT)]
    if spec.reference is not None:
        marks.append((spec.reference, labels["pace"], LABEL_PT))
    return marks


def _shorten(name: str) -> str:
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def _name_margin(fig: Figure, names: list[str], size: float) -> float:
    widest = max(_text_px(fig, name, size) for name in names)
    width_px = fig.get_figwidth() * DPI
    return min(0.42, max(0.08, (widest + 0.2 * DPI) / width_px))


def _bar_text(spec: LeaderboardChart, index: int, value: float) -> str:
    if index < len(spec.notes) and spec.notes[index]:
        return spec.notes[index]
    return percent(value) if spec.percent else compact(value, spec.value_prefix)


def _bar_colours(spec: LeaderboardChart, values: list[float]) -> list[str]:
    def colour(name: str, value: float) -> str:
        if name in spec.highlight:
            return ACCENT
        return SUCCESS if spec.percent and value >= 100 else BAR

    return [colour(name, value) for name, value in zip(spec.names, values, strict=False)]


def _bar_axes(
    fig: Figure, ax: Axes, spec: LeaderboardChart, values: list[float], marks: list[Mark]
) -> None:
    count = len(values)
    low = min(0.0, *values)
    ax.set_xlim(low, low + _x_span(fig, ax, marks, low))
    spare = max(0, LEADER_MIN_ROWS - count) / 2
    ax.set_ylim(count - 0.5 + spare, -0.5 - spare)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    formatter = percent if spec.percent else (lambda v: compact(v, spec.value_prefix))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: formatter(v)))
    ax.grid(axis="x", color=GRID, linewidth=1.0)
    ax.set_axisbelow(True)
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="x", length=0, pad=6)


def _x_span(fig: Figure, ax: Axes, marks: list[Mark], low: float) -> float:
    """Data width from `low` so every mark's text, drawn right of its x, fits in the axes."""
    axes_px = ax.get_position().width * fig.get_figwidth() * DPI
    span = 1.0
    for x, text, size in marks:
        text_px = _text_px(fig, text, size) + 0.15 * DPI
        share = min(0.6, text_px / axes_px)
        span = max(span, (max(x, 0.0) - low) / (1 - share))
    return span


def _bar_labels(
    fig: Figure,
    ax: Axes,
    spec: LeaderboardChart,
    values: list[float],
    texts: list[str],
    name_pt: float,
) -> None:
    transform = _points(fig, ax.transData, x=6)
    for row, (name, value, text) in enumerate(zip(spec.names, values, texts, strict=False)):
        ax.text(
            max(value, 0.0),
            row,
            text,
            transform=transform,
            ha="left",
            va="center",
            fontsize=name_pt - 1,
            path_effects=_bold(INK) if name in spec.highlight else None,
            bbox=TEXT_BOX,
            zorder=4,
        )


def _name_ticks(ax: Axes, spec: LeaderboardChart, names: list[str], name_pt: float) -> None:
    ax.set_yticks(range(len(names)), names)
    ax.tick_params(axis="y", length=0, pad=8, labelsize=name_pt)
    for label, name in zip(ax.get_yticklabels(), spec.names, strict=False):
        if name in spec.highlight:
            label.set_path_effects(_bold(INK))


def _percent_lines(fig: Figure, ax: Axes, spec: LeaderboardChart, labels: dict[str, str]) -> None:
    reference = spec.reference
    pace_first = reference is not None and reference <= 100
    target_ha = "center" if reference is None else ("left" if pace_first else "right")
    _vline(fig, ax, 100.0, labels["target"], TARGET, "solid", target_ha)
    if reference is not None:
        pace_ha = "right" if pace_first else "left"
        _vline(fig, ax, reference, labels["pace"], PACE, PACE_DASHES, pace_ha)


def _vline(
    fig: Figure, ax: Axes, x: float, label: str, colour: str, style: LineStyleType, ha: str
) -> None:
    ax.axvline(x, color=colour, linewidth=2.2, linestyle=style, zorder=3)
    nudge = {"left": 3.0, "right": -3.0, "center": 0.0}[ha]
    base = blended_transform_factory(ax.transData, ax.transAxes)
    transform = _points(fig, base, x=nudge, y=4)
    ax.text(
        x,
        1.0,
        label,
        transform=transform,
        ha=ha,
        va="bottom",
        color=colour,
        fontsize=LABEL_PT,
        path_effects=_bold(colour),
    )


# --- funnel chart ------------------------------------------------------------------------


def render_funnel(spec: FunnelChart) -> bytes:
    with _figure(HEIGHT_IN) as fig:
        _draw_funnel(fig, spec)
        return _png(fig)


def _draw_funnel(fig: Figure, spec: FunnelChart) -> None:
    _title(fig, spec.title)
    if not spec.stages or not any(spec.deals):
        _no_data(fig, NO_DATA)
        return
    count = len(spec.stages)
    left = _name_margin(fig, spec.stages, LABEL_PT + 1)
    _margins(fig, top_in=LEADER_TOP_IN, bottom_in=0.3, left=left, right=0.97)
    ax = fig.add_subplot()
    widest = max(spec.deals)
    # Centred on 0; the right half leaves room for the notes.
    ax.set_xlim(-widest * 0.55, widest * 1.6)
    ax.set_ylim(count - 0.5, -0.5)
    colours = [ACTUAL if i != spec.bottleneck else TARGET for i in range(count)]
    colours[-1] = SUCCESS if spec.bottleneck != count - 1 else TARGET
    lefts = [-v / 2 for v in spec.deals]
    ax.barh(range(count), spec.deals, left=lefts, height=0.72, color=colours, zorder=2)
    transform = _points(fig, ax.transData, x=8)
    for row, (value, note) in enumerate(zip(spec.deals, spec.notes, strict=False)):
        ax.text(
            max(value / 2, widest * 0.02),
            row,
            note,
            transform=transform,
            ha="left",
            va="center",
            fontsize=LABEL_PT,
            color=TARGET if row == spec.bottleneck else INK,
            path_effects=_bold(TARGET) if row == spec.bottleneck else None,
            bbox=TEXT_BOX,
            zorder=4,
        )
    ax.set_yticks(range(count), spec.stages)
    ax.tick_params(axis="y", length=0, pad=8, labelsize=LABEL_PT + 1)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)


# --- trend chart -------------------------------------------------------------------------

TREND_LABELS = {"actual": "Actual", "target": "Target"}


def render_trend(spec: TrendChart) -> bytes:
    with _figure(HEIGHT_IN) as fig:
        _draw_trend(fig, spec)
        return _png(fig)


def _draw_trend(fig: Figure, spec: TrendChart) -> None:
    labels = {**TREND_LABELS, **spec.labels}
    _title(fig, spec.title)
    if not spec.months:
        _no_data(fig, NO_DATA)
        return
    _margins(fig, top_in=0.8, bottom_in=1.0, left=0.11, right=0.97)
    ax = fig.add_subplot()
    xs = list(range(len(spec.months)))
    actual = [float(v) for v in spec.actual[: len(xs)]]
    targets = [t for t in spec.target[: len(xs)] if t is not None]
    top = max([*actual, *targets, 0.0]) or 1.0
    ax.set_ylim(0, top * 1.18)
    ax.set_xlim(-0.6, len(xs) - 0.4)
    handles: list[Any] = [ax.bar(xs, actual, width=0.62, color=BAR, label=labels["actual"])]
    # Each month's own target across its bar: months are not a continuum to draw a slope in.
    marks = [(x, t) for x, t in zip(xs, spec.target, strict=False) if t is not None]
    for x, t in marks:
        (line,) = ax.plot([x - 0.42, x + 0.42], [t, t], color=TARGET, linewidth=3.0, zorder=3)
    if marks:
        line.set_label(labels["target"])
        handles.append(line)
    transform = _points(fig, ax.transData, y=4)
    for x, value, note in zip(xs, actual, spec.notes, strict=False):
        ax.text(
            x, value, note, transform=transform, ha="center", va="bottom", fontsize=LABEL_PT - 1
        )
    ax.set_xticks(xs, spec.months)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: compact(v, spec.value_prefix)))
    ax.grid(axis="y", color=GRID, linewidth=1.0)
    ax.set_axisbelow(True)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0, pad=6)
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.54, 0.0),
        ncol=len(handles),
        frameon=False,
        fontsize=LABEL_PT,
    )


# --- mix and why charts ----------------------------------------------------------------


def _bars(spec: LeaderboardChart | MixChart | WhyChart) -> LeaderboardChart:
    """Mix and why charts are drawn as the leaderboard's amount bars, in the order given:
    the same look. A mix's shares come largest first; a why's bars are counts of deals,
    the counted deals' bar (the first) in the accent colour."""
    if isinstance(spec, LeaderboardChart):
        return spec
    if isinstance(spec, WhyChart):
        values, prefix, accent = spec.deals, "", frozenset(spec.names[:1])
    else:
        values, prefix, accent = spec.values, spec.value_prefix, frozenset()
    return LeaderboardChart(
        title=spec.title,
        names=spec.names,
        values=values,
        percent=False,
        value_prefix=prefix,
        notes=spec.notes,
        highlight=accent,
        alt_text=spec.alt_text,
    )
