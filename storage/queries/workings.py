"""The deals behind a figure (/progress why): those a goal counts, and those near it that
it leaves out, each with the first reason that keeps it out. domain/why.py says the rule;
Near.reason is that rule in SQL (a test holds the two together), so neither the message's
counts and first rows nor the file, written after the acknowledgement, sorts a team's
year of deals in Python."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, case, func
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

    def where(self) -> list[ColumnElement[bool]]:
        logged = sa.and_(
            DEALS.c.created_at >= self.logged_from, DEALS.c.created_at < self.logged_to
        )
        where = [
            DEALS.c.workspace_id == self.workspace_id,
            # The index's range: the period and NEAR days each side.
            DEALS.c.close_date.between(self.start - NEAR, self.end + NEAR),
            sa.or_(DEALS.c.close_date.between(self.start, self.end), logged),
        ]
        if self.team_id is not None:
            where.append(DEALS.c.team_id == self.team_id)
        if self.owner_id is not None:
            where.append(DEALS.c.owner_id == self.owner_id)
        return where

    def reason(self, counted_team: int) -> Any:
        """domain/why.py's rule: '' for a deal counted, else the first reason it is not."""
        return case(
            (sa.not_(DEALS.c.close_date.between(self.start, self.end)), whys.OUTSIDE),
            (DEALS.c.deleted_at.is_not(None), whys.DELETED),
            (DEALS.c.team_id != counted_team, whys.OTHER_TEAM),
            (DEALS.c.stage != "won", whys.NOT_WON),
            else_="",
        )


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
    reason = near.reason(counted_team)
    query = (
        sa.select(*FACT_COLUMNS, reason)
        .select_from(NAMED)
        .where(*near.where())
        .order_by(reason != "", *ORDER)
    )
    yield from session.connection().execute(query)


@dataclass(frozen=True)
class Summary:
    counted: int
    counted_minor: int
    left_out: int
    first_counted: list[DealFact]
    first_left_out: list[tuple[DealFact, str]]


def why_summary(session: Session, near: Near, *, counted_team: int, listed: int) -> Summary:
    """How many deals count and their sum, how many are left out, and the first `listed`
    of each (in close-date order): three statements, however many deals there are."""
    reason = near.reason(counted_team)
    is_counted = reason == ""
    conn = session.connection()
    counts = conn.execute(
        sa.select(
            func.count().filter(is_counted),
            func.sum(case((is_counted, DEALS.c.amount_minor), else_=0)),
            func.count().filter(sa.not_(is_counted)),
        ).where(*near.where())
    ).one()
    counted = conn.execute(
        sa.select(*FACT_COLUMNS)
        .select_from(NAMED)
        .where(*near.where(), is_counted)
        .order_by(*ORDER)
        .limit(listed)
    )
    left = conn.execute(
        sa.select(*FACT_COLUMNS, reason)
        .select_from(NAMED)
        .where(*near.where(), sa.not_(is_counted))
        .order_by(*ORDER)
        .limit(listed)
    )
    return Summary(
        counted=int(counts[0]),
        counted_minor=int(counts[1] or 0),
        left_out=int(counts[2]),
        first_counted=[DealFact(*row) for row in counted],
        first_left_out=[(DealFact(*row[:-1]), str(row[-1])) for row in left],
    )
