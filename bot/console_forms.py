"""A form (a Slack modal) filled in at the console: each field asked in turn.

The field's label is the prompt, its initial value the default (an empty answer keeps it,
`-` empties an optional field); a required field is asked until answered; a select lists
its options numbered; people and channels are typed as everywhere in the console (`@bob`,
`#sales-east`). The values go to
the form's handler as a Slack submission would carry them, and the fields it finds wrong
are asked again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.terminal import Screen, channel_name
from commands import markup
from commands.types import Field, Form, FormResult

Answer = str | list[str]
CLEAR = "-"  # empties an optional field (an empty answer keeps what it holds)
Submit = Callable[[dict[str, str], dict[str, list[str]]], FormResult]


class Cancelled(Exception):
    """The input ended (or Ctrl-C) before the form was done."""


@dataclass
class Asking:
    """What asking needs from the console."""

    screen: Screen
    read: Callable[[str], str | None]  # one line after a prompt; None at the end of input
    names: Mapping[str, str]  # user id -> name, to show people already chosen
    typed: Callable[[str], str]  # typed text with @names and #channels as Slack escapes them
    labels: dict[str, str] = field(default_factory=dict)  # user id -> the name typed for it

    def plain(self, text: str) -> str:
        return markup.to_plain(text, self.names, channel_name)


def fill(form: Form, asking: Asking, submit: Submit) -> FormResult | None:
    """Ask, submit, ask again what was wrong; None if the user gave up."""
    _introduce(form, asking)
    if not form.fields:
        return _confirm(form, asking, submit)
    answers: dict[str, Answer] = {f.name: _initial(f) for f in form.fields}
    todo, tried = list(form.fields), None
    try:
        while todo:
            for f in todo:
                answers[f.name] = ask(f, answers[f.name], asking)
            if answers == tried:  # nothing changed: the same errors would come back
                raise Cancelled
            tried = dict(answers)
            result = submit(*_submission(form, answers))
            if not result.errors:
                return result
            _say_errors(form, result.errors, asking)
            todo = [f for f in form.fields if f.name in result.errors]
    except (Cancelled, KeyboardInterrupt):
        pass
    asking.screen.say("form_cancelled")
    return None


def _confirm(form: Form, asking: Asking, submit: Submit) -> FormResult | None:
    """A form of text alone: a result is only shown; a confirmation asks before it goes."""
    if not form.submit:
        return FormResult()
    line = asking.read(f"  {asking.screen.text('form_confirm', submit=form.submit)} ")
    if line is None or line.strip() == CLEAR:
        asking.screen.say("form_cancelled")
        return None
    return submit(*_submission(form, {}))


def _introduce(form: Form, asking: Asking) -> None:
    asking.screen.say("form_title", title=form.title)
    if form.intro:
        asking.screen.print(asking.plain(form.intro))
    if form.fields:
        asking.screen.say("form_hint")


def _say_errors(form: Form, errors: dict[str, str], asking: Asking) -> None:
    for name, error in errors.items():
        label = next((f.label for f in form.fields if f.name == name), name)
        asking.screen.say("form_error", label=label, error=asking.plain(error))


def ask(f: Field, current: Answer, asking: Asking) -> Answer:
    """One field, until its answer reads; an empty answer keeps `current`."""
    if f.hint:
        asking.screen.print(f"  ({f.hint})")
    for n, (_, label) in enumerate(f.options, 1):
        asking.screen.print(f"    {n}. {label}")
    shown = _shown(f, current, asking)
    prompt = f"  {_label(f, asking)}" + (f" [{shown}]" if shown else "") + ": "
    while True:
        line = asking.read(prompt)
        if line is None:
            raise Cancelled
        if line == CLEAR and not f.required:
            return [] if isinstance(current, list) else ""
        if not line:
            if current or not f.required:
                return current
            asking.screen.say("form_required")
            continue
        answer = _read(f, line, asking)
        if answer is not None:
            return answer


def _label(f: Field, asking: Asking) -> str:
    """The label, saying "optional" where the label itself does not already."""
    marker = asking.screen.text("form_optional")
    said = marker.strip(" ()（）").casefold() in f.label.casefold()
    return f.label if f.required or said else f.label + marker


def _read(f: Field, line: str, asking: Asking) -> Answer | None:
    """The typed line as the field's value; None (with the reason said) if it does not read."""
    reader = READERS.get(f.kind)
    if reader is None:  # text and long text take the line as it is
        return line
    answer, problem = reader(f, line, asking)
    if answer is None:
        asking.screen.say(problem, count=len(f.options))
    return answer


Read = tuple[Answer | None, str]  # the value, or None and the message key saying why


def _option(f: Field, line: str, _asking: Asking) -> Read:
    """By its number in the list, or its label; never by its value (an id nobody sees)."""
    if line.isdigit():
        n = int(line)
        found = f.options[n - 1][0] if 1 <= n <= len(f.options) else None
    else:
        found = next((v for v, label in f.options if label.casefold() == line.casefold()), None)
    return found, "form_bad_option"


def _date(_f: Field, line: str, _asking: Asking) -> Read:
    try:
        return date.fromisoformat(line).isoformat(), ""
    except ValueError:
        return None, "form_bad_date"


def _number(_f: Field, line: str, _asking: Asking) -> Read:
    try:
        Decimal(line)
    except InvalidOperation:
        return None, "form_bad_number"
    return line, ""


def _users(_f: Field, line: str, asking: Asking) -> Read:
    people = _people(line, asking)
    return (people or None), "form_bad_users"


def _user(_f: Field, line: str, asking: Asking) -> Read:
    people = _people(line, asking)
    return (people[0] if len(people) == 1 else None), "form_bad_user"


def _channel(_f: Field, line: str, asking: Asking) -> Read:
    found = markup.CHANNEL.search(asking.typed(line if line.startswith("#") else "#" + line))
    return (found[1] if found else None), "form_bad_channel"


def _file(_f: Field, line: str, _asking: Asking) -> Read:
    """A path to a file on this machine (the console's file_input): read when submitted."""
    path = Path(line.strip().strip("'\"")).expanduser()
    return ([str(path)] if path.is_file() else None), "form_bad_file"


def _people(line: str, asking: Asking) -> list[str]:
    """User ids of the @names typed; each new one keeps the name it was typed with."""
    ids = []
    for m in markup.USER.finditer(asking.typed(line)):
        ids.append(m[1])
        if m[2]:
            asking.labels.setdefault(m[1], m[2])
    return ids


READERS: dict[str, Callable[[Field, str, Asking], Read]] = {
    "select": _option,
    "date": _date,
    "number": _number,
    "users": _users,
    "user": _user,
    "channel": _channel,
    "file": _file,
}


def _initial(f: Field) -> Answer:
    if f.kind == "file":
        return []
    if f.kind == "users":
        if isinstance(f.initial, list):
            return list(f.initial)
        return [f.initial] if f.initial else []
    first = f.initial[0] if isinstance(f.initial, list) and f.initial else f.initial
    return first if isinstance(first, str) else ""


def _shown(f: Field, current: Answer, asking: Asking) -> str:
    """The answer as the user would type it: @names, #channel, an option's label."""
    if f.kind == "file":
        return " ".join(current)
    if isinstance(current, list):
        return " ".join("@" + asking.names.get(u, asking.labels.get(u, u)) for u in current)
    if not current:
        return ""
    if f.kind == "user":
        return "@" + asking.names.get(current, asking.labels.get(current, current))
    if f.kind == "channel":
        return "#" + channel_name(current)
    if f.kind == "select":
        return next((label for value, label in f.options if value == current), current)
    return current


def _submission(
    form: Form, answers: dict[str, Answer]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(values, lists) as bot/blocks.submitted reads a modal's state, plus its metadata."""
    values = {k: v for k, v in answers.items() if isinstance(v, str)}
    lists = {k: v for k, v in answers.items() if isinstance(v, list)}
    values["_metadata"] = form.metadata
    return values, lists
