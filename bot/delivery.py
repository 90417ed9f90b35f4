"""Getting a Reply to the user: response_url, modals, chart uploads, DMs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

import charts
from bot import blocks
from charts.specs import ChartSpec, LeaderboardChart
from commands import i18n
from commands.types import Form, Reply, Visibility

log = logging.getLogger(__name__)

Respond = Callable[..., Any]


def send(respond: Respond, reply: Reply, *, replace: bool = False) -> None:
    """Answer through the response_url: ephemeral unless the reply is for the channel."""
    if not reply.text and not reply.buttons:
        return
    kwargs: dict[str, Any] = {
        "text": blocks.fallback_text(reply),
        "blocks": blocks.reply_blocks(reply),
    }
    if replace:
        kwargs["replace_original"] = True
    else:
        kwargs["response_type"] = (
            "in_channel" if reply.visibility == Visibility.IN_CHANNEL else "ephemeral"
        )
    respond(**kwargs)


def open_form(client: WebClient, trigger_id: str, form: Form) -> None:
    client.views_open(trigger_id=trigger_id, view=blocks.form_view(form))


def chart_filename(spec: ChartSpec) -> str:
    return "leaderboard.png" if isinstance(spec, LeaderboardChart) else "progress.png"


def send_chart(
    client: WebClient,
    reply: Reply,
    *,
    channel_id: str | None,
    user_id: str,
    locale: str,
    respond: Respond | None = None,
) -> str | None:
    """Upload the reply's chart where the command came from, else to the user's DM.

    Returns the channel it went to (None if it could not be uploaded).
    """
    spec = reply.chart
    if spec is None:
        return None
    png = charts.render(spec)
    caption = reply.text.split("\n", 1)[0]
    if channel_id:
        try:
            _upload(client, spec, png, channel_id, caption)
            return channel_id
        except SlackApiError as err:
            log.info("chart upload to %s refused (%s): trying a DM", channel_id, _error(err))
        except SlackClientError as err:
            log.warning("chart upload to %s failed: %s", channel_id, err)
    try:
        dm = dm_channel(client, user_id)
        _upload(client, spec, png, dm, caption)
    except (SlackApiError, SlackClientError) as err:
        log.warning("chart upload to the DM of %s failed: %s", user_id, err)
        if respond is not None:
            respond(response_type="ephemeral", text=i18n.t(locale, "chart.failed"))
        return None
    if respond is not None and channel_id and channel_id != dm:
        respond(response_type="ephemeral", text=i18n.t(locale, "chart.sent_dm"))
    return dm


def _upload(client: WebClient, spec: ChartSpec, png: bytes, channel: str, caption: str) -> None:
    client.files_upload_v2(
        channel=channel,
        file=png,
        filename=chart_filename(spec),
        title=spec.title,
        alt_txt=spec.alt_text or spec.title,
        initial_comment=caption or None,
    )


def _error(err: SlackApiError) -> str:
    response = getattr(err, "response", None)
    return str(response.get("error")) if response is not None else str(err)


def dm_channel(client: WebClient, user_id: str) -> str:
    opened = client.conversations_open(users=user_id)
    channel = opened.get("channel") or {}
    return str(channel["id"])


def post_form_reply(
    client: WebClient, reply: Reply, *, channel_id: str | None, user_id: str
) -> None:
    """After a modal: an ephemeral note in the channel it was opened from, else a DM."""
    if not reply.text:
        return
    kwargs: dict[str, Any] = {
        "text": blocks.fallback_text(reply),
        "blocks": blocks.reply_blocks(reply),
    }
    if channel_id:
        try:
            client.chat_postEphemeral(channel=channel_id, user=user_id, **kwargs)
            return
        except SlackApiError as err:
            log.info("ephemeral to %s refused (%s): sending a DM", channel_id, _error(err))
    client.chat_postMessage(channel=user_id, **kwargs)
