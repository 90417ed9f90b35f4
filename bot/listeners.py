"""The work behind each Slack listener: Slack payload -> Request -> router -> delivery.

Listeners in bot/app.py acknowledge first and then call these; nothing here talks HTTP.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot import blocks, profiles
from bot.delivery import SlackTransport
from bot.outbox import Asker, Outbox, Via
from bot.settings import Settings
from commands import i18n, pacer, router
from commands.types import FormResult, Request
from storage.engine import session_scope

log = logging.getLogger(__name__)

Respond = Callable[..., Any]
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{1,31}")  # the column holds 32


@dataclass(frozen=True)
class Pacer:
    """What every listener needs: the settings and the database."""

    settings: Settings
    engine: Engine

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
        profile = profiles.profile_for(client, self.engine, workspace_id, user_id)
        return Request(
            workspace_id=workspace_id,
            user_id=user_id,
            text=text,
            now=datetime.now(UTC),
            locale=profile.locale,
            user_name=profile.name,
            channel_id=channel_id,
            request_key=request_key,
            admin_ids=self.settings.admins,
            source=source,
        )

    # --- slash commands -------------------------------------------------------------------

    def command(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        locale = [profiles.DEFAULT_LOCALE]
        with _failures(respond, locale):
            req = self.request(
                client,
                workspace_id=body["team_id"],
                user_id=body["user_id"],
                text=body.get("text") or "",
                channel_id=body.get("channel_id"),
                request_key=body.get("trigger_id"),
            )
            locale[0] = req.locale
            with session_scope(self.engine) as session:
                reply = router.dispatch(body["command"], req, session)
            transport = SlackTransport(client, respond, body.get("trigger_id") or "")
            Outbox(self.engine, transport).answer(reply, Asker.of(req, Via.COMMAND))

    # --- buttons ----------------------------------------------------------------------------

    def action(self, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        locale = [profiles.DEFAULT_LOCALE]
        with _failures(respond, locale):
            act = body["actions"][0]
            req = self.request(
                client,
                workspace_id=_team_id(body),
                user_id=body["user"]["id"],
                channel_id=(body.get("channel") or {}).get("id"),
                request_key=action_key(body),
            )
            locale[0] = req.locale
            with session_scope(self.engine) as session:
                reply = router.action(act["action_id"], act.get("value") or "", req, session)
            transport = SlackTransport(client, respond, body.get("trigger_id") or "")
            Outbox(self.engine, transport).answer(reply, Asker.of(req, Via.BUTTON))

    # --- modals -----------------------------------------------------------------------------

    def submission(self, body: dict[str, Any], client: WebClient) -> tuple[Request, FormResult]:
        """Run a form submission; the caller acks with the field errors, if any."""
        view = body["view"]
        values, lists = blocks.submitted((view.get("state") or {}).get("values") or {})
        values["_metadata"] = view.get("private_metadata") or ""  # e.g. which feedback
        req = self.request(
            client,
            workspace_id=_team_id(body),
            user_id=body["user"]["id"],
            channel_id=form_channel(view.get("private_metadata") or ""),
            request_key=f"view:{view['id']}",
            source="modal",
        )
        with session_scope(self.engine) as session:
            result = router.submit(view["callback_id"], values, lists, req, session)
        return req, result

    def after_submission(
        self, client: WebClient, callback_id: str, req: Request, result: FormResult
    ) -> None:
        if result.reply is not None:
            outbox = Outbox(self.engine, SlackTransport(client))
            outbox.answer(result.reply, Asker.of(req, Via.FORM))
        if callback_id == pacer.FORM_ID and result.reply is not None and result.reply.ok:
            profiles.fill_unnamed(client, self.engine, req.workspace_id)

    # --- App Home ---------------------------------------------------------------------------

    def home(self, event: dict[str, Any], team_id: str, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        req = self.request(client, workspace_id=team_id, user_id=event["user"])
        with session_scope(self.engine) as session:
            goals = router.dispatch("/goal", req, session)
        intro, _, help_text = i18n.t(req.locale, "pacer.help").partition("\n")
        view = blocks.home_view([intro, goals.text, help_text])
        client.views_publish(user_id=req.user_id, view=view)


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


@contextmanager
def _failures(respond: Respond, locale: list[str]) -> Iterator[None]:
    """Any failure after the ack: log it and tell the user (in `locale[0]`), no stack trace."""
    try:
        yield
    except Exception:
        log.exception("delivery failed")
        try:
            respond(response_type="ephemeral", text=i18n.t(locale[0], "error.internal"))
        except Exception:
            log.debug("could not tell the user about the failure", exc_info=True)
