"""Charts: pure functions from numbers to PNG bytes (matplotlib Figure, never pyplot)."""

from charts.render import render
from charts.specs import ChartSpec, LeaderboardChart, ProgressChart

__all__ = ["ChartSpec", "LeaderboardChart", "ProgressChart", "render"]
