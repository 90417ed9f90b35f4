"""The Slack transport: replies through the response_url, forms as modals, charts as file
uploads, notices as messages (DMs through conversations.open), replaced and deleted.

One SlackTransport serves one request (it holds that request's `respond` and trigger id);
scheduled messages use one without them.

Every call is bounded (SEND_TIMEOUT on the response URL here, the client's own timeout on
the Web API, set in bot/app.py), so a hung Slack fails a send instead of holding a worker;
what fails is raised as a DeliveryError (permanent or not) for bot/outbox.py to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from io import IOBase
from typing import IO, Any, cast

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

import charts
from bot import blocks, metrics
from bot.outbox import (
    Asker,
    DeliveryError,
    Routes,
    Sent,
    Transport,
    Undelivered,
    Via,
    is_undelivered,
)
from bot.tokens import Clients
from charts import specs
from charts.specs import ChartSpec
from commands import i18n
from commands.types import Button, FileOut, Form, Home, Notice, Reply, Retract, Update, Visibility

log = logging.getLogger(__name__)
# slack_sdk's webhook client logs the response URL (which lets anyone post for half an hour)
# at INFO and DEBUG: its logger keeps WARNING and above only.
WEBHOOK_LOG = logging.getLogger(__name__ + ".response_url")
WEBHOOK_LOG.setLevel(logging.WARNING)

Respond = Callable[..., Any]
SLACK_ERRORS = (SlackApiError, SlackClientError, OSError)
SEND_TIMEOUT = 10  # seconds: a call to Slack that takes longer is taken as failed
# Errors that another try within the hour cannot mend: the message is dropped and logged.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
        "msg_too_long",
        "invalid_blocks",
        "restricted_action",
        "team_access_not_granted",
        "expired_url",
        "used_url",
    }
)
# Of those, the ones that say the workspace's token is dead: the workspace is marked and
# gets nothing more until it is installed again (bot/outbox.py).
TOKEN_REFUSED = frozenset({"invalid_auth", "account_inactive", "token_revoked"})


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
        """The text (or the form) first, then the chart; what failed is raised at the end,
        as Undelivered, so the outbox can send it again."""
        if asker.via != Via.FORM and reply.form is not None:
            # The trigger id dies about 3 s after the command: open the modal first. A form
            # that did not open cannot be retried (its trigger is gone): that raises.
            open_form(self.client, self.trigger_id, _with_channel(reply.form, asker))
        text_error: str | None = None
        try:
            self._reply_text(reply, asker)
        except (*SLACK_ERRORS, DeliveryError) as err:
            text_error = reason(err)
        chart = ChartOutcome(None)
        if reply.chart is not None:
            chart = send_chart(
                self.client,
                reply,
                channel_id=asker.channel_id,
                user_id=asker.user_id,
                locale=asker.locale,
                respond=None if text_error else self.respond,
                png=self.png,
            )
        if text_error is not None or chart.failed:
            raise Undelivered(
                text_error or chart.error or "chart not uploaded",
                text_failed=text_error is not None,
                chart_failed=chart.failed,
                chart_to=chart.retry_to,
            )

    def _reply_text(self, reply: Reply, asker: Asker) -> None:
        if self.acked:
            return  # it went out in the acknowledgement
        if asker.via in (Via.FORM, Via.HOME):
            post_form_reply(self.client, reply, channel_id=asker.channel_id, user_id=asker.user_id)
            return
        if self.respond is not None:
            # A refused press keeps the original message and adds a note only the user sees.
            send(self.respond, reply, replace=asker.via == Via.BUTTON and reply.ok)

    # --- notices ---------------------------------------------------------------------------------

    def post(self, notice: Notice) -> Sent:
        """Post the notice, or upload its chart with the text as the comment."""
        try:
            if is_undelivered(notice):
                return self._to_asker(notice)
            channel = notice.channel_id or _dm(self.client, notice.user_id)
            if notice.file is not None:  # the outbox wrote its bytes
                file = notice.file
                upload(
                    self.client,
                    channel,
                    file.content,
                    filename=file.filename,
                    title=file.title,
                    comment=notice.text,
                )
                return Sent(channel)
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
            raise failure(err) from None

    def _to_asker(self, notice: Notice) -> Sent:
        """A reply sent again: ephemeral in the channel it was asked in, else a DM."""
        content = _content(notice.text, notice.buttons)
        if notice.channel_id and notice.user_id:
            try:
                self.client.chat_postEphemeral(
                    channel=notice.channel_id, user=notice.user_id, **content
                )
                return Sent(notice.channel_id)  # an ephemeral message has no ts to update
            except SlackApiError as err:
                log.info("ephemeral to %s refused (%s): a DM", notice.channel_id, reason(err))
        response = self.client.chat_postMessage(channel=_dm(self.client, notice.user_id), **content)
        ts = response.get("ts")
        return Sent(str(response.get("channel") or ""), str(ts) if ts else None)

    def update(self, sent: Sent, update: Update) -> None:
        try:
            self.client.chat_update(
                channel=sent.channel, ts=sent.ts or "", **_content(update.text, update.buttons)
            )
        except SLACK_ERRORS as err:
            raise failure(err) from None

    def delete(self, sent: Sent, retract: Retract) -> None:
        try:
            self.client.chat_delete(channel=sent.channel, ts=sent.ts or "")
        except SLACK_ERRORS as err:
            if reason(err) != "message_not_found":  # deleted by hand: gone all the same
                raise failure(err) from None


class ByWorkspace:
    """Notices to Slack, each with the token of its own workspace (bot/tokens.py)."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    def transport_for(self, workspace_id: str) -> Transport | None:
        client = self.clients.client_for(workspace_id)
        return SlackTransport(client) if client is not None else None

    def refused(self, workspace_id: str) -> None:
        self.clients.forget(workspace_id)


Sender = Transport | WebClient | Clients


def slack_or(to: Sender) -> Transport | Routes:
    """Where scheduled messages go: a Slack client (or one per workspace) means Slack; the
    console passes its own transport."""
    if isinstance(to, WebClient):
        return SlackTransport(to)
    if isinstance(to, Clients):
        return ByWorkspace(to)
    return to


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
    """What went wrong, without the request (whose headers carry the token) nor the
    response URL (which lets anyone post for half an hour)."""
    metrics.slack_error(err)  # every failed call is described here
    if isinstance(err, SlackApiError):
        response = getattr(err, "response", None)
        return str(response.get("error")) if response is not None else "api error"
    if isinstance(err, DeliveryError):
        return str(err)
    return type(err).__name__


def failure(err: Exception) -> DeliveryError:
    why = reason(err)
    return DeliveryError(why, permanent=why in PERMANENT, refused=why in TOKEN_REFUSED)


# --- the pieces of a reply -----------------------------------------------------------------------


def send(respond: Respond, reply: Reply, *, replace: bool = False) -> None:
    """Answer through the response_url: ephemeral unless the reply is for the channel.
    DeliveryError when it did not arrive (Bolt's respond returns a 500 without raising)."""
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
    respond_with(respond, kwargs)


def respond_with(respond: Respond, message: dict[str, Any]) -> None:
    """Post `message` to the response URL, bounded in time, retried briefly on a 429 or
    5xx; DeliveryError if it still did not arrive."""
    url = getattr(respond, "response_url", None)
    if isinstance(url, str) and url:
        response: Any = webhook(url).send_dict(message)
    else:  # not Bolt's Respond (tests, or a Respond without a URL, which raises)
        response = respond(**message)
    status = getattr(response, "status_code", 200)
    if status != 200:
        body = str(getattr(response, "body", "") or "")
        expired = body if body in PERMANENT else ""  # Slack's used_url / expired_url
        raise DeliveryError(
            f"response URL answered HTTP {status}" + (f" ({expired})" if expired else ""),
            permanent=bool(expired),
        )


def webhook(url: str) -> WebhookClient:
    """A client for one response URL. A response URL takes five posts, so it is retried
    twice at most; the reply then goes to the user another way (bot/outbox.py)."""
    return WebhookClient(
        url=url,
        timeout=SEND_TIMEOUT,
        logger=WEBHOOK_LOG,
        retry_handlers=[
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def tell(respond: Respond | None, locale: str, key: str) -> None:
    """A short note to the asker through the response URL; failing it is only logged."""
    if respond is None:
        return
    try:
        respond_with(respond, {"response_type": "ephemeral", "text": i18n.t(locale, key)})
    except (*SLACK_ERRORS, DeliveryError) as err:
        log.warning("note %s not shown: %s", key, reason(err))


def open_form(client: WebClient, trigger_id: str, form: Form) -> None:
    client.views_open(trigger_id=trigger_id, view=blocks.form_view(form))


def chart_filename(spec: ChartSpec) -> str:
    return specs.kind(spec) + ".png"


@dataclass(frozen=True)
class ChartOutcome:
    """Where a reply's chart went (None if nowhere); if it failed, why and where to retry
    it (a channel, or None for the asker's DM)."""

    channel: str | None
    error: str | None = None
    retry_to: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


def send_chart(
    client: WebClient,
    reply: Reply,
    *,
    channel_id: str | None,
    user_id: str,
    locale: str,
    respond: Respond | None = None,
    png: bytes | None = None,
) -> ChartOutcome:
    """Upload the reply's chart where the command came from, else to the user's DM.
    A failure is told to the user (the text above stands) and returned, for a retry."""
    spec = reply.chart
    if spec is None:
        return ChartOutcome(None)
    try:
        png = png or charts.render(spec)
    except Exception:
        log.exception("chart %s could not be drawn", chart_filename(spec))
        tell(respond, locale, "sends.chart_not_posted")
        return ChartOutcome(None)  # drawing again would fail again: not retried
    caption = reply.text.split("\n", 1)[0]
    retry_to = channel_id
    if channel_id:
        try:
            _upload(client, spec, png, channel_id, caption)
            return ChartOutcome(channel_id)
        except SlackApiError as err:
            log.info("chart upload to %s refused (%s): trying a DM", channel_id, reason(err))
            retry_to = None
        except SLACK_ERRORS as err:
            log.warning("chart upload to %s failed: %s", channel_id, reason(err))
            tell(respond, locale, "sends.chart_later")
            return ChartOutcome(None, reason(err), channel_id)
    try:
        dm = dm_channel(client, user_id)
        _upload(client, spec, png, dm, caption)
    except SLACK_ERRORS as err:
        log.warning("chart upload to the DM of %s failed: %s", user_id, reason(err))
        tell(respond, locale, "sends.chart_later")
        return ChartOutcome(None, reason(err), retry_to)
    if channel_id and channel_id != dm:
        tell(respond, locale, "chart.sent_dm")
    return ChartOutcome(dm)


def _upload(client: WebClient, spec: ChartSpec, png: bytes, channel: str, caption: str) -> None:
    upload(
        client,
        channel,
        png,
        filename=chart_filename(spec),
        title=spec.title,
        alt_text=spec.alt_text or spec.title,
        comment=caption,
    )


def upload(
    client: WebClient,
    channel: str,
    data: bytes | IO[bytes],
    *,
    filename: str,
    title: str,
    alt_text: str | None = None,
    comment: str | None = None,
) -> None:
    """One file shared in `channel` through files_upload_v2 (a chart, an export)."""
    extra: dict[str, Any] = {"alt_txt": alt_text} if alt_text else {}
    client.files_upload_v2(
        channel=channel,
        file=cast("bytes | IOBase", data),  # an open binary file is an IOBase
        filename=filename,
        title=title,
        initial_comment=comment or None,
        **extra,
    )


def send_file(client: WebClient, file: FileOut, data: IO[bytes], *, user_id: str) -> str:
    """A reply's file to the asker's direct messages (conversations.open, then
    files_upload_v2); the DM's channel id. slack_sdk reads the file whole to upload it."""
    dm = dm_channel(client, user_id)
    upload(client, dm, data, filename=file.filename, title=file.title)
    return dm


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


# --- the App Home tab ------------------------------------------------------------------------


def publish_home(
    client: WebClient, home: Home, user_id: str, png: Callable[[ChartSpec], bytes] | None = None
) -> None:
    """Publish the tab: its chart uploaded first (a file of the app's own, shared nowhere)
    and shown by an image block that references it. A chart that cannot be drawn or
    uploaded leaves the tab without it, never the tab unpublished."""
    image = None
    spec = home.chart
    if spec is not None:
        try:
            data = png(spec) if png is not None else charts.render(spec)
            response = client.files_upload_v2(
                file=data,
                filename=chart_filename(spec),
                title=spec.title,
                alt_txt=spec.alt_text or spec.title,
            )
            file_id = _uploaded_id(response)
            if file_id:
                image = blocks.image_block(file_id, spec.alt_text, spec.title)
        except (*SLACK_ERRORS, OSError) as err:
            log.warning("home chart not uploaded: %s", reason(err))
    client.views_publish(user_id=user_id, view=blocks.home_view(home, image))


def _uploaded_id(response: Any) -> str | None:
    files = response.get("files") or ([response["file"]] if response.get("file") else [])
    first = files[0] if files else {}
    return str(first["id"]) if first.get("id") else None
