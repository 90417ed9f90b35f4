"""Deals a CRM sends to POST /integrations/deals (bot/webhook.py), from JSON to deal rows.

All or nothing: every deal of a call is checked (`read_deals` its shape, `apply` what needs
the database: owner, team, currency, amount, date) before any is written, and one bad deal
writes none. Each problem names the deal's index and the field. Deals are upserted by the
CRM's record id (storage/queries/external.py), so the same call sent again changes
nothing, and a deal moved to lost leaves the numbers and takes back its celebration.
Nothing here talks HTTP or Slack: the owners' Slack ids come in looked up already.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands import celebrate, i18n
from commands.context import Ctx
from commands.parsing import UsageError, parse_stage, storable
from commands.types import Reply, Request
from domain import crm_csv, money, periods
from storage import queries
from storage.models import STAGES, Deal, Member, Team

MAX_DEALS = 500  # per call: a CRM workflow sends one; a backfill is an import
SOURCE = "webhook"
FIELDS = (
    "external_id",
    "amount",
    "currency",
    "customer",
    "stage",
    "close_date",
    "owner_email",
    "product",
    "region",
    "note",
    "team",
)
REQUIRED = FIELDS[:7]
# Longest text each field keeps (the columns); longer is refused, never cut.
LIMITS = {
    "external_id": 120,
    "customer": 200,
    "owner_email": 254,
    "product": 120,
    "region": 120,
    "note": 2000,
    "team": 80,
}
EXAMPLES = {
    "external_id": '"18342"',
    "amount": '"12,500"',
    "currency": '"USD"',
    "customer": '"Acme Corp"',
    "stage": '"closedwon"',
    "close_date": '"2026-11-20"',
    "owner_email": '"alice@example.com"',
}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CURRENCY = re.compile(r"[A-Za-z]{3}")
LONGEST_AMOUNT = 40  # characters: past this no number is a deal's amount


@dataclass(frozen=True)
class Problem:
    """What is wrong with a call: the deal (its index in the list; None for the body) and
    the field (None for the deal or the body as a whole)."""

    index: int | None
    field: str | None
    error: str

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "error": self.error}


class Invalid(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = list(problems)


@dataclass(frozen=True)
class Incoming:
    """One deal as sent, its shape checked (the team's rules come in `apply`)."""

    index: int
    external_id: str
    amount: str
    currency: str
    customer: str
    stage: str  # Pacer's stage
    close: date | datetime  # an ISO date, or a moment (its day is the team's)
    owner_email: str  # lower case
    product: str | None = None
    region: str | None = None
    note: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Owner:
    """What Slack answered for an email: the user and their name."""

    user_id: str
    name: str = ""


@dataclass(frozen=True)
class Result:
    index: int
    external_id: str
    outcome: queries.Outcome
    number: int

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "external_id": self.external_id,
            "outcome": str(self.outcome),
            "number": self.number,
        }


@dataclass(frozen=True)
class Applied:
    """The deals' outcomes, and the celebrations to post or take back (Reply's notices,
    updates and retracts: recorded and sent once the write is committed)."""

    results: list[Result]
    reply: Reply = field(default_factory=lambda: Reply(text=""))


# --- the shape of the body --------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """The deals whose fields have the right shape, and the problems of the others (given
    to `apply`, so that one answer names every problem of the call)."""

    deals: list[Incoming]
    problems: list[Problem]


def read_deals(data: Any, locale: str) -> Read:
    """The deals of a parsed JSON body: one deal (an object), a list of them, or
    `{"deals": [...]}`. Invalid if the body is none of those."""
    items = _items(data, locale)
    problems: list[Problem] = []
    deals: list[Incoming] = []
    for index, item in enumerate(items):
        found = _read_one(index, item, locale)
        if isinstance(found, Incoming):
            deals.append(found)
        else:
            problems += found
    problems += _repeated(deals, locale)
    return Read(deals, problems)


def _items(data: Any, locale: str) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get("deals"), list):
        data = data["deals"]
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise Invalid([Problem(None, None, i18n.t(locale, "webhook.not_deals"))])
    if not items:
        raise Invalid([Problem(None, None, i18n.t(locale, "webhook.no_deals"))])
    if len(items) > MAX_DEALS:
        text = i18n.t(locale, "webhook.too_many", limit=MAX_DEALS, count=len(items))
        raise Invalid([Problem(None, None, text)])
    return items


def _read_one(index: int, item: Any, locale: str) -> Incoming | list[Problem]:
    if not isinstance(item, dict):
        return [Problem(index, None, i18n.t(locale, "webhook.not_object"))]
    problems: list[Problem] = []
    values: dict[str, Any] = {}

    def check(name: str, read: Any) -> None:
        try:
            values[name] = read(item.get(name), locale)
        except UsageError as err:
            problems.append(Problem(index, name, i18n.t(locale, err.key, **err.values)))

    for name in REQUIRED:
        if item.get(name) is None or item.get(name) == "":
            example = EXAMPLES[name]
            text = i18n.t(locale, "webhook.missing", field=name, example=example)
            problems.append(Problem(index, name, text))
    check("external_id", _external_id)
    check("amount", _amount)
    check("currency", _currency)
    check("customer", _text_of("customer"))
    check("stage", _stage)
    check("close_date", _close)
    check("owner_email", _email)
    for name in ("product", "region", "note", "team"):
        check(name, _text_of(name))
    if problems:
        return _first_per_field(problems)
    values["close"] = values.pop("close_date")
    return Incoming(index=index, **values)


def _first_per_field(problems: list[Problem]) -> list[Problem]:
    """A missing field is said once, not also as "not text"."""
    seen: set[str | None] = set()
    kept = []
    for problem in problems:
        if problem.field not in seen:
            seen.add(problem.field)
            kept.append(problem)
    return kept


def _repeated(deals: list[Incoming], locale: str) -> list[Problem]:
    """One record twice in one call: which one to keep is not Pacer's guess."""
    first: dict[str, int] = {}
    problems = []
    for deal in deals:
        if deal.external_id in first:
            text = i18n.t(
                locale, "webhook.twice", id=deal.external_id, other=first[deal.external_id]
            )
            problems.append(Problem(deal.index, "external_id", text))
        else:
            first[deal.external_id] = deal.index
    return problems


# --- each field ----------------------------------------------------------------------------------


def _checked_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise UsageError("webhook.not_text")
    text = value.strip()
    if not storable(text):
        raise UsageError("webhook.bad_text")
    if len(text) > LIMITS[name]:
        raise UsageError("webhook.too_long", limit=LIMITS[name], length=len(text))
    return text


def _external_id(value: Any, _locale: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # HubSpot's record ids are numbers
    return _checked_text("external_id", value) or None


def _amount(value: Any, _locale: str) -> str | None:
    """The amount as text, for the one amount parser once the team's currency is known.
    A JSON number arrives as an int or (parsed exactly) a Decimal."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise UsageError("webhook.bad_amount_type")
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value.adjusted()) > LONGEST_AMOUNT:
            raise UsageError("webhook.bad_amount_type")
        value = format(value, "f")
    text = str(value).strip()
    if len(text) > LONGEST_AMOUNT or not storable(text):
        raise UsageError("amount.invalid", value=text[:LONGEST_AMOUNT])
    return text or None


def _currency(value: Any, _locale: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not CURRENCY.fullmatch(value.strip()):
        raise UsageError("webhook.bad_currency", value=_shown(value))
    return value.strip().upper()


def _stage(value: Any, _locale: str) -> str | None:
    if value is None:
        return None
    text = _checked_text("customer", value)  # a stage name, at most a customer's length
    try:
        return parse_stage(text)
    except UsageError:
        pass
    found = crm_csv.KNOWN_STAGES.get(crm_csv.stage_key(text))
    if found is None:
        raise UsageError("webhook.bad_stage", value=text, choices=", ".join(STAGES))
    return found


def _close(value: Any, _locale: str) -> date | datetime | None:
    """`2026-11-20`, or a moment such as `2026-11-20T16:30:00Z` (its day in the team's
    time zone; without an offset, the day as written), or a moment in Unix milliseconds
    (a JSON integer: how HubSpot sends its date properties)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise UsageError("webhook.bad_date", value=str(value)[:20]) from None
    text = _checked_text("customer", value)
    try:
        found: date | datetime = (
            datetime.fromisoformat(text) if "T" in text.upper() else date.fromisoformat(text)
        )
    except ValueError:
        raise UsageError("webhook.bad_date", value=text) from None
    if not periods.FIRST_YEAR <= found.year <= periods.LAST_YEAR:
        raise UsageError("webhook.bad_date", value=text)
    return found


def _email(value: Any, _locale: str) -> str | None:
    if value is None:
        return None
    text = _checked_text("owner_email", value).lower()
    if not EMAIL.fullmatch(text):
        raise UsageError("webhook.bad_email", value=text)
    return text


def _text_of(name: str) -> Any:
    def read(value: Any, _locale: str) -> str | None:
        return None if value is None else _checked_text(name, value) or None

    return read


def _shown(value: Any) -> str:
    return str(value)[:20]


# --- against the workspace: owners, teams, currency, amounts, dates ----------------------------


def emails(deals: Sequence[Incoming]) -> list[str]:
    """The owners to look up in Slack, each once."""
    return list(dict.fromkeys(deal.owner_email for deal in deals))


def apply(
    session: Session,
    *,
    workspace_id: str,
    integration_name: str,
    created_by: str,
    deals: Sequence[Incoming],
    owners: Mapping[str, Owner | None],
    now: datetime,
    locale: str,
    problems: Sequence[Problem] = (),
) -> Applied:
    """Check every deal against the workspace, then upsert them all: Invalid, with the
    `problems` read_deals found and those found here, if any deal is wrong (the caller
    rolls its transaction back: nothing is written). The deals are
    logged by the integration's creator and audited as theirs, with source `webhook` and
    the integration's name as the reason."""
    req = Request(
        workspace_id=workspace_id,
        user_id=created_by,
        text="",
        now=now,
        locale=locale,
        source=SOURCE,
    )
    ctx = Ctx.load(req, session)
    checked: list[tuple[Incoming, queries.ExternalDeal, Member]] = []
    found_all = list(problems)
    for deal in deals:
        found = _resolve(ctx, deal, owners.get(deal.owner_email))
        if isinstance(found, Problem):
            found_all.append(found)
        else:
            checked.append((deal, *found))
    if found_all:
        raise Invalid(sorted(found_all, key=lambda p: -1 if p.index is None else p.index))
    return _write(ctx, checked, integration_name)


def _resolve(
    ctx: Ctx, deal: Incoming, owner: Owner | None
) -> tuple[queries.ExternalDeal, Member] | Problem:
    def problem(name: str, key: str, **values: object) -> Problem:
        return Problem(deal.index, name, ctx.t(key, **values))

    if owner is None:
        return problem("owner_email", "webhook.no_user", email=deal.owner_email)
    member = queries.ensure_member(
        ctx.session, workspace_id=ctx.ws, user_id=owner.user_id, name=owner.name
    )
    team = _team(ctx, deal, member)
    if isinstance(team, Problem):
        return team
    if deal.currency != team.currency:
        return problem(
            "currency",
            "webhook.wrong_currency",
            currency=deal.currency,
            team=team.name,
            team_currency=team.currency,
        )
    try:
        amount = money.parse_amount(deal.amount, team.currency)
    except money.AmountError as err:
        return problem("amount", err.reason, value=err.text, currency=team.currency)
    today = ctx.today(team)
    close = _day(deal.close, team)
    if deal.stage == "won" and close > today:
        return problem(
            "close_date",
            "webhook.future_date",
            date=close.isoformat(),
            today=today.isoformat(),
            team=team.name,
        )
    assert team.id is not None and member.id is not None
    record = queries.ExternalDeal(
        external_id=deal.external_id,
        team_id=team.id,
        owner_id=member.id,
        amount_minor=money.to_minor(amount, team.currency),
        currency=team.currency,
        customer=deal.customer,
        stage=deal.stage,
        close_date=close,
        product=deal.product,
        region=deal.region,
        note=deal.note,
    )
    return record, member


def _team(ctx: Ctx, deal: Incoming, member: Member) -> Team | Problem:
    """The team the deal names (the owner must be on it), else the owner's home team."""
    assert member.id is not None
    if deal.team is None:
        home = queries.team_of(ctx.session, member_id=member.id)
        if home is None:
            return Problem(
                deal.index, "owner_email", ctx.t("webhook.no_team", email=deal.owner_email)
            )
        team = home
    else:
        named = queries.find_team(ctx.session, workspace_id=ctx.ws, name=deal.team)
        if named is None:
            return Problem(
                deal.index,
                "team",
                ctx.t("webhook.no_such_team", name=deal.team, teams=_team_names(ctx)),
            )
        assert named.id is not None
        if queries.membership(ctx.session, team_id=named.id, member_id=member.id) is None:
            theirs = [t.name for t, _ in queries.memberships_of(ctx.session, member_id=member.id)]
            return Problem(
                deal.index,
                "team",
                ctx.t(
                    "webhook.not_on_team",
                    email=deal.owner_email,
                    team=named.name,
                    teams=", ".join(theirs) or "—",
                ),
            )
        team = named
    if team.archived_at is not None:
        return Problem(deal.index, "team", ctx.t("webhook.archived", team=team.name))
    return team


def _team_names(ctx: Ctx) -> str:
    return ", ".join(t.name for t in queries.list_teams(ctx.session, workspace_id=ctx.ws)) or "—"


def _day(close: date | datetime, team: Team) -> date:
    if not isinstance(close, datetime):
        return close
    if close.tzinfo is None:
        return close.date()
    return close.astimezone(ZoneInfo(team.tz)).date()


def _write(
    ctx: Ctx, checked: list[tuple[Incoming, queries.ExternalDeal, Member]], name: str
) -> Applied:
    ids = [record.external_id for _, record, _ in checked]
    existing = queries.existing_by_external(ctx.session, workspace_id=ctx.ws, external_ids=ids)
    results: list[Result] = []
    reply = Reply(text="")
    for deal, record, owner in checked:
        outcome, row = queries.upsert_external(
            ctx.session,
            workspace_id=ctx.ws,
            record=record,
            existing=existing.get(record.external_id),
            logged_by=ctx.my_id,
            actor=ctx.req.user_id,
            source=SOURCE,
            now=ctx.req.now,
            reason=f"integration {name}",
        )
        assert row is not None
        results.append(Result(deal.index, record.external_id, outcome, row.number))
        reply = _celebration(ctx.speaking_to(owner), row, outcome, reply)
    return Applied(results, reply)


def _celebration(ctx: Ctx, deal: Deal, outcome: queries.Outcome, reply: Reply) -> Reply:
    """As a typed deal: a new big won deal is posted; a change (won, lost, smaller) posts,
    takes back or leaves the post as the deal now stands. An unchanged deal is as it was."""
    if outcome is queries.Outcome.CREATED:
        return celebrate.attach(ctx, deal, reply, new=True)
    if outcome is queries.Outcome.UPDATED:
        return celebrate.attach(ctx, deal, reply)
    return reply


def counts(results: Sequence[Result]) -> dict[str, int]:
    tally = {str(outcome): 0 for outcome in queries.Outcome}
    for result in results:
        tally[str(result.outcome)] += 1
    return tally
