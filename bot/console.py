"""The local console: the same command handlers as Slack, in a terminal.

You type what you would type in Slack (`/deal 12,500 Acme Corp`, `/progress @bob`);
`@name` and `#channel` become Slack's escaped mentions. What Pacer answers and sends goes
through the outbox (bot/outbox.py) to the terminal transport (bot/terminal.py): replies
as plain text, buttons numbered, charts as PNG files, DMs and channel posts one line each.
`press 2` or a button's label presses a button as Slack would; a form asks its fields one
by one (bot/console_forms.py). Console commands: help, as, lang, demo, press, quit.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Engine
from sqlmodel import Session, select

import charts
from bot import completion, console_forms
from bot.outbox import Asker, Outbox, Via
from bot.settings import Settings
from bot.terminal import Screen, Terminal, button_line, channel_id, chart_dir
from commands import demo, export, i18n, markup, router
from commands.router import dispatch
from commands.types import Button, FileOut, Form, FormResult, Reply, Request, Upload
from storage import queries
from storage.engine import read_scope, scoped, session_scope
from storage.models import Member

LOCAL_WORKSPACE = "TLOCAL"
DEMO_WORKSPACE = "TDEMO"
WORDS = (
    "help",
    "as",
    "lang",
    "demo",
    "home",
    "press",
    "quit",
    "exit",
)  # the console's own commands


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str


ME = Person("UCONSOLE", "admin")  # the console's own user, always a Pacer admin

# What a user types: @name and #channel, not inside an escaped <@U1|x> or an e-mail address.
TYPED_USER = re.compile(r"(?<![\w<@])@([^\s<>@,;!?，。；！？()]+)")
TYPED_CHANNEL = re.compile(r"(?<![\w<#])#([^\W\d][\w-]*)")


def run(
    settings: Settings,
    engine: Engine,
    demo: bool = False,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    now: Callable[[], datetime] | None = None,
) -> int:
    """Read commands until quit or end of input; the database must be migrated."""
    out = stdout or sys.stdout
    console = Console(
        engine=engine,
        out=out,
        now=now or (lambda: datetime.now(UTC)),
        admins=settings.admins_of(LOCAL_WORKSPACE) | {ME.user_id},
        lines=Lines(stdin or sys.stdin, out),
    )
    with _one_line_logs():
        console.say("banner", ws=console.workspace_id, name=console.user.name)
        if demo:
            console.guarded("demo")
        if console.lines.interactive:
            completion.install(console.complete)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C leaves like quit
            while (line := console.lines.command(console.prompt())) is not None:
                if not console.guarded(line):
                    break
    console.say("bye")
    return 0


class Lines:
    """What the user types: commands at the prompt, and the fields of a form.

    Piped input is echoed after its prompt, so the output reads as a session."""

    def __init__(self, source: TextIO, out: TextIO) -> None:
        self.source = source
        self.out = out
        self.interactive = source is sys.stdin and source.isatty() and out is sys.stdout

    def read(self, prompt: str) -> str | None:
        """One line, stripped; None at the end of input."""
        if self.interactive:
            try:
                return input(prompt).strip()
            except EOFError:
                self.out.write("\n")
                return None
        line = self.source.readline()
        if not line:
            return None
        self.out.write(f"{prompt}{line.rstrip()}\n")
        return line.strip()

    def command(self, prompt: str) -> str | None:
        """The next line worth running: blank lines and `# comments` are skipped."""
        while (line := self.read(prompt)) is not None:
            if line and not line.startswith("# "):
                return line
        return None


class Console:
    def __init__(
        self,
        *,
        engine: Engine,
        out: TextIO,
        now: Callable[[], datetime],
        admins: frozenset[str],
        lines: Lines | None = None,
    ) -> None:
        self.engine = engine
        self.screen = Screen(out, now)
        self.lines = lines or Lines(io.StringIO(), out)  # no input: a form is cancelled
        self.now = now
        self.admins = admins
        self.workspace_id = LOCAL_WORKSPACE
        self.user = ME

    @property
    def out(self) -> TextIO:
        return self.screen.out

    @property
    def locale(self) -> str:
        return self.screen.locale

    def prompt(self) -> str:
        return f"{self.user.name}> "

    def say(self, key: str, **values: Any) -> None:
        self.screen.say(key, **values)

    def print(self, text: str) -> None:
        self.screen.print(text)

    def guarded(self, line: str) -> bool:
        """Run one line; False to stop. Nothing a user types ends in a traceback."""
        try:
            return self.handle(line)
        except Exception as err:
            logging.getLogger(__name__).debug("console line failed", exc_info=True)
            self.say("failed", error=type(err).__name__)
            return True

    def handle(self, line: str) -> bool:
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in ("quit", "exit"):
            return False
        if line.startswith("/"):
            self.slash(line)
        elif word in ("help", "?"):
            self.say("help", dir=chart_dir())
            self.say("help_buttons")
        elif word == "as":
            self.switch_user(rest.strip())
        elif word == "lang":
            self.switch_language(rest.strip().lower())
        elif word == "demo":
            self.demo()
        elif word == "home":
            self.home(rest.strip().lower() or None)
        elif word == "press":
            self.press(rest.strip())
        elif (button := pick(self.my_buttons(), line, prefix=False)) is not None:
            self.push(button)  # a button's label typed alone
        else:
            self.say("unknown", word=line.split()[0])
        self.print("")
        return True

    def request(self, text: str = "") -> Request:
        return Request(
            workspace_id=self.workspace_id,
            user_id=self.user.user_id,
            user_name=self.user.name,
            text=text,
            now=self.now(),
            locale=self.locale,
            admin_ids=self.admins,
            source="console",
        )

    # --- slash commands, buttons and forms, as the Slack edge runs them -----------------------

    def slash(self, line: str) -> None:
        """As the Slack edge runs it: in a read scope when the command only reads."""
        command, _, text = line.partition(" ")
        name = command.lower()
        req = self.request(escape(text.strip(), self.people_now()))
        reply = router.in_scope(self.engine, name, text, lambda s: dispatch(name, req, s))
        self.answer(reply, req, Via.COMMAND, name)

    def home(self, period: str | None) -> None:
        """The App Home tab as Slack would publish it: its sections, its buttons, its chart."""
        req = self.request()
        reply = scoped(self.engine, lambda s: router.home_tab(req, s, period), writes=False)
        if reply.home is not None:
            buttons = [b for part in reply.home.sections for b in part.buttons]
            reply = replace(reply, chart=reply.home.chart, buttons=buttons, home=None)
        self.answer(reply, req, Via.COMMAND)

    def press(self, which: str) -> None:
        buttons = self.my_buttons()
        if not buttons:
            self.say("no_buttons")
        elif not which:
            self.say("press_usage", buttons=button_line(buttons))
        elif (button := pick(buttons, which)) is None:
            self.say("no_such_button", which=which, buttons=button_line(buttons))
        else:
            self.push(button)

    def my_buttons(self) -> list[Button]:
        return self.screen.buttons_of(self.user.user_id)

    def push(self, button: Button) -> None:
        """A button press, exactly as the Slack edge runs it."""
        with session_scope(self.engine) as session:
            req = self.request()
            reply = router.action(button.action_id, button.value, req, session)
        self.answer(reply, req, Via.BUTTON)

    def answer(self, reply: Reply, req: Request, via: Via, command: str = "") -> None:
        """Show the reply and send its notices; then fill in the form it opens, if any."""
        self.show(reply, command, self.names(), Asker.of(req, via))
        if reply.file is not None:
            self.save_file(reply.file)
        if reply.form is not None:
            self.fill(reply.form)

    def save_file(self, file: FileOut) -> None:
        """A reply's file, written where the charts go (its rows streamed from a read
        scope, as Slack's upload is), and its path printed."""
        directory = Path(chart_dir())
        directory.mkdir(parents=True, exist_ok=True)
        stem, suffix = Path(file.filename).stem, Path(file.filename).suffix
        path, n = directory / file.filename, 2
        while path.exists():
            path, n = directory / f"{stem}-{n}{suffix}", n + 1
        with path.open("wb") as out, read_scope(self.engine) as session:
            export.write_file(session, file, out, charts.render_report)
        self.say("file", path=path.resolve())

    def show(
        self,
        reply: Reply,
        command: str,
        names: Mapping[str, str],
        asker: Asker | None = None,
    ) -> None:
        """Print the reply for `asker` (the console's user unless said) and send its notices,
        each recorded in the outbox as the Slack edge records them."""
        asker = asker or Asker(self.workspace_id, self.user.user_id, self.locale)
        Outbox(self.engine, Terminal(self.screen, names, command)).answer(reply, asker)

    def fill(self, form: Form) -> None:
        """Ask the form's fields, submit it as Slack would, and ask again what was wrong."""
        names = self.names()
        asking = console_forms.Asking(
            screen=self.screen,
            read=self.lines.read,
            names=names,
            typed=lambda text: escape(text, self.people_now()),
        )
        req = self.request()

        def submit(values: dict[str, str], lists: dict[str, list[str]]) -> FormResult:
            paths = router.form_files(form.callback_id, values, lists)
            uploads = tuple(Upload(p, Path(p).name, Path(p).read_bytes()) for p in paths)

            def run(session: Session) -> FormResult:
                self.name_people(session, asking.labels)
                return router.submit(
                    form.callback_id, values, lists, replace(req, uploads=uploads), session
                )

            return scoped(self.engine, run, writes=router.form_writes(form.callback_id))

        result = console_forms.fill(form, asking, submit)
        if result is not None and result.reply is not None:
            self.show(result.reply, "", self.names(), Asker.of(req, Via.FORM))
        if result is not None and result.form is not None:
            self.fill(result.form)  # the next step (an import's preview, then its result)

    # --- who is who ---------------------------------------------------------------------------

    def people(self, session: Session) -> list[Person]:
        """Who a typed @name can mean: the console user first, then the workspace's members."""
        rows = session.exec(select(Member).where(Member.workspace_id == self.workspace_id)).all()
        return [ME, *(Person(m.user_id, m.name) for m in rows if m.user_id != ME.user_id)]

    def people_now(self) -> list[Person]:
        with read_scope(self.engine) as session:
            return self.people(session)

    def names(self) -> dict[str, str]:
        return {p.user_id: p.name for p in self.people_now()}

    def name_people(self, session: Session, labels: Mapping[str, str]) -> None:
        """People first typed in a form get the name they were typed with, as a slash
        command's mention would give them (a submission that fails takes them back)."""
        for user_id, name in labels.items():
            queries.ensure_member(
                session, workspace_id=self.workspace_id, user_id=user_id, name=name
            )

    # --- console commands ---------------------------------------------------------------------

    def switch_user(self, text: str) -> None:
        name = text.removeprefix("@").strip()
        if not name:
            self.say("as_usage")
            return
        with session_scope(self.engine) as session:
            self.user = resolve(name, self.people(session))
            roles = self.roles(session)
        self.say("now_as", name=self.user.name, roles=roles)
        if buttons := self.my_buttons():
            self.say("buttons_waiting", buttons=button_line(buttons))

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
            self.screen.locale = "zh-CN" if lang == "zh" else "en"
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

    def complete(self, line: str) -> list[str]:
        """Tab completion of what is typed so far: console commands and command paths."""
        return completion.candidates(line, WORDS, completion.command_paths())


def pick(buttons: list[Button], which: str, prefix: bool = True) -> Button | None:
    """The button `which` names: its number, its label (case and spacing aside) or, with
    `prefix`, the one label it begins."""
    if which.isdigit():
        n = int(which)
        return buttons[n - 1] if 1 <= n <= len(buttons) else None
    key = _label_key(which)
    exact = [b for b in buttons if _label_key(b.label) == key]
    starts = [b for b in buttons if _label_key(b.label).startswith(key)] if prefix else []
    found = exact or starts
    return found[0] if len(found) == 1 else None


def _label_key(label: str) -> str:
    return " ".join(label.casefold().split())


# --- typed text to Slack's escaped form -----------------------------------------------------------


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
            text = re.sub(pattern, markup.mention(person.user_id), text, flags=re.IGNORECASE)

    def user(m: re.Match[str]) -> str:
        name = m[1].rstrip(".:")
        person = resolve(name, people)
        return markup.mention(person.user_id, name) + m[1][len(name) :]

    def chan(m: re.Match[str]) -> str:
        return markup.channel(channel_id(m[1]), m[1])

    return TYPED_CHANNEL.sub(chan, TYPED_USER.sub(user, text))


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
