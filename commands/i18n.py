"""Message catalogs (commands/locales/*.toml), chosen by the user's Slack locale."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    """`{lang}.toml` and every `{lang}.*.toml` beside it (one file per feature), merged."""
    merged: dict[str, str] = {}
    for path in [LOCALES / f"{lang}.toml", *sorted(LOCALES.glob(f"{lang}.*.toml"))]:
        with path.open("rb") as fh:
            part = _flatten(tomllib.load(fh))
        if clash := merged.keys() & part.keys():
            raise ValueError(f"{path.name} repeats keys: {sorted(clash)}")
        merged.update(part)
    return merged


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def language(locale: str | None) -> str:
    """Slack locales look like en-US or zh-CN; anything Chinese reads the zh catalog."""
    return "zh" if (locale or "").lower().startswith("zh") else DEFAULT


def t(locale: str | None, key: str, **values: Any) -> str:
    text = catalog(language(locale)).get(key) or catalog(DEFAULT)[key]
    return text.format(**values) if values else text


def babel_locale(locale: str | None) -> str:
    return "zh_Hans_CN" if language(locale) == "zh" else "en_US"
