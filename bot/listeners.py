"""The work behind each Slack listener: Slack payload -> Request -> router -> delivery.

Every listener runs on the request thread and answers within Slack's 3 s without waiting
on Slack: what a request writes is committed (and the notices it sends recorded) before
it is acknowledged, a command's text reply travels in the acknowledgement itself, and
what is left (modals, charts, button replies, notices) goes to the bounded pools of
bot/work.py. Nothing here talks HTTP.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session

import charts
from bot import blocks, metrics, profiles, slack_files
from bot.delivery import SLACK_ERRORS, SlackTransport, publish_home, reason, send_file, tell
from bot.importing import email_lookup
from bot.outbox import Asker, Outbox, Recorded, Via
from bot.settings import Settings
from bot.work import Work
from commands import deal, export, i18n, pacer, router
from commands.types import FileOut, FormResult, Home, HomeSection, Reply, Request, Visibility
from storage.engine import read_scope, scoped, session_scope

log = logging.getLogger(__name__)

Ack = Callable[..., Any]
Respond = Callable[..., Any]
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{1,31}")  # the column holds 32
# A user Pacer has never seen: how long users.info may take before the reply goes out in
# the default language (the lookup still finishes, for the next reply).
PROFILE_WAIT = 0.4


@dataclass(frozen=True)
class Handled:
    """A request's outcome on the request thread: its reply and the notices recorded."""

    req: Request
    reply: Reply
    recorded: list[Recorded]


@dataclass(frozen=True)
class Pacer:
    """What every listener needs: the settings, the database and the worker pools."""

    settings: Settings
    engine: Engine
    work: Work = field(default_factory=Work)
    recent: profiles.Recent = field(default_factory=profiles.Recent)
    # Who has opened the App Home tab since start: their tab is refreshed after their deals.
    home_users: set[tuple[str, str]] = field(default_factory=set)

    def request(
        self,
        client: WebClient,
        *,
        workspace_id: str,
        user_id: str,
        text: str = "",
        channel_id: str | None = None,
        request_key: str | None = None,
        source: str = "slash",
    ) -> Request:
        profile = self.profile(client, workspace_id, user_id)
        return Request(
            workspace_id=workspace_id,
            user_id=user_id,
            text=text,
            now=datetime.now(UTC),
            locale=profile.locale,
            user_name=profile.name,
            channel_id=channel_id,
            request_key=request_key,
            admin_ids=self.settings.admins_of(workspace_id),
            source=source,
        )

    def profile(self, client: WebClient, workspace_id: str, user_id: str) -> profiles.Profile:
        """The cached profile; for a new user, Slack's answer if it comes within PROFILE_WAIT."""
        found = self.recent.get(self.engine, workspace_id, user_id)
        if found is None:
            found = self.work.replies.ask(
                PROFILE_WAIT,
                ("profile", workspace_id, user_id),
                profiles.profile_for,
                client,
                self.engine,
                workspace_id,
                user_id,
            )
        return found or profiles.Profile(locale=profiles.DEFAULT_LOCALE, name="")

    def outbox(self, client: WebClient) -> Outbox:
        return Outbox(self.engine, SlackTransport(client))

    def _run(self, client: WebClient, req: Request, run: Callable[[Session], Reply]) -> Handled:
        """Run the request in one transaction and record its notices: both committed before
        the caller acknowledges."""
        with session_scope(self.engine) as session:
            reply = run(session)
        return Handled(req, reply, self._record(client, req, reply))

    def _record(self, client: WebClient, req: Request, reply: Reply) -> list[Recorded]:
        try:
            return self.outbox(client).record(req.workspace_id, reply.notices)
        except Exception:  # the write stands; only what it would have announced is lost
            log.exception("notices of a request could not be recorded")
            return []

    # --- slash commands -------------------------------------------------------------------

    def command(self, body: dict[str, Any], client: WebClient, ack: Ack, respond: Respond) -> None:
        name = str(body.get("command") or "")
        locale = self._locale(body.get("team_id"), body.get("user_id"))
        try:
            # The profile first: a new user's lookup must not hold a database slot.
            req = self.request(
                client,
                workspace_id=body["team_id"],
                user_id=body["user_id"],
                text=body.get("text") or "",
                channel_id=body.get("channel_id"),
                request_key=body.get("trigger_id"),
            )
            with self.work.admitted() as admitted:
                done = admitted and self._command(client, name, req)
        except Exception:
            log.exception("command failed")
            ack(response_type="ephemeral", text=i18n.t(locale, "error.internal"))
            metrics.command_done(name, "error")
            return
        if not done:
            ack(response_type="ephemeral", text=i18n.t(req.locale, "error.busy"))
            metrics.command_done(name, "shed")
            return
        reply, asker = done.reply, Asker.of(done.req, Via.COMMAND)
        metrics.command_done(name, metrics.outcome_of(reply))
        skipped = reply.chart is not None and (self.work.render.full or self.work.posts.full)
        ack(**acknowledgement(reply, asker.locale, chart_skipped=skipped))
        transport = SlackTransport(client, respond, body.get("trigger_id") or "", acked=True)
        self._follow_up(transport, done, asker, chart=not skipped)
        if name == "/deal" and reply.ok:
            self.refresh_home(done.req, client)

    def _command(self, client: WebClient, name: str, req: Request) -> Handled:
        """As `_run`, in a read scope for a command that only reads: it never waits for
        SQLite's write lock."""

        def dispatch(session: Session) -> Reply:
            return router.dispatch(name, req, session)

        reply = router.in_scope(self.engine, name, req.text, dispatch)
        return Handled(req, reply, self._record(client, req, reply))

    def _follow_up(
        self, transport: SlackTransport, done: Handled, asker: Asker, *, chart: bool = True
    ) -> None:
        """What is left after the ack: the reply's modal (or, unless its text was in the
        ack, the reply itself) on the replies pool, its chart drawn on the render pool and
        uploaded from the posts pool, then what it sends to others."""
        reply = done.reply
        if reply.form is not None or not transport.acked:
            answer = Outbox(self.engine, transport).reply
            self.work.replies.submit(answer, replace(reply, chart=None), asker)
        if chart and reply.chart is not None:
            self.work.render.submit(self._chart, transport, replace(reply, form=None), asker)
        if reply.file is not None and not self.work.posts.submit(
            self._file, transport, reply.file, asker
        ):
            log.warning(
                "file %s for %s dropped: the posts pool is full", reply.file.filename, asker.user_id
            )
            tell(transport.respond, asker.locale, "export.file_failed")
        self._notify(transport.client, done)

    def _file(self, transport: SlackTransport, file: FileOut, asker: Asker) -> None:
        """On the posts pool: the file written to a temporary file from a read scope (an
        export a chunk of rows at a time, in constant memory), then uploaded to the asker's
        direct messages. A failure is told: the command may simply be run again."""
        try:
            with tempfile.TemporaryFile() as spool:
                with read_scope(self.engine) as session:
                    rows = export.write_file(session, file, spool, charts.render_report)
                spool.seek(0)
                send_file(transport.client, file, spool, user_id=asker.user_id)
            log.info("file %s (%d rows) sent to %s", file.filename, rows, asker.user_id)
        except Exception:
            log.exception("file %s for %s not sent", file.filename, asker.user_id)
            tell(transport.respond, asker.locale, "export.file_failed")

    def _chart(self, transport: SlackTransport, reply: Reply, asker: Asker) -> None:
        """On the render pool: draw, then hand the upload to the posts pool."""
        assert reply.chart is not None
        try:
            png = self.work.draw(reply.chart)
        except Exception:  # the text went out already: only the chart is missing
            log.exception("chart for %s could not be drawn", asker.user_id)
            self.work.posts.submit(tell, transport.respond, asker.locale, "sends.chart_not_posted")
            return
        upload = SlackTransport(
            transport.client, transport.respond, transport.trigger_id, acked=True, png=png
        )
        if not self.work.posts.submit(Outbox(self.engine, upload).reply, reply, asker):
            log.warning("chart for %s dropped: the posts pool is full", asker.user_id)

    def _notify(self, client: WebClient, done: Handled) -> None:
        """The notices, updates and retractions, on the posts pool; recorded notices the
        pool cannot take now are sent by the outbox's retries."""
        reply = done.reply
        if done.recorded or reply.updates or reply.retracts:
            self.work.posts.submit(
                self.outbox(client).deliver, done.req.workspace_id, reply, done.recorded
            )

    def _locale(self, workspace_id: Any, user_id: Any) -> str:
        """The language to refuse in, before anything else is known (never raises)."""
        if isinstance(workspace_id, str) and isinstance(user_id, str):
            try:
                found = self.recent.get(self.engine, workspace_id, user_id)
            except Exception:  # the database is down: the refusal still goes out
                log.warning("no profile for the refusal: database unreachable")
                found = None
            if found is not None:
                return found.locale
        return profiles.DEFAULT_LOCALE

    # --- buttons ----------------------------------------------------------------------------

    def action(self, body: dict[str, Any], client: WebClient, ack: Ack, respond: Respond) -> None:
        """A press is acknowledged empty: Slack takes a button's answer only through the
        response URL, so the reply (replacing the pressed message) goes on the replies pool."""
        user = (body.get("user") or {}).get("id")
        locale = self._locale((body.get("team") or {}).get("id"), user)
        try:
            act = body["actions"][0]
            req = self.request(
                client,
                workspace_id=_team_id(body),
                user_id=body["user"]["id"],
                channel_id=(body.get("channel") or {}).get("id"),
                request_key=action_key(body),
            )
            with self.work.admitted() as admitted:
                done = (
                    admitted
                    and not self.work.replies.full
                    and self._run(
                        client,
                        req,
                        lambda s: router.action(act["action_id"], _value(act), req, s),
                    )
                )
        except Exception:
            log.exception("button press failed")
            metrics.command_done("button", "error")
            ack()
            self.work.replies.submit(tell, respond, locale, "error.internal")
            return
        ack()
        if not done:
            log.warning("button press turned away: busy")
            metrics.command_done("button", "shed")
            return
        metrics.command_done("button", metrics.outcome_of(done.reply))
        from_home = (body.get("view") or {}).get("type") == "home"
        if from_home and done.reply.home is not None:  # the period picker: the tab again
            self.work.posts.submit(
                publish_home, client, done.reply.home, req.user_id, self.work.draw
            )
            return
        # A press on the Home tab has no message to replace: its answer is a message.
        transport = SlackTransport(
            client, None if from_home else respond, body.get("trigger_id") or ""
        )
        self._follow_up(transport, done, Asker.of(done.req, Via.HOME if from_home else Via.BUTTON))
        if str(act.get("action_id", "")).startswith("deal_") and done.reply.ok:
            self.refresh_home(done.req, client)

    # --- modals -----------------------------------------------------------------------------

    def submission(self, body: dict[str, Any], client: WebClient, ack: Ack) -> None:
        """A form's field errors travel in the acknowledgement, so the (fast) write comes
        first; its reply is a message of its own, on the replies pool."""
        view = body["view"]
        if router.slow_form(view.get("callback_id") or ""):
            self._slow_submission(body, client, ack)
            return
        try:
            req = self.request(
                client,
                workspace_id=_team_id(body),
                user_id=body["user"]["id"],
                channel_id=form_channel(view.get("private_metadata") or ""),
                request_key=f"view:{view['id']}",
                source="modal",
            )
            with self.work.admitted() as admitted:
                submitted = admitted and self._submit(view, client, req)
        except Exception:
            ack()
            metrics.command_done("form", "error")
            raise
        if not submitted:
            log.warning("form submission turned away: busy")
            metrics.command_done("form", "shed")
            ack(**_busy_form(view, req.locale))
            return
        result, recorded = submitted
        if result.errors:
            ack(response_action="errors", errors=result.errors)
            metrics.command_done("form", "usage_error")
            return
        ack()
        if result.reply is None:
            return
        metrics.command_done("form", metrics.outcome_of(result.reply))
        done = Handled(req, result.reply, recorded)
        self._follow_up(SlackTransport(client), done, Asker.of(req, Via.FORM))
        if view["callback_id"] == pacer.FORM_ID and result.reply.ok:
            self.work.posts.submit(profiles.fill_unnamed, client, self.engine, req.workspace_id)
        if view["callback_id"] == deal.FORM_ID and result.reply.ok:
            self.refresh_home(req, client)

    def _submit(
        self, view: dict[str, Any], client: WebClient, req: Request
    ) -> tuple[FormResult, list[Recorded]]:
        values, lists = submitted_values(view)
        callback = view["callback_id"]
        result = scoped(
            self.engine,
            lambda session: router.submit(callback, values, lists, req, session),
            writes=router.form_writes(callback),
        )
        recorded = [] if result.reply is None else self._record(client, req, result.reply)
        return result, recorded

    def _slow_submission(self, body: dict[str, Any], client: WebClient, ack: Ack) -> None:
        """A submission that may take longer than Slack waits (an import reading a file of
        thousands of rows): acknowledged at once with a view saying it is under way, run
        on the replies pool, and its result put in that view's place."""
        view = body["view"]
        locale = self._locale((body.get("team") or {}).get("id"), body["user"].get("id"))
        if self.work.replies.full:
            ack(**_busy_form(view, locale))
            metrics.command_done("form", "shed")
            return
        title = str((view.get("title") or {}).get("text") or "Pacer")
        ack(
            response_action="update",
            view=blocks.working_view(view["callback_id"], title, i18n.t(locale, "form.working")),
        )
        if not self.work.replies.submit(self._run_slow, body, client, title):
            log.warning("form submission turned away after its ack: busy")
            self._show_result(client, body, title, i18n.t(locale, "error.busy"))

    def _run_slow(self, body: dict[str, Any], client: WebClient, title: str) -> None:
        view = body["view"]
        values, lists = submitted_values(view)
        req = self.request(
            client,
            workspace_id=_team_id(body),
            user_id=body["user"]["id"],
            channel_id=form_channel(view.get("private_metadata") or ""),
            # The view's hash tells apart its states: the form, the preview that replaced it.
            request_key=f"view:{view['id']}:{view['callback_id']}:{view.get('hash') or ''}",
            source="modal",
        )
        try:
            uploads = [
                slack_files.read_file(client, ref)
                for ref in router.form_files(view["callback_id"], values, lists)
            ]
        except slack_files.Unreadable as err:
            self._show_result(client, body, title, i18n.t(req.locale, err.key))
            metrics.command_done("form", "refused")
            return
        req = replace(req, uploads=tuple(uploads), lookup_email=email_lookup(client))
        try:
            with self.work.admitted() as admitted:
                submitted = admitted and self._submit(view, client, req)
        except Exception:
            log.exception("form submission failed")
            self._show_result(client, body, title, i18n.t(req.locale, "error.internal"))
            metrics.command_done("form", "error")
            return
        if not submitted:
            self._show_result(client, body, title, i18n.t(req.locale, "error.busy"))
            metrics.command_done("form", "shed")
            return
        result, recorded = submitted
        self._show_slow(client, body, title, result)
        if result.reply is not None:
            self._notify(client, Handled(req, result.reply, recorded))
        outcome = "usage_error" if result.errors or not result.ok else "ok"
        metrics.command_done("form", metrics.outcome_of(result.reply) if result.reply else outcome)

    def _show_slow(
        self, client: WebClient, body: dict[str, Any], title: str, result: FormResult
    ) -> None:
        if result.form is not None:
            self._show(client, body, blocks.form_view(result.form), result.form.intro or "")
            return
        if result.errors:  # after the ack a form cannot be kept open: the errors are said
            text = "\n".join(result.errors.values())
        else:
            text = result.reply.text if result.reply is not None else ""
        self._show_result(client, body, title, text)

    def _show_result(self, client: WebClient, body: dict[str, Any], title: str, text: str) -> None:
        view = blocks.working_view(body["view"]["callback_id"], title, text)
        self._show(client, body, view, text)

    def _show(
        self, client: WebClient, body: dict[str, Any], view: dict[str, Any], text: str
    ) -> None:
        """The view in place of the one submitted; closed meanwhile, the text goes by DM."""
        try:
            client.views_update(view_id=body["view"]["id"], view=view)
            return
        except SLACK_ERRORS as err:
            log.info("view not updated (%s): the result goes by direct message", reason(err))
        try:
            client.chat_postMessage(channel=body["user"]["id"], text=text)
        except SLACK_ERRORS as err:
            log.warning("the result of a form was not shown: %s", reason(err))

    # --- App Home ---------------------------------------------------------------------------

    def home(self, event: dict[str, Any], team_id: str, client: WebClient) -> None:
        """Opening the Home tab waits on nobody: the view is published from the posts pool."""
        if event.get("tab", "home") == "home":
            self.work.posts.submit(self._publish_home, event["user"], team_id, client)

    def _publish_home(
        self, user_id: str, team_id: str, client: WebClient, period: str | None = None
    ) -> None:
        req = self.request(client, workspace_id=team_id, user_id=user_id)
        reply = scoped(self.engine, lambda s: router.home_tab(req, s, period), writes=False)
        if reply.home is None:  # refused or failed: the reason, as a tab of one section
            reply = replace(reply, home=Home([HomeSection(reply.text)]))
        assert reply.home is not None
        self.home_users.add((team_id, user_id))
        publish_home(client, reply.home, user_id, self.work.draw)

    def refresh_home(self, req: Request, client: WebClient) -> None:
        """After a deal of someone who has opened the tab: the tab again, off the request."""
        if (req.workspace_id, req.user_id) in self.home_users:
            self.work.posts.submit(self._publish_home, req.user_id, req.workspace_id, client)


def _value(act: dict[str, Any]) -> str:
    """A button's value, or the option picked in a select."""
    return str(act.get("value") or (act.get("selected_option") or {}).get("value") or "")


def acknowledgement(reply: Reply, locale: str, *, chart_skipped: bool = False) -> dict[str, Any]:
    """The ack body of a command: its text reply (and buttons), as Slack shows it at once."""
    if chart_skipped:
        reply = replace(reply, text=f"{reply.text}\n{i18n.t(locale, 'chart.busy')}".strip())
    if not reply.text and not reply.buttons:
        return {}
    return {
        "text": blocks.fallback_text(reply),
        "blocks": blocks.reply_blocks(reply),
        "response_type": "in_channel" if reply.visibility == Visibility.IN_CHANNEL else "ephemeral",
    }


def submitted_values(view: dict[str, Any]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """A view's values and lists as the form handlers take them, with its metadata."""
    values, lists = blocks.submitted((view.get("state") or {}).get("values") or {})
    values["_metadata"] = view.get("private_metadata") or ""  # e.g. which feedback
    return values, lists


def _busy_form(view: dict[str, Any], locale: str) -> dict[str, Any]:
    """Keep the form open, what was typed with it, and say why on its first field."""
    fields = list(((view.get("state") or {}).get("values") or {}).keys())
    if not fields:
        return {}
    return {"response_action": "errors", "errors": {fields[0]: i18n.t(locale, "error.busy")}}


def _team_id(body: dict[str, Any]) -> str:
    team = body.get("team") or {}
    found = team.get("id") or body["user"].get("team_id")
    if not isinstance(found, str) or not found:
        raise ValueError("no team in the payload")  # never a workspace named "None"
    return found


def action_key(body: dict[str, Any]) -> str | None:
    """A button press's delivery key: its trigger id (new for every press, the same in a
    retry or replay of it), else the pressed message's and the action's timestamps; with
    who pressed what, so two presses are never taken for one."""
    act = body["actions"][0]
    message_ts = (body.get("container") or {}).get("message_ts")
    trigger = body.get("trigger_id") or (
        act.get("action_ts") and f"{message_ts}:{act['action_ts']}"
    )
    if not trigger:
        return None
    return f"action:{trigger}:{body['user']['id']}:{act['action_id']}:{act.get('value') or ''}"


def form_channel(metadata: str) -> str | None:
    """The channel a modal was opened from, carried in its private_metadata
    (alone, or before a `|` and what the form needs back, e.g. `C123|42`)."""
    value = metadata.split("|", 1)[0].strip()
    return value if CHANNEL_ID.fullmatch(value) else None
