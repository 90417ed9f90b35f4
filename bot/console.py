"""The local console: the same command handlers as Slack, in a terminal.

You type what you would type in Slack (`/deal 12,500 Acme Corp`, `/progress @bob`);
`@name` and `#channel` become Slack's escaped mentions, replies print as plain text,
buttons as the command that does the same, forms as the command to type instead,
and charts are written as PNG files. Console commands: help, as, lang, demo, quit.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine
from sqlmodel import Session, select

import charts
from bot.settings import Settings
from charts.specs import ChartSpec
from commands import deal, demo, i18n, pacer
from commands.router import dispatch
from commands.types import Reply, Request
from storage import queries
from storage.engine import session_scope
from storage.models import Member

LOCAL_WORKSPACE = "TLOCAL"
DEMO_WORKSPACE = "TDEMO"
CHART_DIR = "pacer-charts"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str


ME = Person("UCONSOLE", "admin")  # the console's own user, always a Pacer admin

# Buttons print as the command that does the same thing.
BUTTON_COMMANDS = {"deal_delete": "/deal delete {value}", "deal_restore": "/deal restore {value}"}
# A form (a Slack modal) prints the help of the command to type instead.
FORM_HELP = {deal.FORM_ID: "deal.help", pacer.FORM_ID: "pacer.help"}

# What a user types: @name and #channel, not inside an escaped <@U1|x> or an e-mail address.
TYPED_USER = re.compile(r"(?<![\w<@])@([^\s<>@,;!?，。；！？()]+)")
TYPED_CHANNEL = re.compile(r"(?<![\w<#])#([^\W\d][\w-]*)")
# What a reply carries: Slack's escaped mentions, channels, links and @here.
SLACK_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
SLACK_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
SLACK_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]*))?>")
SLACK_SPECIAL = re.compile(r"<!(\w+)(?:\^[^|>]*)?(?:\|([^>]*))?>")


def run(
    settings: Settings,
    engine: Engine,
    demo: bool = False,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    now: Callable[[], datetime] | None = None,
) -> int:
    """Read commands until quit or end of input; the database must be migrated."""
    console = Console(
        engine=engine,
        out=stdout or sys.stdout,
        now=now or (lambda: datetime.now(UTC)),
        admins=frozenset(settings.admins | {ME.user_id}),
    )
    source = stdin or sys.stdin
    with _one_line_logs():
        console.say("banner", ws=console.workspace_id, name=console.user.name)
        if demo:
            console.guarded("demo")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C leaves like quit
            for line in _lines(source, console.out, console.prompt):
                if not console.guarded(line):
                    break
    console.say("bye")
    return 0


def _lines(source: TextIO, out: TextIO, prompt: Callable[[], str]) -> Iterator[str]:
    """Lines to run; piped input is echoed after the prompt, so the output reads as a session."""
    interactive = source is sys.stdin and source.isatty() and out is sys.stdout
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and history for input())
    while True:
        if interactive:
            try:
                line = input(prompt())
            except EOFError:
                out.write("\n")
                return
        else:
            line = source.readline()
            if not line:
                return
            out.write(f"{prompt()}{line.rstrip()}\n")
        line = line.strip()
        if line and not line.startswith("# "):
            yield line


class Console:
    def __init__(
        self, *, engine: Engine, out: TextIO, now: Callable[[], datetime], admins: frozenset[str]
    ) -> None:
        self.engine = engine
        self.out = out
        self.now = now
        self.admins = admins
        self.workspace_id = LOCAL_WORKSPACE
        self.user = ME
        self.locale = "en"

    def prompt(self) -> str:
        return f"{self.user.name}> "

    def say(self, key: str, **values: Any) -> None:
        self.print(i18n.t(self.locale, f"console.{key}", **values))

    def print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def guarded(self, line: str) -> bool:
        """Run one line; False to stop. Nothing a user types ends in a traceback."""
        try:
            return self.handle(line)
        except Exception as err:
            logging.getLogger(__name__).debug("console line failed", exc_info=True)
            self.say("failed", error=type(err).__name__)
            return True

    def handle(self, line: str) -> bool:
        if line.startswith("/"):
            self.slash(line)
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in ("quit", "exit"):
            return False
        if word in ("help", "?"):
            self.say("help", dir=_chart_dir())
        elif word == "as":
            self.switch_user(rest.strip())
        elif word == "lang":
            self.switch_language(rest.strip().lower())
        elif word == "demo":
            self.demo()
        else:
            self.say("unknown", word=line.split()[0])
        self.print("")
        return True

    # --- slash commands -------------------------------------------------------------------

    def slash(self, line: str) -> None:
        command, _, text = line.partition(" ")
        with session_scope(self.engine) as session:
            people = self.people(session)
            req = Request(
                workspace_id=self.workspace_id,
                user_id=self.user.user_id,
                user_name=self.user.name,
                text=escape(text.strip(), people),
                now=self.now(),
                locale=self.locale,
                admin_ids=self.admins,
                source="console",
            )
            reply = dispatch(command.lower(), req, session)
            names = {p.user_id: p.name for p in self.people(session)}
        self.show(reply, command.lower(), names)

    def show(self, reply: Reply, command: str, names: dict[str, str]) -> None:
        if reply.form is not None:
            self.say("form", title=reply.form.title)
            key = FORM_HELP.get(reply.form.callback_id)
            fields = ", ".join(f.label for f in reply.form.fields)
            self.print(i18n.t(self.locale, key) if key else fields)
        if reply.text:
            self.print(plain(reply.text, names))
        self.show_notices(reply, names)
        hints = [_button_hint(b.action_id, b.label, b.value) for b in reply.buttons]
        if hints:
            self.print(" ".join(hints))
        if reply.chart is not None:
            self.save_chart(reply.chart, command)
        self.print("")

    def show_notices(self, reply: Reply, names: dict[str, str]) -> None:
        """Direct messages and channel posts the reply sends on its own, one line each.

        Recorded under their keys as the Slack edge does (bot/notices.py), so a notice
        shows once, and an update or a retraction finds the channel it went to."""
        for notice in reply.notices:
            if not self.record_notice(notice.key, notice.channel_id or notice.user_id or ""):
                continue
            text = plain(notice.text, names).replace("\n", " / ")
            if notice.user_id:
                who = "@" + names.get(notice.user_id, notice.user_id)
                self.say("notice_dm", who=who, text=text)
            else:
                where = "#" + channel_name(notice.channel_id or "")
                self.say("notice_channel", where=where, text=text)
        for update in reply.updates:
            if posted := self.sent_to(update.key):
                shown = plain(update.text, names).replace("\n", " / ")
                self.say("notice_updated", where="#" + channel_name(posted), text=shown)
        for retract in reply.retracts:
            if gone := self.sent_to(retract.key, retract=True):
                self.say("notice_removed", where="#" + channel_name(gone), what=retract.key)

    def record_notice(self, key: str, where: str) -> bool:
        """Claim the key (or a retracted one again); False when it was shown before."""
        with session_scope(self.engine) as session:
            row = queries.claim_message(
                session, workspace_id=self.workspace_id, key=key
            ) or queries.reopen_message(session, workspace_id=self.workspace_id, key=key)
            if row is None or row.id is None:
                return False
            queries.mark_message(
                session, message_id=row.id, status="sent", channel_id=where, ts="console"
            )
        return True

    def sent_to(self, key: str, retract: bool = False) -> str | None:
        """Where the notice under `key` was shown, if it still stands; marked gone on retract."""
        with session_scope(self.engine) as session:
            row = queries.sent_message(session, workspace_id=self.workspace_id, key=key)
            if row is None or row.status != "sent" or row.id is None:
                return None
            if retract:
                queries.mark_message(session, message_id=row.id, status="retracted")
            return row.channel_id

    def save_chart(self, spec: ChartSpec, command: str) -> None:
        try:
            png = charts.render(spec)
        except Exception as err:
            logging.getLogger(__name__).warning("chart failed: %r", err)
            self.say("chart_failed", error=type(err).__name__)
            return
        directory = Path(_chart_dir())
        directory.mkdir(parents=True, exist_ok=True)
        stem = f"{command.lstrip('/')}-{self.now():%Y%m%d-%H%M%S}"
        path, n = directory / f"{stem}.png", 2
        while path.exists():
            path, n = directory / f"{stem}-{n}.png", n + 1
        path.write_bytes(png)
        self.say("chart", path=path.resolve())

    # --- console commands -----------------------------------------------------------------

    def people(self, session: Session) -> list[Person]:
        """Who a typed @name can mean: the console user first, then the workspace's members."""
        rows = session.exec(select(Member).where(Member.workspace_id == self.workspace_id)).all()
        return [ME, *(Person(m.user_id, m.name) for m in rows if m.user_id != ME.user_id)]

    def switch_user(self, text: str) -> None:
        name = text.removeprefix("@").strip()
        if not name:
            self.say("as_usage")
            return
        with session_scope(self.engine) as session:
            self.user = resolve(name, self.people(session))
            roles = self.roles(session)
        self.say("now_as", name=self.user.name, roles=roles)

    def roles(self, session: Session) -> str:
        member = queries.get_member(
            session, workspace_id=self.workspace_id, user_id=self.user.user_id
        )
        parts = [i18n.t(self.locale, "console.admin")] if self.user.user_id in self.admins else []
        if member is not None and member.id is not None:
            for team, role in queries.memberships_of(session, member_id=member.id):
                role_name = i18n.t(self.locale, f"role.{role}")
                parts.append(i18n.t(self.locale, "console.role", role=role_name, team=team.name))
        return i18n.t(self.locale, "console.roles", roles=", ".join(parts)) if parts else ""

    def switch_language(self, lang: str) -> None:
        if lang not in ("en", "zh"):
            self.say("lang_usage")
        else:
            self.locale = "zh-CN" if lang == "zh" else "en"
            self.say("lang_set")

    def demo(self) -> None:
        with session_scope(self.engine) as session:
            summary = demo.fill_demo(
                session, workspace_id=DEMO_WORKSPACE, today=demo.today_for(self.now())
            )
        self.workspace_id = DEMO_WORKSPACE
        self.user = Person(summary.user_id, summary.user_name)
        self.say("demo_created" if summary.created else "demo_ready", ws=DEMO_WORKSPACE)
        self.say(
            "demo_summary",
            teams=", ".join(summary.teams),
            reps=summary.reps,
            managers=summary.managers,
            goals=summary.goals,
            won=summary.won_deals,
            open=summary.open_deals,
            first=summary.first_day,
            last=summary.last_day,
            name=summary.user_name,
        )


# --- typed text to Slack's escaped form, and back ------------------------------------------------


def _key(name: str) -> str:
    return re.sub(r"[\s._-]", "", name.casefold())


def made_up_id(name: str) -> str:
    """A stable local user id for a name nobody has used yet."""
    return "U" + hashlib.sha1(_key(name).encode()).hexdigest()[:10].upper()


def resolve(name: str, people: list[Person]) -> Person:
    """A member by full name (case, spaces and dots ignored), user id or unique first name."""
    key = _key(name)
    for person in people:
        if _key(person.name) == key or person.user_id.casefold() == name.casefold():
            return person
    firsts = [p for p in people if p.name.split() and _key(p.name.split()[0]) == key]
    if len(firsts) == 1:
        return firsts[0]
    return Person(made_up_id(name), name)


def escape(text: str, people: list[Person]) -> str:
    """@name and #channel as Slack sends them: <@U123|name> and <#C123|name>."""
    for person in sorted(people, key=lambda p: -len(p.name)):
        if " " in person.name.strip():  # "@Alice Johnson": a name that a single token can't hold
            pattern = r"(?<![\w<@])@" + re.escape(person.name) + r"(?!\w)"
            text = re.sub(pattern, f"<@{person.user_id}>", text, flags=re.IGNORECASE)

    def user(m: re.Match[str]) -> str:
        name = m[1].rstrip(".:")
        person = resolve(name, people)
        return f"<@{person.user_id}|{name}>" + m[1][len(name) :]

    def chan(m: re.Match[str]) -> str:
        return f"<#{channel_id(m[1])}|{m[1]}>"

    return TYPED_CHANNEL.sub(chan, TYPED_USER.sub(user, text))


def channel_id(name: str) -> str:
    """A local channel id that spells its name (base32), so replies can show #name again."""
    encoded = base64.b32encode(name.encode()).decode().rstrip("=")
    if len(encoded) <= 30:
        return "C0" + encoded
    return "C1" + hashlib.sha1(name.encode()).hexdigest()[:10].upper()


def channel_name(cid: str) -> str:
    known = {c[1]: c[2] for team in demo.TEAMS if (c := SLACK_CHANNEL.match(team.channel))}
    if cid in known:
        return known[cid]
    if cid.startswith("C0"):
        body = cid[2:]
        with contextlib.suppress(ValueError):
            return base64.b32decode(body + "=" * (-len(body) % 8)).decode()
    return cid


def plain(text: str, names: dict[str, str]) -> str:
    """A reply as terminal text: readable mentions, channels and links; mrkdwn left as is."""
    text = SLACK_USER.sub(lambda m: "@" + (names.get(m[1]) or m[2] or m[1]), text)
    text = SLACK_CHANNEL.sub(lambda m: "#" + (m[2] or channel_name(m[1])), text)
    text = SLACK_LINK.sub(lambda m: f"{m[2]} ({m[1]})" if m[2] else m[1], text)
    text = SLACK_SPECIAL.sub(lambda m: "@" + (m[2] or m[1]), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _button_hint(action_id: str, label: str, value: str) -> str:
    command = BUTTON_COMMANDS.get(action_id)
    return f"[{label}: {command.format(value=value)}]" if command else f"[{label}]"


def _chart_dir() -> str:
    return os.environ.get("PACER_CHART_DIR") or CHART_DIR


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({record.exc_info[1]!r})"
        return text


@contextlib.contextmanager
def _one_line_logs() -> Iterator[None]:
    """While the console runs, problems log one line each: no traceback on the terminal."""
    root = logging.getLogger()
    saved = root.handlers[:]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    handler.setLevel(logging.WARNING)
    for old in saved:  # keep the redaction of secrets
        for f in old.filters:
            handler.addFilter(f)
    root.handlers[:] = [handler]
    try:
        yield
    finally:
        root.handlers[:] = saved
