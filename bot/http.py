"""HTTP mode: a WSGI app (Slack events, OAuth install, health, readiness and metrics)
served by waitress.

Every request gets an id (logged with each line, echoed in X-Request-Id); a request to
/slack/events is timed from its arrival until its status is sent (the ack Slack waits for
at most 3 s) and counted by command.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine

from bot import logs, metrics
from bot.gate import MAX_BODY, WSGIApp, gate
from bot.gate import plain as _plain
from bot.settings import Settings
from bot.shutdown import Draining
from storage.health import head_revision, known_revisions, ping, schema_revision

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from bot.scheduler import Scheduler

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
WEBHOOK_PATH = "/integrations/deals"
HOST = "0.0.0.0"  # behind a proxy or in a container; Slack must reach it
# Enough that a burst reaches the admission gate of bot/work.py, which bounds the wait;
# requests queued inside waitress would wait unbounded and unseen.
THREADS = 64
COMMAND = "pacer_http.command"  # environ keys: the signed request's metrics label,
ARRIVED = "pacer_http.arrived"  # and metrics.clock() at its arrival


def wsgi_app(
    app: App,
    engine: Engine,
    scheduler: Scheduler | None = None,
    meters: metrics.Metrics | None = None,
    webhook: WSGIApp | None = None,
) -> WSGIApp:
    """Routes: POST /slack/events and (with OAuth) the install pages to Bolt; GET /healthz,
    /readyz (with the scheduler's state, when this process runs one) and /metrics; with
    `webhook` (bot/webhook.py), /integrations/deals for a CRM's deals."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    events = gate(app._signing_secret, _labelled(slack))  # Bolt keeps the secret it was built with
    meters = metrics.activate(meters or metrics.Metrics())
    oauth_paths = set()
    if app.oauth_flow is not None:
        oauth_paths = {app.oauth_flow.install_path, app.oauth_flow.redirect_uri_path}

    def route(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return _health(engine, start_response)
        if path == READY_PATH and method in ("GET", "HEAD"):
            return _ready(engine, scheduler, start_response)
        if path == METRICS_PATH and method == "GET":
            return _metrics(meters, start_response)
        if path == EVENTS_PATH and method == "POST":
            return _timed(events, environ, start_response)
        if path == WEBHOOK_PATH and webhook is not None:
            return webhook(environ, start_response)  # its own auth: a token, not Slack's
        if path in oauth_paths and method == "GET":
            return slack(environ, start_response)
        return _plain(start_response, "404 Not Found", "not found")

    return _with_request_id(route)


def _with_request_id(inner: WSGIApp) -> WSGIApp:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        rid = logs.request_id(environ.get("HTTP_X_REQUEST_ID"))

        def start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            return start_response(status, [*headers, ("X-Request-Id", rid)], *exc)

        with logs.serving(rid):
            return inner(environ, start)

    return app


def _timed(inner: WSGIApp, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
    began = environ[ARRIVED] = metrics.clock()

    def start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
        metrics.acked(environ.get(COMMAND, "-"), status, metrics.clock() - began)
        return start_response(status, headers, *exc)

    return inner(environ, start)


def _labelled(inner: WSGIApp) -> WSGIApp:
    """Inside the gate, so only for signed requests: what it is, and for which workspace."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read()
        environ["wsgi.input"] = io.BytesIO(body)
        environ[COMMAND], workspace = metrics.label(environ.get("CONTENT_TYPE", ""), body)
        logs.WORKSPACE.set(workspace)
        arrival = metrics.ARRIVAL.set((environ[COMMAND], environ[ARRIVED]))
        try:
            return inner(environ, start_response)
        finally:
            metrics.ARRIVAL.reset(arrival)

    return app


def _health(engine: Engine, start_response: StartResponse) -> Iterable[bytes]:
    try:
        ping(engine)
    except Exception as err:
        log.warning("health check: database unreachable: %s", type(err).__name__)
        return _plain(start_response, "503 Service Unavailable", "database unreachable")
    return _plain(start_response, "200 OK", "ok")


def _ready(
    engine: Engine, scheduler: Scheduler | None, start_response: StartResponse
) -> Iterable[bytes]:
    """200 with the state, or 503 with the reason this instance should get no traffic."""
    try:
        current = schema_revision(engine)
    except Exception as err:
        log.warning("readiness: database unreachable: %s", type(err).__name__)
        return _plain(start_response, "503 Service Unavailable", "database unreachable")
    head = head_revision()
    if current != head:
        return _plain(start_response, "503 Service Unavailable", _schema_mismatch(current, head))
    state = scheduler_state(scheduler)
    if state == "stopped":
        return _plain(start_response, "503 Service Unavailable", "scheduler stopped")
    return _plain(start_response, "200 OK", f"ready: migrations at {head}, scheduler {state}")


def _schema_mismatch(current: str | None, head: str | None) -> str:
    if current is not None and current not in known_revisions():
        # An instance of the old code during an upgrade: out of rotation until replaced.
        return f"database at {current}, newer than this code ({head})"
    return f"migrations behind: database at {current or 'none'}, code needs {head}"


def scheduler_state(scheduler: Scheduler | None) -> str:
    """off (no bot token nor OAuth: nothing scheduled), stopped, leader (this instance holds
    the lock and has caught up: it sends the scheduled messages) or standby (not, or not yet)."""
    if scheduler is None:
        return "off"
    if not scheduler.scheduler.running:
        return "stopped"
    return "leader" if scheduler.leading else "standby"


def _metrics(meters: metrics.Metrics, start_response: StartResponse) -> Iterable[bytes]:
    data = meters.exposition()
    start_response(
        "200 OK", [("Content-Type", metrics.CONTENT_TYPE), ("Content-Length", str(len(data)))]
    )
    return [data]


def serve(settings: Settings, engine: Engine, scheduler: Scheduler | None = None) -> None:
    """Serve HTTP mode (or OAuth mode) on PORT until SIGTERM or Ctrl-C, then drain."""
    from bot.shutdown import on_stop_signals

    service = service_for(settings, engine, scheduler=scheduler)
    on_stop_signals(service.stop)
    log.info("HTTP mode on port %s (%s)", settings.port, settings.mode)
    service.run()
    log.info("stopped: requests and deliveries drained")


def service_for(
    settings: Settings, engine: Engine, host: str = HOST, scheduler: Scheduler | None = None
) -> Draining:
    """The waitress server of the Bolt app, with its worker pools, ready to run; /readyz
    reports `scheduler`, the one this process runs (if any)."""
    import waitress

    from bot.app import build_app, clients
    from bot.webhook import Webhook
    from bot.work import serving

    work = serving(settings)
    webhook = Webhook(engine, clients(settings, engine), work)
    server = waitress.create_server(
        wsgi_app(build_app(settings, engine, work=work), engine, scheduler, webhook=webhook),
        host=host,
        port=settings.port,
        ident="pacer",
        max_request_body_size=MAX_BODY,
        # Requests wait only for the database (never for Slack: see bot/listeners.py), and
        # bot/work.py admits `work.writers` of them at once; the rest are turned away.
        threads=THREADS,
    )
    return Draining(server, work)
