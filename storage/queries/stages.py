"""Each deal's stage history (the stagechange table), and the funnel read off it.

Every flush that adds a deal, or changes a deal's stage, writes the stage entered with
when: a new deal's row at its creation time, a change at the deal's update time. The hook
runs after the flush, so no write path (slash command, form, CSV import, CRM webhook)
can forget it. A deal loaded from before the table (migration 0020) has one row, its
stage then at its creation time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, case, event, func, insert
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Session

from storage.models import OPEN_STAGES, Deal, StageChange
from storage.queries.flushed import history, table_of

DEALS, CHANGES = table_of(Deal), table_of(StageChange)
FUNNEL_STAGES = (*OPEN_STAGES, "won")  # in order; `lost` is an end, not a step
WON_RANK = len(OPEN_STAGES)


@event.listens_for(OrmSession, "before_flush")
def _deals_removing(session: OrmSession, _flush: UOWTransaction, _instances: object) -> None:
    """A deal removed from the database (not a soft delete) takes its history along."""
    gone = [d for d in session.deleted if isinstance(d, Deal) and d.id is not None]
    for deal in gone:
        session.connection().execute(
            sa.delete(CHANGES).where(
                CHANGES.c.workspace_id == deal.workspace_id, CHANGES.c.deal_id == deal.id
            )
        )


@event.listens_for(OrmSession, "after_flush")
def _deals_flushed(session: OrmSession, _flush: UOWTransaction) -> None:
    rows: list[dict[str, Any]] = []
    new = session.new  # built on each access: once per flush
    for deal in new:
        if isinstance(deal, Deal):
            rows.append(_row(deal, deal.created_at))
    for deal in session.dirty:
        if isinstance(deal, Deal) and deal not in new and history(deal, "stage").has_changes():
            rows.append(_row(deal, deal.updated_at))
    if rows:
        session.connection().execute(insert(CHANGES), rows)


def _row(deal: Deal, when: Any) -> dict[str, Any]:
    return {
        "workspace_id": deal.workspace_id,
        "deal_id": deal.id,
        "stage": deal.stage,
        "changed_at": when,
    }


def backfill_stages(session: Session, *, workspace_id: str) -> None:
    """One row per deal without any, its stage now at its creation (deals written around
    the ORM: bench/generate.py's Core inserts)."""
    has_row = (
        sa.select(CHANGES.c.id)
        .where(CHANGES.c.workspace_id == DEALS.c.workspace_id, CHANGES.c.deal_id == DEALS.c.id)
        .exists()
    )
    rows = sa.select(DEALS.c.workspace_id, DEALS.c.id, DEALS.c.stage, DEALS.c.created_at).where(
        DEALS.c.workspace_id == workspace_id, ~has_row
    )
    columns = ["workspace_id", "deal_id", "stage", "changed_at"]
    session.connection().execute(insert(CHANGES).from_select(columns, rows))


def stage_history(session: Session, *, workspace_id: str, deal_id: int) -> list[StageChange]:
    """A deal's stages in the order it entered them."""
    query = (
        sa.select(StageChange)
        .where(StageChange.workspace_id == workspace_id, StageChange.deal_id == deal_id)  # type: ignore[arg-type]
        .order_by(StageChange.changed_at, StageChange.id)  # type: ignore[arg-type]
    )
    return list(session.execute(query).scalars())


@dataclass(frozen=True)
class FunnelRow:
    """The period's deals that got as far as one stage and end one way: `furthest` is the
    index in FUNNEL_STAGES of the furthest stage they were ever at (every won deal is at
    WON_RANK), `end` their stage now as won, lost or open."""

    furthest: int
    end: str
    deals: int
    amount_minor: int
    cycle_days: float  # summed over the won deals: first logged to first won, in days


def funnel_rows(
    session: Session,
    *,
    workspace_id: str,
    team_id: int,
    start: date,
    end: date,
    owner_ids: Sequence[int] | None = None,
) -> list[FunnelRow]:
    """The team's live deals (or its reps' `owner_ids`) closing, expected or actual, in
    [start, end], grouped by how far they got and how they end: at most 15 rows whatever
    the number of deals. A team's deals are all in its currency (it is locked once the
    team has deals, and a rep's deals in another stay with the team they were won for),
    so amounts add up, and the filter is the covering index's alone."""
    where = _closing(workspace_id, team_id, start, end)
    if owner_ids is not None:
        where.append(DEALS.c.owner_id.in_(list(owner_ids)))
    return [row for _, row in _grouped(session, where, by_owner=False)]


def funnel_rows_by_owner(
    session: Session, *, workspace_id: str, team_id: int, start: date, end: date
) -> dict[int, list[FunnelRow]]:
    """funnel_rows of each rep of the team, without the cycle days (0): at most 15 rows a
    rep, in two statements. A won deal reached every stage whatever its history, so only
    the deals not won (a few in twenty) are read with theirs; the won ones are counted off
    ix_deal_team_close_cover alone."""
    found: dict[int, list[FunnelRow]] = {}
    where = _closing(workspace_id, team_id, start, end)
    owner = DEALS.c.owner_id
    won = sa.select(owner, func.count(), func.sum(DEALS.c.amount_minor)).where(
        *where, DEALS.c.stage == "won"
    )
    for o, n, a in session.connection().execute(won.group_by(owner)):
        found.setdefault(int(o), []).append(FunnelRow(WON_RANK, "won", int(n), int(a or 0), 0.0))
    for o, row in _grouped(session, [*where, DEALS.c.stage != "won"], by_owner=True):
        found.setdefault(o, []).append(row)
    return found


def _closing(workspace_id: str, team_id: int, start: date, end: date) -> list[ColumnElement[bool]]:
    return [
        DEALS.c.workspace_id == workspace_id,
        DEALS.c.team_id == team_id,
        DEALS.c.close_date.between(start, end),
        DEALS.c.deleted_at.is_(None),
    ]


def _grouped(
    session: Session, where: list[ColumnElement[bool]], *, by_owner: bool
) -> list[tuple[int, FunnelRow]]:
    per_deal = _per_deal(session, where)
    furthest = case((per_deal.c.stage == "won", WON_RANK), else_=func.coalesce(per_deal.c.top, 0))
    ends = case((per_deal.c.stage.in_(("won", "lost")), per_deal.c.stage), else_="open")
    won_days = case((per_deal.c.stage == "won", per_deal.c.days), else_=0)
    owner = per_deal.c.owner_id if by_owner else sa.literal(0)
    query = sa.select(
        owner, furthest, ends, func.count(), func.sum(per_deal.c.amount), func.sum(won_days)
    ).group_by(*((owner,) if by_owner else ()), furthest, ends)
    return [
        (int(o), FunnelRow(int(f), str(e), int(n), int(a or 0), float(d or 0)))
        for o, f, e, n, a, d in session.connection().execute(query)
    ]


def _per_deal(session: Session, where: list[ColumnElement[bool]]) -> Any:
    """One row per deal: its stage now, amount, the furthest open stage it was at, and the
    days from its first row to its first `won`."""
    rank = case(*((CHANGES.c.stage == s, i) for i, s in enumerate(OPEN_STAGES)), else_=None)
    first = func.min(CHANGES.c.changed_at)
    won = func.min(case((CHANGES.c.stage == "won", CHANGES.c.changed_at), else_=None))
    return (
        sa.select(
            DEALS.c.id,
            DEALS.c.owner_id.label("owner_id"),
            DEALS.c.stage.label("stage"),
            DEALS.c.amount_minor.label("amount"),
            func.max(rank).label("top"),
            _days_between(session, first, won).label("days"),
        )
        .select_from(
            DEALS.outerjoin(
                CHANGES,
                sa.and_(
                    CHANGES.c.workspace_id == DEALS.c.workspace_id,
                    CHANGES.c.deal_id == DEALS.c.id,
                ),
            )
        )
        .where(*where)
        .group_by(DEALS.c.id, DEALS.c.owner_id, DEALS.c.stage, DEALS.c.amount_minor)
        .subquery()
    )


def _days_between(session: Session, first: Any, last: Any) -> Any:
    """Days (fractional) from `first` to `last`, two timestamps, as each database counts
    them; NULL when either is."""
    if session.connection().dialect.name == "postgresql":
        return func.extract("epoch", last - first) / 86400.0
    return func.julianday(last) - func.julianday(first)
