"""Charts: pure functions from numbers to PNG bytes (matplotlib Figure, never pyplot).

A server draws in processes of its own (bot.work.Drawer) and keeps what it drew by what it
shows (charts.cache). Within a process, drawing happens on one dedicated thread. Matplotlib
caches fonts per thread, so drawing from every request thread would keep one cache (and one
malloc arena) per thread alive; one drawing thread keeps memory flat. matplotlib is
imported on the first chart, not here.

A drawn figure is a web of reference cycles (figure, canvas, axes, texts; every text keeps
the renderer and its pixel buffer of several MB), so only the cyclic garbage collector frees
it. On the collector's own schedule about ten dead figures were alive at any time, and a
server's resident memory kept growing for its first hundred replies (to ~60 MB more than
it needed). So in a process that froze its long-lived objects at start (the server does,
in bot.cli.warm_up_charts, and each drawing process in warm_up_worker) the drawing thread
collects after each chart, once the caller has its PNG; that costs a few ms. Elsewhere
(console, tests, scripts) a collection walks every object (~80 ms) and the collector keeps
its own schedule.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from charts.cache import PngCache, cache_key
from charts.specs import ChartSpec, LeaderboardChart, ProgressChart, ReportSpec

__all__ = [
    "ChartSpec",
    "LeaderboardChart",
    "PngCache",
    "ProgressChart",
    "cache_key",
    "render",
    "render_report",
    "warm_up",
    "warm_up_worker",
]

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def render(spec: ChartSpec) -> bytes:
    """PNG bytes of the chart."""
    thread = _drawing_thread()
    png = thread.submit(_draw, spec)
    if gc.get_freeze_count():
        thread.submit(gc.collect)  # after the drawing, off the caller's wait
    return png.result()


def render_report(spec: ReportSpec) -> bytes:
    """PDF bytes of a report, drawn on the drawing thread as every chart is."""
    return _drawing_thread().submit(_draw_report, spec).result()


def _draw_report(spec: ReportSpec) -> bytes:
    """A report is a burst of a dozen figures and their buffers: once it is drawn, the
    cycles are collected and the freed memory handed back to the system (glibc keeps it
    otherwise, and a server's memory would stay at its peak after each report)."""
    from charts import report

    try:
        return report.render_report(spec)
    finally:
        gc.collect()
        _trim()


def _trim() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to hand back
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def warm_up() -> None:
    """Pay the first, slowest render (fonts, code paths) before the first request."""
    _drawing_thread().submit(_warm).result()


def warm_up_worker(niceness: int = 0) -> None:
    """A drawing process's start: lower its priority by `niceness` (see os.nice), warm up,
    then freeze its start-up objects, so that the collection after each chart (on its
    drawing thread, as above) walks only the chart's."""
    if niceness:
        os.nice(niceness)
    warm_up()
    gc.collect()
    gc.freeze()


def _drawing_thread() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="charts")
        return _executor


def _draw(spec: ChartSpec) -> bytes:
    from charts import draw

    return draw.render(spec)


def _warm() -> None:
    from charts import draw

    draw.warm_up()
