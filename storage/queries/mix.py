"""What a period's won revenue is made of: by product, region or customer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session

from storage.models import Deal
from storage.queries.flushed import table_of

DEALS = table_of(Deal)
DIMENSIONS = ("product", "region", "customer")


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
