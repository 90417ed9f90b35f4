"""Importing deals from a CRM's CSV export: a plan (the dry run) and, when the file has no
error at all, the writes, in the caller's one transaction.

The file is read three times, streamed (never held): the close dates, to settle the
day/month order for the file; every row, checked and resolved (owner, team, currency),
which gives the plan; then, only if nothing was wrong, again with the writes in batches of
a few hundred rows, each batch one flush (storage/queries/external.upsert_many). Rows of
a CRM are kept by its record id (the deal's external id); rows of Pacer's own export of a
deal typed in Slack by the deal's number. Nothing else is ever matched."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from commands import markup
from commands.formatter import Formatter
from domain import crm_csv, money
from domain.crm_csv import FileError, Problem, Row
from storage import queries
from storage.models import Deal, Member, Membership, Team
from storage.queries import ExternalDeal, Outcome, Upsert
from storage.queries.directory import CURRENT

BATCH = 500  # rows written per flush (and external ids looked up per query)
MAX_ERRORS = 50  # errors listed; the rest are counted
SOURCE = "import"
CLI_ACTOR = "cli"  # the audit's actor for the command line (an operator, not a Slack user)

Lines = Callable[[], Iterable[str]]  # the file opened afresh: each pass reads it anew
# An email to the Slack member it belongs to: (user id, name), or None when Slack knows no
# one by it. Raises NoLookup where Pacer has no way to ask Slack.
Lookup = Callable[[str], tuple[str, str] | None]
Progress = Callable[[str, int], None]  # (pass: "check" | "write", rows so far)


class NoLookup(LookupError):
    """No Slack client to look an email up with (no bot token, not installed)."""


@dataclass(frozen=True)
class Options:
    format: str = "auto"
    team: str | None = None  # every row's team (else a row's own, else its owner's home)
    date_format: str | None = None  # us | eu, where the file's dates leave it open
    stages: dict[str, str] = field(default_factory=dict)  # stage_key -> Pacer stage


@dataclass(frozen=True)
class Importer:
    """Who imports: `member` None is the command line (an operator, allowed every team)."""

    actor: str
    member: Member | None = None

    def may(self, session: Session, team: Team) -> bool:
        if self.member is None or self.member.is_admin:
            return True
        assert self.member.id is not None and team.id is not None
        return queries.manages(session, member_id=self.member.id, team_id=team.id)


@dataclass
class RepTotal:
    name: str
    currency: str
    created: int = 0
    updated: int = 0
    won_minor: int = 0  # what the import adds to the rep's won revenue (less, if negative)


@dataclass
class Findings:
    """What reading a file found wrong (the first MAX_ERRORS, and how many in all), and
    whether it was written: shared by the deals and the goals import."""

    errors: list[Problem] = field(default_factory=list)  # the first MAX_ERRORS
    error_count: int = 0
    file_error: FileError | None = None
    written: bool = False

    @property
    def ok(self) -> bool:
        return self.file_error is None and self.error_count == 0

    def problem(self, found: Problem) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(found)


@dataclass
class Plan(Findings):
    rows: int = 0
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    reps: dict[tuple[int, str], RepTotal] = field(default_factory=dict)


def import_deals(
    session: Session,
    *,
    workspace_id: str,
    lines: Lines,
    options: Options,
    importer: Importer,
    lookup: Lookup,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Plan:
    """Check the whole file; unless it is a dry run or anything is wrong, write it."""
    lookup = remembered(lookup)  # each email asked of Slack once, for both passes
    plan = _run(session, workspace_id, lines, options, importer, lookup, now, False, progress)
    if dry_run or not plan.ok:
        return plan
    with queries.deferred_upkeep(session):  # the kept tables once at the end, not per batch
        done = _run(session, workspace_id, lines, options, importer, lookup, now, True, progress)
    if not done.ok:  # the database changed between the passes: the caller rolls back
        return done
    done.written = True
    return done


def remembered(lookup: Lookup) -> Lookup:
    """The lookup, each email's answer (or NoLookup) kept for the import's length."""
    answers: dict[str, tuple[str, str] | NoLookup | None] = {}

    def remembering(email: str) -> tuple[str, str] | None:
        key = email.casefold()
        if key not in answers:
            try:
                answers[key] = lookup(email)
            except NoLookup as err:
                answers[key] = err
        answer = answers[key]
        if isinstance(answer, NoLookup):
            raise answer
        return answer

    return remembering


def _run(
    session: Session,
    workspace_id: str,
    lines: Lines,
    options: Options,
    importer: Importer,
    lookup: Lookup,
    now: datetime,
    write: bool,
    progress: Progress | None,
) -> Plan:
    plan = Plan()
    try:
        layout, rows = crm_csv.open_rows(lines(), options.format)
        order = crm_csv.scan_dates(layout, rows).order(options.date_format)
        layout, rows = crm_csv.open_rows(lines(), options.format)
        team = _named_team(session, workspace_id, options.team)
    except FileError as err:
        plan.file_error = err
        return plan
    reader = crm_csv.Reader(layout, order, options.stages)
    owners = Owners(session, workspace_id, lookup, write)
    run = Pass(session, workspace_id, importer, plan, owners, team, write, now, layout)
    for line, cells in rows:
        plan.rows += 1
        run.add(*reader.read(line, cells))
        if progress is not None and plan.rows % 10_000 == 0:
            progress("write" if write else "check", plan.rows)
    run.finish()
    return plan


def _named_team(session: Session, workspace_id: str, name: str | None) -> Team | None:
    if name is None:
        return None
    team = queries.find_team(session, workspace_id=workspace_id, name=name)
    if team is None:
        teams = ", ".join(t.name for t in queries.list_teams(session, workspace_id=workspace_id))
        raise FileError("import.no_such_team", name=name, teams=teams or "—")
    return team


@dataclass(frozen=True)
class Pending:
    row: Row
    record: ExternalDeal
    owner: Member
    team: Team


class Pass:
    """One pass over the rows: each resolved, then in batches classified (and written)."""

    def __init__(
        self,
        session: Session,
        workspace_id: str,
        importer: Importer,
        plan: Plan,
        owners: Owners,
        team: Team | None,
        write: bool,
        now: datetime,
        layout: crm_csv.Layout,
    ) -> None:
        self.session, self.ws, self.importer, self.plan = session, workspace_id, importer, plan
        self.layout = layout
        self.owners, self.team, self.write, self.now = owners, team, write, now
        self.batch: list[Pending] = []
        self.seen: dict[str | int, int] = {}  # external id or number -> its first line
        self.teams: dict[str, Team | None] = {}
        self.allowed: dict[int, bool] = {}

    def add(self, row: Row, read_problems: list[Problem]) -> None:
        """Resolve the row (owner, team, amount) and queue it; its problems, with those the
        reading found, go to the plan."""
        problems = list(read_problems)

        def problem(name: str, value: str, key: str, **values: object) -> None:
            column = (
                self.layout.column(name) if name in crm_csv.HEADERS[self.layout.format] else name
            )
            problems.append(Problem(row.line, column, value, key, values))

        key: str | int = row.external_id or row.number or 0
        if key in self.seen:
            problem("external_id" if row.external_id else "number", str(key), "import.repeated",
                    first=self.seen[key])  # fmt: skip
        else:
            self.seen[key] = row.line
        team = self._team(row, problem)
        owner = self.owners.find(row.owner, row.owner_email, row.owner_id, team, problem)
        if owner is not None and team is None:
            team = self._home(owner, row, problem)
        if owner is not None and team is not None:
            self._check(row, owner, team, problem)
        amount = self._amount(row, team, problem) if team is not None else None
        if problems or owner is None or team is None or amount is None:
            for found in sorted(
                problems,
                key=lambda p: (
                    self.layout.headers.index(p.column)
                    if p.column in self.layout.headers
                    else len(self.layout.headers)
                ),
            ):
                self.plan.problem(found)
            return
        assert owner.id is not None and team.id is not None
        record = ExternalDeal(
            external_id=row.external_id or "",
            team_id=team.id,
            owner_id=owner.id,
            amount_minor=amount,
            currency=team.currency,
            customer=row.customer,
            stage=row.stage,
            close_date=row.close_date,
            product=row.product,
            region=row.region,
            note=row.note,
        )
        self.batch.append(Pending(row, record, owner, team))
        if len(self.batch) >= BATCH:
            self.finish()

    def _team(self, row: Row, problem: Callable[..., None]) -> Team | None:
        if row.team is None:
            return self.team
        if row.team not in self.teams:
            self.teams[row.team] = queries.find_team(
                self.session, workspace_id=self.ws, name=row.team
            )
        team = self.teams[row.team]
        if team is None:
            problem("team", row.team, "import.unknown_team")
        return team

    def _home(self, owner: Member, row: Row, problem: Callable[..., None]) -> Team | None:
        assert owner.id is not None
        team = self.owners.home(owner.id)
        if team is None:
            problem("owner", row.owner, "import.owner_no_team")
        return team

    def _check(self, row: Row, owner: Member, team: Team, problem: Callable[..., None]) -> None:
        assert owner.id is not None and team.id is not None
        if not self.owners.on_team(owner.id, team.id):
            problem("owner", row.owner, "import.owner_not_on_team", team=team.name)
        if team.archived_at is not None:
            problem("team", team.name, "import.team_archived")
        if team.id not in self.allowed:
            self.allowed[team.id] = self.importer.may(self.session, team)
        if not self.allowed[team.id]:
            problem("team", team.name, "import.not_manager")

    def _amount(self, row: Row, team: Team, problem: Callable[..., None]) -> int | None:
        if row.currency is not None and row.currency != team.currency:
            problem("currency", row.currency, "import.wrong_currency", team=team.name,
                    team_currency=team.currency)  # fmt: skip
            return None
        try:
            return money.to_minor(money.parse_amount(row.amount, team.currency), team.currency)
        except money.AmountError as err:
            problem("amount", row.amount, err.reason)
            return None

    def finish(self) -> None:
        """Classify the batch against the deals it updates (and write it)."""
        batch, self.batch = self.batch, []
        if not batch:
            return
        by_id = queries.existing_by_external(
            self.session,
            workspace_id=self.ws,
            external_ids=[p.record.external_id for p in batch if p.record.external_id],
        )
        numbers = [p.row.number for p in batch if not p.row.external_id and p.row.number]
        by_number = queries.deals_by_number(self.session, workspace_id=self.ws, numbers=numbers)
        upserts: list[Upsert] = []
        for item in batch:
            if item.row.external_id:
                existing = by_id.get(item.row.external_id)
            else:
                existing = by_number.get(item.row.number or 0)
                if existing is None:
                    self.plan.problem(self._no_deal(item.row))
                    continue
            if item.row.deleted and (existing is None or existing.deleted_at is None):
                # Deleted when exported: neither brought back nor made anew, nor deleted here.
                self.plan.counts[Outcome.DELETED] += 1
                continue
            outcome = queries.outcome_for(existing, item.record)
            self.plan.counts[outcome] += 1
            self._tally(item, existing, outcome)
            if outcome in (Outcome.CREATED, Outcome.UPDATED):
                assert item.owner.id is not None
                logged_by = self.importer.member.id if self.importer.member else None
                upserts.append(Upsert(item.record, existing, logged_by or item.owner.id))
        if self.write and self.plan.ok and upserts:
            written = queries.upsert_many(
                self.session,
                workspace_id=self.ws,
                batch=upserts,
                actor=self.importer.actor,
                source=SOURCE,
                now=self.now,
            )
            for _outcome, deal in written:  # written: the session need not keep them
                if deal is not None:
                    self.session.expunge(deal)
        for deal in (*by_id.values(), *by_number.values()):
            if deal in self.session:
                self.session.expunge(deal)

    def _no_deal(self, row: Row) -> Problem:
        return Problem(
            row.line, self.layout.column("number"), str(row.number), "import.no_such_deal"
        )

    def _tally(self, item: Pending, existing: Deal | None, outcome: Outcome) -> None:
        if outcome not in (Outcome.CREATED, Outcome.UPDATED):
            return
        assert item.owner.id is not None
        key = (item.owner.id, item.team.currency)
        total = self.plan.reps.get(key)
        if total is None:
            total = self.plan.reps[key] = RepTotal(item.owner.name or item.owner.user_id, key[1])
        won = item.record.amount_minor if item.record.stage == "won" else 0
        if outcome is Outcome.CREATED:
            total.created += 1
            total.won_minor += won
            return
        assert existing is not None
        total.updated += 1
        before = existing.amount_minor if existing.stage == "won" else 0
        if existing.owner_id == item.owner.id:
            total.won_minor += won - before
            return
        total.won_minor += won  # the deal moves to this rep from another
        old = self.plan.reps.setdefault(
            (existing.owner_id, existing.currency), RepTotal(self.owners.name(existing.owner_id),
                                                             existing.currency)
        )  # fmt: skip
        old.won_minor -= before


class Owners:
    """Owners as the file writes them to members: a Slack id, an email (looked up in
    Slack), then a name among the team's members (or the workspace's, without a team).
    Each value is resolved once per pass."""

    def __init__(self, session: Session, workspace_id: str, lookup: Lookup, write: bool) -> None:
        self.session, self.ws, self.lookup, self.write = session, workspace_id, lookup, write
        self.members: dict[str, Member | None] = {}  # Slack id -> member
        self.named: dict[int | None, dict[str, list[Member]]] = {}  # team id -> name -> members
        self.homes: dict[int, Team | None] = {}
        self.teams_of: dict[int, set[int]] = {}

    def find(
        self,
        owner: str,
        email: str | None,
        user_id: str | None,
        team: Team | None,
        problem: Callable[..., None],
    ) -> Member | None:
        """The member a row's owner names (a Slack id, an email, a name, tried in turn)."""
        if user_id:
            member = self._member(user_id)
            if member is not None:
                return member
        if email:
            found = self._email(email)
            if isinstance(found, NoLookup):
                problem("owner", email, "import.no_email_lookup")
                return None
            if found is not None:
                member = self._member(found[0], found[1])
                if member is None:
                    problem("owner", email, "import.owner_not_in_pacer", user=found[0])
                return member
            if not owner or owner == email:  # an email and nothing else to go by
                problem("owner", email, "import.unknown_email")
                return None
        return self._by_name(owner, team, problem)

    def _email(self, email: str) -> tuple[str, str] | NoLookup | None:
        try:
            return self.lookup(email)
        except NoLookup as err:
            return err

    def _member(self, user_id: str, name: str = "") -> Member | None:
        if user_id not in self.members:
            member = queries.get_member(self.session, workspace_id=self.ws, user_id=user_id)
            if member is not None and self.write and name:
                member = queries.ensure_member(
                    self.session, workspace_id=self.ws, user_id=user_id, name=name
                )
            self.members[user_id] = member
        return self.members[user_id]

    def _by_name(self, name: str, team: Team | None, problem: Callable[..., None]) -> Member | None:
        team_id = team.id if team is not None else None
        if team_id not in self.named:
            self.named[team_id] = self._names(team_id)
        found = self.named[team_id].get(_name_key(name), [])
        if len(found) == 1:
            return found[0]
        if found:
            who = ", ".join(f"{m.name} ({m.user_id})" for m in found)
            problem("owner", name, "import.owner_ambiguous", who=who)
        else:
            problem("owner", name, "import.owner_unknown")
        return None

    def _names(self, team_id: int | None) -> dict[str, list[Member]]:
        """The team's current members (or everyone on a team of the workspace) by name."""
        query = (
            select(Member)
            .join(Membership, col(Membership.member_id) == col(Member.id))
            .where(Member.workspace_id == self.ws, CURRENT, Member.active == True)  # noqa: E712
        )
        if team_id is not None:
            query = query.where(Membership.team_id == team_id)
        names: dict[str, list[Member]] = {}
        members = {m.id: m for m in self.session.exec(query).all()}  # once, on several teams
        for member in members.values():
            for key in {_name_key(member.name), member.user_id.lower()}:
                names.setdefault(key, []).append(member)
        return names

    def home(self, member_id: int) -> Team | None:
        if member_id not in self.homes:
            self.homes[member_id] = queries.team_of(self.session, member_id=member_id)
        return self.homes[member_id]

    def on_team(self, member_id: int, team_id: int) -> bool:
        if member_id not in self.teams_of:
            rows = queries.memberships_of(self.session, member_id=member_id)
            self.teams_of[member_id] = {team.id for team, _role in rows if team.id is not None}
        return team_id in self.teams_of[member_id]

    def name(self, member_id: int) -> str:
        member = self.session.get(Member, member_id)
        return (member.name or member.user_id) if member is not None else str(member_id)


def _name_key(name: str) -> str:
    return " ".join(name.lstrip("@").split()).casefold()


def text_lines(data: bytes) -> Lines:
    """A file's bytes (a modal's upload) as lines for each pass: UTF-8, with or without a
    BOM; anything else is refused for the file, never read with guessed characters."""
    text = utf8(data)
    return lambda: io.StringIO(text, newline="")


def utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise FileError("import.not_utf8", line=line) from err


# --- the plan in words ----------------------------------------------------------------------------


def describe(
    plan: Plan,
    fmt: Formatter,
    dry_run: bool,
    slack: bool = False,
    note: str = "import.dry_run_note",
) -> str:
    """The answer to an import: its errors, or what it did (or would do) and per rep, with
    `note` after a dry run (how to import it for real, from where it was run). For Slack
    the file's text is escaped: a cell `<!channel>` reads as written."""
    clean: Callable[[str], str] = markup.escape if slack else str
    if plan.file_error is not None:
        values = {
            k: clean(v) if isinstance(v, str) else v for k, v in plan.file_error.values.items()
        }
        return fmt.t(plan.file_error.key, **values)
    if not plan.ok:
        return "\n".join(error_lines(plan.errors, plan.error_count, fmt, clean))
    counts = {o.value: plan.counts[o] for o in Outcome}
    key = "import.would" if dry_run else "import.done"
    lines = [fmt.t(key, rows=plan.rows, **counts)]
    for total in sorted(plan.reps.values(), key=lambda t: t.name.casefold()):
        sign = "−" if total.won_minor < 0 else "+"
        won = fmt.money(abs(total.won_minor), total.currency)
        lines.append(
            fmt.t(
                "import.rep_line",
                name=clean(total.name),
                created=total.created,
                updated=total.updated,
                won=f"{sign}{won}",
            )
        )
    if dry_run:
        lines.append(fmt.t(note))
    return "\n".join(lines)


def error_lines(
    errors: list[Problem], count: int, fmt: Formatter, clean: Callable[[str], str]
) -> Iterator[str]:
    """Each error (line, column, value, reason), the count of those not listed, and that
    nothing was written."""
    yield fmt.t("import.errors_title", n=count)
    for found in errors:
        values = {k: clean(v) if isinstance(v, str) else v for k, v in found.values.items()}
        value = clean(found.value.replace("\n", " ")[:80])
        reason = fmt.t(found.key, **{"value": value, **values})
        yield fmt.t(
            "import.error_line",
            line=found.line,
            column=clean(found.column),
            value=value,
            reason=reason,
        )
    if count > len(errors):
        yield fmt.t("import.errors_more", n=count - len(errors))
    yield fmt.t("import.nothing_written")
