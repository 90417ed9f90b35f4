"""One delivery path for everything Pacer says: the reply to whoever asked, and the
messages it sends on its own (Reply.notices), later replaces (updates) or deletes
(retracts). A Transport carries them: Slack (bot/delivery.py) or the terminal
(bot/terminal.py); the bookkeeping here is the same for both.

Each notice is recorded under its key before it goes out: a key seen before (a retried
request, a second instance, a second run of a job) is skipped, so a notice is sent at most
once. Where it went is stored once sent, so an Update can find the message and a Retract
delete it. Transport errors are logged (never the token) and never fail the request that
caused them.

Each row also keeps its notice as JSON, so `retry_unsent` (run every minute by the
scheduler) can send again what failed or was cut off by a crash, on the BACKOFF schedule,
and log at WARNING every message it drops: retries used up, too old, or refused for good.

A reply the asker could not be shown (the response URL failed) becomes a notice of its own
to that user, under `undelivered:<request key>`: an ephemeral note in the channel, else a
DM, with the reply and so what was saved. A chart that could not be uploaded after its text
was shown is retried the same way, under `chart:<request key>`.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar, runtime_checkable

from sqlalchemy import Engine

import charts
from bot import metrics
from commands import codec, export, i18n
from commands.parsing import Refused
from commands.types import Notice, Reply, Request, Retract, Update
from storage import queries
from storage.engine import read_scope, session_scope
from storage.queries.outbox import Unsent

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_AFTER = timedelta(minutes=5)  # a pending row older than this was cut off by a crash
# The wait after each failed try. Short at first, for the blips that pass in seconds (a 429
# burst, a restart of Slack's edge, a hung connection); then longer, to ride out an outage
# of half an hour. The last try is 38.5 minutes after the first, within the hour.
BACKOFF = tuple(timedelta(seconds=s) for s in (30, 60, 2 * 60, 5 * 60, 10 * 60, 20 * 60))
MAX_ATTEMPTS = len(BACKOFF) + 1  # tries in all, the first send included
# A notice not out within this long is news no more (a morning warning read at night): it
# is marked expired and logged instead of being sent late (e.g. found after a long outage).
MAX_AGE = timedelta(hours=1)
# Workspaces whose sends (a job run, the retries) go side by side, each on a thread.
WORKSPACES_AT_ONCE = 8
UNDELIVERED = "undelivered:"  # key prefix of a reply sent again to who asked
CHART = "chart:"  # key prefix of a reply's chart sent again


def next_try(last_try: datetime, attempts: int) -> datetime | None:
    """When a notice whose try number `attempts` failed at `last_try` is due again; None
    when it has had all its tries."""
    if attempts < 1 or attempts > len(BACKOFF):
        return None
    return last_try + BACKOFF[attempts - 1]


class Via(StrEnum):
    """How the person a reply answers asked: it decides where the answer goes."""

    COMMAND = "command"
    BUTTON = "button"  # the reply replaces the message whose button was pressed
    FORM = "form"  # the form is closed: the reply is a message of its own
    HOME = "home"  # a press on the App Home tab: a form opens, any text is a message


@dataclass(frozen=True)
class Asker:
    """Who a reply answers, where, and how they asked."""

    workspace_id: str
    user_id: str
    locale: str = "en"
    channel_id: str | None = None
    via: Via = Via.COMMAND
    key: str | None = None  # the request's delivery key: names what is sent again for it

    @classmethod
    def of(cls, req: Request, via: Via = Via.COMMAND) -> Asker:
        return cls(req.workspace_id, req.user_id, req.locale, req.channel_id, via, req.request_key)


@dataclass(frozen=True)
class Sent:
    """Where a notice went, so an update or a retraction finds it. `ts` is Slack's message
    timestamp; a chart upload has none (Slack answers with the file, not the message)."""

    channel: str
    ts: str | None = None


Recorded = tuple[int, Notice]  # a notice's row id, and the notice


class DeliveryError(Exception):
    """A transport could not deliver. Its text is the reason, safe to log (no token);
    `permanent` when trying again cannot help (channel_not_found, not_in_channel...)."""

    def __init__(self, reason: str, *, permanent: bool = False, refused: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent or refused
        self.refused = refused  # Slack refused the workspace's token (revoked, inactive)


class Undelivered(DeliveryError):
    """Part of a reply did not reach who asked: its text (`text_failed`), or its chart
    (`chart_to`: the channel to upload it to on the retry, None for the asker's DM)."""

    def __init__(
        self, reason: str, *, text_failed: bool, chart_failed: bool, chart_to: str | None = None
    ) -> None:
        super().__init__(reason)
        self.text_failed = text_failed
        self.chart_failed = chart_failed
        self.chart_to = chart_to


class Transport(Protocol):
    def reply(self, reply: Reply, asker: Asker) -> None:
        """Answer the person who asked; Undelivered names what did not arrive."""

    def post(self, notice: Notice) -> Sent:
        """Send a notice (a DM to its user, or a post in its channel); DeliveryError if not."""

    def update(self, sent: Sent, update: Update) -> None:
        """Replace the text and buttons of a sent notice; DeliveryError if not."""

    def delete(self, sent: Sent, retract: Retract) -> None:
        """Delete a sent notice (one already gone counts as deleted); DeliveryError if not."""


@runtime_checkable
class Routes(Protocol):
    """A transport per workspace (each with its own token); None where none reaches it."""

    def transport_for(self, workspace_id: str) -> Transport | None: ...

    def refused(self, workspace_id: str) -> None:
        """Slack refused the workspace's token: forget it."""


class Fixed:
    """One transport for every workspace: a request's own, the console, one bot token."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def transport_for(self, workspace_id: str) -> Transport | None:
        return self.transport

    def refused(self, workspace_id: str) -> None:
        pass


class Outbox:
    def __init__(self, engine: Engine, transport: Transport | Routes) -> None:
        self.engine = engine
        self.routes = transport if isinstance(transport, Routes) else Fixed(transport)

    def _via(self, workspace_id: str) -> Transport:
        """The workspace's transport; DeliveryError (refused) where Pacer has no token."""
        transport = self.routes.transport_for(workspace_id)
        if transport is None:
            raise DeliveryError("no installation", refused=True)
        return metrics.timed(transport)

    def answer(self, reply: Reply, asker: Asker) -> None:
        """The reply to who asked, then what it sends to others."""
        self.reply(reply, asker)
        self.deliver(asker.workspace_id, reply)

    def reply(self, reply: Reply, asker: Asker) -> None:
        """The reply to who asked; what of it did not arrive is sent again as notices."""
        try:
            self._via(asker.workspace_id).reply(reply, asker)
        except Undelivered as err:
            self._again(reply, asker, err)

    def _again(self, reply: Reply, asker: Asker, err: Undelivered) -> None:
        """What of the reply did not arrive goes out as notices, retried like any other."""
        key = asker.key or uuid.uuid4().hex
        if err.text_failed:
            log.warning(
                "reply %s in %s not shown: %s; telling the user another way",
                key,
                asker.workspace_id,
                err,
            )
            self.send(asker.workspace_id, undelivered_notice(reply, asker, key))
        if err.chart_failed and reply.chart is not None:
            caption = reply.text.split("\n", 1)[0]
            chart = Notice(
                key=(CHART + key)[:200],
                text=caption,
                user_id=asker.user_id,
                channel_id=err.chart_to,
                locale=asker.locale,
                chart=reply.chart,
            )
            self.send_later(asker.workspace_id, chart)

    def deliver(
        self, workspace_id: str, reply: Reply, recorded: list[Recorded] | None = None
    ) -> None:
        """Send the reply's notices (those `record` took already, if given), then apply its
        updates and retractions; each failure is logged on its own."""
        if recorded is None:
            recorded = self.record(workspace_id, reply.notices)
        for message_id, notice in recorded:
            try:
                self._post(message_id, workspace_id, notice, 1)
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
        recorded = self.record(workspace_id, [notice])
        if not recorded:
            return False
        message_id, _ = recorded[0]
        return self._post(message_id, workspace_id, notice, 1)

    def record(self, workspace_id: str, notices: list[Notice]) -> list[Recorded]:
        """Record notices as pending, each under its key, and return those new here: a
        request records them before it is acknowledged, so a crash after the ack leaves
        them to the retries instead of losing them."""
        recorded: list[Recorded] = []
        for notice in notices:
            message_id = self._claim(workspace_id, notice)
            if message_id is None:
                log.info("notice %s already recorded: not sent again", notice.key)
            else:
                recorded.append((message_id, notice))
        return recorded

    def send_later(self, workspace_id: str, notice: Notice) -> bool:
        """Record the notice as failed once, for the retry loop (it just failed elsewhere)."""
        message_id = self._claim(workspace_id, notice)
        if message_id is None:
            log.info("notice %s already recorded (or workspace uninstalled): not sent", notice.key)
            return False
        self._mark(message_id, "failed")
        log.warning(
            "notice %s in %s not sent (attempt 1); next try in %d s",
            notice.key,
            workspace_id,
            BACKOFF[0].total_seconds(),
        )
        return True

    def _post(self, message_id: int, workspace_id: str, notice: Notice, attempt: int) -> bool:
        try:
            sent = self._via(workspace_id).post(self._with_bytes(notice))
        except DeliveryError as err:
            self._failed(message_id, workspace_id, notice.key, attempt, err)
            return False
        self._mark(message_id, "sent", sent)
        return True

    def _with_bytes(self, notice: Notice) -> Notice:
        """A notice's file written now, from a read scope (the report, drawn at sending)."""
        file = notice.file
        if file is None or file.content:
            return notice
        out = io.BytesIO()
        try:
            with read_scope(self.engine) as session:
                export.write_file(session, file, out, charts.render_report)
        except Refused as err:  # its team or its manager is gone: no later try helps
            raise DeliveryError(f"file {file.filename}: {err.key}", permanent=True) from None
        return replace(notice, file=replace(file, content=out.getvalue()))

    def _failed(
        self, message_id: int, workspace_id: str, key: str, attempt: int, err: DeliveryError
    ) -> None:
        """Marked failed for a later try, or dropped (and logged) when none can help."""
        if err.refused:
            self.unreachable(workspace_id, str(err))
        if err.permanent or attempt >= MAX_ATTEMPTS:
            self._mark(message_id, "dropped")
            why = err if err.permanent else f"gave up after {attempt} attempts: {err}"
            log.warning("notice %s in %s dropped: %s", key, workspace_id, why)
            return
        self._mark(message_id, "failed")
        log.warning(
            "notice %s in %s not sent (attempt %d): %s; next try in %d s",
            key,
            workspace_id,
            attempt,
            err,
            BACKOFF[attempt - 1].total_seconds(),
        )

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
            self._via(workspace_id).update(found[2], update)
        except DeliveryError as err:
            log.warning("update of %s failed: %s", update.key, err)
            return False
        return True

    def retract(self, workspace_id: str, retract: Retract) -> bool:
        """Delete a sent notice and mark it retracted; False when there was nothing to delete."""
        found = self._sent(workspace_id, retract.key, ("sent", "failed", "expired", "dropped"))
        if found is None:
            return False  # never sent, already gone, or still being sent by another request
        message_id, status, sent = found
        if status == "sent" and sent.ts is not None:
            try:
                self._via(workspace_id).delete(sent, retract)
            except DeliveryError as err:
                log.warning("retract of %s failed: %s", retract.key, err)
                return False
        self._mark(message_id, "retracted")
        return True

    def _sent(
        self, workspace_id: str, key: str, statuses: tuple[str, ...] = ("sent",)
    ) -> tuple[int, str, Sent] | None:
        """(row id, status, where it went) of the notice under `key`, in one of `statuses`:
        a read, so it never queues behind the writers (a digest updated on every big deal)."""
        with read_scope(self.engine) as session:
            row = queries.sent_message(session, workspace_id=workspace_id, key=key)
            if row is None or row.id is None or row.status not in statuses:
                return None
            return row.id, row.status, Sent(row.channel_id or "", row.ts)

    def unreachable(self, workspace_id: str, why: str) -> None:
        """A token Slack refuses (or none at all) is not tried again for an hour: the
        workspace is marked as uninstalled, and resumes when it is installed again."""
        self.routes.refused(workspace_id)
        with session_scope(self.engine) as session:
            marked = queries.mark_uninstalled(
                session, workspace_id=workspace_id, at=datetime.now(UTC)
            )
        if marked:
            log.warning(
                "workspace %s: %s, Pacer stops sending there until it is installed again",
                workspace_id,
                why,
            )

    # --- retries ------------------------------------------------------------------------------

    def retry_unsent(self, *, now: datetime, older_than: timedelta = RETRY_AFTER) -> int:
        """Send again the notices that failed and are due on the BACKOFF schedule, or that
        stayed pending longer than `older_than` (the process died between recording and
        sending); the number sent.

        The pending window trades one risk for another: Slack's chat.postMessage has no
        idempotency key, so a post that succeeded just before a crash (the row not yet marked
        sent) is repeated once here. Without the retry that message could be lost instead.
        """
        with session_scope(self.engine) as session:
            todo = queries.unsent_messages(session, stale_before=now - older_than)
        due: dict[str, list[Unsent]] = {}
        for found in todo:
            if found.status == "failed" and not _due(found.last_try, found.attempts, now):
                continue
            due.setdefault(found.workspace_id, []).append(found)
        return each_workspace(due, lambda _ws, rows: self._retry_all(rows, now))

    def _retry_all(self, rows: list[Unsent], now: datetime) -> int:
        sent = 0
        for found in rows:
            try:
                sent += self._retry(found.id, found.attempts, now)
            except Exception:  # one bad row must not stop the others
                log.exception("retry of message %s failed", found.id)
        return sent

    def _retry(self, message_id: int, seen: int, now: datetime) -> bool:
        with session_scope(self.engine) as session:
            row = queries.claim_retry(session, message_id=message_id, seen=seen, now=now)
            claimed = (
                (row.workspace_id, row.key, row.payload or "{}", row.attempts, row.created_at)
                if row
                else None
            )
        if claimed is None:
            return False  # another instance took it first
        workspace_id, key, payload, attempts, created = claimed
        if now - created > MAX_AGE:
            self._mark(message_id, "expired")
            late = now - created
            log.warning("notice %s in %s dropped: expired, %s late", key, workspace_id, late)
            return False
        if attempts > MAX_ATTEMPTS:  # e.g. cut off by a crash on its last try
            self._mark(message_id, "dropped")
            log.warning("notice %s in %s dropped: no tries left", key, workspace_id)
            return False
        if not self._post(message_id, workspace_id, decode(key, payload), attempts):
            return False
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


def each_workspace(groups: dict[str, list[T]], work: Callable[[str, list[T]], int]) -> int:
    """`work` for each workspace's share, the workspaces side by side: one that is slow or
    rate limited (a 429's Retry-After is waited out on its thread) holds no other's
    messages. The sum of what `work` returns; one that fails is logged, the others count."""

    def guarded(workspace_id: str, items: list[T]) -> int:
        try:
            return work(workspace_id, items)
        except Exception:
            log.exception("work for workspace %s failed", workspace_id)
            return 0

    if len(groups) <= 1:  # no thread for one workspace
        return sum(guarded(ws, items) for ws, items in groups.items())
    workers = min(WORKSPACES_AT_ONCE, len(groups))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="workspace") as pool:
        done = [pool.submit(guarded, ws, items) for ws, items in groups.items()]
        return sum(future.result() for future in done)


def _due(last_try: datetime | None, attempts: int, now: datetime) -> bool:
    due = next_try(last_try, attempts) if last_try is not None else None
    return due is None or due <= now  # no more tries left: due, to be dropped and logged


def undelivered_notice(reply: Reply, asker: Asker, key: str) -> Notice:
    """The reply, for who asked, with a note that it could not be shown where they asked:
    its text says what was saved (e.g. the deal number), so nothing is typed twice. A reply
    showing a secret once is sent as its replay: the notice is stored, the secret must not be."""
    note = i18n.t(asker.locale, "sends.reply_not_shown")
    text = reply.text if reply.replay is None else reply.replay
    return Notice(
        key=(UNDELIVERED + key)[:200],
        text=f"{note}\n\n{text}" if text else note,
        user_id=asker.user_id,
        channel_id=asker.channel_id,
        buttons=list(reply.buttons),
        locale=asker.locale,
    )


def is_undelivered(notice: Notice) -> bool:
    """A reply sent again: to its user only (ephemeral in its channel, else a DM)."""
    return notice.key.startswith(UNDELIVERED)


# --- a notice as the JSON its row keeps -----------------------------------------------------------


def encode(notice: Notice) -> str:
    """The notice as JSON, without its key (the row has it)."""
    data = codec.notice_data(notice)
    for part in ("chart", "file"):
        if data[part] is None:
            del data[part]
    return json.dumps(data, ensure_ascii=False)


def decode(key: str, payload: str) -> Notice:
    return codec.notice_from(key, json.loads(payload))
