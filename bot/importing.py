"""`pacer import deals|goals FILE` on the command line: the file read in passes from disk,
owners' emails looked up in Slack (users.lookupByEmail, scope users:read.email) with the
workspace's bot token, everything in one transaction."""

from __future__ import annotations

import argparse
import codecs
import logging
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine
from sqlmodel import select

from bot.profiles import real_name
from bot.settings import Settings
from commands import import_goals, imports
from commands.formatter import Formatter
from domain import crm_csv
from storage.engine import session_scope
from storage.models import Workspace

log = logging.getLogger(__name__)


class CliError(Exception):
    """A problem with the command itself (no such workspace, no such file)."""


def email_lookup(client: WebClient | None) -> imports.Lookup:
    """users.lookupByEmail: (user id, name) of the member, None when no one has the email;
    NoLookup without a client, or when Slack cannot answer (e.g. the scope is missing)."""

    def lookup(email: str) -> tuple[str, str] | None:
        if client is None:
            raise imports.NoLookup(email)
        try:
            answer = client.users_lookupByEmail(email=email)
        except SlackApiError as err:
            if err.response.get("error") == "users_not_found":
                return None
            log.warning("users.lookupByEmail failed: %s", err.response.get("error"))
            raise imports.NoLookup(email) from err
        except (SlackClientError, OSError) as err:
            log.warning("users.lookupByEmail failed: %s", err)
            raise imports.NoLookup(email) from err
        user = answer.get("user") or {}
        return str(user.get("id", "")), real_name(user)

    return lookup


def file_lines(path: Path) -> Callable[[], Iterator[str]]:
    """The file opened afresh for each pass: UTF-8 with or without a BOM, any line ends
    (anything else refused before the first pass, naming the line)."""
    check_utf8(path)

    def lines() -> Iterator[str]:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            yield from fh

    return lines


def check_utf8(path: Path) -> None:
    """Read through once in binary chunks: constant memory whatever the file's size."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                raise crm_csv.FileError(
                    "import.not_utf8", line=line + chunk[: err.start].count(b"\n")
                ) from err
            line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as err:
        raise crm_csv.FileError("import.not_utf8", line=line) from err


def workspace_for(engine: Engine, wanted: str | None) -> str:
    with session_scope(engine) as session:
        ids = list(session.exec(select(Workspace.id).order_by(Workspace.id)).all())
    if wanted:
        if wanted not in ids:
            raise CliError(f"no workspace {wanted} (workspaces: {', '.join(ids) or 'none'})")
        return wanted
    if len(ids) != 1:
        listed = ", ".join(ids) or "none yet"
        raise CliError(f"give --workspace T… (workspaces: {listed})")
    return ids[0]


def _client(settings: Settings, engine: Engine, workspace_id: str) -> WebClient | None:
    from bot.app import clients

    senders = clients(settings, engine)
    return senders.client_for(workspace_id) if senders is not None else None


def _stages(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    with Path(path).open(encoding="utf-8-sig") as fh:
        return crm_csv.parse_stage_map(fh)


def _progress(what: str, rows: int) -> None:
    sys.stderr.write(f"\r{what}: {rows:,} rows")
    sys.stderr.flush()


def run(settings: Settings, engine: Engine, args: argparse.Namespace) -> None:
    """Exit status 1 when the file (or the command) is wrong: nothing is written then."""
    fmt = Formatter("en")
    try:
        path = Path(args.file)
        if not path.is_file():
            raise CliError(f"no file {args.file}")
        workspace_id = workspace_for(engine, args.workspace)
        client = _client(settings, engine, workspace_id)
        if args.what == "deals":
            text, ok = _deals(engine, workspace_id, path, args, client, fmt)
        else:
            text, ok = _goals(engine, workspace_id, path, args, client, fmt)
    except CliError as err:
        print(f"pacer import: {err}", file=sys.stderr)
        raise SystemExit(2) from err
    except crm_csv.FileError as err:  # the stages file
        print(fmt.t(err.key, **err.values), file=sys.stderr)
        raise SystemExit(1) from err
    print(text)
    if not ok:
        raise SystemExit(1)


def _deals(
    engine: Engine,
    workspace_id: str,
    path: Path,
    args: argparse.Namespace,
    client: WebClient | None,
    fmt: Formatter,
) -> tuple[str, bool]:
    options = imports.Options(
        format=args.format,
        team=args.team,
        date_format=args.date_format,
        stages=_stages(args.stages),
    )
    with session_scope(engine) as session:
        plan = imports.import_deals(
            session,
            workspace_id=workspace_id,
            lines=file_lines(path),
            options=options,
            importer=imports.Importer(actor=imports.CLI_ACTOR),
            lookup=email_lookup(client),
            now=datetime.now(UTC),
            dry_run=args.dry_run,
            progress=_progress if sys.stderr.isatty() or args.progress else None,
        )
        if not plan.ok:
            session.rollback()
    if args.progress or sys.stderr.isatty():
        sys.stderr.write("\n")
    return imports.describe(plan, fmt, args.dry_run), plan.ok


def _goals(
    engine: Engine,
    workspace_id: str,
    path: Path,
    args: argparse.Namespace,
    client: WebClient | None,
    fmt: Formatter,
) -> tuple[str, bool]:
    with session_scope(engine) as session:
        plan = import_goals.import_goals(
            session,
            workspace_id=workspace_id,
            lines=file_lines(path),
            team=args.team,
            importer=imports.Importer(actor=imports.CLI_ACTOR),
            lookup=email_lookup(client),
            now=datetime.now(UTC),
            dry_run=args.dry_run,
        )
        if not plan.ok:
            session.rollback()
    return import_goals.describe(plan, fmt, args.dry_run), plan.ok


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`pacer import deals|goals FILE ...`"""
    p = sub.add_parser("import", help="import deals or goals from a CSV file (all or nothing)")
    p.add_argument("what", choices=("deals", "goals"))
    p.add_argument("file", metavar="FILE", help="the CSV file")
    p.add_argument("--workspace", metavar="T…", help="the workspace (default: the only one)")
    p.add_argument("--team", help="every row's team (default: the row's team, or its owner's)")
    p.add_argument(
        "--format", choices=crm_csv.FORMAT_CHOICES, default="auto", help="default: from the header"
    )
    p.add_argument(
        "--date-format",
        choices=[o.value for o in crm_csv.DateOrder],
        help="us: 11/05/2026 is November 5; eu: 11 May (only where the file leaves it open)",
    )
    p.add_argument("--stages", metavar="FILE", help="custom stage names: `CRM stage = stage` lines")
    p.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    p.add_argument("--progress", action="store_true", help="a progress line even when piped")
    p.set_defaults(run=run)
