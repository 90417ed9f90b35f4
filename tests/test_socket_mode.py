"""Socket Mode end to end: apps.connections.open on the fake Web API hands out a loopback
ws:// URL; a fake Socket Mode server there says hello, pushes one slash command envelope
and reads the app's ack; the reply arrives at the response URL."""

from __future__ import annotations

import copy
import json
import queue
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from bot import socket_mode
from bot.app import build_app
from bot.settings import Settings
from commands.router import dispatch
from commands.types import Request
from storage.engine import session_scope
from storage.models import Deal
from tests.fakeslack import FakeSlack, fixture

APP_TOKEN = "xapp-1-A111-socket-test"
BOT_TOKEN = "xoxb-socket-test"
TEAM = "T1"
ADMIN = "UADMIN"
ALICE = "UALICE"


class FakeSocketMode:
    """Sends `hello`, then each envelope; every frame the app sends back is queued."""

    def __init__(self, envelopes: list[dict[str, Any]]) -> None:
        self.envelopes = envelopes
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.paths: list[str] = []
        self.server: Server = serve(self.handle, "127.0.0.1", 0, compression=None)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        port = self.server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=t-1&app_id=A111"

    def handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.paths.append(ws.request.path)
        ws.send(json.dumps(fixture("socket_mode.hello.json")))
        for envelope in self.envelopes:
            ws.send(json.dumps(envelope))
        try:
            for message in ws:
                self.received.put(json.loads(message))
        except ConnectionClosed:
            pass

    def next_frame(self, timeout: float = 15.0) -> dict[str, Any]:
        return self.received.get(timeout=timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def setup_team(db: Engine) -> None:
    for text in (
        "setup team create East <#CEAST|sales-east> tz:America/New_York",
        f"setup team add East <@{ALICE}|alice>",
    ):
        req = Request(
            workspace_id=TEAM,
            user_id=ADMIN,
            text=text,
            now=datetime.now(UTC),
            admin_ids=frozenset({ADMIN}),
        )
        with session_scope(db) as session:
            assert dispatch("/pacer", req, session).ok


def deal_envelope(response_url: str) -> dict[str, Any]:
    envelope: dict[str, Any] = copy.deepcopy(fixture("socket_mode.envelope.slash_commands.json"))
    envelope["payload"].update(
        {
            "team_id": TEAM,
            "channel_id": "CEAST",
            "user_id": ALICE,
            "user_name": "alice",
            "command": "/deal",
            "text": "12,500 Acme Corp",
            "response_url": response_url,
            "trigger_id": "socket.trigger.1",
        }
    )
    return envelope


def test_a_slash_command_over_socket_mode_is_acked_and_answered(db: Engine) -> None:
    setup_team(db)
    with FakeSlack() as fake:
        envelope = deal_envelope(fake.response_url("sock"))
        sockets = FakeSocketMode([envelope])
        fake.socket_url = sockets.url
        settings = Settings(
            database_url=str(db.url),
            bot_token=BOT_TOKEN,
            app_token=APP_TOKEN,
            api_url=fake.api_url,
            admins=frozenset({ADMIN}),
        )
        assert settings.mode == "socket"
        handler = socket_mode.handler(build_app(settings, db), settings)
        try:
            handler.connect()

            ack = sockets.next_frame()
        finally:
            handler.close()
            sockets.close()

    assert ack["envelope_id"] == envelope["envelope_id"]
    reply = ack["payload"]  # the answer travels in the ack, after the deal is written
    assert fake.responses() == []
    [opened] = fake.called("apps.connections.open")
    assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"
    assert sockets.paths == ["/link/?ticket=t-1&app_id=A111"]
    assert reply["response_type"] == "ephemeral"
    shown = "\n".join(b["text"]["text"] for b in reply["blocks"] if b["type"] == "section")
    assert "$12,500" in shown and "Acme Corp" in shown
    with session_scope(db) as session:
        [deal] = session.exec(select(Deal)).all()
    assert (deal.amount_minor, deal.request_key) == (1_250_000, "socket.trigger.1")
