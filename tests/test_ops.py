"""Operations: /healthz, /readyz and /metrics through the real WSGI app under waitress, JSON
logs with a request id and no secrets, and the Dockerfile and compose.yaml checked against
the code they start (there is no Docker engine here to run them)."""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient
from sqlalchemy import Engine, text

from bot import cli, logs, metrics, shutdown
from bot.app import build_app
from bot.delivery import SlackTransport
from bot.http import wsgi_app
from bot.outbox import Asker, DeliveryError
from bot.scheduler import Scheduler
from bot.settings import Settings, load
from bot.work import Pool
from commands.types import Notice, Reply
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.fakeslack import FakeSlack, SlackSender, eventually
from tests.test_http_mode import (
    ADMIN,
    ALICE,
    SECRET,
    TOKEN,
    Server,
    command,
    settings_for,
    setup_team,
)

ROOT = Path(__file__).parent.parent
# The newest file in storage/migrations/versions (read from the names, not from Alembic).
HEAD = max(p.name[:4] for p in (ROOT / "storage/migrations/versions").glob("[0-9]*.py"))


@pytest.fixture
def serve(fake: FakeSlack, db: Engine) -> Iterator[Any]:
    """Serve the app of `db` (or another engine) with a scheduler, or none."""
    servers: list[Server] = []

    def start(engine: Engine | None = None, scheduler: Scheduler | None = None) -> SlackSender:
        app = build_app(settings_for(fake, db), db)
        server = Server(wsgi_app(app, engine or db, scheduler))
        servers.append(server)
        return SlackSender(server.url, SECRET)

    yield start
    for server in servers:
        server.close()


def samples(slack: SlackSender) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics: (name, labels) -> value."""
    answer = slack.get("/metrics")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.body)
        for s in family.samples
    }


def sample(slack: SlackSender, name: str, **labels: str) -> float | None:
    return samples(slack).get((name, frozenset(labels.items())))


# --- /healthz and /readyz -----------------------------------------------------------------------


def test_readyz_is_200_with_the_schema_and_no_scheduler_without_a_bot_token(serve: Any) -> None:
    slack = serve()

    ready = slack.get("/readyz")

    assert (ready.status, ready.body) == (200, f"ready: migrations at {HEAD}, scheduler off")


def test_readyz_names_the_schedulers_state(serve: Any, fake: FakeSlack, engine: Engine) -> None:
    """On PostgreSQL the instance holding the advisory lock leads and the other stands by;
    SQLite runs one instance, which always leads; a stopped scheduler is not ready."""
    first = Scheduler(engine, WebClient(base_url=fake.api_url))
    second = Scheduler(engine, WebClient(base_url=fake.api_url))
    first.start(paused=True)
    second.start(paused=True)
    try:
        first.campaign()  # takes the lock (and catches up)
        second.campaign()  # finds it taken, on PostgreSQL
        standby = "standby" if engine.dialect.name == "postgresql" else "leader"

        assert serve(engine, first).get("/readyz").body.endswith("scheduler leader")
        assert serve(engine, second).get("/readyz").body.endswith(f"scheduler {standby}")
        second.stop()
        stopped = serve(engine, second).get("/readyz")
        assert (stopped.status, stopped.body) == (503, "scheduler stopped")
    finally:
        first.stop()
        second.stop()


def test_readyz_and_healthz_are_503_when_the_database_is_gone(serve: Any, tmp_path: Path) -> None:
    gone = make_engine(f"sqlite:///{tmp_path / 'no-such-dir' / 'pacer.db'}")
    slack = serve(gone)

    ready, health = slack.get("/readyz"), slack.get("/healthz")

    assert (ready.status, ready.body) == (503, "database unreachable")
    assert (health.status, health.body) == (503, "database unreachable")
    gone.dispose()


def test_readyz_is_503_while_migrations_are_behind(serve: Any, tmp_path: Path) -> None:
    behind = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    upgrade(behind, "0005")

    old, new = serve(behind).get("/readyz"), serve(empty).get("/readyz")

    assert (old.status, old.body) == (
        503,
        f"migrations behind: database at 0005, code needs {HEAD}",
    )
    assert (new.status, new.body) == (
        503,
        f"migrations behind: database at none, code needs {HEAD}",
    )
    assert serve(behind).get("/healthz").status == 200  # alive all the same
    behind.dispose()
    empty.dispose()


def test_readyz_is_503_for_old_code_on_a_newer_schema(serve: Any, db: Engine) -> None:
    with db.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))

    ready = serve().get("/readyz")

    assert (ready.status, ready.body) == (503, f"database at 0099, newer than this code ({HEAD})")


# --- /metrics -----------------------------------------------------------------------------------


def test_metrics_count_signed_commands_by_outcome_and_time_their_acks(
    serve: Any, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db)
    slack = serve()

    logged = command(slack, fake, "/deal", "12,500 Acme Corp", trigger="t1")
    refused = command(slack, fake, "/goal", "set <@UBOB|bob> 1000 month", trigger="t2")

    assert "Logged deal" in logged.json()["text"] and refused.status == 200
    assert sample(slack, "pacer_requests_total", command="/deal", outcome="ok") == 1.0
    assert sample(slack, "pacer_requests_total", command="/goal", outcome="refused") == 1.0
    acks = {"command": "/deal", "status": "200"}
    assert sample(slack, "pacer_ack_seconds_count", **acks) == 1.0
    # Within the 3 s Slack allows (a generous bound, not a benchmark).
    assert sample(slack, "pacer_ack_seconds_bucket", le="3.0", **acks) == 1.0


def test_metrics_time_a_chart_from_the_commands_arrival_to_its_upload(
    serve: Any, fake: FakeSlack, db: Engine
) -> None:
    setup_team(db, (ADMIN, "/goal", f"set <@{ALICE}|alice> 120000 month"))
    slack = serve()

    command(slack, fake, "/progress", "")
    fake.wait_for("files.completeUploadExternal")

    # Timed on the pools, which carry the request's arrival along.
    eventually(lambda: sample(slack, "pacer_reply_seconds_count", command="/progress") or None)
    assert sample(slack, "pacer_delivery_seconds_count", op="reply") == 1.0
    assert sample(slack, "pacer_requests_total", command="/progress", outcome="ok") == 1.0


def test_metrics_of_refused_requests_are_labelled_without_their_text(serve: Any) -> None:
    slack = serve()

    refused = slack.post(b"command=%2Fdeal&text=x", secret="not-the-secret")

    assert refused.status == 401
    assert sample(slack, "pacer_ack_seconds_count", command="-", status="401") == 1.0


def test_commands_slack_errors_jobs_and_queues_are_recorded(fake: FakeSlack, db: Engine) -> None:
    meters = metrics.activate(metrics.Metrics())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(metrics, "_queues", {})
        metrics.command_done("/deal", "ok")
        metrics.command_done("/deal", "ok")
        metrics.command_done("/goal", "shed")
        metrics.track_queue("writes", lambda: 3)
        fake.fail("chat.postMessage", "channel_not_found")
        transport = SlackTransport(WebClient(token=TOKEN, base_url=fake.api_url))
        with pytest.raises(DeliveryError):
            transport.post(Notice(key="k1", text="hi", channel_id="CEAST"))
        metrics.job_failed(SimpleNamespace(job_id="team:7"))

        text = meters.exposition().decode()

    assert 'pacer_requests_total{command="/deal",outcome="ok"} 2.0' in text
    assert 'pacer_requests_total{command="/goal",outcome="shed"} 1.0' in text
    assert 'pacer_queue_depth{queue="writes"} 3.0' in text
    assert (
        'pacer_slack_errors_total{error="channel_not_found",method="chat.postMessage"} 1.0' in text
    )
    assert 'pacer_job_runs_total{kind="team",outcome="error"} 1.0' in text
    with pytest.raises(ValueError, match="unknown outcome 'fine'"):
        metrics.command_done("/deal", "fine")


def test_a_reply_is_timed_and_also_from_its_arrival_when_it_keeps_the_requests_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    meters = metrics.activate(metrics.Metrics())
    ticks = iter([10.0, 10.5, 12.0])  # the reply starts, ends, and the arrival is measured
    monkeypatch.setattr(metrics, "clock", lambda: next(ticks))

    class Quiet:
        def reply(self, reply: Reply, asker: Asker) -> None:
            pass

    transport = metrics.timed(Quiet())  # type: ignore[arg-type]
    pool = Pool("test", workers=1, limit=1)
    arrival = metrics.ARRIVAL.set(("/deal", 9.0))
    assert pool.submit(transport.reply, Reply("done"), Asker("T1", "UALICE"))
    metrics.ARRIVAL.reset(arrival)
    assert pool.drain(timeout=10)
    pool.close()

    text = meters.exposition().decode()
    assert 'pacer_delivery_seconds_sum{op="reply"} 0.5' in text
    assert 'pacer_reply_seconds_sum{command="/deal"} 3.0' in text


def test_a_finished_team_run_is_counted(fake: FakeSlack, db: Engine) -> None:
    setup_team(db)
    meters = metrics.activate(metrics.Metrics())

    Scheduler(db, WebClient(token=TOKEN, base_url=fake.api_url)).fire(1)

    assert 'pacer_job_runs_total{kind="team",outcome="ok"} 1.0' in meters.exposition().decode()


def test_each_app_has_a_registry_of_its_own(fake: FakeSlack, db: Engine) -> None:
    first, second = metrics.Metrics(), metrics.Metrics()  # no "duplicated timeseries" error
    metrics.activate(first)
    metrics.command_done("/deal", "ok")
    metrics.activate(second)

    assert 'command="/deal"' in first.exposition().decode()
    assert 'command="/deal"' not in second.exposition().decode()


# --- logs ---------------------------------------------------------------------------------------


@pytest.fixture
def stderr_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """What configure_logging's handler writes to stderr; the root logger restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield capsys
    root.handlers[:] = handlers
    root.setLevel(level)


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every line on stderr, each a JSON object (json.loads fails on anything else)."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_http_mode_logs_one_json_object_a_line_with_its_request_id(
    serve: Any, fake: FakeSlack, db: Engine, stderr_logs: pytest.CaptureFixture[str]
) -> None:
    cli.configure_logging(settings_for(fake, db))
    slack = serve()

    refused = slack.post(b"command=%2Fdeal&text=x", secret="not-the-secret")
    given = slack.post(b"text=x", secret="bad", headers={"X-Request-Id": "proxy-id-0001"})

    [first, second] = [line for line in json_lines(stderr_logs) if line["logger"] == "bot.gate"]
    assert first == {
        "time": first["time"],
        "level": "WARNING",
        "logger": "bot.gate",
        "message": "refused a request to /slack/events: bad signature",
        "request_id": refused.headers["X-Request-Id"],
    }
    assert re.fullmatch(r"[0-9a-f]{32}", first["request_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", first["time"])
    assert second["request_id"] == given.headers["X-Request-Id"] == "proxy-id-0001"


def test_work_queued_on_a_pool_logs_the_request_id_it_came_from(
    stderr_logs: pytest.CaptureFixture[str],
) -> None:
    cli.configure_logging(Settings(bot_token=TOKEN, signing_secret=SECRET))
    pool = Pool("test", workers=1, limit=1)
    with logs.serving("request-0001"):
        logs.WORKSPACE.set("T1")
        assert pool.submit(logging.getLogger("pacer.work").info, "deal %s written", 7)
    assert pool.drain(timeout=10)
    pool.close()

    [line] = json_lines(stderr_logs)
    assert (line["message"], line["request_id"], line["workspace"]) == (
        "deal 7 written",
        "request-0001",
        "T1",
    )


def test_lines_logged_by_the_listener_carry_the_commands_request_id_and_workspace(
    serve: Any, fake: FakeSlack, db: Engine, stderr_logs: pytest.CaptureFixture[str]
) -> None:
    setup_team(db)
    cli.configure_logging(settings_for(fake, db, log_level="DEBUG"))
    slack = serve()
    fake.fail("users.info", "user_not_found")

    answer = command(slack, fake, "/deal", "12,500 Acme Corp")

    assert answer.status == 200
    lines = json_lines(stderr_logs)
    [lookup] = [line for line in lines if line["logger"] == "bot.profiles"]
    assert lookup["message"].startswith("users.info failed for UALICE: The request to the")
    assert (lookup["request_id"], lookup["workspace"]) == (answer.headers["X-Request-Id"], "T1")
    everything = json.dumps(lines)
    assert SECRET not in everything and TOKEN not in everything


@pytest.mark.parametrize("given", ['x", "level": "ERROR', "short", "a" * 65])
def test_a_request_id_that_is_not_one_is_replaced(serve: Any, given: str) -> None:
    answer = serve().get("/healthz", {"X-Request-Id": given})

    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-Id"])


def test_json_logs_hold_no_secret_even_in_a_traceback(
    stderr_logs: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(bot_token=TOKEN, signing_secret=SECRET, client_secret="client-secret-1")
    cli.configure_logging(settings)
    log = logging.getLogger("pacer.test")

    log.info("token %s and secret %s", TOKEN, "client-secret-1")
    try:
        raise RuntimeError(f"signing with {SECRET} and xoxp-1-2-3")
    except RuntimeError:
        log.exception("it failed")

    [info, error] = json_lines(stderr_logs)
    assert info["message"] == "token xoxb-*** and secret ***"
    assert (error["level"], error["message"]) == ("ERROR", "it failed")
    assert error["exc_info"].endswith("RuntimeError: signing with *** and xoxp-***")
    assert error["request_id"] is None and "workspace" not in error
    assert SECRET not in json.dumps([info, error]) and TOKEN not in json.dumps([info, error])


@pytest.mark.parametrize(
    ("env", "formatter"),
    [
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET}, "JsonFormatter"),
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "LOG_FORMAT": "TEXT"}, "Text"),
        ({}, "TextFormatter"),
        ({"LOG_FORMAT": "json"}, "JsonFormatter"),
    ],
)
def test_log_format_is_json_when_serving_slack_and_text_in_the_console(
    env: dict[str, str], formatter: str, stderr_logs: pytest.CaptureFixture[str]
) -> None:
    cli.configure_logging(load(env, dotenv_path=None))

    [handler] = logging.getLogger().handlers
    assert type(handler.formatter).__name__.startswith(formatter)


# --- Dockerfile and compose.yaml ----------------------------------------------------------------


def dockerfile() -> list[str]:
    """Its instructions, one a line (continued lines joined)."""
    return (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()


def instruction(name: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in dockerfile() if line.startswith(name + " ")]


def settings_names() -> set[str]:
    """The environment variables bot.settings.load reads (asked, not grepped)."""
    asked: set[str] = set()

    class Recording(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            asked.add(key)
            return super().get(key, default)

    load(Recording(), dotenv_path=None)
    return asked


def test_the_image_runs_the_pacer_script_as_a_user_and_checks_healthz(serve: Any) -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    [cmd] = instruction("CMD")
    [user] = instruction("USER")
    [expose] = instruction("EXPOSE")
    [check] = [line for line in dockerfile() if line.startswith("HEALTHCHECK ")]

    assert json.loads(cmd)[0] in scripts
    assert instruction("FROM") == ["python:3.11-slim"]
    assert user not in ("root", "0")
    assert int(expose) == Settings().port
    [path] = re.findall(r"127\.0\.0\.1:[^/]+(/[a-z]+)", check)
    assert serve().get(path).status == 200


def test_compose_starts_pacer_on_postgres_with_the_settings_pacer_reads() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    pacer, postgres = compose["services"]["pacer"], compose["services"]["postgres"]

    assert set(pacer["environment"]) <= settings_names()
    assert pacer["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in pacer["environment"]["DATABASE_URL"]
    assert pacer["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert int(pacer["stop_grace_period"].removesuffix("s")) > shutdown.GRACE
    assert pacer["env_file"] == [{"path": ".env", "required": False}]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    [volume] = postgres["volumes"]
    assert volume.split(":")[0] in compose["volumes"]
    assert volume.endswith(":/var/lib/postgresql/data")


def test_the_env_example_names_only_settings_pacer_reads() -> None:
    names = {
        line.split("=", 1)[0].lstrip("# ")
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    assert names <= settings_names()
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"} <= names


def test_the_chart_cache_reports_the_bytes_it_keeps() -> None:
    """Memory the chart cache holds grows by design up to its bound: /metrics says how much,
    so a reader (or the bench) tells it apart from a leak."""
    from bot.work import serving
    from tests.test_charts import progress

    meters = metrics.activate(metrics.Metrics())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(metrics, "_chart_cache", None)
        assert "pacer_chart_cache_bytes" not in meters.exposition().decode()
        work = serving(replace(Settings(), draw_processes=0, chart_cache_mb=1))
        try:
            png = work.draw(progress())
            text = meters.exposition().decode()
        finally:
            work.drain(timeout=5)
    assert f"pacer_chart_cache_bytes {float(len(png))}" in text
