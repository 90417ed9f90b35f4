"""Turning what a user typed into values: mentions, channels, key:value options, dates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from commands import markup
from domain import periods
from storage.models import STAGES

MENTION = re.compile(r"^<@([UW][A-Z0-9]{1,31})(?:\|([^>]*))?>$")
CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{1,31})(?:\|([^>]*))?>$")
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,31}")  # a bare id; the column holds 32
MAX_ID = 2**63 - 1  # the database's BIGINT
# Chinese aliases so that a rep can type /deal 8万 阿里巴巴 产品:CRM
KEY_ALIASES = {
    "产品": "product",
    "地区": "region",
    "区域": "region",
    "日期": "date",
    "备注": "note",
    "客户": "customer",
    "金额": "amount",
    "阶段": "stage",
}


# The values that echo what the user typed: escaped, they read as typed and mention no one.
TYPED = frozenset({"value", "words", "word", "method", "amount"})


class UsageError(ValueError):
    """The text does not follow the grammar; `key` names the catalog message."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = {
            k: markup.escape(v) if k in TYPED and isinstance(v, str) else v
            for k, v in values.items()
        }


class Refused(Exception):
    """The command is understood but not allowed, or not possible now (not your deal, no
    manager to tell): `key` names the catalog message. Nothing is written."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass
class Options:
    words: list[str] = field(default_factory=list)  # leading words before any key:
    keys: dict[str, str] = field(default_factory=dict)


# A word that opens an option: letters, then a colon and a value (`stage:won`, `客户：阿里`).
# Not one: a colon followed by nothing (`re: pricing`, a word of text), a URL (`https://…`),
# or a number with a colon in it (a time, `09:30`; a ratio, `3:1`).
_OPTION = re.compile(r"^([^\W\d_][\w-]*)[:：](?!//)(.+)$", re.DOTALL)
EVERYDAY_KEYS = {"close": "date"}  # the deal's close date, as sales people say it


def split_options(text: str, known: set[str]) -> Options:
    """Split `12,500 Acme Corp product:CRM note:called twice` into words and key values.

    A value runs until the next word that opens an option, so notes and names may hold
    spaces. A key the command does not take is refused by name (UsageError
    `grammar.unknown_option`), never read as part of a value or a name.
    """
    opts = Options()
    current: str | None = None
    for token in text.split():
        found = _OPTION.match(token)
        if found is not None and _is_key(found[1]):
            current = option_name(found[1], known)
            opts.keys[current] = found[2]
        elif current is None:
            opts.words.append(token)
        else:
            opts.keys[current] = f"{opts.keys[current]} {token}".strip()
    return opts


def _is_key(word: str) -> bool:
    """Options are English words, and the Chinese aliases: any other Chinese word before
    a colon is prose (`原因：价格`), where Chinese puts no space after the colon."""
    return word.isascii() or word in KEY_ALIASES


def option_name(key: str, known: set[str]) -> str:
    """The option a typed key names: itself, or its Chinese or everyday alias."""
    name = KEY_ALIASES.get(key, key.lower())
    name = name if name in known else EVERYDAY_KEYS.get(name, name)
    if name not in known:
        raise UsageError(
            "grammar.unknown_option",
            word=f"{key}:",
            choices=", ".join(f"`{k}:`" for k in sorted(known)),
        )
    return name


def parse_stage(text: str) -> str:
    """A deal stage as typed, in English or Chinese: `won`, `Proposal`, `赢单`, `成交`."""
    word = text.strip().lower()
    stage = word if word in STAGES else STAGE_WORDS.get(word)
    if stage is None:
        raise UsageError("error.bad_stage", value=text, choices=", ".join(STAGES))
    return stage


# The zh catalog's names of the stages (stage.*), and the words reps use for them.
STAGE_WORDS = {
    "线索": "lead",
    "潜在客户": "lead",
    "需求确认": "qualified",
    "已确认": "qualified",
    "方案报价": "proposal",
    "方案": "proposal",
    "报价": "proposal",
    "商务谈判": "negotiation",
    "谈判": "negotiation",
    "赢单": "won",
    "成交": "won",
    "已成交": "won",
    "输单": "lost",
    "丢单": "lost",
}


def mention(token: str) -> tuple[str, str] | None:
    """(user id, name) from <@U123|name>, else None."""
    m = MENTION.match(token)
    return (m[1], (m[2] or "")[:200]) if m else None  # Slack's display name, cut to the column


def channel(token: str) -> str | None:
    m = CHANNEL.match(token)
    return m[1] if m else None


def parse_date(text: str, today: date) -> date:
    """A day as typed anywhere (close dates, payments, holidays): `2026-11-20`,
    `2026/11/20`, `2026年11月20日`, `11-20` or `11月20日` (this year), `today`, `昨天`."""
    t = text.strip().lower()
    if t in ("today", "今天"):
        return today
    if t in ("yesterday", "昨天"):
        return today - timedelta(days=1)
    found = _written_date(t, today)
    if found is None or not periods.FIRST_YEAR <= found.year <= periods.LAST_YEAR:
        raise UsageError("error.bad_date", value=text)
    return found


_FULL_DATE = re.compile(r"(\d{4})(?:[-/.](\d{1,2})[-/.]|年(\d{1,2})月)(\d{1,2})日?", re.ASCII)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_MONTH_DAY = re.compile(r"(\d{1,2})(?:[-/]|月)(\d{1,2})日?", re.ASCII)


def _written_date(t: str, today: date) -> date | None:
    if m := _FULL_DATE.fullmatch(t):
        return _day(int(m[1]), int(m[2] or m[3]), int(m[4]))
    if m := _COMPACT_DATE.fullmatch(t):
        return _day(int(m[1]), int(m[2]), int(m[3]))
    if m := _MONTH_DAY.fullmatch(t):
        return _day(today.year, int(m[1]), int(m[2]))
    return None


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_id(text: str) -> int:
    found = whole_number(text.strip().lstrip("#"))
    if found is None or found > MAX_ID:
        raise UsageError("error.bad_id", value=text)
    return found


def whole_number(text: str) -> int | None:
    """ASCII digits only: str.isdigit() also takes `²` and `١٢`, which int() refuses or
    reads as another number. Long strings are no number (int() of them is slow)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 30:
        return None
    return int(text)


def storable(text: str) -> bool:
    """Text both databases store alike: PostgreSQL refuses NUL and lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text
