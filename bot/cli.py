"""The `pacer` command: start in the configured mode, or open the console (with a demo).

pacer            Socket Mode, HTTP, OAuth or the console, from the settings
pacer console    the local console, whatever the settings
pacer demo       fill the demo workspace, then open the console
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine

import charts
from bot.settings import Mode, Settings, load
from storage.engine import make_engine
from storage.migrate import upgrade

log = logging.getLogger("pacer")

TOKEN = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")
Command = Callable[[Settings, Engine, argparse.Namespace], None]


class Redact(logging.Filter):
    """Blanks Slack tokens and the configured secrets in every log line."""

    def __init__(self, secrets: Sequence[str | None]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = TOKEN.sub(r"\1-***", message)
        for secret in self.secrets:
            clean = clean.replace(secret, "***")
        if clean != message:
            record.msg, record.args = clean, None
        return True


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(
        Redact(
            [
                settings.bot_token,
                settings.app_token,
                settings.signing_secret,
                settings.client_secret,
            ]
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # Alembic narrates every start at INFO ("Context impl SQLiteImpl"); only a real
    # migration is worth a line, and storage.migrate logs that itself.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def warm_up_charts() -> None:
    """The first render in a process is the slow one: pay it before the first request.

    Then collect the start-up garbage and freeze what survives (modules, caches, fonts: it
    lives as long as the process), so that the collection after each chart (see charts)
    walks only what requests created: about 5 ms instead of about 80 ms.
    """
    charts.warm_up()
    gc.collect()
    gc.freeze()


def start(settings: Settings, engine: Engine, _args: argparse.Namespace) -> None:
    mode = settings.mode
    if mode == Mode.CONSOLE:
        console(settings, engine, _args)
        return
    warm_up_charts()
    if mode == Mode.SOCKET:
        from bot import socket_mode

        socket_mode.serve(settings, engine)
    else:
        from bot import http

        http.serve(settings, engine)


def console(settings: Settings, engine: Engine, _args: argparse.Namespace) -> None:
    _console().run(settings, engine, demo=False)


def demo(settings: Settings, engine: Engine, _args: argparse.Namespace) -> None:
    _console().run(settings, engine, demo=True)


def _console() -> Any:
    # Imported late: the console pulls in nothing Slack, and Slack modes never need it.
    return importlib.import_module("bot.console")


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
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = load(dotenv_path=args.env_file)
    configure_logging(settings)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    run: Command = args.run
    try:
        run(settings, engine, args)
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        engine.dispose()
