"""Tab completion at the console prompt: console commands and slash-command paths.

`candidates` is pure (what may follow the line typed so far); `install` hooks it into
readline, where there is one (not on every platform).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

from commands import registry

Complete = Callable[[str], list[str]]


def command_paths() -> list[str]:
    """Every slash command with its sub-commands, e.g. "/deal list", "/pacer setup team add"."""
    return registry.command_paths()


def candidates(line: str, words: Iterable[str], paths: Iterable[str]) -> list[str]:
    """The words that can complete the last word of `line` (empty if the line ends in a
    space: then the next word). A console command or a path's first word at the start of
    the line, a path's next word after its head."""
    typed = line.lstrip().split()
    if line.endswith(" ") or not typed:
        head, last = typed, ""
    else:
        head, last = typed[:-1], typed[-1]
    if not head:
        options = [*words, *(p.split()[0] for p in paths)]
    else:
        options = [
            p.split()[len(head)]
            for p in paths
            if len(p.split()) > len(head) and p.split()[: len(head)] == [w.lower() for w in head]
        ]
    return sorted({o for o in options if o.startswith(last.lower())})


def install(complete: Complete) -> None:
    """Complete with Tab through readline; words end at spaces only (`/deal` is one word)."""
    with contextlib.suppress(ImportError):
        import readline

        def hook(text: str, state: int) -> str | None:
            line = readline.get_line_buffer()[: readline.get_endidx()]
            found = complete(line)
            return found[state] if state < len(found) else None  # readline adds the space

        readline.set_completer_delims(" \t\n")
        readline.set_completer(hook)
        # macOS's libedit reads another binding syntax than GNU readline.
        libedit = "libedit" in (readline.__doc__ or "")
        readline.parse_and_bind("bind ^I rl_complete" if libedit else "tab: complete")
