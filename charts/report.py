"""A report spec to PDF bytes: one matplotlib Figure per page (never pyplot), the fonts
embedded as subsets (Chinese names and labels included), charts drawn as charts/draw.py
draws them for Slack."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from charts import draw
from charts.specs import ReportPage, ReportSpec, TablePage, TextPage

PAGE_IN = (11.69, 8.27)  # A4, landscape
LINES_PER_PAGE = 30
ROWS_PER_PAGE = 22


def render_report(spec: ReportSpec) -> bytes:
    """The PDF of the report, a page per figure."""
    buffer = BytesIO()
    meta = {"Title": spec.title, "Creator": "Pacer"}
    with (
        draw.drawing_lock(),
        matplotlib.rc_context(draw.rc()),
        PdfPages(buffer, metadata=meta) as pdf,
    ):
        for number, fig in enumerate(_figures(spec), 1):
            _footer(fig, spec, number)
            pdf.savefig(fig)
    return buffer.getvalue()


def _figures(spec: ReportSpec) -> Iterator[Figure]:
    for page in spec.pages:
        yield from _page(page)


def _page(page: ReportPage) -> Iterator[Figure]:
    if isinstance(page, TextPage):
        for start in range(0, max(len(page.lines), 1), LINES_PER_PAGE):
            yield _text_figure(page.title, page.lines[start : start + LINES_PER_PAGE])
        return
    if isinstance(page, TablePage):
        for start in range(0, max(len(page.rows), 1), ROWS_PER_PAGE):
            yield _table_figure(page, page.rows[start : start + ROWS_PER_PAGE])
        return
    fig = Figure(figsize=(draw.WIDTH_IN, draw.height_of(page)), dpi=draw.DPI)
    FigureCanvasAgg(fig)  # the chart measures its texts as it does for a PNG
    draw.draw_into(fig, page)
    yield fig


def _text_figure(title: str, lines: list[str]) -> Figure:
    fig = Figure(figsize=PAGE_IN)
    fig.text(0.05, 0.93, title, fontsize=draw.TITLE_PT + 2, va="top")  # text, not outlines
    for i, line in enumerate(lines):
        fig.text(0.05, 0.86 - i * 0.026, line, fontsize=draw.LABEL_PT - 1, va="top")
    return fig


def _table_figure(page: TablePage, rows: list[list[str]]) -> Figure:
    fig = Figure(figsize=PAGE_IN)
    fig.text(0.05, 0.93, page.title, fontsize=draw.TITLE_PT + 2, va="top")
    ax = fig.add_axes((0.05, 0.1, 0.9, 0.76))
    ax.axis("off")
    if rows:
        table = ax.table(cellText=rows, colLabels=page.columns, loc="upper left", cellLoc="left")
        table.auto_set_font_size(False)
        table.set_fontsize(draw.LABEL_PT - 2)
        table.scale(1, 1.4)
    if page.note:
        fig.text(0.05, 0.06, page.note, fontsize=draw.LABEL_PT - 2, color=draw.MUTED)
    return fig


def _footer(fig: Figure, spec: ReportSpec, number: int) -> None:
    text = f"{spec.footer} · {number}" if spec.footer else str(number)
    fig.text(0.97, 0.015, text, fontsize=9, color=draw.MUTED, ha="right", va="bottom")
