"""Shared converters: what the words after a command path mean.

Each converter turns the words a user typed into one value. The registry
(commands/registry.py) declares, for every command, which converters its arguments use;
commands/grammar.py applies them. A converter that cannot read its words raises
UsageError naming the problem; the router adds the example of the command typed.

Converters read the words from the front, except `tail` ones (periods, metrics,
`by ORDER`), which take the last words first, so that a team name in front can run over
several words: `/progress team North East 2026-Q4`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from commands.context import display_name, name_of
from commands.parsing import (
    Refused,
    UsageError,
    channel,
    mention,
    parse_id,
    parse_stage,
    whole_number,
)
from domain import money, periods
from storage import queries
from storage.models import Member, Team

if TYPE_CHECKING:
    from commands.context import Ctx


class Words:
    """The words still to read, from either end."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = list(tokens)

    def __bool__(self) -> bool:
        return bool(self.tokens)

    def first(self) -> str | None:
        return self.tokens[0] if self.tokens else None

    def last(self, n: int = 1) -> list[str]:
        return self.tokens[-n:] if len(self.tokens) >= n else []

    def take(self) -> str:
        return self.tokens.pop(0)

    def take_last(self, n: int = 1) -> list[str]:
        taken, self.tokens = self.tokens[-n:], self.tokens[:-n]
        return taken

    def take_while(self, keep: Callable[[str], bool]) -> list[str]:
        taken = []
        while self.tokens and keep(self.tokens[0]):
            taken.append(self.tokens.pop(0))
        return taken

    def take_all(self) -> list[str]:
        taken, self.tokens = self.tokens, []
        return taken


def anything(words: list[str]) -> bool:
    """The default `accepts`: any word will do (a name, a text)."""
    return bool(words)


@dataclass(frozen=True)
class Converter:
    """`read` consumes what it needs; `accepts` says whether an optional argument is there
    (looking at the first word, or for a tail converter at the last `width` words)."""

    shown: str  # how usage lines show it: ID, AMOUNT, @rep
    read: Callable[[Ctx, Words], Any]
    accepts: Callable[[list[str]], bool] = anything
    tail: bool = False
    width: int = 1  # words a tail converter looks at


@dataclass(frozen=True)
class Subject:
    """Whose numbers: one rep, or a whole team (rep None)."""

    name: str
    team: Team
    rep: Member | None


@dataclass(frozen=True)
class PeriodRef:
    """A period as typed; `month` means the month of the subject's own time zone, so the
    handler resolves it with the right `today` (ctx.period)."""

    text: str


def _one(read: Callable[[Ctx, str], Any]) -> Callable[[Ctx, Words], Any]:
    return lambda ctx, words: read(ctx, words.take())


def _is_mention(word: str) -> bool:
    return mention(word) is not None


# --- single words --------------------------------------------------------------------------------

ID = Converter("ID", _one(lambda _ctx, w: parse_id(w)), lambda ws: ws[0].lstrip("#").isdigit())


def _member(ctx: Ctx, word: str) -> Member:
    who = mention(word)
    if who is None:
        raise UsageError("error.bad_mention", value=word)
    return ctx.member_for(*who)


MENTION = Converter("@rep", _one(_member), lambda ws: _is_mention(ws[0]))
member_of = _member  # a mention read by a command that parses its own words


def _mentions(ctx: Ctx, words: Words) -> list[Member]:
    found = [_member(ctx, w) for w in words.take_all()]
    if not found:
        raise UsageError("error.mention_someone")
    return found


MENTIONS = Converter("@user…", _mentions)


def _amount(_ctx: Ctx, words: Words) -> str:
    """An amount as typed, with a multiplier typed apart (`8 万`, `12.5 k`). Its currency is
    the team's, known only to the command, so it parses it (money.parse_amount)."""
    return take_amount(words.tokens)


def take_amount(tokens: list[str]) -> str:
    """Take an amount off the front of `tokens`: one word, or two when the second is a
    multiplier typed apart (`8 万`, `12.5 k`). Every command reads its amount this way."""
    text = tokens.pop(0)
    if tokens and tokens[0].lower() in money.SEPARATE_SUFFIXES:
        text += tokens.pop(0)
    return text


AMOUNT = Converter("AMOUNT", _amount, lambda ws: looks_like_amount(ws[0]))
# An optional amount that nothing else can follow (`/deal paid 42 [AMOUNT]`): any word there
# is meant as the amount, so a bad one gets the amount message, not "didn't understand".
ANY_AMOUNT = Converter("AMOUNT", _amount)


def _tail_amount(_ctx: Ctx, words: Words) -> str:
    two = len(words.tokens) >= 2 and words.tokens[-1].lower() in money.SEPARATE_SUFFIXES
    return "".join(words.take_last(2 if two else 1))


def _ends_in_amount(ws: list[str]) -> bool:
    if len(ws) == 2 and ws[-1].lower() in money.SEPARATE_SUFFIXES:
        return looks_like_amount(ws[0])
    return looks_like_amount(ws[-1])


# An amount read from the end, in front of a period: `/goal set @bob 8 万 2026-Q4`.
TAIL_AMOUNT = Converter("AMOUNT", _tail_amount, _ends_in_amount, tail=True, width=2)


def looks_like_amount(word: str) -> bool:
    """A word meant as an amount: a number, with a sign or currency symbol in front
    (`-100`, `$-5`, `−5k`). A customer whose name starts like one is typed `customer:3M`;
    a mistyped amount is an amount error, never a customer's name."""
    head = re.sub(r"^(?:us\$|hk\$|s\$|rmb|[-−+$¥￥€£₹])+", "", word.lower())
    return head[:1].isascii() and (head[:1].isdigit() or (head[:1] == "." and head[1:2].isdigit()))


def period_width(tokens: Sequence[str]) -> int:
    """How many words name a period at the end of `tokens`: two for `last month`,
    `previous week`, one for `2026-Q4` or `lastmonth`, else 0."""
    if len(tokens) >= 2 and periods.is_relative(" ".join(tokens[-2:])):
        return 2
    return 1 if tokens and periods.looks_like_period(tokens[-1]) else 0


def _period(ctx: Ctx, words: Words) -> PeriodRef:
    text = " ".join(words.take_last(max(period_width(words.tokens), 1)))
    ctx.period(PeriodRef(text), ctx.today(None))  # refused now if it is no period at all
    return PeriodRef(text)


PERIOD = Converter("PERIOD", _period, lambda ws: period_width(ws) > 0, tail=True)


def _front_period(ctx: Ctx, words: Words) -> PeriodRef:
    two = len(words.tokens) >= 2 and periods.is_relative(" ".join(words.tokens[:2]))
    text = " ".join(words.tokens[:2]) if two else words.tokens[0]
    del words.tokens[: 2 if two else 1]
    ctx.period(PeriodRef(text), ctx.today(None))
    return PeriodRef(text)


FROM_PERIOD = Converter("PERIOD", _front_period)


def choice(shown: str, options: Sequence[str], *, error: str = "error.bad_choice") -> Converter:
    """One word out of `options` (any case)."""

    def read(_ctx: Ctx, word: str) -> str:
        value = word.lower()
        if value not in options:
            raise UsageError(error, value=word, choices=", ".join(options))
        return value

    return Converter(shown or "|".join(options), _one(read), lambda ws: ws[0].lower() in options)


def tail_choice(options: Sequence[str]) -> Converter:
    """An optional last word out of `options` (a metric after the period)."""
    word = choice("|".join(options), options)
    return Converter(
        word.shown,
        lambda ctx, words: word.read(ctx, Words(words.take_last())),
        lambda ws: ws[-1].lower() in options,
        tail=True,
    )


def keyword(word: str, shown: str, options: Sequence[str], error: str) -> Converter:
    """`by revenue` at the end: the keyword, then one of `options`."""
    pick = choice(shown, options, error=error)
    return Converter(
        f"{word} {shown}",
        lambda ctx, words: pick.read(ctx, Words(words.take_last(2)[1:])),
        lambda ws: len(ws) == 2 and ws[0].lower() == word,
        tail=True,
        width=2,
    )


def literal(word: str) -> Converter:
    def read(_ctx: Ctx, words: Words) -> str:
        if (words.first() or "").lower() != word:
            raise UsageError("error.expected_word", word=word)
        return words.take()

    return Converter(word, read, lambda ws: ws[0].lower() == word)


def integer(shown: str, low: int, high: int, error: str) -> Converter:
    def read(_ctx: Ctx, word: str) -> int:
        number = whole_number(word)
        if number is None or not low <= number <= high:
            raise UsageError(error, value=word, low=str(low), high=str(high))
        return number

    return Converter(shown, _one(read))


def _channel(_ctx: Ctx, words: Words) -> str:
    word = words.take()
    found = channel(word)
    if found is None:
        raise UsageError("error.bad_channel", value=word)
    return found


CHANNEL = Converter("#channel", _channel, lambda ws: ws[0].startswith("<#"))
STAGE = Converter("STAGE", _one(lambda _ctx, w: parse_stage(w)))


# --- several words -------------------------------------------------------------------------------


def _text(_ctx: Ctx, words: Words) -> str:
    return " ".join(words.take_all())


TEXT = Converter("TEXT", _text)
WORDS = Converter("…", lambda _ctx, words: words.take_all())


def _name(_ctx: Ctx, words: Words) -> str:
    """A team name runs until the first mention or channel: `North East @alice`."""
    name = " ".join(words.take_while(lambda w: not w.startswith("<")))
    if not name:
        raise UsageError("error.name_the_team")
    return name


NAME = Converter("NAME", _name)
TEAM_NAME = Converter("TEAM", lambda ctx, words: ctx.team_named(_name(ctx, words)))


def _is_team_word(word: str) -> bool:
    """`team NAME`, or `team:NAME` as /deal and /goal set take it."""
    return word.lower() == "team" or word.lower().startswith(("team:", "team："))


def _team(ctx: Ctx, words: Words) -> Team:
    first = words.take()[len("team:") :]  # the word "team", or what follows `team:`
    name = " ".join([first, *words.take_all()] if first else words.take_all())
    if not name:
        raise UsageError("error.name_the_team")
    return ctx.team_named(name)


TEAM = Converter("team NAME", _team, lambda ws: _is_team_word(ws[0]))


def _subject(ctx: Ctx, words: Words) -> Subject:
    """`@rep` (on their team) or `team NAME`; the default, for an absent argument, is me."""
    if _is_team_word(words.first() or ""):
        team = _team(ctx, words)
        return Subject(team.name, team, None)
    rep = _member(ctx, words.take())
    return Subject(display_name(rep), rep_team(ctx, rep), rep)


SUBJECT = Converter(
    "@rep | team NAME", _subject, lambda ws: _is_team_word(ws[0]) or _is_mention(ws[0])
)


def me(ctx: Ctx) -> Subject:
    team = ctx.my_team()
    if team is None:
        raise Refused("error.no_team")
    return Subject(display_name(ctx.me), team, ctx.me)


def rep_team(ctx: Ctx, rep: Member) -> Team:
    assert rep.id is not None
    team = queries.team_of(ctx.session, member_id=rep.id)
    if team is None:
        raise Refused("error.rep_no_team", rep=name_of(rep))
    return team
