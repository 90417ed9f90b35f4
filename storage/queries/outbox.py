"""Messages Pacer sends on its own: claimed under a key before sending, marked, retried."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.models import SentMessage, utcnow
from storage.queries.directory import get_workspace, installed_workspaces


def claim_message(session: Session, *, workspace_id: str, key: str) -> SentMessage | None:
    """Record a message before it is sent; None when the key was already recorded, or the
    workspace is uninstalled (nothing is sent there, not even a reply's notices)."""
    if get_workspace(session, workspace_id=workspace_id).uninstalled_at is not None:
        return None
    row = SentMessage(workspace_id=workspace_id, key=key, attempts=1)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def sent_message(session: Session, *, workspace_id: str, key: str) -> SentMessage | None:
    return session.exec(
        select(SentMessage).where(SentMessage.workspace_id == workspace_id, SentMessage.key == key)
    ).first()


def mark_message(
    session: Session,
    *,
    message_id: int,
    status: str,
    channel_id: str | None = None,
    ts: str | None = None,
) -> None:
    row = session.get(SentMessage, message_id)
    if row is None:
        return
    row.status = status
    if channel_id is not None:
        row.channel_id = channel_id
    if ts is not None:
        row.ts = ts
    if status == "sent":
        row.sent_at = utcnow()
    session.add(row)
    session.flush()


def reopen_message(session: Session, *, workspace_id: str, key: str) -> SentMessage | None:
    """Claim again a notice that was retracted (a restored deal): one caller wins the row."""
    result = session.execute(
        update(SentMessage)
        .where(
            col(SentMessage.workspace_id) == workspace_id,
            col(SentMessage.key) == key,
            col(SentMessage.status) == "retracted",
        )
        .values(status="pending", channel_id=None, ts=None, attempts=SentMessage.attempts + 1)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    row = sent_message(session, workspace_id=workspace_id, key=key)
    if row is not None:
        session.refresh(row)
    return row


@dataclass(frozen=True)
class Unsent:
    id: int
    workspace_id: str
    attempts: int
    status: str  # failed | pending
    last_try: datetime | None  # when it was last tried (aware UTC)


def unsent_messages(session: Session, *, stale_before: datetime) -> list[Unsent]:
    """Notices worth sending again: failed ones (the caller checks which are due), and
    pending ones whose last try began before `stale_before` (the sender died mid-send).
    Only rows that carry their payload can be resent. Of every installed workspace: one
    retry job sweeps them all; an uninstalled workspace's rows wait for a reinstall."""
    last_try = or_(
        and_(col(SentMessage.sent_at).is_(None), col(SentMessage.created_at) < stale_before),
        col(SentMessage.sent_at) < stale_before,
    )
    rows = session.exec(
        select(SentMessage)
        .where(
            col(SentMessage.payload).is_not(None),
            col(SentMessage.workspace_id).in_(installed_workspaces()),
            or_(
                col(SentMessage.status) == "failed",
                and_(col(SentMessage.status) == "pending", last_try),
            ),
        )
        .order_by(col(SentMessage.id))
    ).all()
    return [
        Unsent(row.id, row.workspace_id, row.attempts, row.status, row.sent_at or row.created_at)
        for row in rows
        if row.id is not None
    ]


def claim_retry(
    session: Session, *, message_id: int, seen: int, now: datetime
) -> SentMessage | None:
    """Take one unsent notice for a retry: the UPDATE matches only while attempts is still
    what the caller saw, so of two instances retrying at once exactly one wins the row."""
    result = session.execute(
        update(SentMessage)
        .where(
            col(SentMessage.id) == message_id,
            col(SentMessage.attempts) == seen,
            col(SentMessage.status).in_(("failed", "pending")),
        )
        .values(status="pending", attempts=SentMessage.attempts + 1, sent_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    row = session.get(SentMessage, message_id)
    if row is not None:
        session.refresh(row)
    return row


def recorded_keys(session: Session, *, workspace_id: str, keys: list[str]) -> set[str]:
    """Those of `keys` recorded already (sent, being sent, failed): the outbox would not send
    them again, so a job re-run need not compose them. A retracted one may be sent again."""
    if not keys:
        return set()
    found = session.exec(
        select(SentMessage.key).where(
            SentMessage.workspace_id == workspace_id,
            col(SentMessage.key).in_(keys),
            SentMessage.status != "retracted",
        )
    ).all()
    return set(found)
