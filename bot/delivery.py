"""The Slack transport: replies through the response_url, forms as modals, charts as file
uploads, notices as messages (DMs through conversations.open), replaced and deleted.

One SlackTransport serves one request (it holds that request's `respond` and trigger id);
scheduled messages use one without them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

import charts
from bot import blocks, metrics
from bot.outbox import Asker, DeliveryError, Sent, Transport, Via
from charts.specs import ChartSpec, LeaderboardChart
from commands import i18n
from commands.types import Button, Form, Notice, Reply, Retract, Update, Visibility

log = logging.getLogger(__name__)

Respond = Callable[..., Any]
SLACK_ERRORS = (SlackApiError, SlackClientError, OSError)


class SlackTransport:
    """`acked`: the reply's text went out in the acknowledgement (only its form and chart
    are left); `png`: the reply's chart, rendered already on the render pool."""

    def __init__(
        self,
        client: WebClient,
        respond: Respond | None = None,
        trigger_id: str = "",
        *,
        acked: bool = False,
        png: bytes | None = None,
    ) -> None:
        self.client = client
        self.respond = respond
        self.trigger_id = trigger_id
        self.acked = acked
        self.png = png

    # --- the reply to whoever asked ------------------------------------------------------------

    def reply(self, reply: Reply, asker: Asker) -> None:
        if asker.via == Via.FORM:
            if not self.acked:
                post_form_reply(
                    self.client, reply, channel_id=asker.channel_id, user_id=asker.user_id
                )
        else:
            if reply.form is not None:
                # The trigger id dies about 3 s after the command: open the modal first.
                open_form(self.client, self.trigger_id, _with_channel(reply.form, asker))
            if self.respond is not None and not self.acked:
                # A refused press keeps the original message and adds a note only the user sees.
                send(self.respond, reply, replace=asker.via == Via.BUTTON and reply.ok)
        if reply.chart is not None:
            send_chart(
                self.client,
                reply,
                channel_id=asker.channel_id,
                user_id=asker.user_id,
                locale=asker.locale,
                respond=self.respond,
                png=self.png,
            )

    # --- notices ---------------------------------------------------------------------------------

    def post(self, notice: Notice) -> Sent:
        """Post the notice, or upload its chart with the text as the comment."""
        try:
            channel = notice.channel_id or _dm(self.client, notice.user_id)
            spec = notice.chart
            if spec is None:
                response = self.client.chat_postMessage(
                    channel=channel, **_content(notice.text, notice.buttons)
                )
                ts = response.get("ts")
                return Sent(str(response.get("channel") or channel), str(ts) if ts else None)
            _upload(self.client, spec, charts.render(spec), channel, notice.text)
            return Sent(channel)
        except SLACK_ERRORS as err:
            raise DeliveryError(reason(err)) from None

    def update(self, sent: Sent, update: Update) -> None:
        try:
            self.client.chat_update(
                channel=sent.channel, ts=sent.ts or "", **_content(update.text, update.buttons)
            )
        except SLACK_ERRORS as err:
            raise DeliveryError(reason(err)) from None

    def delete(self, sent: Sent, retract: Retract) -> None:
        try:
            self.client.chat_delete(channel=sent.channel, ts=sent.ts or "")
        except SLACK_ERRORS as err:
            if reason(err) != "message_not_found":  # deleted by hand: gone all the same
                raise DeliveryError(reason(err)) from None


def slack_or(to: Transport | WebClient) -> Transport:
    """Where scheduled messages go: a Slack client means Slack; the console passes its own."""
    return SlackTransport(to) if isinstance(to, WebClient) else to


def _with_channel(form: Form, asker: Asker) -> Form:
    """A command's modal remembers the channel it was opened from, for the reply after it."""
    if asker.via == Via.COMMAND and not form.metadata and asker.channel_id:
        return replace(form, metadata=asker.channel_id)
    return form


def _dm(client: WebClient, user_id: str | None) -> str:
    if not user_id:
        raise SlackClientError("a notice needs a user or a channel")
    return dm_channel(client, user_id)


def _content(text: str, buttons: list[Button]) -> dict[str, Any]:
    as_reply = Reply(text=text, buttons=list(buttons))
    # An empty actions list removes the buttons of an updated message.
    return {"text": blocks.fallback_text(as_reply), "blocks": blocks.reply_blocks(as_reply)}


def reason(err: Exception) -> str:
    """What went wrong, without the request (whose headers carry the token)."""
    metrics.slack_error(err)  # every failed call is described here
    if isinstance(err, SlackApiError):
        response = getattr(err, "response", None)
        return str(response.get("error")) if response is not None else "api error"
    return type(err).__name__


# --- the pieces of a reply -----------------------------------------------------------------------


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
    png: bytes | None = None,
) -> str | None:
    """Upload the reply's chart where the command came from, else to the user's DM.

    Returns the channel it went to (None if it could not be uploaded).
    """
    spec = reply.chart
    if spec is None:
        return None
    png = png or charts.render(spec)
    caption = reply.text.split("\n", 1)[0]
    if channel_id:
        try:
            _upload(client, spec, png, channel_id, caption)
            return channel_id
        except SlackApiError as err:
            log.info("chart upload to %s refused (%s): trying a DM", channel_id, reason(err))
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
            log.info("ephemeral to %s refused (%s): sending a DM", channel_id, reason(err))
    client.chat_postMessage(channel=user_id, **kwargs)
