"""The app's own lifecycle in a workspace: uninstalled, its tokens revoked, reinstalled.

`app_uninstalled` (and `tokens_revoked` naming the bot) marks the workspace: from then on
Pacer sends it nothing on its own (scheduled jobs and retries skip it, see
storage/queries) and, in OAuth mode, its installation is deleted from the store, so a
request that still arrives finds no token. Its data stays: reinstalling (the OAuth
success callback, or a restart with a valid bot token) resumes where it stopped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_bolt.middleware.authorization.single_team_authorization import (
    SingleTeamAuthorization,
)
from sqlalchemy import Engine

from storage import queries
from storage.engine import session_scope

log = logging.getLogger(__name__)


def register(app: App, engine: Engine) -> None:
    """Listen for the two events; without OAuth, resume the bot token's own workspace."""
    store = app.installation_store
    revocations = TokenRevocationListeners(store) if store is not None else None

    def on_uninstalled(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        stop(engine, _workspace(body, context), "app_uninstalled")
        if revocations is not None:
            revocations.handle_app_uninstalled_events(context)

    # Bolt passes arguments by name: `context`, not any other.
    def on_revoked(
        ack: Ack, event: dict[str, Any], body: dict[str, Any], context: BoltContext
    ) -> None:
        ack()
        # User tokens alone (Pacer asks for none) leave the bot working: only its own stops it.
        if event.get("tokens", {}).get("bot"):
            stop(engine, _workspace(body, context), "tokens_revoked")
        if revocations is not None:
            revocations.handle_tokens_revoked_events(event, context)

    app.event("app_uninstalled")(on_uninstalled)
    app.event("tokens_revoked")(on_revoked)
    if store is None:
        resume_token_workspace(app, engine)


def stop(engine: Engine, workspace_id: str | None, why: str) -> None:
    if not workspace_id:
        log.warning("%s without a workspace id: nothing marked", why)
        return
    with session_scope(engine) as session:
        marked = queries.mark_uninstalled(session, workspace_id=workspace_id, at=datetime.now(UTC))
    if marked:
        log.info("workspace %s: %s, Pacer stops sending there", workspace_id, why)


def resume(engine: Engine, workspace_id: str | None) -> None:
    if not workspace_id:
        return
    with session_scope(engine) as session:
        resumed = queries.mark_installed(session, workspace_id=workspace_id)
    if resumed:
        log.info("workspace %s installed again: Pacer resumes sending there", workspace_id)


def resume_token_workspace(app: App, engine: Engine) -> None:
    """A single-workspace app that started has a valid bot token (Bolt's auth.test at start
    fails otherwise): its workspace is installed. The answer of that call is reused."""
    for middleware in app._middleware_list:
        if isinstance(middleware, SingleTeamAuthorization) and middleware.auth_test_result:
            resume(engine, middleware.auth_test_result.get("team_id"))


def _workspace(body: dict[str, Any], context: BoltContext) -> str | None:
    team = context.team_id or body.get("team_id")
    return str(team) if team else None
