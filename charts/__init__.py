"""Charts: pure functions from numbers to PNG bytes (matplotlib Figure, never pyplot).

Drawing happens on one dedicated thread. Matplotlib caches fonts per thread, so drawing
from every request thread would keep one cache (and one malloc arena) per thread alive;
one drawing thread keeps memory flat. matplotlib is imported on the first chart, not here.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from charts.specs import ChartSpec, LeaderboardChart, ProgressChart

__all__ = ["ChartSpec", "LeaderboardChart", "ProgressChart", "render", "warm_up"]

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def render(spec: ChartSpec) -> bytes:
    """PNG bytes of the chart."""
    return _drawing_thread().submit(_draw, spec).result()


def warm_up() -> None:
    """Pay the first, slowest render (fonts, code paths) before the first request."""
    _drawing_thread().submit(_warm).result()


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
