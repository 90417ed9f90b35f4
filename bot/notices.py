"""Messages Pacer sends on its own (Reply.notices), later replaces (Reply.updates) or
deletes (Reply.retracts).

Each notice is recorded under its key before it goes out: a key seen before (a retried
request, a second instance) is skipped, so a notice is sent at most once. Channel and
timestamp are stored once sent, so an Update can find the message and chat.update it.
Slack errors are logged (never the token) and never fail the request that caused them.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine

from bot import blocks
from commands.types import Notice, Reply, Retract, Update
from storage import queries
from storage.engine import session_scope

log = logging.getLogger(__name__)


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
        message_id = claimed.id if claimed is not None else None
    if message_id is None:
        log.info("notice %s already recorded: not sent again", notice.key)
        return False
    try:
        channel = notice.channel_id or _dm(client, notice.user_id)
        response = client.chat_postMessage(channel=channel, **_content(notice.text, notice))
    except (SlackApiError, SlackClientError, OSError) as err:
        log.warning("notice %s not sent: %s", notice.key, _reason(err))
        _mark(engine, message_id, "failed")
        return False
    _mark(engine, message_id, "sent", str(response.get("channel") or channel), response.get("ts"))
    return True


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
