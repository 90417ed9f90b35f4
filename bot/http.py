"""HTTP mode: a WSGI app (Slack events, OAuth install, health check) served by waitress."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine

from bot.gate import MAX_BODY, WSGIApp, gate
from bot.gate import plain as _plain
from bot.settings import Settings
from bot.shutdown import Draining

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HOST = "0.0.0.0"  # behind a proxy or in a container; Slack must reach it
# Enough that a burst reaches the admission gate of bot/work.py, which bounds the wait;
# requests queued inside waitress would wait unbounded and unseen.
THREADS = 64


def wsgi_app(app: App, engine: Engine) -> WSGIApp:
    """Routes: POST /slack/events and (with OAuth) the install pages to Bolt, GET /healthz."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    events = gate(app._signing_secret, slack)  # Bolt keeps the secret it was built with
    oauth_paths = set()
    if app.oauth_flow is not None:
        oauth_paths = {app.oauth_flow.install_path, app.oauth_flow.redirect_uri_path}

    def route(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _health(engine, start_response)
        if path == EVENTS_PATH and method == "POST":
            return events(environ, start_response)
        if path in oauth_paths and method == "GET":
            return slack(environ, start_response)
        return _plain(start_response, "404 Not Found", "not found")

    return route


def _health(engine: Engine, start_response: StartResponse) -> Iterable[bytes]:
    # A raw DBAPI connection: the Connection-level BEGIN IMMEDIATE that SQLite writes need
    # would make every probe take the write lock.
    try:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        finally:
            raw.close()
    except Exception as err:
        log.warning("health check: database unreachable: %s", type(err).__name__)
        return _plain(start_response, "503 Service Unavailable", "database unreachable")
    return _plain(start_response, "200 OK", "ok")


def serve(settings: Settings, engine: Engine) -> None:
    """Serve HTTP mode (or OAuth mode) on PORT until SIGTERM or Ctrl-C, then drain."""
    from bot.shutdown import on_stop_signals

    service = service_for(settings, engine)
    on_stop_signals(service.stop)
    log.info("HTTP mode on port %s (%s)", settings.port, settings.mode)
    service.run()
    log.info("stopped: requests and deliveries drained")


def service_for(settings: Settings, engine: Engine, host: str = HOST) -> Draining:
    """The waitress server of the Bolt app, with its worker pools, ready to run."""
    import waitress

    from bot.app import build_app
    from bot.work import Work

    work = Work()
    server = waitress.create_server(
        wsgi_app(build_app(settings, engine, work=work), engine),
        host=host,
        port=settings.port,
        ident="pacer",
        max_request_body_size=MAX_BODY,
        # Requests wait only for the database (never for Slack: see bot/listeners.py), and
        # bot/work.py admits `work.writers` of them at once; the rest are turned away.
        threads=THREADS,
    )
    return Draining(server, work)
