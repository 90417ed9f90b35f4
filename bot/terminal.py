"""The console transport: what Pacer would send in Slack, printed in a terminal.

Replies print as plain text (mentions and channels by name, see commands.markup), buttons
numbered so the console can press them, charts as PNG files. Notices print one line each:
`→ DM to @name: …` and `→ message in #channel: …`. The outbox (bot/outbox.py) records them
as it records Slack's, so a notice shows once and an update or a retraction finds it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import charts
from bot.outbox import Asker, DeliveryError, Sent
from charts import specs
from charts.specs import ChartSpec
from commands import demo, i18n, markup
from commands.types import Button, Notice, Reply, Retract, Update

log = logging.getLogger(__name__)

CHART_DIR = "pacer-charts"
DM = "@"  # a DM is recorded as "@" + the user id: the terminal has no DM channels
TS = "console"  # the terminal's stand-in for Slack's message timestamp


@dataclass
class Shown:
    """The buttons a user was last shown, and the notice they came with (None: a reply)."""

    key: str | None
    buttons: list[Button]


@dataclass
class Screen:
    """What lasts across lines: where to print, the language, the buttons on show."""

    out: TextIO
    now: Callable[[], datetime]
    locale: str = "en"
    shown: dict[str, Shown] = field(default_factory=dict)  # by user id

    def text(self, key: str, **values: Any) -> str:
        return text(self.locale, key, **values)

    def say(self, key: str, **values: Any) -> None:
        self.print(self.text(key, **values))

    def print(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def buttons_of(self, user_id: str) -> list[Button]:
        shown = self.shown.get(user_id)
        return shown.buttons if shown else []

    def show_buttons(
        self, user_id: str, key: str | None, buttons: list[Button], indent: str = ""
    ) -> None:
        """Print the buttons, numbered; they are now what this user can press."""
        self.shown[user_id] = Shown(key, list(buttons))
        if buttons:
            self.print(indent + button_line(buttons))

    def save_chart(self, spec: ChartSpec, stem: str) -> None:
        try:
            png = charts.render(spec)
        except Exception as err:
            log.warning("chart failed: %r", err)
            self.say("chart_failed", error=type(err).__name__)
            return
        directory = Path(chart_dir())
        directory.mkdir(parents=True, exist_ok=True)
        stem = f"{stem}-{self.now():%Y%m%d-%H%M%S}"
        path, n = directory / f"{stem}.png", 2
        while path.exists():
            path, n = directory / f"{stem}-{n}.png", n + 1
        path.write_bytes(png)
        self.say("chart", path=path.resolve())

    def save_bytes(self, filename: str, content: bytes) -> None:
        """A notice's file (the monthly report), beside the charts."""
        directory = Path(chart_dir())
        directory.mkdir(parents=True, exist_ok=True)
        stem, suffix = Path(filename).stem, Path(filename).suffix
        path, n = directory / filename, 2
        while path.exists():
            path, n = directory / f"{stem}-{n}{suffix}", n + 1
        path.write_bytes(content)
        self.say("file", path=path.resolve())


class Terminal:
    """The transport for one line typed (or one job run): `names` says who each user id is,
    `command` names the chart files of the reply."""

    def __init__(self, screen: Screen, names: Mapping[str, str], command: str = "") -> None:
        self.screen = screen
        self.names = names
        self.command = command

    def plain(self, text: str) -> str:
        return markup.to_plain(text, self.names, channel_name)

    def reply(self, reply: Reply, asker: Asker) -> None:
        if reply.text:
            self.screen.print(self.plain(reply.text))
        if reply.text or reply.buttons:  # a form alone leaves the message it came from as is
            self.screen.show_buttons(asker.user_id, None, reply.buttons)
        if reply.chart is not None:
            self.screen.save_chart(reply.chart, self.command.lstrip("/") or chart_stem(reply.chart))

    def post(self, notice: Notice) -> Sent:
        one_line = self.plain(notice.text).replace("\n", " / ")
        if notice.channel_id:  # as in Slack, a channel wins over a user
            where = notice.channel_id
            self.screen.say("notice_channel", where=self.where(where), text=one_line)
        elif notice.user_id:
            where = DM + notice.user_id
            self.screen.say("notice_dm", who=self.who(notice.user_id), text=one_line)
            self.screen.show_buttons(notice.user_id, notice.key, notice.buttons, indent="  ")
        else:
            raise DeliveryError("a notice needs a user or a channel")
        if notice.chart is not None:
            self.screen.save_chart(notice.chart, chart_stem(notice.chart))
        if notice.file is not None:
            self.screen.save_bytes(notice.file.filename, notice.file.content)
        return Sent(where, TS)

    def update(self, sent: Sent, update: Update) -> None:
        one_line = self.plain(update.text).replace("\n", " / ")
        self.screen.say("notice_updated", where=self.where(sent.channel), text=one_line)
        user_id = sent.channel.removeprefix(DM)
        shown = self.screen.shown.get(user_id)
        if sent.channel.startswith(DM) and shown is not None and shown.key == update.key:
            self.screen.show_buttons(user_id, update.key, update.buttons, indent="  ")

    def delete(self, sent: Sent, retract: Retract) -> None:
        self.screen.say("notice_removed", where=self.where(sent.channel), what=retract.key)

    def who(self, user_id: str) -> str:
        return "@" + (self.names.get(user_id) or user_id)

    def where(self, channel: str) -> str:
        """A recorded channel as the terminal names it: `#sales-east`, or the DM's `@name`."""
        if channel.startswith(DM):
            return self.screen.text("dm_of", who=self.who(channel.removeprefix(DM)))
        return "#" + channel_name(channel)


def button_line(buttons: list[Button]) -> str:
    """`[1 Accept] [2 Adjust] [3 Decline]`: what `press 2` or `accept` presses."""
    return " ".join(f"[{n} {b.label}]" for n, b in enumerate(buttons, 1))


def chart_stem(spec: ChartSpec) -> str:
    return specs.kind(spec)


def chart_dir() -> str:
    return os.environ.get("PACER_CHART_DIR") or CHART_DIR


# --- local channels: a typed #name has an id that spells it ---------------------------------------


def channel_id(name: str) -> str:
    """A local channel id that spells its name (base32), so replies can show #name again."""
    encoded = base64.b32encode(name.encode()).decode().rstrip("=")
    if len(encoded) <= 30:
        return "C0" + encoded
    return "C1" + hashlib.sha1(name.encode()).hexdigest()[:10].upper()


def channel_name(cid: str) -> str:
    known = {c[1]: c[2] for team in demo.TEAMS if (c := markup.CHANNEL.match(team.channel))}
    if cid in known:
        return known[cid]
    if cid.startswith("C0"):
        body = cid[2:]
        with contextlib.suppress(ValueError):
            return base64.b32decode(body + "=" * (-len(body) % 8)).decode()
    return cid


# --- the console's words --------------------------------------------------------------------------


def text(locale: str, key: str, **values: Any) -> str:
    """A console message: the [console] table of the catalogs (commands/locales)."""
    return i18n.t(locale, f"console.{key}", **values)
