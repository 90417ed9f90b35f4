"""Socket Mode: Slack pushes requests over a websocket; no public URL needed."""

from __future__ import annotations

import logging
import threading

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


def serve(settings: Settings, engine: Engine) -> None:
    """Connect and serve until SIGTERM or Ctrl-C, then drain the worker pools."""
    from bot.app import build_app
    from bot.shutdown import GRACE, on_stop_signals
    from bot.work import serving

    work = serving(settings)
    socket = handler(build_app(settings, engine, work=work), settings)
    stop = threading.Event()
    on_stop_signals(stop.set)
    log.info("Socket Mode: connecting")
    socket.connect()
    stop.wait()
    socket.close()  # no new requests; those acknowledged are committed already
    work.drain(GRACE)
    log.info("stopped: deliveries drained")
