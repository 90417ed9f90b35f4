"""/pacer export deals|goals|payments [PERIOD] [team NAME] [with-deleted]: a CSV file.

The command decides what the requester may see and answers at once; the rows are written
after the acknowledgement (`write_file`), streamed from the database a chunk at a time, to
the requester's direct messages in Slack, a file in the console, or a path or stdout from
`pacer export` on the command line. Reps export their own rows, managers their teams'
(and their own), admins everything.

The deals file is also Pacer's import format: its columns (DEAL_COLUMNS) and how a value
is written (domain/csvio.py) are read back by the import. The columns are documented in
the README ("Export, backup and restore").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from sqlmodel import Session

from commands import markup, report, why
from commands.args import Converter, PeriodRef, Words, period_width
from commands.context import Ctx, name_of
from commands.formatter import MONEY_METRICS
from commands.parsing import Refused, UsageError
from commands.types import ExportQuery, FileOut, Reply
from domain import csvio, periods
from storage import queries
from storage.models import Team
from storage.queries import exports

KINDS = ("deals", "goals", "payments")
KIND_NAMES = {
    "deals": "export.kind_deals",
    "goals": "export.kind_goals",
    "payments": "export.kind_payments",
}
WITH_DELETED = ("with-deleted", "with_deleted", "--with-deleted")
DEAL_COLUMNS = (
    "number",
    "external_id",
    "close_date",
    "customer",
    "amount",
    "currency",
    "stage",
    "owner_email",
    "owner",
    "owner_id",
    "team",
    "product",
    "region",
    "note",
    "source",
    "created_at",
    "deleted",
)
GOAL_COLUMNS = (
    "number",
    "owner",
    "owner_id",
    "team",
    "metric",
    "period",
    "starts_on",
    "ends_on",
    "target",
    "currency",
    "origin",
    "parent_number",
    "deleted",
)
PAYMENT_COLUMNS = ("deal_number", "paid_on", "amount", "currency", "owner", "team", "deleted")
COLUMNS = {
    "deals": DEAL_COLUMNS,
    "goals": GOAL_COLUMNS,
    "payments": PAYMENT_COLUMNS,
    "why": why.COLUMNS,
}


# --- the words: [PERIOD] [team NAME] [with-deleted], in any order of the last two -------------


@dataclass(frozen=True)
class Scope:
    period: PeriodRef | None
    team: Team | None
    with_deleted: bool


def _scope(ctx: Ctx, words: Words) -> Scope:
    """`2026-Q4 team East with-deleted`: `with-deleted` anywhere, `team NAME` running to the
    end unless a period ends it (`team East 2026-Q4`), a period before or after it."""
    with_deleted = any(w.lower() in WITH_DELETED for w in words.tokens)
    tokens = [w for w in words.take_all() if w.lower() not in WITH_DELETED]
    at = next((i for i, w in enumerate(tokens) if _is_team_word(w)), None)
    before, after = (tokens, []) if at is None else (tokens[:at], tokens[at:])
    if after and not before and _ends_in_period(ctx, after):
        n = period_width(after)
        before, after = after[-n:], after[:-n]
    team = _team(ctx, after) if after else None
    period = _period(ctx, before) if before else None
    return Scope(period, team, with_deleted)


def _ends_in_period(ctx: Ctx, tokens: list[str]) -> bool:
    """`team East 2026-Q4`: a period after the name, unless the whole is a team's name."""
    n = period_width(tokens)
    if not n or len(tokens) - n < 2:
        return False
    whole = " ".join([tokens[0][len("team:") :], *tokens[1:]]).strip()
    return queries.find_team(ctx.session, workspace_id=ctx.ws, name=whole) is None


def _is_team_word(word: str) -> bool:
    return word.lower() == "team" or word.lower().startswith(("team:", "team："))


def _team(ctx: Ctx, tokens: list[str]) -> Team:
    first = tokens[0][len("team:") :]
    name = " ".join([first, *tokens[1:]] if first else tokens[1:])
    if not name:
        raise UsageError("error.name_the_team")
    return ctx.team_named(name)


def _period(ctx: Ctx, tokens: list[str]) -> PeriodRef:
    text = " ".join(tokens)
    if period_width(tokens) != len(tokens) and not periods.is_relative(text):
        raise UsageError("error.extra_words", words=text)
    ctx.period(PeriodRef(text), ctx.today(None))  # refused now if it is no period
    return PeriodRef(text)


# Shown as `[PERIOD] [team NAME] [with-deleted]` (the optional argument adds the outer brackets).
SCOPE = Converter("PERIOD] [team NAME] [with-deleted", _scope)


# --- the command ------------------------------------------------------------------------------


def export(ctx: Ctx, kind: str, scope: Scope | None) -> Reply:
    """/pacer export deals|goals|payments [PERIOD] [team NAME] [with-deleted]"""
    scope = scope or Scope(None, None, False)
    query = _query(ctx, kind, scope)
    label = _period_label(ctx, scope)
    filename = file_name(kind, label, scope.team.name if scope.team else None)
    whose = _whose(ctx, query, scope.team)
    what = ctx.t(KIND_NAMES[kind])
    text = ctx.t(
        "export.on_its_way",
        what=what,
        period=label or ctx.t("export.all_time"),
        whose=whose,
        deleted=ctx.t("export.and_deleted") if scope.with_deleted else "",
        file=markup.escape(filename),
    )
    title = f"Pacer {kind} · {label or ctx.t('export.all_time')}"
    return Reply(text=text, file=FileOut(filename=filename, title=title, export=query))


def _query(ctx: Ctx, kind: str, scope: Scope) -> ExportQuery:
    """What the requester may see: a named team if they manage it (or are an admin);
    else everything for an admin, their teams' and their own rows for a manager, their
    own for a rep."""
    start, end = _dates(ctx, scope)
    team_ids: tuple[int, ...] | None
    owner_id: int | None = None
    if scope.team is not None:
        if not ctx.can_manage(scope.team):
            raise Refused("export.not_manager", team=name_of(scope.team))
        team_ids = (scope.team.id or 0,)
    elif ctx.me.is_admin:
        team_ids = None
    else:
        managed = queries.memberships_of(ctx.session, member_id=ctx.my_id)
        team_ids = tuple(t.id or 0 for t, role in managed if role == "manager")
        owner_id = ctx.my_id
    return ExportQuery(
        kind=kind,
        workspace_id=ctx.ws,
        start=start,
        end=end,
        team_ids=team_ids,
        owner_id=owner_id,
        with_deleted=scope.with_deleted,
    )


def _dates(ctx: Ctx, scope: Scope) -> tuple[date | None, date | None]:
    if scope.period is None:
        return None, None  # no period: everything
    shown = ctx.period(scope.period, ctx.today(scope.team or ctx.my_team()))
    return shown.start, shown.end


def _period_label(ctx: Ctx, scope: Scope) -> str | None:
    if scope.period is None:
        return None
    return ctx.period(scope.period, ctx.today(scope.team or ctx.my_team())).label


def _whose(ctx: Ctx, query: ExportQuery, team: Team | None) -> str:
    if team is not None:
        return ctx.t("export.whose_team", team=name_of(team))
    if query.team_ids is None:
        return ctx.t("export.whose_all")
    if query.team_ids:
        teams = queries.list_teams(ctx.session, workspace_id=ctx.ws)
        names = ", ".join(name_of(t) for t in teams if t.id in query.team_ids)
        return ctx.t("export.whose_managed", teams=names)
    return ctx.t("export.whose_own")


def file_name(kind: str, label: str | None, team: str | None) -> str:
    """`deals-2026-Q4-East.csv`: letters, digits and dashes only (a team may be `a/b`)."""
    parts = [kind, label or "all", *([team] if team else [])]
    safe = "-".join("".join(c if c.isalnum() else "-" for c in p).strip("-") for p in parts)
    return f"{safe}.csv"


# --- the file -----------------------------------------------------------------------------------


def write_file(
    session: Session, file: FileOut, out: IO[bytes], pdf: report.PdfRenderer | None = None
) -> int:
    """Write the file's bytes to `out`: its content, or its export streamed row by row.
    The number of rows written (0 for plain content)."""
    if file.export is None:
        out.write(file.content)
        return 0
    if file.export.kind == "report":
        if pdf is None:
            raise ValueError("a report needs a PDF renderer (charts.render_report)")
        return report.write_pdf(session, file.export, out, pdf)
    return write_csv(session, file.export, out)


CHUNK = 500  # rows encoded and written at a time: one encoder call per chunk, not per row


def write_csv(session: Session, query: ExportQuery, out: IO[bytes]) -> int:
    """The CSV of `query` to `out` (UTF-8 with a byte order mark), CHUNK rows at a time."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(COLUMNS[query.kind])
    count = 0
    for row in _rows(session, query):
        writer.writerow(row)
        count += 1
        if count % CHUNK == 0:
            _flush(text, out, first=count == CHUNK)
    _flush(text, out, first=count < CHUNK)
    return count


def _flush(text: io.StringIO, out: IO[bytes], *, first: bool) -> None:
    """The rows written so far to `out`, the byte order mark before the first of them."""
    out.write(text.getvalue().encode(csvio.ENCODING if first else "utf-8"))
    text.seek(0)
    text.truncate()


def _rows(session: Session, query: ExportQuery) -> Iterator[list[str]]:
    if query.kind == "why":
        return why.csv_rows(session, query)
    members = exports.member_names(session, workspace_id=query.workspace_id)
    teams = exports.team_rows(session, workspace_id=query.workspace_id)
    rows = exports.Rows(
        query.workspace_id,
        query.start,
        query.end,
        query.team_ids,
        query.owner_id,
        query.with_deleted,
    )
    if query.kind == "deals":
        return (
            _deal_row(deal, members, teams) for deal in exports.export_deals(session, rows=rows)
        )
    if query.kind == "goals":
        currency = _workspace_currency(teams)
        return (
            _goal_row(goal, parent, members, teams, currency)
            for goal, parent in exports.export_goals(session, rows=rows)
        )
    return _payment_rows(exports.export_payments(session, rows=rows), members, teams)


Names = dict[int, tuple[str, str]]


def _deal_row(deal: Any, members: Names, teams: dict[int, Team]) -> list[str]:
    """A deal's row (a plain database row with the deal's columns)."""
    name, user_id = members.get(deal.owner_id, ("", ""))
    team = teams.get(deal.team_id)
    return [
        str(deal.number),
        csvio.text_cell(deal.external_id),
        csvio.date_cell(deal.close_date),
        csvio.text_cell(deal.customer),
        csvio.money_cell(deal.amount_minor, deal.currency),
        deal.currency,
        deal.stage,
        "",  # owner_email: Pacer stores no e-mail address
        csvio.text_cell(name),
        user_id,
        csvio.text_cell(team.name if team else ""),
        csvio.text_cell(deal.product),
        csvio.text_cell(deal.region),
        csvio.text_cell(deal.note),
        deal.source,
        csvio.time_cell(deal.created_at),
        csvio.time_cell(deal.deleted_at),
    ]


def _goal_row(
    goal: exports.Goal,
    parent_number: int | None,
    members: Names,
    teams: dict[int, Team],
    workspace_currency: str,
) -> list[str]:
    team = teams.get(goal.team_id) if goal.team_id is not None else None
    name, user_id = members.get(goal.member_id, ("", "")) if goal.member_id else ("", "")
    if goal.member_id is not None:
        owner = "@" + (name or user_id)
    elif team is not None:
        owner = f"team:{team.name}"
    else:
        owner = "workspace"
    currency = team.currency if team else workspace_currency
    money_metric = goal.metric in MONEY_METRICS
    return [
        str(goal.number),
        csvio.text_cell(owner),
        user_id,
        csvio.text_cell(team.name if team else ""),
        goal.metric,
        goal.period,
        csvio.date_cell(goal.starts_on),
        csvio.date_cell(goal.ends_on),
        csvio.money_cell(goal.target, currency) if money_metric else str(goal.target),
        currency if money_metric else "",
        goal.origin,
        str(parent_number) if parent_number is not None else "",
        csvio.time_cell(goal.deleted_at),
    ]


def _payment_rows(
    found: Iterable[Any], members: Names, teams: dict[int, Team]
) -> Iterator[list[str]]:
    for payment in found:
        team = teams.get(payment.team_id)
        name, _user = members.get(payment.owner_id, ("", ""))
        yield [
            str(payment.deal_number),
            csvio.date_cell(payment.paid_on),
            csvio.money_cell(payment.amount_minor, payment.currency),
            payment.currency,
            csvio.text_cell(name),
            csvio.text_cell(team.name if team else ""),
            csvio.time_cell(payment.deleted_at),
        ]


def _workspace_currency(teams: dict[int, Team]) -> str:
    """Workspace goals count in the first team's currency (USD before there is a team), as
    commands/goal_tree.py shows them."""
    first = min(teams) if teams else None
    return teams[first].currency if first is not None else "USD"


# --- the command line: an operator sees everything ------------------------------------------------


def operator_query(
    session: Session,
    *,
    workspace_id: str,
    kind: str,
    period: str | None,
    team: str | None,
    with_deleted: bool,
    today: date,
) -> ExportQuery:
    """`pacer export`: every row of the workspace (or team); a bad period or team name
    raises UsageError, as a command's would."""
    workspace = queries.get_workspace(session, workspace_id=workspace_id)
    start = end = None
    if period:
        try:
            shown = periods.parse(period, today, workspace.fiscal_start_month)
        except periods.PeriodError as err:
            raise UsageError("error.bad_period", value=period) from err
        start, end = shown.start, shown.end
    team_ids: tuple[int, ...] | None = None
    if team:
        found = queries.find_team(session, workspace_id=workspace_id, name=team)
        if found is None:
            teams = queries.list_teams(session, workspace_id=workspace_id)
            names = ", ".join(t.name for t in teams)
            raise UsageError("error.no_such_team", name=team, teams=names or "—")
        team_ids = (found.id or 0,)
    return ExportQuery(kind, workspace_id, start, end, team_ids, None, with_deleted)
