"""Prometheus metrics, served at /metrics: what an operator graphs and alerts on.

Each app gets a Metrics of its own (its own CollectorRegistry, never the global default,
since a test process builds many apps); bot.http.wsgi_app makes one and makes it the one
the recording functions below write to. A process serves one app, so the modules that
record (outbox, delivery, scheduler, listeners) call these functions instead of carrying
the object around. With no app serving (the console, `pacer jobs run`) they do nothing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from slack_sdk.errors import SlackClientError

if TYPE_CHECKING:
    from bot.outbox import Asker, Sent, Transport
    from commands.types import Notice, Reply, Retract, Update

CONTENT_TYPE = CONTENT_TYPE_LATEST
COUNTED = "_pacer_counted"
SLACK_ERRORS = (SlackClientError, OSError)  # what the SDK raises: API errors, timeouts
clock = time.perf_counter  # every duration here is measured on it (tests replace it)
OUTCOMES = ("ok", "refused", "usage_error", "error", "shed")
# Slack wants an ack within 3 s: the buckets resolve well below and around it.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
DELIVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The metric objects of one app, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "pacer_requests",
            "Commands, buttons and forms handled, by command and outcome.",
            ["command", "outcome"],
            registry=r,
        )
        self.ack = Histogram(
            "pacer_ack_seconds",
            "Time from a request's arrival on /slack/events until its status is sent.",
            ["command", "status"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.delivery = Histogram(
            "pacer_delivery_seconds",
            "Time a delivery to Slack took (reply, post, update, delete), failed ones too.",
            ["op"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.answered = Histogram(
            "pacer_reply_seconds",
            "Time from a request's arrival until the part of its reply sent after the ack"
            " (a modal, a button's reply, a chart) was delivered.",
            ["command"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.slack_errors = Counter(
            "pacer_slack_errors",
            "Slack Web API calls that failed, by method and error.",
            ["method", "error"],
            registry=r,
        )
        self.job_runs = Counter(
            "pacer_job_runs",
            "Scheduled job runs, by kind and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.webhook_calls = Counter(
            "pacer_webhook_calls",
            "Calls to POST /integrations/deals, by outcome (ok, bad_request, unauthorized, ...).",
            ["outcome"],
            registry=r,
        )
        self.webhook_deals = Counter(
            "pacer_webhook_deals",
            "Deals the webhook's accepted calls carried, by outcome (created, updated, ...).",
            ["outcome"],
            registry=r,
        )
        r.register(Queues())

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class Queues(Collector):
    """pacer_queue_depth{queue}: each queue's depth function, called at every scrape."""

    def collect(self) -> Iterable[Metric]:
        gauge = GaugeMetricFamily(
            "pacer_queue_depth", "Tasks running or waiting in each bounded pool.", labels=["queue"]
        )
        with _lock:
            depths = list(_queues.items())
            cached = _chart_cache
        for name, depth in depths:
            gauge.add_metric([name], float(depth()))
        yield gauge
        if cached is not None:
            yield GaugeMetricFamily(
                "pacer_chart_cache_bytes",
                "PNG bytes kept by the chart cache (bounded by PACER_CHART_CACHE_MB).",
                value=float(cached()),
            )


# (command label, clock() at arrival) of the request being served, set by bot.http.
ARRIVAL: ContextVar[tuple[str, float] | None] = ContextVar("arrival", default=None)
_lock = threading.Lock()
_active: Metrics | None = None
# Per process, not per Metrics: the pools are built with the Bolt app, before wsgi_app
# makes the app's Metrics.
_queues: dict[str, Callable[[], float]] = {}
_chart_cache: Callable[[], float] | None = None


def activate(metrics: Metrics) -> Metrics:
    """Make `metrics` the one recorded to (the newest app in the process)."""
    global _active
    _active = metrics
    return metrics


def active() -> Metrics | None:
    return _active


# --- recording: one call where each thing happens -------------------------------------------------


def command_done(command: str, outcome: str) -> None:
    """A command (or `button`, `form`) finished with `outcome`, one of OUTCOMES."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    if _active is not None:
        _active.requests.labels(command, outcome).inc()


def outcome_of(reply: Reply) -> str:
    """ok, or refused: the router answers a refusal and a usage error alike (Reply.ok is
    False), so both count as refused until a Reply says which it was."""
    return "ok" if reply.ok else "refused"


def acked(command: str, status: str, seconds: float) -> None:
    if _active is not None:
        _active.ack.labels(command, status.split(" ", 1)[0]).observe(seconds)


def delivered(op: str, seconds: float) -> None:
    if _active is not None:
        _active.delivery.labels(op).observe(seconds)


def timed(transport: Transport) -> Transport:
    """`transport`, with each delivery's duration recorded (itself when nothing records)."""
    return transport if _active is None else Timed(transport)


class Timed:
    """A Transport that times what it passes on (the Slack calls of a reply or a notice)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    def reply(self, reply: Reply, asker: Asker) -> None:
        with _timing("reply"):
            self.inner.reply(reply, asker)
        arrival = ARRIVAL.get()
        if arrival is not None and _active is not None:
            _active.answered.labels(arrival[0]).observe(clock() - arrival[1])

    def post(self, notice: Notice) -> Sent:
        with _timing("post"):
            return self.inner.post(notice)

    def update(self, sent: Sent, update: Update) -> None:
        with _timing("update"):
            self.inner.update(sent, update)

    def delete(self, sent: Sent, retract: Retract) -> None:
        with _timing("delete"):
            self.inner.delete(sent, retract)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextmanager
def _timing(op: str) -> Iterator[None]:
    began = clock()
    try:
        yield
    finally:
        delivered(op, clock() - began)


def slack_error(err: Exception) -> None:
    """A failed Slack call: the method from the response's URL, the error Slack named (or the
    exception's type: a timeout, a refused connection). Once per error, however often it
    is described."""
    if _active is None or not isinstance(err, SLACK_ERRORS) or getattr(err, COUNTED, False):
        return  # (a DeliveryError is Pacer's own account of one, counted when it happened)
    setattr(err, COUNTED, True)
    response = getattr(err, "response", None)
    url = str(getattr(response, "api_url", "") or "")
    method = url.rsplit("/", 1)[-1] or "unknown"
    error = response.get("error") if response is not None else None
    _active.slack_errors.labels(method, str(error or type(err).__name__)).inc()


def webhook_call(outcome: str) -> None:
    if _active is not None:
        _active.webhook_calls.labels(outcome).inc()


def webhook_deals(counts: dict[str, int]) -> None:
    if _active is not None:
        for outcome, count in counts.items():
            if count:
                _active.webhook_deals.labels(outcome).inc(count)


def job_run(kind: str, outcome: str) -> None:
    if _active is not None:
        _active.job_runs.labels(kind, outcome).inc()


def job_failed(event: Any) -> None:
    """APScheduler's EVENT_JOB_ERROR: a job (`team:7`, `sync`) raised."""
    job_run(str(event.job_id).split(":", 1)[0], "error")


def track_queue(name: str, depth: Callable[[], float]) -> None:
    """Report `depth()` as pacer_queue_depth{queue=name} at every scrape (e.g. a pool's
    `lambda: pool._work_queue.qsize()`); a second call with the same name replaces it."""
    with _lock:
        _queues[name] = depth


def track_chart_cache(size: Callable[[], float]) -> None:
    """Report `size()` as pacer_chart_cache_bytes at every scrape: memory that grows by
    design up to its bound, told apart from memory that would leak."""
    global _chart_cache
    with _lock:
        _chart_cache = size


# --- the label of a signed request ------------------------------------------------------------


def label(content_type: str, body: bytes) -> tuple[str, str | None]:
    """(`/deal`, `/goal`, …, `button`, `form`, `event` or `other`; its workspace if the body
    names one plainly). Only for signed bodies the gate let through, whose commands are
    Pacer's own: a label never holds what a stranger typed."""
    if content_type.startswith("application/json"):
        return "event", None
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items()}
        if "command" in form:
            return form["command"], form.get("team_id")
        payload = json.loads(form.get("payload") or "{}")
        kind = {"block_actions": "button", "view_submission": "form"}.get(payload.get("type"))
        team = (payload.get("team") or {}).get("id")
        return kind or "other", team if isinstance(team, str) else None
    except (ValueError, AttributeError):
        return "other", None
