"""Messages Pacer sends on its own (Reply.notices), later replaces (Reply.updates) or
deletes (Reply.retracts).

Each notice is recorded under its key before it goes out: a key seen before (a retried
request, a second instance) is skipped, so a notice is sent at most once. Channel and
timestamp are stored once sent, so an Update can find the message and chat.update it.
Slack errors are logged (never the token) and never fail the request that caused them.
A notice with a chart is uploaded as a file with its text as the comment.

Each row also keeps its notice as JSON, so `retry_unsent` can send again what failed or was
cut off by a crash, up to MAX_ATTEMPTS tries in all, and log the ones it gives up on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine

import charts
from bot import blocks
from bot.delivery import chart_filename
from charts.specs import ChartSpec, LeaderboardChart, ProgressChart
from commands.types import Button, Notice, Reply, Retract, Update
from storage import queries
from storage.engine import session_scope

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(minutes=5)  # a pending row older than this was cut off by a crash
MAX_ATTEMPTS = 5  # tries in all, the first send included
# A notice not out within this long is news no more (a morning warning read at night):
# it is marked expired and logged instead of being sent late.
MAX_AGE = timedelta(hours=6)
SLACK_ERRORS = (SlackApiError, SlackClientError, OSError)


def deliver(client: WebClient, engine: Engine, workspace_id: str, reply: Reply) -> None:
    """Send the reply's notices, then apply its updates; each failure is logged on its own."""
    for notice in reply.notices:
        try:
            send_notice(client, engine, workspace_id, notice)
        except Exception:
            log.exception("notice %s failed", notice.key)
    for update in reply.updates:
        try:
            apply_update(client, engine, workspace_id, update)
        except Exception:
            log.exception("update of %s failed", update.key)
    for retract in reply.retracts:
        try:
            apply_retract(client, engine, workspace_id, retract)
        except Exception:
            log.exception("retract of %s failed", retract.key)


def send_notice(client: WebClient, engine: Engine, workspace_id: str, notice: Notice) -> bool:
    """True if this call sent it; False if it was sent (or tried) before, or failed."""
    with session_scope(engine) as session:
        claimed = queries.claim_message(session, workspace_id=workspace_id, key=notice.key)
        if claimed is None:  # a retracted notice may be sent again (a restored deal)
            claimed = queries.reopen_message(session, workspace_id=workspace_id, key=notice.key)
        if claimed is not None:
            claimed.payload = encode(notice)  # recorded with the row: a retry can resend it
            session.add(claimed)
        message_id = claimed.id if claimed is not None else None
    if message_id is None:
        log.info("notice %s already recorded: not sent again", notice.key)
        return False
    try:
        channel, ts = _post(client, notice)
    except SLACK_ERRORS as err:
        log.warning("notice %s not sent: %s", notice.key, _reason(err))
        _mark(engine, message_id, "failed")
        return False
    _mark(engine, message_id, "sent", channel, ts)
    return True


def _post(client: WebClient, notice: Notice) -> tuple[str, object]:
    """Post the notice (or upload its chart with the text as comment): (channel, ts).
    files_upload_v2 answers with the file, not a message ts: an upload has none stored."""
    channel = notice.channel_id or _dm(client, notice.user_id)
    spec = notice.chart
    if spec is None:
        response = client.chat_postMessage(channel=channel, **_content(notice.text, notice))
        return str(response.get("channel") or channel), response.get("ts")
    client.files_upload_v2(
        channel=channel,
        file=charts.render(spec),
        filename=chart_filename(spec),
        title=spec.title,
        alt_txt=spec.alt_text or spec.title,
        initial_comment=notice.text,
    )
    return channel, None


# --- retries -----------------------------------------------------------------------------------


def retry_unsent(
    client: WebClient,
    engine: Engine,
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
    with session_scope(engine) as session:
        todo = queries.unsent_messages(
            session, stale_before=now - older_than, max_attempts=max_attempts
        )
    sent = 0
    for message_id, seen in todo:
        try:
            sent += _retry(client, engine, message_id, seen, now, max_attempts)
        except Exception:  # one bad row must not stop the others
            log.exception("retry of message %s failed", message_id)
    return sent


def _retry(
    client: WebClient, engine: Engine, message_id: int, seen: int, now: datetime, most: int
) -> bool:
    with session_scope(engine) as session:
        row = queries.claim_retry(session, message_id=message_id, seen=seen, now=now)
        claimed = (row.key, row.payload or "{}", row.attempts, row.created_at) if row else None
    if claimed is None:
        return False  # another instance took it first
    key, payload, attempts, created = claimed
    if now - created > MAX_AGE:
        _mark(engine, message_id, "expired")
        log.error("notice %s expired unsent: %s late", key, now - created)
        return False
    try:
        channel, ts = _post(client, decode(key, payload))
    except SLACK_ERRORS as err:
        _mark(engine, message_id, "failed")
        if attempts >= most:
            log.error("notice %s gave up after %d attempts: %s", key, attempts, _reason(err))
        else:
            log.warning("notice %s not sent (attempt %d): %s", key, attempts, _reason(err))
        return False
    _mark(engine, message_id, "sent", channel, ts)
    log.info("notice %s sent on attempt %d", key, attempts)
    return True


def encode(notice: Notice) -> str:
    """The notice as JSON, without its key (the row has it)."""
    data: dict[str, Any] = {
        "text": notice.text,
        "user_id": notice.user_id,
        "channel_id": notice.channel_id,
        "buttons": [asdict(b) for b in notice.buttons],
        "locale": notice.locale,
    }
    if notice.chart is not None:
        chart = asdict(notice.chart)
        chart["kind"] = type(notice.chart).__name__
        if "highlight" in chart:
            chart["highlight"] = sorted(chart["highlight"])
        data["chart"] = chart
    return json.dumps(data, ensure_ascii=False)


def decode(key: str, payload: str) -> Notice:
    data = json.loads(payload)
    return Notice(
        key=key,
        text=data["text"],
        user_id=data.get("user_id"),
        channel_id=data.get("channel_id"),
        buttons=[Button(**b) for b in data.get("buttons", [])],
        locale=data.get("locale", "en"),
        chart=_chart(data.get("chart")),
    )


def _chart(data: dict[str, Any] | None) -> ChartSpec | None:
    if data is None:
        return None
    fields = dict(data)
    if fields.pop("kind") == "ProgressChart":
        return ProgressChart(**fields)
    fields["highlight"] = frozenset(fields.get("highlight", ()))
    return LeaderboardChart(**fields)


def apply_update(client: WebClient, engine: Engine, workspace_id: str, update: Update) -> bool:
    """Replace a sent notice; False when there is none under the key (or Slack refused)."""
    with session_scope(engine) as session:
        row = queries.sent_message(session, workspace_id=workspace_id, key=update.key)
        where = (row.channel_id, row.ts) if row is not None else (None, None)
    channel, ts = where
    if not channel or not ts:
        log.debug("no sent message under %s to update", update.key)
        return False
    try:
        client.chat_update(channel=channel, ts=ts, **_content(update.text, update))
    except (SlackApiError, SlackClientError, OSError) as err:
        log.warning("update of %s failed: %s", update.key, _reason(err))
        return False
    return True


def apply_retract(client: WebClient, engine: Engine, workspace_id: str, retract: Retract) -> bool:
    """Delete a sent notice and mark it retracted; False when there was nothing to delete."""
    with session_scope(engine) as session:
        row = queries.sent_message(session, workspace_id=workspace_id, key=retract.key)
        found = (row.id, row.status, row.channel_id, row.ts) if row is not None else None
    if found is None or found[1] in ("retracted", "pending"):
        return False  # never sent, already gone, or still being sent by another request
    message_id, status, channel, ts = found
    assert message_id is not None
    if status == "sent" and channel and ts:
        try:
            client.chat_delete(channel=channel, ts=ts)
        except (SlackApiError, SlackClientError, OSError) as err:
            if _reason(err) != "message_not_found":  # deleted by hand: it is gone all the same
                log.warning("retract of %s failed: %s", retract.key, _reason(err))
                return False
    _mark(engine, message_id, "retracted")
    return True


def _dm(client: WebClient, user_id: str | None) -> str:
    if not user_id:
        raise SlackClientError("a notice needs a user or a channel")
    opened = client.conversations_open(users=user_id)
    return str((opened.get("channel") or {})["id"])


def _content(text: str, message: Notice | Update) -> dict[str, Any]:
    as_reply = Reply(text=text, buttons=list(message.buttons))
    # An empty actions list removes the buttons of an updated message.
    return {"text": blocks.fallback_text(as_reply), "blocks": blocks.reply_blocks(as_reply)}


def _mark(
    engine: Engine, message_id: int, status: str, channel: str | None = None, ts: object = None
) -> None:
    with session_scope(engine) as session:
        queries.mark_message(
            session,
            message_id=message_id,
            status=status,
            channel_id=channel,
            ts=str(ts) if ts else None,
        )


def _reason(err: Exception) -> str:
    """What went wrong, without the request (whose headers carry the token)."""
    if isinstance(err, SlackApiError):
        response = getattr(err, "response", None)
        return str(response.get("error")) if response is not None else "api error"
    return type(err).__name__
