"""What a period's won revenue is made of: by product, region or customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session

from storage.models import Deal
from storage.queries.flushed import table_of

DEALS = table_of(Deal)
DIMENSIONS = ("product", "region", "customer")
NEAR = timedelta(days=31)  # how far outside a period a deal logged during it is looked for


@dataclass(frozen=True)
class Part:
    name: str  # "" for deals without one (no product given)
    amount_minor: int
    deals: int


@dataclass(frozen=True)
class Mix:
    top: list[Part]  # largest first (then by name)
    total_minor: int
    deals: int
    parts: int  # how many there are in all, `top` and the rest


def mix(
    session: Session,
    *,
    workspace_id: str,
    team_id: int,
    start: date,
    end: date,
    currency: str,
    by: str,
    top: int,
    owner_ids: Sequence[int] | None = None,
) -> Mix:
    """The won live deals in `currency` closed in [start, end] grouped `by` a dimension:
    the `top` largest and the totals, in two statements whatever the number of parts. A
    customer is one however its name is capitalised, named as its deals spell it."""
    where = [
        DEALS.c.workspace_id == workspace_id,
        DEALS.c.team_id == team_id,
        DEALS.c.close_date.between(start, end),
        DEALS.c.stage == "won",
        DEALS.c.deleted_at.is_(None),
        DEALS.c.currency == currency,
    ]
    if owner_ids is not None:
        where.append(DEALS.c.owner_id.in_(list(owner_ids)))
    key, shown = _key(by)
    amount = func.sum(DEALS.c.amount_minor)
    rows = session.connection().execute(
        sa.select(func.min(shown), amount, func.count())
        .where(*where)
        .group_by(key)
        .order_by(amount.desc(), func.min(shown))
        .limit(top)
    )
    parts = [Part(name or "", int(total), int(n)) for name, total, n in rows]
    totals = session.connection().execute(
        sa.select(func.sum(DEALS.c.amount_minor), func.count(), func.count(sa.distinct(key))).where(
            *where
        )
    )
    total, deals, distinct = totals.one()
    return Mix(parts, int(total or 0), int(deals), int(distinct))


def _key(by: str) -> tuple[Any, Any]:
    """What deals are grouped by, and the name shown for a group."""
    if by == "customer":
        return func.lower(DEALS.c.customer), DEALS.c.customer
    column = DEALS.c[by]
    return func.coalesce(column, ""), func.coalesce(column, "")


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


def deals_near(
    session: Session,
    *,
    workspace_id: str,
    start: date,
    end: date,
    logged_from: datetime,
    logged_to: datetime,
    team_id: int | None = None,
    owner_id: int | None = None,
) -> list[DealFact]:
    """The deals of a team (or of a rep, on every team) closing in [start, end], and those
    logged in [logged_from, logged_to) closing up to NEAR days outside it, any stage,
    deleted ones too, in close-date order: one range of ix_deal_team_close_cover
    (ix_deal_owner_cover for a rep)."""
    near = DEALS.c.close_date.between(start - NEAR, end + NEAR)
    logged = DEALS.c.created_at.between(logged_from, logged_to)
    where = [
        DEALS.c.workspace_id == workspace_id,
        near,  # the index's range: the period and NEAR days each side
        sa.or_(DEALS.c.close_date.between(start, end), logged),
    ]
    if team_id is not None:
        where.append(DEALS.c.team_id == team_id)
    if owner_id is not None:
        where.append(DEALS.c.owner_id == owner_id)
    query = (
        sa.select(
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
        )
        .where(*where)
        .order_by(DEALS.c.close_date, DEALS.c.number)
    )
    return [DealFact(*row) for row in session.connection().execute(query)]
