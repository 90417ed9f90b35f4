"""Declared commands and how typed words reach them: paths, arguments, roles, help.

A command is declared once (commands/registry.py) as a `Command`: its path, its
arguments (shared converters from commands/args.py), the key:value options it takes, the
role it needs and its help and example keys. From the declarations come dispatch
(`resolve`, `parse`), usage lines, help, and "did you mean" for a mistyped subcommand.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from commands.args import Converter, Words, anything
from commands.parsing import UsageError, split_options
from commands.types import Reply

if TYPE_CHECKING:
    from commands.context import Ctx

HELP_WORDS = ("help", "帮助")
# What a missing argument is called in the user's language (the usage line's word in en).
WHAT = {
    "AMOUNT": "grammar.what_amount",
    "PERIOD": "grammar.what_period",
    "ID": "grammar.what_id",
    "STAGE": "grammar.what_stage",
    "@rep": "grammar.what_rep",
    "@user…": "grammar.what_people",
    "TEAM": "grammar.what_team",
    "NAME": "grammar.what_name",
    "@rep | team NAME | workspace": "grammar.what_owner",
}


class Role(StrEnum):
    ANYONE = "anyone"
    MANAGER = "manager"  # a manager of the team concerned (the command checks which) or admin
    ADMIN = "admin"


@dataclass(frozen=True)
class Arg:
    name: str  # the handler's keyword
    convert: Converter
    optional: bool = False

    def usage(self) -> str:
        return f"[{self.convert.shown}]" if self.optional else self.convert.shown


@dataclass(frozen=True)
class Command:
    path: str  # "/deal edit"
    run: Callable[..., Reply]
    args: tuple[Arg, ...] = ()
    options: tuple[str, ...] = ()  # key:value names, passed as `options`
    role: Role = Role.ANYONE
    bare: Callable[[Ctx], Reply] | None = None  # the path alone (a form, a list)
    aliases: tuple[str, ...] = ()  # other last words: /deal undo is /deal restore
    help: str | None = None  # a written help text instead of the generated one
    hidden: bool = False  # not listed in help (an alias kept for old habits)
    # Whether it may write (False: it runs in a read scope, never taking the write lock);
    # `bare_writes` for the path alone.
    writes: bool = True
    bare_writes: bool = True

    @property
    def key(self) -> str:
        """`/pacer setup team add` -> `pacer_setup_team_add`, for its catalog entries."""
        return self.path.lstrip("/").replace(" ", "_").replace("-", "_")

    @property
    def summary_key(self) -> str:
        return f"cmd.{self.key}"

    @property
    def example_key(self) -> str:
        return f"example.{self.key}"

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.path.split())

    def usage(self) -> str:
        parts = [self.path, *(a.usage() for a in self.args)]
        if self.options:
            parts.append("[" + " ".join(f"{name}:…" for name in self.options) + "]")
        return " ".join(parts)


@dataclass
class Node:
    """A word of a path: a command, a group of subcommands, or both (`/deal`)."""

    word: str
    command: Command | None = None
    children: dict[str, Node] = field(default_factory=dict)
    path: str = ""

    def leaves(self) -> list[Command]:
        found = [self.command] if self.command and not self.command.hidden else []
        for child in self.children.values():
            if child.word == child.path.split()[-1]:  # not an alias
                found += child.leaves()
        return found

    def names(self) -> list[str]:
        return [w for w, n in self.children.items() if n.word == w]


class Registry:
    def __init__(self, commands: Sequence[Command]) -> None:
        self.roots: dict[str, Node] = {}
        self.commands = list(commands)
        for command in commands:
            self._add(command)

    def _add(self, command: Command) -> None:
        head, *rest = command.words
        node = self.roots.setdefault(head, Node(head, path=head))
        for i, word in enumerate(rest):
            path = " ".join(command.words[: i + 2])
            node = node.children.setdefault(word, Node(word, path=path))
        if node.command is not None:
            raise ValueError(f"{command.path} is declared twice")
        node.command = command
        parent = self._node(command.words[:-1]) if rest else None
        for alias in command.aliases:
            assert parent is not None, "an alias needs a parent path"
            parent.children[alias] = node

    def _node(self, words: Sequence[str]) -> Node:
        node = self.roots[words[0]]
        for word in words[1:]:
            node = node.children[word]
        return node

    def paths(self) -> list[str]:
        return [c.path for c in self.commands]

    def resolve(self, command: str, text: str) -> tuple[Node, list[str]] | None:
        """The deepest node the words name, and the words left for its arguments."""
        node = self.roots.get(command.lower())
        if node is None:
            return None
        words = text.split()
        while words and words[0].lower() in node.children:
            node = node.children[words.pop(0).lower()]
        return node, words

    def suggest(self, node: Node, word: str) -> str | None:
        """The subcommand a mistyped word most likely meant (`lsit` -> `list`)."""
        close = difflib.get_close_matches(word.lower(), node.names(), n=1, cutoff=0.6)
        return f"{node.path} {close[0]}" if close else None


def parse(ctx: Ctx, command: Command, words: list[str]) -> dict[str, Any]:
    """The handler's keyword arguments from the words after the path.

    Tail arguments read from the end, the others from the front. With fewer words than
    required arguments, one whose word is not of its kind but of the next argument's is
    the one missing: `/goal set @bob 5000` lacks its period (5000 is the amount)."""
    values: dict[str, Any] = {}
    if command.options:
        opts = split_options(" ".join(words), set(command.options))
        words, values["options"] = opts.words, opts.keys
    left = Words(words)
    order = [a for a in reversed(command.args) if a.convert.tail]
    order += [a for a in command.args if not a.convert.tail]
    for i, arg in enumerate(order):
        seen = _seen(arg, left)
        if not arg.optional and _missing(arg, order[i:], left, seen):
            raise UsageError("error.missing_arg", what=_what(ctx, arg))
        values[arg.name] = _read(ctx, arg, left, seen)
    if left:
        raise UsageError("error.extra_words", words=" ".join(left.tokens))
    return values


def _what(ctx: Ctx, arg: Arg) -> str:
    key = WHAT.get(arg.convert.shown)
    return ctx.t(key) if key else arg.convert.shown


def _seen(arg: Arg, left: Words) -> list[str]:
    return left.tokens[-arg.convert.width :] if arg.convert.tail else left.tokens[:1]


def _missing(arg: Arg, rest: list[Arg], left: Words, seen: list[str]) -> bool:
    """Out of words; or fewer words than required arguments, and the word is not this
    argument's kind but the next one's (an optional one between may be absent)."""
    if not left:
        return True
    if len(left.tokens) >= sum(not a.optional for a in rest) or arg.convert.accepts(seen):
        return False
    for other in rest[1:]:
        if other.convert.accepts is not anything and other.convert.accepts(seen):
            return True
        if not other.optional:
            return False
    return False


def _read(ctx: Ctx, arg: Arg, left: Words, seen: list[str]) -> Any:
    if arg.optional:
        return arg.convert.read(ctx, left) if seen and arg.convert.accepts(seen) else None
    return arg.convert.read(ctx, left)
