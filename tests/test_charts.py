"""Charts render real PNGs, draw Chinese names as glyphs and never touch pyplot."""

from __future__ import annotations

import logging
import os
import struct
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import pytest
from matplotlib.font_manager import FontProperties, findfont, fontManager, get_font

from charts import ChartSpec, LeaderboardChart, ProgressChart, render
from charts import fonts as chart_fonts
from charts.draw import render_empty, render_leaderboard, render_progress, warm_up
from charts.fonts import CJK_FAMILY, LATIN_FAMILY, ensure_fonts
from charts.numbers import compact

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHINESE_NAMES = ["王芳", "李雷", "张伟"]
DAYS = [f"11-{day:02d}" for day in range(3, 25)]


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def progress(**changes: object) -> ProgressChart:
    fields: dict[str, object] = {
        "title": "Team progress",
        "days": DAYS,
        "actual": [1500.0 * (i + 1) for i in range(12)],
        "pace": [2000.0 * (i + 1) for i in range(len(DAYS))],
        "target": 44_000.0,
        "value_prefix": "$",
    }
    fields.update(changes)
    return ProgressChart(**fields)  # type: ignore[arg-type]


def leaderboard(**changes: object) -> LeaderboardChart:
    names = [*CHINESE_NAMES, "Alice", "Bob", "Carol", "Dmitri", "Eve", "Frank", "Grace"]
    names += ["Heidi", "Ivan"]
    fields: dict[str, object] = {
        "title": "排行榜 2026年11月",
        "names": names,
        "values": [130.0 - 10 * i for i in range(len(names))],
        "reference": 60.0,
        "highlight": frozenset({"Bob"}),
    }
    fields.update(changes)
    return LeaderboardChart(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("spec", [progress(), leaderboard()], ids=["progress", "leaderboard"])
def test_renders_a_large_png(spec: ChartSpec) -> None:
    width, height = png_size(render(spec))
    assert width >= 1000
    assert height >= 600


def test_render_dispatches_by_spec_type() -> None:
    assert render(progress()) == render_progress(progress())
    assert render(leaderboard()) == render_leaderboard(leaderboard())


def test_empty_figure_has_the_chart_size() -> None:
    assert png_size(render_empty()) == png_size(render(progress()))


def test_different_data_gives_different_images() -> None:
    assert render(progress()) != render(progress(actual=[900.0 * (i + 1) for i in range(12)]))
    assert render(leaderboard()) != render(leaderboard(values=[50.0] * 12))


def test_many_bars_grow_the_figure() -> None:
    names = [f"Rep {i}" for i in range(30)]
    many = leaderboard(names=names, values=[100.0 - i for i in range(30)])
    width, height = png_size(render(many))
    assert height > png_size(render(leaderboard()))[1]
    assert width >= 1000


@pytest.mark.parametrize(
    "spec",
    [
        progress(actual=[]),
        progress(target=0.0),
        progress(days=["11-03"], actual=[5.0], pace=[10.0], target=10.0),
        progress(actual=[0.0, 0.0], pace=[0.0] * len(DAYS), target=0.0),
        progress(days=[], actual=[], pace=[]),
        progress(actual=[1.0] * 40),
        progress(value_prefix="", actual=[1.0, 2.0], pace=[0.5] * 3, target=3.0),
        leaderboard(names=[], values=[]),
        leaderboard(names=["A"], values=[]),
        leaderboard(reference=None),
        leaderboard(reference=140.0),
        leaderboard(values=[0.0] * 12),
        leaderboard(
            percent=False,
            value_prefix="$",
            names=["王芳", "Alice", "Bob"],
            values=[120_000.0, 98_000.0, -2_000.0],
            notes=["$120k / $150k", "$98k / $100k"],
        ),
        leaderboard(names=["A very long name that certainly does not fit the margin"]),
    ],
)
def test_edge_cases_render(spec: ChartSpec) -> None:
    assert render(spec).startswith(PNG_SIGNATURE)


def test_chinese_text_renders_without_missing_glyphs(caplog: pytest.LogCaptureFixture) -> None:
    progress_labels = {"actual": "实际", "pace": "进度", "target": "目标", "today": "今天"}
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        render(leaderboard(labels={"pace": "进度", "target": "目标"}))
        render(progress(title="团队进度 2026年11月", labels=progress_labels))
    assert not [w for w in caught if "missing" in str(w.message)]
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")]


def test_cjk_family_has_chinese_glyphs_that_dejavu_lacks() -> None:
    assert ensure_fonts() == [LATIN_FAMILY, CJK_FAMILY]
    cjk = get_font(findfont(FontProperties(family=CJK_FAMILY), fallback_to_default=False))
    dejavu = get_font(findfont(FontProperties(family=LATIN_FAMILY)))
    for char in "王芳李雷张伟排行榜":
        assert cjk.get_char_index(ord(char)) != 0
        assert dejavu.get_char_index(ord(char)) == 0


def test_chinese_names_are_drawn_not_boxed() -> None:
    # Missing glyphs all draw the same empty box, so different names would give equal images.
    first = render(leaderboard(names=["王芳"], values=[80.0]))
    second = render(leaderboard(names=["李雷"], values=[80.0]))
    assert first != second


def test_ensure_fonts_registers_once() -> None:
    ensure_fonts()
    count = sum(entry.name == CJK_FAMILY for entry in fontManager.ttflist)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: ensure_fonts(), range(8)))
    assert all(result == results[0] for result in results)
    assert sum(entry.name == CJK_FAMILY for entry in fontManager.ttflist) == count


def test_missing_mplfonts_falls_back_to_dejavu(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(chart_fonts, "_families", None)
    monkeypatch.setattr(chart_fonts, "_cjk_font_path", lambda: None)
    with caplog.at_level(logging.WARNING, logger="charts.fonts"):
        assert ensure_fonts() == [LATIN_FAMILY]
    assert "not found" in caplog.text


def test_concurrent_renders_match_serial_ones() -> None:
    specs: list[ChartSpec] = [
        leaderboard(),
        progress(),
        leaderboard(values=[10.0] * 12),
        progress(actual=[]),
    ]
    expected = [render(spec) for spec in specs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(render, specs)) == expected


def test_global_rcparams_are_left_alone() -> None:
    keys: list[RcKeyType] = [
        "font.family",
        "font.size",
        "text.parse_math",
        "axes.spines.top",
        "figure.facecolor",
    ]
    before = {key: matplotlib.rcParams[key] for key in keys}
    render(leaderboard())
    warm_up()
    assert {key: matplotlib.rcParams[key] for key in keys} == before


@pytest.mark.parametrize(
    ("value", "prefix", "text"),
    [
        (0.0, "$", "$0"),
        (7.5, "", "7.5"),
        (950.0, "", "950"),
        (1250.0, "$", "$1.25k"),
        (120_000.0, "$", "$120k"),
        (1_200_000.0, "¥", "¥1.2M"),
        (999_960.0, "$", "$1M"),
        (-3000.0, "$", "-$3k"),
        (-0.001, "", "0"),
        (2.5e9, "", "2.5B"),
    ],
)
def test_compact_numbers(value: float, prefix: str, text: str) -> None:
    assert compact(value, prefix) == text


def test_charts_never_import_pyplot() -> None:
    code = (
        "import sys, charts\n"
        "spec = charts.LeaderboardChart(title='t', names=['王芳'], values=[50.0])\n"
        "assert charts.render(spec).startswith(b'\\x89PNG')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_a_frozen_server_process_frees_each_figure_after_drawing_it() -> None:
    # The server freezes its start-up objects; then no figure (and no multi-MB renderer)
    # may outlive its chart. Run apart: freezing would change this test process for others.
    code = (
        "import gc, charts\n"
        "from charts.specs import LeaderboardChart\n"
        "from matplotlib.figure import Figure\n"
        "charts.warm_up(); gc.collect(); gc.freeze()\n"
        "spec = LeaderboardChart(title='t', names=['王芳', 'Ann'], values=[80.0, 40.0])\n"
        "for _ in range(5): charts.render(spec)\n"
        "charts._drawing_thread().submit(lambda: None).result()  # the queued collection ran\n"
        "alive = [o for o in gc.get_objects() if isinstance(o, Figure)]\n"
        "assert alive == [], len(alive)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
