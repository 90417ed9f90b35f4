"""Big-deal celebrations: the threshold, the day's cap and the digest of the rest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, String, and_, cast, literal
from sqlmodel import Session, col, select

from storage.models import Deal, SentMessage, Team
from storage.queries import teamdays
from storage.queries.directory import workspace_of_team
from storage.queries.metrics import WON_LIVE

LIVE_NOTICE = ("pending", "sent")  # a notice claimed or out; "failed"/"retracted" are not
CELEBRATE = "celebrate:"  # a deal's celebration key: "celebrate:{deal id}"


def _celebrate_key() -> ColumnElement[str]:
    """The key of a deal's celebration notice, "celebrate:{id}", built in SQL for a join."""
    return literal(CELEBRATE, String) + cast(Deal.id, String)


def twice_median_won(
    session: Session,
    *,
    team_id: int,
    start: date,
    end: date,
    exclude_id: int,
    least: int,
    workspace_id: str | None = None,
    excluded: Deal | None = None,
) -> int | None:
    """Twice the median live won deal closed in [start, end], the deal `exclude_id` left out;
    None with fewer than `least` deals. `end` is the team's local today: the window before
    yesterday is read once a day and kept (storage/queries/teamdays.py), the rest live."""
    if workspace_id is None:
        team = session.get(Team, team_id)
        if team is None:
            return None
        workspace_id = team.workspace_id
    return teamdays.twice_median(
        session,
        workspace_id=workspace_id,
        team_id=team_id,
        start=start,
        end=end,
        exclude_id=exclude_id,
        least=least,
        excluded=excluded,
    )


def celebrated_between(
    session: Session, *, workspace_id: str, channel_id: str, since: datetime, until: datetime
) -> int:
    """How many deals logged in [since, until) by teams posting to `channel_id` have a live
    celebration notice in the channel: the day's count against the cap. From the channel's
    notices made since `since` (ix_sentmessage_channel_created: a deal's notice is never
    older than the deal), a handful a day, then those notices' deals by id: not from every
    deal the teams logged that day, which grows with their volume (3,000 in a busy hour)."""
    keys = session.exec(
        select(SentMessage.key).where(
            SentMessage.workspace_id == workspace_id,
            SentMessage.channel_id == channel_id,
            SentMessage.created_at >= since,
            col(SentMessage.key).startswith(CELEBRATE),
            col(SentMessage.status).in_(LIVE_NOTICE),
        )
    ).all()
    ids = [int(k[len(CELEBRATE) :]) for k in keys if k[len(CELEBRATE) :].isdigit()]
    if not ids:
        return 0
    teams = set(
        session.exec(
            select(Team.id).where(Team.workspace_id == workspace_id, Team.channel_id == channel_id)
        ).all()
    )
    # By id alone (the primary key), the rest compared here: given the workspace, team or
    # day too, SQLite reads the day's deals (or the workspace's) off ix_deal_created instead.
    deals = session.exec(
        select(Deal.workspace_id, Deal.team_id, Deal.created_at).where(col(Deal.id).in_(ids))
    ).all()
    return sum(
        ws == workspace_id and team in teams and since <= at < until for ws, team, at in deals
    )


def uncelebrated_big_deals(
    session: Session, *, team_id: int, least: int, since: datetime, until: datetime
) -> Sequence[Deal]:
    """The team's live won deals of at least `least`, logged in [since, until), that have no
    live celebration of their own (the day's digest), biggest first."""
    return session.exec(
        select(Deal)
        .outerjoin(
            SentMessage,
            and_(
                col(SentMessage.workspace_id) == col(Deal.workspace_id),
                col(SentMessage.key) == _celebrate_key(),
                col(SentMessage.status).in_(LIVE_NOTICE),
            ),
        )
        .where(
            Deal.workspace_id == workspace_of_team(team_id),
            Deal.team_id == team_id,
            *WON_LIVE,
            Deal.amount_minor >= least,
            Deal.created_at >= since,
            Deal.created_at < until,
            col(SentMessage.id).is_(None),
        )
        .order_by(col(Deal.amount_minor).desc(), col(Deal.id))
        .limit(50)
    ).all()
