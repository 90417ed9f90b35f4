"""The `pacer` command: start in the configured mode, or open the console (with a demo).

pacer            Socket Mode, HTTP, OAuth or the console, from the settings
pacer console    the local console, whatever the settings
pacer demo       fill the demo workspace, then open the console
pacer jobs run KIND [--workspace T…] [--team NAME] [--date YYYY-MM-DD]
                 a scheduled job by hand, with each workspace's own token in an OAuth
                 install (without a token or OAuth it prints what it would send: a preview)
pacer export deals|goals|payments [PERIOD] [--team NAME] [--workspace T…] [--with-deleted]
             [-o PATH]
                 the CSV of /pacer export, every row, to stdout or PATH
pacer backup FILE [--workspace T…] [--with-secrets]
pacer restore FILE
                 every row as JSON lines; restored into an empty database of either kind
pacer import deals|goals FILE [--team NAME] [--workspace T…] [--format auto|hubspot|...]
                 [--date-format us|eu] [--stages FILE] [--dry-run]
                 a CRM's CSV export (or Pacer's own), all or nothing (bot/importing.py)
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

import charts
from bot.logs import JsonFormatter, TextFormatter
from bot.settings import Mode, Settings, load
from commands.jobs import KINDS as JOB_KINDS
from storage.engine import make_engine
from storage.migrate import upgrade

if TYPE_CHECKING:
    from bot.terminal import Terminal

log = logging.getLogger("pacer")

LOG_FORMATS = ("json", "text")
TOKEN = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
Command = Callable[[Settings, Engine, argparse.Namespace], None]


class Redact(logging.Filter):
    """Blanks Slack tokens and the configured secrets in every log line."""

    def __init__(self, secrets: Sequence[str | None]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.clean(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True

    def clean(self, text: str) -> str:
        clean = TOKEN.sub(r"\1-***", text)
        for secret in self.secrets:
            clean = clean.replace(secret, "***")
        return clean


def configure_logging(settings: Settings) -> None:
    """LOG_FORMAT: JSON (one object a line, for a log collector) by default when serving
    Slack, text in the console."""
    redact = Redact(
        [settings.bot_token, settings.app_token, settings.signing_secret, settings.client_secret]
    )
    handler = logging.StreamHandler()
    handler.setFormatter(_formatter(settings, redact.clean))
    handler.addFilter(redact)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # Alembic narrates every start at INFO ("Context impl SQLiteImpl"); only a real
    # migration is worth a line, and storage.migrate logs that itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if settings.log_format not in (None, *LOG_FORMATS):
        log.warning("LOG_FORMAT=%s is not one of %s", settings.log_format, "|".join(LOG_FORMATS))


def _formatter(settings: Settings, scrub: Callable[[str], str]) -> logging.Formatter:
    default = "text" if settings.mode == Mode.CONSOLE else "json"
    if (settings.log_format or default) == "text":
        return TextFormatter(scrub)
    return JsonFormatter(scrub)


def _at_a_terminal(settings: Settings) -> Settings:
    """`pacer console`, `demo`, `jobs run` and `import` are read by a person: text unless
    told."""
    return replace(settings, log_format=settings.log_format or "text")


def warm_up_charts(settings: Settings | None = None) -> None:
    """The first render in a process is the slow one: pay it before the first request,
    unless this process leaves drawing to others (settings.draw_processes; see bot/work.py).

    Then collect the start-up garbage and freeze what survives (modules, caches, fonts: it
    lives as long as the process), so that the collection after each chart (see charts)
    walks only what requests created: about 5 ms instead of about 80 ms.
    """
    if settings is None or settings.draw_processes == 0:
        charts.warm_up()
    gc.collect()
    gc.freeze()


def start(settings: Settings, engine: Engine, _args: argparse.Namespace) -> None:
    mode = settings.mode
    if mode == Mode.CONSOLE:
        console(settings, engine, _args)
        return
    warm_up_charts(settings)
    scheduler = _start_scheduler(settings, engine)
    try:
        _serve(settings, engine, scheduler)
    finally:
        if scheduler is not None:
            scheduler.stop()


def _serve(settings: Settings, engine: Engine, scheduler: Any = None) -> None:
    if settings.mode == Mode.SOCKET:
        from bot import socket_mode

        socket_mode.serve(settings, engine)
    else:
        from bot import http

        http.serve(settings, engine, scheduler=scheduler)


# --- scheduled jobs ---------------------------------------------------------------------------


def _start_scheduler(settings: Settings, engine: Engine) -> Any:
    """Lag warnings, leaderboards and reminders need a token to send with: the bot token,
    or in an OAuth install each workspace's own."""
    from bot.app import clients, oauth_install

    senders = clients(settings, engine)
    if senders is None:
        log.warning("no SLACK_BOT_TOKEN: scheduled messages are off")
        return None
    from bot.scheduler import Scheduler

    if oauth_install(settings):
        log.info("scheduled messages: every installed workspace, with its own token")
    scheduler = Scheduler(engine, senders)
    scheduler.start()
    return scheduler


def jobs_run(settings: Settings, engine: Engine, args: argparse.Namespace) -> None:
    """`pacer jobs run KIND`: each notice not recorded before is sent, the rest skipped.
    With neither SLACK_BOT_TOKEN nor an OAuth install it is printed instead: a preview."""
    from bot.app import clients
    from bot.scheduler import run_by_hand

    now = datetime.now(UTC)
    workspace = getattr(args, "workspace", None)
    senders = clients(settings, engine)
    if senders is None:
        terminal = _terminal(engine)
        outcome = run_by_hand(engine, terminal, args.kind, args.team, args.date, now, workspace)
        print(f"{args.kind}: {outcome.sent} shown, {outcome.skipped} shown or sent before")
        print("(no SLACK_BOT_TOKEN: printed here, not sent to Slack)")
        return
    from bot.delivery import slack_or
    from bot.outbox import Outbox

    if workspace and not _installed(engine, workspace):
        print(f"workspace {workspace} is not installed: nothing sent")
        return
    # What failed or was cut off earlier goes first. Not in a preview: printing those rows
    # would mark them sent, and Slack would never get them.
    retried = Outbox(engine, slack_or(senders)).retry_unsent(now=now)
    outcome = run_by_hand(engine, senders, args.kind, args.team, args.date, now, workspace)
    print(f"{args.kind}: {outcome.sent} sent, {outcome.skipped} already sent or failed")
    if retried:
        print(f"{retried} earlier messages sent on retry")


def _installed(engine: Engine, workspace_id: str) -> bool:
    from storage import queries
    from storage.engine import session_scope

    with session_scope(engine) as session:
        return workspace_id not in queries.uninstalled_workspaces(session)


def _terminal(engine: Engine) -> Terminal:
    """The console transport, printing to stdout, with every member's name."""
    from sqlmodel import select

    from bot.terminal import Screen, Terminal
    from storage.engine import session_scope
    from storage.models import Member

    with session_scope(engine) as session:
        names = {m.user_id: m.name for m in session.exec(select(Member)).all()}
    return Terminal(Screen(sys.stdout, lambda: datetime.now(UTC)), names)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from err


def console(settings: Settings, engine: Engine, _args: argparse.Namespace) -> None:
    _console().run(settings, engine, demo=False)


def demo(settings: Settings, engine: Engine, _args: argparse.Namespace) -> None:
    _console().run(settings, engine, demo=True)


def _console() -> Any:
    # Imported late: the console pulls in nothing Slack, and Slack modes never need it.
    return importlib.import_module("bot.console")


# --- export, backup and restore ----------------------------------------------------------------


class CliError(Exception):
    """A bad argument or a refused operation: printed on stderr, exit status 2."""


def export_csv(settings: Settings, engine: Engine, args: argparse.Namespace) -> None:
    """`pacer export`: the CSV an admin's /pacer export writes, to stdout or `-o PATH`."""
    from commands import export
    from commands.i18n import DEFAULT, t
    from commands.parsing import UsageError
    from commands.types import FileOut
    from storage.engine import read_scope

    with read_scope(engine) as session:
        workspace = _one_workspace(session, args.workspace)
        try:
            query = export.operator_query(
                session,
                workspace_id=workspace,
                kind=args.kind,
                period=args.period,
                team=args.team,
                with_deleted=args.with_deleted,
                today=datetime.now(UTC).date(),
            )
        except UsageError as err:
            raise CliError(t(DEFAULT, err.key, **err.values)) from None  # operators read English
        file = FileOut(filename=f"{args.kind}.csv", title=args.kind, export=query)
        if args.output in (None, "-"):
            rows = export.write_file(session, file, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            with open(args.output, "wb") as out:
                rows = export.write_file(session, file, out)
            print(f"{rows} {args.kind} written to {args.output}", file=sys.stderr)


def _one_workspace(session: Any, given: str | None) -> str:
    from sqlmodel import select

    from storage.models import Workspace

    found = list(session.exec(select(Workspace.id).order_by(Workspace.id)).all())
    if given is not None:
        if given not in found:
            raise CliError(f"no workspace {given} (the database holds: {_ids(found)})")
        return given
    if len(found) != 1:
        raise CliError(f"say which workspace with --workspace: the database holds {_ids(found)}")
    return str(found[0])


def _ids(ids: list[str]) -> str:
    return ", ".join(ids) if ids else "none"


def backup(settings: Settings, engine: Engine, args: argparse.Namespace) -> None:
    from storage import backup as backups

    try:
        with open(args.file, "w", encoding="utf-8") as out:
            summary = backups.backup(
                engine, out, workspace=args.workspace, secrets=args.with_secrets
            )
    except backups.BackupError as err:
        raise CliError(f"backup refused: {err}") from None
    secrets = "with" if args.with_secrets else "without"
    print(
        f"{summary.total} rows of {_ids(summary.workspaces)} written to {args.file} "
        f"({secrets} OAuth tokens)"
    )


def restore(settings: Settings, engine: Engine, args: argparse.Namespace) -> None:
    from storage import backup as backups

    try:
        with open(args.file, encoding="utf-8") as source:
            summary = backups.restore(engine, source)
    except backups.BackupError as err:
        raise CliError(f"restore refused, nothing loaded: {err}") from None
    print(f"{summary.total} rows of {_ids(summary.workspaces)} restored from {args.file}")


def _importing() -> Any:
    return importlib.import_module("bot.importing")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pacer", description="Pacer: sales goals, pace and leaderboards in Slack."
    )
    p.add_argument("--env-file", default=".env", help="settings file (default: .env)")
    p.set_defaults(run=start)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("start", help="start in the mode the settings select (the default)")
    sub.add_parser("console", help="the local console, whatever the settings").set_defaults(
        run=console
    )
    sub.add_parser("demo", help="fill the demo workspace, then open the console").set_defaults(
        run=demo
    )
    jobs = sub.add_parser("jobs", help="run a scheduled job by hand (after an outage)")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    job = jobs_sub.add_parser(
        "run",
        help="send what a job sends, what was sent skipped, each workspace with its own "
        "token in an OAuth install (with neither SLACK_BOT_TOKEN nor OAuth: print it)",
    )
    job.add_argument("kind", choices=JOB_KINDS)
    job.add_argument(
        "--workspace", metavar="T…", help="only this workspace (a team id; default: every one)"
    )
    job.add_argument("--team", help="only this team (default: every team)")
    job.add_argument("--date", type=_day, help="the team's local day, YYYY-MM-DD (default: today)")
    job.set_defaults(run=jobs_run)
    out = sub.add_parser("export", help="the CSV of deals, goals or payments (every row)")
    out.add_argument("kind", choices=("deals", "goals", "payments"))
    out.add_argument("period", nargs="?", help="2026, 2026-Q4, 2026-11, 2026-W47 (default: all)")
    out.add_argument("--team", help="only this team (default: every team)")
    out.add_argument("--workspace", metavar="T…", help="the workspace (needed if several)")
    out.add_argument("--with-deleted", action="store_true", help="deleted rows too, marked")
    out.add_argument("-o", "--output", metavar="PATH", help="write here (default: stdout)")
    out.set_defaults(run=export_csv)
    save = sub.add_parser("backup", help="every row as JSON lines, for `pacer restore`")
    save.add_argument("file")
    save.add_argument("--workspace", metavar="T…", help="only this workspace")
    save.add_argument(
        "--with-secrets", action="store_true", help="include the OAuth installations' tokens"
    )
    save.set_defaults(run=backup)
    load_ = sub.add_parser("restore", help="load a backup into an empty database")
    load_.add_argument("file")
    load_.set_defaults(run=restore)
    _importing().add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = load(dotenv_path=args.env_file)
    configure_logging(settings if args.run is start else _at_a_terminal(settings))
    engine = make_engine(settings.database_url)
    if args.run is not restore:  # a restore checks the database is empty, then migrates
        upgrade(engine)
    run: Command = args.run
    try:
        run(settings, engine, args)
    except CliError as err:
        print(f"pacer: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        engine.dispose()
