"""What users read, built from the catalogs, for tests to compare replies with."""

from __future__ import annotations

from typing import Any

from commands.i18n import t
from commands.registry import REGISTRY


def usage_line(command: str, text: str = "", locale: str = "en") -> str:
    """The line a bad input ends with: the usage and example of the command typed."""
    found = REGISTRY.resolve(command, text)
    assert found is not None, command
    node, _ = found
    assert node.command is not None, f"{command} {text} names no command"
    example = t(locale, node.command.example_key)
    return t(locale, "help.usage", usage=node.command.usage(), example=example)


def bad_input(command: str, text: str, key: str, locale: str = "en", **values: Any) -> str:
    """The answer to bad input: the problem, then how the command typed is used."""
    return f"{t(locale, key, **values)}\n{usage_line(command, text, locale)}"
