"""Socket Mode: Slack pushes requests over a websocket; no public URL needed."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.adapter.socket_mode.builtin import SocketModeHandler
from sqlalchemy import Engine

from bot.settings import Settings

log = logging.getLogger(__name__)


def handler(app: App, settings: Settings) -> SocketModeHandler:
    """The built-in (dependency-free) handler; apps.connections.open goes through the app's
    client, which already points at SLACK_API_URL."""
    assert settings.app_token, "Socket Mode needs SLACK_APP_TOKEN"
    return SocketModeHandler(app, app_token=settings.app_token, web_client=app.client)


def serve(settings: Settings, engine: Engine, app: App | None = None) -> None:
    """Connect and block until interrupted."""
    from bot.app import build_app

    bolt = app or build_app(settings, engine)
    log.info("Socket Mode: connecting")
    handler(bolt, settings).start()
