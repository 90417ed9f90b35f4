"""One delivery path for everything Pacer says: the reply to whoever asked, and the
messages it sends on its own (Reply.notices), later replaces (updates) or deletes
(retracts). A Transport carries them: Slack (bot/delivery.py) or the terminal
(bot/terminal.py); the bookkeeping here is the same for both.

Each notice is recorded under its key before it goes out: a key seen before (a retried
request, a second instance, a second run of a job) is skipped, so a notice is sent at most
once. Where it went is stored once sent, so an Update can find the message and a Retract
delete it. Transport errors are logged (never the token) and never fail the request that
caused them.

Each row also keeps its notice as JSON, so `retry_unsent` can send again what failed or was
cut off by a crash, up to MAX_ATTEMPTS tries in all, and log the ones it gives up on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Engine

from commands import codec
from commands.types import Notice, Reply, Request, Retract, Update
from storage import queries
from storage.engine import session_scope

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=5)  # a pending row older than this was cut off by a crash
MAX_ATTEMPTS = 5  # tries in all, the first send included
# A notice not out within this long is news no more (a morning warning read at night):
# it is marked expired and logged instead of being sent late.
MAX_AGE = timedelta(hours=6)


class Via(StrEnum):
    """How the person a reply answers asked: it decides where the answer goes."""

    COMMAND = "command"
    BUTTON = "button"  # the reply replaces the message whose button was pressed
    FORM = "form"  # the form is closed: the reply is a message of its own


@dataclass(frozen=True)
class Asker:
    """Who a reply answers, where, and how they asked."""

    workspace_id: str
    user_id: str
    locale: str = "en"
    channel_id: str | None = None
    via: Via = Via.COMMAND

    @classmethod
    def of(cls, req: Request, via: Via = Via.COMMAND) -> Asker:
        return cls(req.workspace_id, req.user_id, req.locale, req.channel_id, via)


@dataclass(frozen=True)
class Sent:
    """Where a notice went, so an update or a retraction finds it. `ts` is Slack's message
    timestamp; a chart upload has none (Slack answers with the file, not the message)."""

    channel: str
    ts: str | None = None


class DeliveryError(Exception):
    """A transport could not deliver. Its text is the reason, safe to log (no token)."""


class Transport(Protocol):
    def reply(self, reply: Reply, asker: Asker) -> None:
        """Answer the person who asked (failures raise: the caller tells them)."""

    def post(self, notice: Notice) -> Sent:
        """Send a notice (a DM to its user, or a post in its channel); DeliveryError if not."""

    def update(self, sent: Sent, update: Update) -> None:
        """Replace the text and buttons of a sent notice; DeliveryError if not."""

    def delete(self, sent: Sent, retract: Retract) -> None:
        """Delete a sent notice (one already gone counts as deleted); DeliveryError if not."""


class Outbox:
    def __init__(self, engine: Engine, transport: Transport) -> None:
        self.engine = engine
        self.transport = transport

    def answer(self, reply: Reply, asker: Asker) -> None:
        """The reply to who asked, then what it sends to others."""
        self.transport.reply(reply, asker)
        self.deliver(asker.workspace_id, reply)

    def deliver(self, workspace_id: str, reply: Reply) -> None:
        """Send the reply's notices, then apply its updates and retractions; each failure is
        logged on its own."""
        for notice in reply.notices:
            try:
                self.send(workspace_id, notice)
            except Exception:
                log.exception("notice %s failed", notice.key)
        for update in reply.updates:
            try:
                self.update(workspace_id, update)
            except Exception:
                log.exception("update of %s failed", update.key)
        for retract in reply.retracts:
            try:
                self.retract(workspace_id, retract)
            except Exception:
                log.exception("retract of %s failed", retract.key)

    def send(self, workspace_id: str, notice: Notice) -> bool:
        """True if this call sent it; False if it was sent (or tried) before, or failed."""
        message_id = self._claim(workspace_id, notice)
        if message_id is None:
            log.info("notice %s already recorded (or workspace uninstalled): not sent", notice.key)
            return False
        try:
            sent = self.transport.post(notice)
        except DeliveryError as err:
            log.warning("notice %s not sent: %s", notice.key, err)
            self._mark(message_id, "failed")
            return False
        self._mark(message_id, "sent", sent)
        return True

    def _claim(self, workspace_id: str, notice: Notice) -> int | None:
        with session_scope(self.engine) as session:
            row = queries.claim_message(session, workspace_id=workspace_id, key=notice.key)
            if row is None:  # a retracted notice may be sent again (a restored deal)
                row = queries.reopen_message(session, workspace_id=workspace_id, key=notice.key)
            if row is None:
                return None
            row.payload = encode(notice)  # recorded with the row: a retry can resend it
            session.add(row)
            return row.id

    def update(self, workspace_id: str, update: Update) -> bool:
        """Replace a sent notice; False when none stands under the key (or it failed)."""
        found = self._sent(workspace_id, update.key)
        if found is None or found[2].ts is None:
            log.debug("no sent message under %s to update", update.key)
            return False
        try:
            self.transport.update(found[2], update)
        except DeliveryError as err:
            log.warning("update of %s failed: %s", update.key, err)
            return False
        return True

    def retract(self, workspace_id: str, retract: Retract) -> bool:
        """Delete a sent notice and mark it retracted; False when there was nothing to delete."""
        found = self._sent(workspace_id, retract.key, ("sent", "failed", "expired"))
        if found is None:
            return False  # never sent, already gone, or still being sent by another request
        message_id, status, sent = found
        if status == "sent" and sent.ts is not None:
            try:
                self.transport.delete(sent, retract)
            except DeliveryError as err:
                log.warning("retract of %s failed: %s", retract.key, err)
                return False
        self._mark(message_id, "retracted")
        return True

    def _sent(
        self, workspace_id: str, key: str, statuses: tuple[str, ...] = ("sent",)
    ) -> tuple[int, str, Sent] | None:
        """(row id, status, where it went) of the notice under `key`, in one of `statuses`."""
        with session_scope(self.engine) as session:
            row = queries.sent_message(session, workspace_id=workspace_id, key=key)
            if row is None or row.id is None or row.status not in statuses:
                return None
            return row.id, row.status, Sent(row.channel_id or "", row.ts)

    # --- retries ------------------------------------------------------------------------------

    def retry_unsent(
        self,
        *,
        now: datetime,
        older_than: timedelta = RETRY_AFTER,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> int:
        """Send again the notices that failed, or that stayed pending longer than `older_than`
        (the process died between recording and sending); the number sent.

        The pending window trades one risk for another: Slack's chat.postMessage has no
        idempotency key, so a post that succeeded just before a crash (the row not yet marked
        sent) is repeated once here. Without the retry that message could be lost instead.
        """
        with session_scope(self.engine) as session:
            todo = queries.unsent_messages(
                session, stale_before=now - older_than, max_attempts=max_attempts
            )
        sent = 0
        for message_id, seen in todo:
            try:
                sent += self._retry(message_id, seen, now, max_attempts)
            except Exception:  # one bad row must not stop the others
                log.exception("retry of message %s failed", message_id)
        return sent

    def _retry(self, message_id: int, seen: int, now: datetime, most: int) -> bool:
        with session_scope(self.engine) as session:
            row = queries.claim_retry(session, message_id=message_id, seen=seen, now=now)
            claimed = (row.key, row.payload or "{}", row.attempts, row.created_at) if row else None
        if claimed is None:
            return False  # another instance took it first
        key, payload, attempts, created = claimed
        if now - created > MAX_AGE:
            self._mark(message_id, "expired")
            log.error("notice %s expired unsent: %s late", key, now - created)
            return False
        try:
            sent = self.transport.post(decode(key, payload))
        except DeliveryError as err:
            self._mark(message_id, "failed")
            if attempts >= most:
                log.error("notice %s gave up after %d attempts: %s", key, attempts, err)
            else:
                log.warning("notice %s not sent (attempt %d): %s", key, attempts, err)
            return False
        self._mark(message_id, "sent", sent)
        log.info("notice %s sent on attempt %d", key, attempts)
        return True

    def _mark(self, message_id: int, status: str, sent: Sent | None = None) -> None:
        with session_scope(self.engine) as session:
            queries.mark_message(
                session,
                message_id=message_id,
                status=status,
                channel_id=sent.channel if sent else None,
                ts=sent.ts if sent else None,
            )


# --- a notice as the JSON its row keeps -----------------------------------------------------------


def encode(notice: Notice) -> str:
    """The notice as JSON, without its key (the row has it)."""
    data = codec.notice_data(notice)
    if data["chart"] is None:
        del data["chart"]
    return json.dumps(data, ensure_ascii=False)


def decode(key: str, payload: str) -> Notice:
    return codec.notice_from(key, json.loads(payload))
