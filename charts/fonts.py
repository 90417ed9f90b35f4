"""Font families for charts: DejaVu Sans for Latin text, Noto Sans CJK SC for Chinese names."""

from __future__ import annotations

import importlib.util
import logging
import threading
from pathlib import Path

from matplotlib import font_manager

logger = logging.getLogger(__name__)

LATIN_FAMILY = "DejaVu Sans"
CJK_FAMILY = "Noto Sans CJK SC"
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"

_lock = threading.Lock()
_families: tuple[str, ...] | None = None


def ensure_fonts() -> list[str]:
    """Register the CJK font once and return the family list for per-glyph fallback.

    DejaVu comes first so Latin text and digits keep matplotlib's usual look;
    matplotlib falls back to the next family only for glyphs DejaVu lacks.
    """
    families = _families
    if families is None:
        families = _register_once()
    return list(families)


def _register_once() -> tuple[str, ...]:
    global _families
    with _lock:
        if _families is None:
            _families = _register()
        return _families


def _register() -> tuple[str, ...]:
    path = _cjk_font_path()
    if path is None:
        logger.warning("mplfonts font %s not found: Chinese text will not render", CJK_FONT_FILE)
        return (LATIN_FAMILY,)
    try:
        font_manager.fontManager.addfont(str(path))
    except (OSError, RuntimeError, ValueError):
        logger.warning("Could not load %s: Chinese text will not render", path, exc_info=True)
        return (LATIN_FAMILY,)
    return (LATIN_FAMILY, CJK_FAMILY)


def _cjk_font_path() -> Path | None:
    # find_spec locates the package without importing it: mplfonts' __init__
    # pulls in fontTools, and its helpers rewrite global rcParams.
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    for package_dir in spec.submodule_search_locations:
        path = Path(package_dir) / "fonts" / CJK_FONT_FILE
        if path.is_file():
            return path
    return None
