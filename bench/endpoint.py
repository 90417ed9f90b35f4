"""The real HTTP endpoint: a server subprocess, signed slash commands, delivery tracking.

The server is bench.serve (bot.app + bot.http under waitress) in its own process, so its
memory can be read from /proc; the fake Slack Web API (tests/fakeslack.py) runs in this
process and records what the server sends back.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

from bench import clock
from bench.generate import TODAY, WORKSPACE_ID
from commands import i18n

ROOT = Path(__file__).resolve().parent.parent
EVENTS_PATH = "/slack/events"
START_TIMEOUT = 60.0
CHART_COMMANDS = ("/progress", "/leaderboard")
SETTINGS = ("SLACK_", "DATABASE_URL", "PACER_", "PORT", "LOG_LEVEL")


def sign(secret: str, timestamp: str, body: str) -> str:
    """X-Slack-Signature exactly as Slack computes it."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slash_body(
    command: str, text: str, *, user_id: str, channel_id: str, response_url: str, trigger_id: str
) -> str:
    """A slash command as Slack posts it (form-encoded, fields as in Slack's samples)."""
    return urlencode(
        {
            "token": "bench-verification-token",
            "team_id": WORKSPACE_ID,
            "team_domain": "bench",
            "channel_id": channel_id,
            "channel_name": "sales",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "ABENCH",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


@dataclass
class Server:
    """bench.serve in a subprocess; `stop()` ends it (and only it)."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[str] | None = None
    port: int = 0
    _log: IO[str] | None = field(default=None, repr=False)

    def start(self) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no bench/out
        self._log = self.log_path.open("w", encoding="utf-8")
        # Only the settings given here: a developer's own Slack settings must not leak in.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS)}
        env = {**inherited, **self.env, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self.port = self._read_port()
        return self

    def _read_port(self) -> int:
        assert self.process is not None and self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until ready or dead
        if not line.startswith("PORT "):
            self.stop()
            tail = self.log_path.read_text(encoding="utf-8")[-3000:]
            raise RuntimeError(f"server did not start; its log ends with:\n{tail}")
        return int(line.split()[1])

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak resident set) of the server process, in bytes, and the PNG
        bytes its chart cache keeps (`cache`, from /metrics): memory held by design."""
        values: dict[str, int] = {"cache": self._chart_cache_bytes()}
        status = Path(f"/proc/{self.pid}/status").read_text(encoding="utf-8")
        for line in status.splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) * 1024
        return values

    def _chart_cache_bytes(self) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            body = conn.getresponse().read().decode()
        finally:
            conn.close()
        found = re.search(r"^pacer_chart_cache_bytes (\S+)$", body, re.M)
        return int(float(found.group(1))) if found else 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()


@dataclass
class Client:
    """Signs and posts slash commands; tracks what the fake Slack received for each."""

    fake: Any  # tests.fakeslack.FakeSlack
    port: int
    secret: str
    channel_id: str
    sent: int = 0
    timeout: float = 30.0
    failed: list[str] = field(default_factory=list)  # commands answered with the failure notice
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)  # the acks, by name

    def post(self, command: str, text: str, user_id: str) -> tuple[str, float]:
        """Send one command; its response name and the time to the HTTP acknowledgement."""
        self.sent += 1
        name = f"bench{self.sent}"
        body = slash_body(
            command,
            text,
            user_id=user_id,
            channel_id=self.channel_id,
            response_url=self.fake.response_url(name),
            trigger_id=f"{self.sent}.{secrets.token_hex(6)}",
        )
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(self.secret, timestamp, body),
        }
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request("POST", EVENTS_PATH, body=body.encode(), headers=headers)
            response = conn.getresponse()
            answer = response.read()
        finally:
            conn.close()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{command} {text!r}: HTTP {response.status}")
        self.replies[name] = json.loads(answer) if answer else {}  # the reply rides in the ack
        return name, elapsed

    def uploads(self) -> int:
        return len(self.fake.called("files.completeUploadExternal"))

    def wait_delivered(self, name: str, command: str, uploads_before: int) -> None:
        """For chart commands, until the finished upload arrived (the text was in the ack)."""
        if command in CHART_COMMANDS:
            self.fake.wait_for("files.completeUploadExternal", uploads_before + 1, timeout=30)

    def run(self, command: str, text: str, user_id: str) -> tuple[float, float]:
        """Send and wait for delivery: (time to ack, time to delivered)."""
        before = self.uploads()
        started = time.perf_counter()
        name, ack = self.post(command, text, user_id)
        self.wait_delivered(name, command, before)
        delivered = time.perf_counter() - started
        self._check_reply(name, command, text)
        return ack, delivered

    def _check_reply(self, name: str, command: str, text: str) -> None:
        """A fast error is no result: count replies that are the app's own failure notice."""
        failures = {i18n.t("en", "error.internal"), i18n.t("en", "error.busy")}
        if self.replies.get(name, {}).get("text") in failures:
            self.failed.append(f"{command} {text}".strip())


@contextmanager
def running(
    database_url: str, log_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[Server, Client]]:
    """The fake Slack and the server pointed at it, stopped again on the way out."""
    from tests.fakeslack import FakeSlack

    secret = secrets.token_hex(16)
    with FakeSlack() as fake:
        server = Server(
            env={
                "SLACK_BOT_TOKEN": "xoxb-bench-0000",
                "SLACK_SIGNING_SECRET": secret,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": database_url,
                "PORT": "0",
                "LOG_LEVEL": "WARNING",
                clock.ENV: TODAY.isoformat(),
                **(extra_env or {}),
            },
            log_path=log_path,
        )
        try:
            server.start()
            yield server, Client(fake=fake, port=server.port, secret=secret, channel_id="CB0000000")
        finally:
            server.stop()
