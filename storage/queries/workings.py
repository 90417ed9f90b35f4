"""The deals behind a figure (/progress why): those a goal counts, and those near it that
it leaves out, each with the first reason that keeps it out. domain/why.py says the rule;
REASON is that rule in SQL (tests/test_why_rule.py holds the two together), so neither the message's
counts and first rows nor the file, written after the acknowledgement, sorts a team's
year of deals in Python."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Executable, case, func
from sqlmodel import Session

from domain import why as whys
from domain.why import NEAR
from storage.models import Deal, Member, Team
from storage.queries.flushed import table_of

DEALS = table_of(Deal)
MEMBERS = table_of(Member)
TEAMS = table_of(Team)
FACT_COLUMNS = (
    DEALS.c.number,
    DEALS.c.team_id,
    DEALS.c.owner_id,
    DEALS.c.close_date,
    DEALS.c.created_at,
    DEALS.c.customer,
    DEALS.c.amount_minor,
    DEALS.c.currency,
    DEALS.c.stage,
    DEALS.c.deleted_at.is_not(None),
    # Names as typed (a message escapes them, a CSV cell keeps them); a rep without a
    # name goes by the Slack user id.
    func.coalesce(func.nullif(MEMBERS.c.name, ""), MEMBERS.c.user_id, ""),
    func.coalesce(TEAMS.c.name, ""),
)
# The deal's rep and team by primary key, after the deal index has found the deals.
NAMED = DEALS.outerjoin(MEMBERS, MEMBERS.c.id == DEALS.c.owner_id).outerjoin(
    TEAMS, TEAMS.c.id == DEALS.c.team_id
)
ORDER = (DEALS.c.close_date, DEALS.c.number)


@dataclass(frozen=True)
class Near:
    """Which deals: a team's (or a rep's on every team, `owner_id`) closing in [start, end],
    and those logged in [logged_from, logged_to) closing up to NEAR days outside it."""

    workspace_id: str
    start: date
    end: date
    logged_from: datetime
    logged_to: datetime
    team_id: int | None = None
    owner_id: int | None = None

    @property
    def shape(self) -> tuple[bool, bool]:
        """Which of team and owner the statements filter on: one statement each, built once."""
        return self.team_id is not None, self.owner_id is not None

    def params(self, counted_team: int) -> dict[str, Any]:
        return {
            "ws": self.workspace_id,
            "start": self.start,
            "end": self.end,
            "near_from": self.start - NEAR,
            "near_to": self.end + NEAR,
            "logged_from": self.logged_from,
            "logged_to": self.logged_to,
            "team": self.team_id,
            "owner": self.owner_id,
            "counted_team": counted_team,
        }


def _where(shape: tuple[bool, bool]) -> list[ColumnElement[bool]]:
    """Near's deals, its values bound by name (Near.params)."""
    in_period = DEALS.c.close_date.between(sa.bindparam("start"), sa.bindparam("end"))
    logged = sa.and_(
        DEALS.c.created_at >= sa.bindparam("logged_from"),
        DEALS.c.created_at < sa.bindparam("logged_to"),
    )
    where = [
        DEALS.c.workspace_id == sa.bindparam("ws"),
        # The index's range: the period and NEAR days each side.
        DEALS.c.close_date.between(sa.bindparam("near_from"), sa.bindparam("near_to")),
        sa.or_(in_period, logged),
    ]
    by_team, by_owner = shape
    if by_team:
        where.append(DEALS.c.team_id == sa.bindparam("team"))
    if by_owner:
        where.append(DEALS.c.owner_id == sa.bindparam("owner"))
    return where


# domain/why.py's rule: '' for a deal counted, else the first reason it is not.
REASON: Any = case(
    (sa.not_(DEALS.c.close_date.between(sa.bindparam("start"), sa.bindparam("end"))), whys.OUTSIDE),
    (DEALS.c.deleted_at.is_not(None), whys.DELETED),
    (DEALS.c.team_id != sa.bindparam("counted_team"), whys.OTHER_TEAM),
    (DEALS.c.stage != "won", whys.NOT_WON),
    else_="",
)
COUNTED = REASON == ""
REASON_ORDER = {"": 0} | {reason: i + 1 for i, reason in enumerate(whys.REASONS)}


@dataclass(frozen=True)
class DealFact:
    """What /progress why says of one deal: enough to tell whether it counts, and why not."""

    number: int
    team_id: int
    owner_id: int
    close_date: date
    created_at: datetime
    customer: str
    amount_minor: int
    currency: str
    stage: str
    deleted: bool
    rep_name: str
    team_name: str


def why_rows(session: Session, near: Near, *, counted_team: int) -> Iterator[tuple[Any, ...]]:
    """The file's rows: every deal `near` names, those counted first, then those left out,
    each in close-date order, as DealFact's fields then the reason ('' for counted). One
    range of ix_deal_team_close_cover (ix_deal_owner_cover for a rep), streamed."""
    query = _file_statement(near.shape)
    yield from session.connection().execute(query, near.params(counted_team))


@dataclass(frozen=True)
class ReasonPart:
    """The deals of one reason ('' for those counted) in one currency: how many, their sum."""

    reason: str
    currency: str
    deals: int
    minor: int


@dataclass(frozen=True)
class Summary:
    parts: list[ReasonPart]  # counted first, then by REASONS' order; a currency's in code order
    first_counted: list[DealFact]
    first_left_out: list[tuple[DealFact, str]]

    @property
    def counted(self) -> int:
        return sum(p.deals for p in self.parts if not p.reason)

    @property
    def counted_minor(self) -> int:
        """In the team's currency: a deal counted is the team's, in its currency."""
        return sum(p.minor for p in self.parts if not p.reason)

    @property
    def left_out(self) -> int:
        return sum(p.deals for p in self.parts if p.reason)


def why_summary(session: Session, near: Near, *, counted_team: int, listed: int) -> Summary:
    """How many deals count and their sum, how many are left out for each reason (a sum
    per currency), and the first `listed` of each list (in close-date order): three
    statements, however many deals there are."""
    parts_of, counted_of, left_of = _summary_statements(near.shape, listed)
    params = near.params(counted_team)
    conn = session.connection()
    parts = sorted(
        (
            ReasonPart(str(r), str(c), int(n), int(m or 0))
            for r, c, n, m in conn.execute(parts_of, params)
        ),
        key=lambda p: (REASON_ORDER[p.reason], p.currency),
    )
    return Summary(
        parts=parts,
        first_counted=[DealFact(*row) for row in conn.execute(counted_of, params)],
        first_left_out=[
            (DealFact(*row[:-1]), str(row[-1])) for row in conn.execute(left_of, params)
        ],
    )


# Built once per shape: a statement rebuilt on every request costs more Python than the
# SQL it sends takes to run (its expressions and its cache key).


@functools.cache
def _file_statement(shape: tuple[bool, bool]) -> Executable:
    return (
        sa.select(*FACT_COLUMNS, REASON)
        .select_from(NAMED)
        .where(*_where(shape))
        .order_by(REASON != "", *ORDER)
    )


@functools.cache
def _summary_statements(
    shape: tuple[bool, bool], listed: int
) -> tuple[Executable, Executable, Executable]:
    where = _where(shape)
    # Grouped over a subquery: the reason's CASE carries bound values, which PostgreSQL
    # would not match between a select list and a GROUP BY.
    deals = (
        sa.select(REASON.label("reason"), DEALS.c.currency, DEALS.c.amount_minor)
        .where(*where)
        .subquery()
    )
    parts = sa.select(
        deals.c.reason, deals.c.currency, func.count(), func.sum(deals.c.amount_minor)
    ).group_by(deals.c.reason, deals.c.currency)
    counted = (
        sa.select(*FACT_COLUMNS)
        .select_from(NAMED)
        .where(*where, COUNTED)
        .order_by(*ORDER)
        .limit(listed)
    )
    left = (
        sa.select(*FACT_COLUMNS, REASON)
        .select_from(NAMED)
        .where(*where, sa.not_(COUNTED))
        .order_by(*ORDER)
        .limit(listed)
    )
    return parts, counted, left
