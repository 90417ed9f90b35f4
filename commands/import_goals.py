"""Importing goals from a CSV file: columns `owner` (an email, `@name` or `team:NAME`),
`period`, `target` and an optional `metric`. The rules are /goal set's own (its parsers,
its permission, its save: commands/goal.py), all or nothing as the deals import: any row
wrong and nothing is written. The same target again changes nothing; a changed one is an
audited update of the goal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from commands import goal, markup
from commands.args import PeriodRef
from commands.context import Ctx
from commands.formatter import Formatter
from commands.imports import (
    Findings,
    Importer,
    Lines,
    Lookup,
    NoLookup,
    Owners,
    error_lines,
    remembered,
)
from commands.parsing import Refused, UsageError
from commands.stats import parse_target
from commands.types import Request
from domain import crm_csv, money, periods
from domain.crm_csv import FileError, Problem
from storage import queries
from storage.models import Member, Team

REQUIRED = ("owner", "period", "target")
MAX_ERRORS = 50


@dataclass(frozen=True)
class Target:
    """One row, resolved: the goal it sets and the target as written."""

    team: Team
    rep: Member | None
    metric: str
    period: periods.Period
    target: str


@dataclass
class GoalPlan(Findings):
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def import_goals(
    session: Session,
    *,
    workspace_id: str,
    lines: Lines,
    team: str | None,
    importer: Importer,
    lookup: Lookup,
    now: datetime,
    dry_run: bool = False,
) -> GoalPlan:
    plan = GoalPlan()
    ctx = _ctx(session, workspace_id, importer, now)
    try:
        header, rows = _open(lines)
        only = ctx.team_named(team) if team else None
    except FileError as err:
        plan.file_error = err
        return plan
    except UsageError as err:
        plan.file_error = FileError("import.no_such_team", name=team, teams=ctx.team_names())
        del err
        return plan
    owners = Owners(session, workspace_id, remembered(lookup), write=False)
    todo: list[Target] = []
    seen: dict[tuple[object, ...], int] = {}
    for line, cells in rows:
        plan.rows += 1
        row = {name: cells[at].strip() if at < len(cells) else "" for name, at in header.items()}
        found = _target(ctx, owners, only, line, row, plan)
        if found is None:
            continue
        rep_id = found.rep.id if found.rep else None
        key = (found.team.id, rep_id, found.metric, found.period.start, found.period.end)
        if key in seen:
            plan.problem(
                Problem(line, "owner", row["owner"], "import.repeated", {"first": seen[key]})
            )
            continue
        seen[key] = line
        existing = goal.live_goal(ctx, found.team, found.rep, found.metric, found.period)
        target = parse_target(found.metric, found.target, found.team.currency)
        if existing is None:
            plan.created += 1
        elif existing.target == target:
            plan.unchanged += 1
            continue
        else:
            plan.updated += 1
        todo.append(found)
    if dry_run or not plan.ok:
        return plan
    for item in todo:
        goal.save_target(ctx, item.team, item.rep, item.metric, item.period, item.target)
    plan.written = True
    return plan


def _ctx(session: Session, workspace_id: str, importer: Importer, now: datetime) -> Ctx:
    """The context /goal set runs in: the importing member, or for the command line an
    operator allowed every team (a member row of its own, never saved)."""
    workspace = queries.get_workspace(session, workspace_id=workspace_id)
    me = importer.member or Member(workspace_id=workspace_id, user_id=importer.actor, is_admin=True)
    req = Request(workspace_id=workspace_id, user_id=importer.actor, text="", now=now)
    return Ctx(req, session, workspace, me, Formatter("en"))


def _open(lines: Lines) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    records = crm_csv.read_csv(lines())
    for _line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        names = [" ".join(c.replace("\ufeff", "").split()).lower() for c in cells]
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            raise FileError("import.missing_columns", format="goals", columns=", ".join(missing))
        wanted = (*REQUIRED, "metric")
        header = {name: names.index(name) for name in wanted if name in names}
        return header, (r for r in records if any(c.strip() for c in r[1]))
    raise FileError("import.empty")


def _target(
    ctx: Ctx, owners: Owners, only: Team | None, line: int, row: dict[str, str], plan: GoalPlan
) -> Target | None:
    """The row's goal, or None with its problems added to the plan."""
    before = plan.error_count

    def problem(column: str, value: str, key: str, **values: object) -> None:
        plan.problem(Problem(line, column, value, key, values))

    subject = _owner(owners, only, row["owner"], problem)
    metric = (row.get("metric") or "revenue").lower()
    if metric not in goal.SETTABLE_METRICS:
        problem(
            "metric",
            row.get("metric", ""),
            "import.bad_metric",
            choices=", ".join(goal.SETTABLE_METRICS),
        )
    if subject is None or plan.error_count > before:
        return None
    team, rep = subject
    try:
        ctx.require_manager(team)
    except Refused:
        problem("owner", team.name, "import.not_manager")
        return None
    try:
        period = ctx.period(PeriodRef(row["period"]), ctx.today(team)) if row["period"] else None
    except UsageError:
        period = None
    if period is None:
        problem("period", row["period"], "import.bad_period")
    try:
        parse_target(metric, row["target"], team.currency)
    except money.AmountError as err:
        problem("target", row["target"], err.reason)
    except UsageError as err:
        problem("target", row["target"], err.key)
    if period is None or plan.error_count > before:
        return None
    return Target(team, rep, metric, period, row["target"])


def _owner(
    owners: Owners, only: Team | None, text: str, problem: Callable[..., None]
) -> tuple[Team, Member | None] | None:
    """(team, rep): `team:NAME` is the team's goal; an email or `@name` a rep's, on
    --team or else the rep's home team."""
    if not text:
        problem("owner", "", "import.no_owner")
        return None
    if text.lower().startswith("team:"):
        name = text[5:].strip()
        team = queries.find_team(owners.session, workspace_id=owners.ws, name=name)
        if team is None:
            problem("owner", name, "import.unknown_team")
        return (team, None) if team is not None else None
    email = text if crm_csv.EMAIL.match(text) else None
    rep = owners.find(text.lstrip("@"), email, None, only, problem)
    if rep is None:
        return None
    assert rep.id is not None
    team = only or owners.home(rep.id)
    if team is None:
        problem("owner", text, "import.owner_no_team")
        return None
    assert team.id is not None
    if not owners.on_team(rep.id, team.id):
        problem("owner", text, "import.owner_not_on_team", team=team.name)
        return None
    return team, rep


def describe(
    plan: GoalPlan,
    fmt: Formatter,
    dry_run: bool,
    slack: bool = False,
    note: str = "import.dry_run_note",
) -> str:
    clean: Callable[[str], str] = markup.escape if slack else str
    if plan.file_error is not None:
        values = plan.file_error.values
        return fmt.t(
            plan.file_error.key,
            **{k: clean(v) if isinstance(v, str) else v for k, v in values.items()},
        )
    if not plan.ok:
        return "\n".join(error_lines(plan.errors, plan.error_count, fmt, clean))
    key = "import.goals_would" if dry_run else "import.goals_done"
    text = fmt.t(
        key, rows=plan.rows, created=plan.created, updated=plan.updated, unchanged=plan.unchanged
    )
    return text + ("\n" + fmt.t(note) if dry_run else "")


__all__ = ["GoalPlan", "NoLookup", "import_goals"]
