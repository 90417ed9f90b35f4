"""A team's big-deal threshold read from a few values a day, not from its whole window.

The threshold is twice the median live won deal closed in [start, day] (one deal left out).
A `TeamDay` row holds the deals closed in [start, day - 2]: their count and a sorted band of
amounts around the middle. The last two days are read live (an index range of two days'
deals, counted in SQL against the band's ends, only those within it read) and merged in;
the median is exact while it stays inside the band, and when the day's deals push it past
an end, the band is fetched again around the new middle.

Every ORM write of a deal (add, edit, delete, restore, move to another team) deletes the
rows whose window holds its old or new close date (noted before each flush, deleted after
it): a row is never stale. Why two live days: a deal written just before midnight may still
be uncommitted when a /deal just after midnight builds the new day's row. A write dated
before its team's today (for a new deal, the day it is logged) takes the team's lock (a
PostgreSQL advisory lock, to the end of the transaction), as building a row does: the
builder then sees the write, or the write deletes the row. A write dated today or later
needs no lock (no row built before tomorrow ends holds its date), so the day's deals never
wait for each other.
Bulk Core inserts (bench/generate.py) bypass the ORM: run them before any /deal of the day,
or delete the teams' teamday rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import (
    ColumnElement,
    bindparam,
    delete,
    event,
    func,
    insert,
    inspect,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from storage.models import Deal, Team, TeamDay
from storage.queries.flushed import table_of
from storage.queries.metrics import WON_LIVE

BAND = 32  # amounts fetched each side of the middle beyond those the live days may need
LIVE_DAYS = 2  # today and yesterday are read live (see above)
MIN, MAX = -(2**63), 2**63 - 1  # below and above any amount (BIGINT)
LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' teamday'), :team)"


@dataclass
class Band:
    """`count` values in all; `values` are those of ranks below .. below + len - 1."""

    count: int
    below: int = 0
    values: list[int] = field(default_factory=list)


@dataclass
class Live:
    """The live days' deals as a band sees them: how many fall below it, above it, and the
    amounts within it (a day's deals are counted in SQL, only those near the middle read)."""

    below: int
    above: int
    inside: list[int]

    @property
    def total(self) -> int:
        return self.below + self.above + len(self.inside)


def twice_median(
    session: Session,
    *,
    workspace_id: str,
    team_id: int,
    start: date,
    end: date,
    exclude_id: int,
    least: int,
    excluded: Deal | None = None,
) -> int | None:
    """Twice the median live won deal closed in [start, end], `exclude_id` left out; None
    with fewer than `least` deals. `end` is the team's local today: the row's day.
    `excluded`, the left-out deal as flushed in this session, saves reading it again."""
    cut = end - timedelta(days=LIVE_DAYS)  # the row holds [start, cut]
    days = (max(start, cut + timedelta(days=1)), end)  # read live
    if excluded is not None and excluded.id == exclude_id:
        judged = _counted(excluded, workspace_id, team_id, (start, end))
    else:
        judged = _judged(session, workspace_id, team_id, (start, end), exclude_id)
    drop = judged[1] if judged is not None and judged[0] <= cut else None
    live_drop = judged[1] if judged is not None and judged[0] > cut else None
    band, fresh = Band(0), True
    if cut >= start:
        band, fresh = _band(session, workspace_id, team_id, start, end)
    kept = _without(band, drop)
    live = _live(session, workspace_id, team_id, days, live_drop, kept)
    n = band.count - (drop is not None) + live.total
    if n < max(least, 1):
        return None
    middle = _middle(kept, live)
    if middle is None:  # a new row, or the day's deals moved the median out of the band
        band = _fetch(session, workspace_id, team_id, start, end, band.count, (n, live.total))
        kept = _without(band, drop)
        live = _live(session, workspace_id, team_id, days, live_drop, kept)
        middle = _middle(kept, live)
        fresh = False
    if not fresh:
        _save(session, workspace_id, team_id, start, end, band)
    if middle is None:  # never seen: a band fetched around the middle holds it
        return _exact(session, workspace_id, team_id, (start, end), exclude_id, n)
    return middle[0] + middle[1]


def _without(band: Band, drop: int | None) -> Band | None:
    """The band with the left-out deal's amount taken out (it counts in the stored days);
    None if the band cannot tell the middle any more."""
    count, below, values = band.count, band.below, list(band.values)
    if drop is not None:
        if not values or (drop < values[0] and below == 0):
            return None
        if drop < values[0]:
            below -= 1
        elif drop <= values[-1]:
            if drop not in values:
                return None
            values.remove(drop)
        count -= 1
    if count and not values:
        return None
    return Band(count, below, values)


def _bounds(band: Band | None) -> tuple[int, int]:
    """The amounts a live deal must lie between to join the band, ends included: any amount
    at an end the band reaches (nothing stored below it, or above)."""
    if band is None:
        return MAX, MAX  # all below: only counted
    low = band.values[0] if band.below else MIN
    high = band.values[-1] if band.below + len(band.values) < band.count else MAX
    return low, high


def _middle(band: Band | None, live: Live) -> tuple[int, int] | None:
    """The two middle values (one twice for an odd count) of the band merged with the live
    deals, or None if they are not in the band."""
    if band is None:
        return None
    count = band.count + live.total
    below = band.below + live.below
    values = sorted([*band.values, *live.inside])
    first, second = (count - 1) // 2, count // 2
    if count == 0 or first < below or second >= below + len(values):
        return None
    return values[first - below], values[second - below]


def _band(session: Session, ws: str, team_id: int, start: date, end: date) -> tuple[Band, bool]:
    """The day's band, True if stored; else (under the team's lock) the count to fetch by."""
    row = _row(session, ws, team_id, end, start)
    if row is None:
        _lock(session.connection(), team_id)
        row = _row(session, ws, team_id, end, start)  # built meanwhile by another /deal?
    if row is not None:
        return row, True
    count = session.exec(
        select(func.count()).select_from(Deal).where(*_cached(ws, team_id, start, end))
    ).one()
    return Band(int(count or 0)), False


def _fetch(
    session: Session,
    ws: str,
    team_id: int,
    start: date,
    end: date,
    count: int,
    merged: tuple[int, int],
) -> Band:
    """The band covering the middle of `merged` = (values in all, of them read live): a
    live value can shift the middle's place among the stored ones by one each."""
    _lock(session.connection(), team_id)
    n, live = merged
    first = max(0, (n - 1) // 2 - live - BAND)
    last = min(count - 1, n // 2 + 1 + BAND)
    values = session.exec(
        select(Deal.amount_minor)
        .where(*_cached(ws, team_id, start, end))
        .order_by(col(Deal.amount_minor))
        .offset(first)
        .limit(max(0, last - first + 1))
    ).all()
    return Band(count, first, list(values))


def _exact(
    session: Session, ws: str, team_id: int, days: tuple[date, date], exclude_id: int, n: int
) -> int:
    """The middle read from the whole window: what the band answers, at the window's cost."""
    middle = session.exec(
        select(Deal.amount_minor)
        .where(*_closed(ws, team_id, *days), col(Deal.id) != exclude_id)
        .order_by(col(Deal.amount_minor))
        .offset((n - 1) // 2)
        .limit(2 - n % 2)
    ).all()
    return 2 * middle[0] if n % 2 else middle[0] + middle[1]


def _save(session: Session, ws: str, team_id: int, start: date, end: date, band: Band) -> None:
    """Store the day's band (the caller holds the team's lock) and drop earlier days' rows."""
    values = {"start": start, "count": band.count, "below": band.below}
    values["band"] = json.dumps(band.values)
    key = _key(ws, team_id)
    session.execute(delete(TeamDay).where(*key, col(TeamDay.day) < end))
    changed = session.execute(update(TeamDay).where(*key, col(TeamDay.day) == end).values(**values))
    if not getattr(changed, "rowcount", 0):
        session.execute(insert(TeamDay).values(workspace_id=ws, team_id=team_id, day=end, **values))


def _row(session: Session, ws: str, team_id: int, day: date, start: date) -> Band | None:
    """The stored band of the day, if it was built for this window."""
    params = {"ws": ws, "team": team_id, "day": day}
    found = session.connection().execute(_ROW_STATEMENT, params).first()
    if found is None or found[0] != start:
        return None
    return Band(found[1], found[2], json.loads(found[3]))


TEAMDAYS, DEALS = table_of(TeamDay), table_of(Deal)
# The statements of every /deal, built once: Core, with bound parameters, so a call neither
# builds nor keys its SQL again (the ORM's per-call cost was most of these reads' time).
_ROW_STATEMENT = sa.select(
    TEAMDAYS.c.start, TEAMDAYS.c.count, TEAMDAYS.c.below, TEAMDAYS.c.band
).where(
    TEAMDAYS.c.workspace_id == bindparam("ws"),
    TEAMDAYS.c.team_id == bindparam("team"),
    TEAMDAYS.c.day == bindparam("day"),
)
_LIVE_DEALS = (
    DEALS.c.workspace_id == bindparam("ws"),
    DEALS.c.team_id == bindparam("team"),
    DEALS.c.close_date >= bindparam("first"),
    DEALS.c.close_date <= bindparam("last"),
    DEALS.c.stage == "won",
    DEALS.c.deleted_at.is_(None),
)
_LIVE_COUNTS = sa.select(
    func.count().filter(DEALS.c.amount_minor < bindparam("low")),
    func.count().filter(DEALS.c.amount_minor > bindparam("high")),
).where(*_LIVE_DEALS)
_LIVE_INSIDE = sa.select(DEALS.c.amount_minor).where(
    *_LIVE_DEALS,
    DEALS.c.amount_minor >= bindparam("low"),
    DEALS.c.amount_minor <= bindparam("high"),
)


def _live(
    session: Session,
    ws: str,
    team_id: int,
    days: tuple[date, date],
    drop: int | None,
    band: Band | None,
) -> Live:
    """The team's live won deals closed in `days` (two days' deals), as `band` sees them,
    one of amount `drop` taken out (the judged deal). Read from ix_deal_team_close_cover
    alone: the judged deal is taken out here, as its id is not in the index."""
    low, high = _bounds(band)
    params = {"ws": ws, "team": team_id, "first": days[0], "last": days[1]}
    params |= {"low": low, "high": high}
    conn = session.connection()
    below, above = conn.execute(_LIVE_COUNTS, params).one()
    inside: list[int] = []
    if band is not None:
        inside = list(conn.execute(_LIVE_INSIDE, params).scalars())
    live = Live(int(below or 0), int(above or 0), inside)
    if drop is not None:
        if drop < low:
            live.below -= 1
        elif drop > high:
            live.above -= 1
        elif drop in live.inside:  # else changed meanwhile by another transaction
            live.inside.remove(drop)
    return live


def _judged(
    session: Session, ws: str, team_id: int, days: tuple[date, date], deal_id: int
) -> tuple[date, int] | None:
    """(close date, amount) of the left-out deal if it counts in `days`, by its id."""
    found = session.exec(
        select(col(Deal.close_date), col(Deal.amount_minor)).where(
            col(Deal.id) == deal_id, *_closed(ws, team_id, *days)
        )
    ).first()
    return None if found is None else (found[0], int(found[1]))


def _counted(deal: Deal, ws: str, team_id: int, days: tuple[date, date]) -> tuple[date, int] | None:
    """As _judged, from the deal in hand: (close date, amount) if it counts in `days`."""
    counts = (
        deal.workspace_id == ws
        and deal.team_id == team_id
        and days[0] <= deal.close_date <= days[1]
        and deal.stage == "won"
        and deal.deleted_at is None
    )
    return (deal.close_date, int(deal.amount_minor)) if counts else None


def _cached(ws: str, team_id: int, start: date, end: date) -> list[ColumnElement[bool]]:
    return _closed(ws, team_id, start, end - timedelta(days=LIVE_DAYS))


def _closed(ws: str, team_id: int, first: date, last: date) -> list[ColumnElement[bool]]:
    """Live won deals of the team closed in [first, last]: ix_deal_team_close_cover."""
    return [
        col(Deal.workspace_id) == ws,
        col(Deal.team_id) == team_id,
        col(Deal.close_date) >= first,
        col(Deal.close_date) <= last,
        *WON_LIVE,
    ]


def _key(ws: str, team_id: int) -> list[ColumnElement[bool]]:
    return [col(TeamDay.workspace_id) == ws, col(TeamDay.team_id) == team_id]


def _lock(conn: Connection, team_id: int) -> None:
    """The team's band lock until the transaction ends; SQLite serialises writers anyway."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(LOCK), {"team": team_id})


# --- forgetting -------------------------------------------------------------------------------

COUNTED = ("team_id", "close_date", "stage", "deleted_at", "amount_minor")


Touched = dict[tuple[str, int], tuple[date, bool]]  # (ws, team): (first date, lock)


TOUCHED = "pacer_teamday_touched"  # on a session's info: from before a flush to after it


@event.listens_for(OrmSession, "before_flush")
def _note(session: OrmSession, _context: object, _instances: object) -> None:
    """The teams and first dates of the counted deals about to be written, as they were or
    will be. A new deal is dated against the day it is logged (its request's clock), a
    change against the day it is made."""
    touched: Touched = session.info.get(TOUCHED, {})  # a flush that failed: forget them too
    now = datetime.now(UTC)
    for deal in session.new:
        if isinstance(deal, Deal):
            _touch(session, touched, deal.workspace_id, _state(deal), deal.created_at or now)
    deleted = session.deleted  # built on each access: once per flush, not once per deal
    for deal in [*session.dirty, *deleted]:
        if isinstance(deal, Deal) and deal.id is not None and _changed(deal, deleted):
            _touch(session, touched, deal.workspace_id, _stored(session, deal.id), now)
            if deal not in deleted:
                _touch(session, touched, deal.workspace_id, _state(deal), now)
    session.info[TOUCHED] = touched


@event.listens_for(OrmSession, "after_flush")
def _forget(session: OrmSession, _context: object) -> None:
    """Delete the rows whose window holds a deal just written (after the deal's own
    statements: a write is what a flush starts with)."""
    touched: Touched = session.info.pop(TOUCHED, {})
    conn = session.connection() if touched else None
    for (ws, team_id), (first, lock) in sorted(touched.items()):
        assert conn is not None
        if lock:
            _lock(conn, team_id)
        after = first + timedelta(days=LIVE_DAYS - 1)
        conn.execute(_FORGET, {"ws": ws, "team": team_id, "after": after})


_FORGET = delete(TEAMDAYS).where(
    TEAMDAYS.c.workspace_id == bindparam("ws"),
    TEAMDAYS.c.team_id == bindparam("team"),
    TEAMDAYS.c.day > bindparam("after"),
)


def _changed(deal: Deal, deleted: Any) -> bool:
    if deal in deleted:
        return True
    attrs = inspect(deal).attrs
    return any(attrs[name].history.has_changes() for name in COUNTED)


def _state(deal: Deal) -> tuple[int, date] | None:
    """(team, close date) of a deal the threshold counts, as it is now."""
    if deal.stage != "won" or deal.deleted_at is not None or deal.team_id is None:
        return None
    return deal.team_id, deal.close_date


def _stored(session: OrmSession, deal_id: int) -> tuple[int, date] | None:
    """(team, close date) of a deal the threshold counts, as the database holds it."""
    found = session.connection().execute(
        select(col(Deal.team_id), col(Deal.close_date)).where(col(Deal.id) == deal_id, *WON_LIVE)
    )
    row = found.first()
    return None if row is None else (row[0], row[1])


def _touch(
    session: OrmSession, touched: Touched, ws: str, state: tuple[int, date] | None, at: datetime
) -> None:
    """Note a counted deal's team and date; the team's lock is needed for a date before
    the team's day at `at`."""
    if state is None:
        return
    team_id, day = state
    first, lock = touched.get((ws, team_id), (day, False))
    touched[(ws, team_id)] = (min(first, day), lock or day < _local_day(session, team_id, at))


def _local_day(session: OrmSession, team_id: int, at: datetime) -> date:
    team = session.get(Team, team_id)
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(team.tz if team else "UTC")).date()
