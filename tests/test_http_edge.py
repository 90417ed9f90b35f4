"""The HTTP edge against garbage: the signature first, a size cap, no body in the logs, 401
for anything unsigned, 400 (never 500, never a traceback) for signed but malformed bodies."""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from bot import listeners
from bot.app import build_app
from bot.http import EVENTS_PATH, wsgi_app
from tests.fakeslack import FakeSlack, SlackSender, payload_body, sign, slash_body
from tests.test_http_mode import SECRET, Server, count_rows, settings_for

MARKER = "FORGED-LOG-LINE"
TABLES = ("workspace", "member", "deal", "goal")


@pytest.fixture
def slack(fake: FakeSlack, db: Engine) -> Iterator[SlackSender]:
    server = Server(wsgi_app(build_app(settings_for(fake, db), db), db))
    yield SlackSender(server.url, SECRET)
    server.close()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def raw_post(slack: SlackSender, body: bytes, headers: dict[str, str]) -> Any:
    all_headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    request = urllib.request.Request(
        slack.base_url + EVENTS_PATH, data=body, headers=all_headers, method="POST"
    )
    return slack.send(request)


def nothing_written(db: Engine) -> bool:
    return all(count_rows(db, table) == 0 for table in TABLES)


def assert_quiet(logs: pytest.LogCaptureFixture) -> None:
    """No traceback, no 500, and nothing of the body in any log line."""
    for record in logs.records:
        assert record.exc_info is None, record.getMessage()
        assert MARKER not in record.getMessage()
        assert record.levelno < logging.ERROR, record.getMessage()


def command_body(text: str = f"12500 {MARKER}", **fields: str) -> bytes:
    values = {"command": "/deal", "text": text, "team_id": "T1", "user_id": "UALICE"}
    return slash_body(**(values | fields))


NOW = str(int(time.time()))
UNSIGNED = [
    {},
    {"X-Slack-Request-Timestamp": NOW},
    {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=abc"},
    {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
    {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": NOW, "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": NOW, "X-Slack-Signature": "v1=" + "0" * 64},
    {"X-Slack-Request-Timestamp": NOW, "X-Slack-Signature": "garbage"},
]


@pytest.mark.parametrize("headers", UNSIGNED)
@pytest.mark.parametrize("body", [command_body(), b"\xff\xfe garbage " + MARKER.encode(), b""])
def test_unsigned_requests_get_401_and_are_not_logged(
    slack: SlackSender,
    db: Engine,
    logs: pytest.LogCaptureFixture,
    headers: dict[str, str],
    body: bytes,
) -> None:
    answer = raw_post(slack, body, headers)

    assert answer.status == 401
    assert nothing_written(db)
    assert_quiet(logs)


def test_a_timestamp_in_unicode_digits_gets_401(slack: SlackSender, db: Engine) -> None:
    body = command_body()
    stamp = "١٢٣".encode().decode("latin-1")  # as the bytes arrive (http.client sends latin-1)
    answer = raw_post(
        slack,
        body,
        {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sign(SECRET, NOW, body)},
    )
    assert answer.status == 401
    assert nothing_written(db)


def test_a_huge_body_gets_413_unread_and_unlogged(
    slack: SlackSender, db: Engine, logs: pytest.LogCaptureFixture
) -> None:
    body = (MARKER + "\n").encode() * (10_000_000 // (len(MARKER) + 1))

    assert raw_post(slack, body, {}).status == 413
    assert slack.post(body).status == 413  # signed or not
    assert nothing_written(db)
    assert_quiet(logs)


def interaction(kind: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": kind, "user": {"id": "UALICE"}, "team": {"id": "T1"}}
    return base | fields


BUTTON = {"action_id": "deal_delete", "value": "1", "type": "button"}
VIEW = {"id": "V1", "callback_id": "deal_form", "state": {"values": {}}}
MALFORMED = [
    b"payload=not-json-" + MARKER.encode(),
    b"payload=%5B%5D",  # []
    b"payload=%7B",  # {
    b"\xff\xfe" + MARKER.encode(),
    b"a=%zz&&&=",
    payload_body(interaction("block_actions", actions=[])),
    payload_body(interaction("block_actions", actions=["x"])),
    payload_body(interaction("block_actions", actions=[{"value": "1"}])),
    payload_body(interaction("block_actions", actions=[BUTTON], team=None)),
    payload_body(interaction("block_actions", actions=[BUTTON], user={"id": None})),
    payload_body(interaction("block_actions", actions=[BUTTON | {"value": "1\x00"}])),
    payload_body(interaction("view_submission", view={"callback_id": "deal_form"})),
    payload_body(interaction("view_submission", view=VIEW, team={})),
    payload_body(interaction("view_submission", view=VIEW | {"state": {"v": "a\x00"}})),
    payload_body(interaction("view_submission", view=VIEW | {"state": {"v": "\ud800"}})),
    payload_body(interaction("view_submission", view="V1")),
    slash_body(team_id=""),
    command_body(team_id="None" + "X" * 40),
    command_body(channel_id="C" + "A" * 40),
    command_body(text="12500 Acme\x00Corp"),
    payload_body(interaction("block_actions", actions=[BUTTON | {"value": "\ud800"}])),
]


@pytest.mark.parametrize("body", MALFORMED)
def test_signed_but_malformed_bodies_get_400(
    slack: SlackSender, db: Engine, logs: pytest.LogCaptureFixture, body: bytes
) -> None:
    answer = slack.post(body)

    assert answer.status == 400
    assert nothing_written(db)
    assert_quiet(logs)
    assert any("refused a request" in r.getMessage() for r in logs.records)


@pytest.mark.parametrize(
    "body", [b"{", b"[]", b'{"type": "event_callback", "event": {"type": "app_home_opened"}}']
)
def test_malformed_events_get_400(
    slack: SlackSender, db: Engine, logs: pytest.LogCaptureFixture, body: bytes
) -> None:
    assert slack.post(body, content_type="application/json").status == 400
    assert nothing_written(db)
    assert_quiet(logs)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (payload_body(interaction("view_closed", view=VIEW)), "application/x-www-form-urlencoded"),
        (
            payload_body(interaction("shortcut", callback_id=MARKER)),
            "application/x-www-form-urlencoded",
        ),
        (command_body(command="/" + MARKER), "application/x-www-form-urlencoded"),
        (json.dumps({"type": "app_rate_limited", "team_id": "T1"}).encode(), "application/json"),
    ],
)
def test_signed_requests_pacer_does_not_handle_are_ignored(
    slack: SlackSender, db: Engine, logs: pytest.LogCaptureFixture, body: bytes, content_type: str
) -> None:
    assert slack.post(body, content_type=content_type).status == 200
    assert nothing_written(db)
    assert_quiet(logs)


def test_url_verification_still_answers(slack: SlackSender) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"}).encode()
    answer = slack.post(body, content_type="application/json")
    assert answer.status == 200
    assert "abc123" in answer.body


@pytest.mark.parametrize("metadata", ["C" + "A" * 40, "C١٢", "Cabc", "C\x00", "|42", "X123"])
def test_a_form_channel_is_a_slack_channel_id_or_none(metadata: str) -> None:
    assert listeners.form_channel(metadata) is None
    assert listeners.form_channel("C123|42") == "C123"


@pytest.mark.parametrize("body", [{"user": {"id": "U1"}}, {"team": {"id": None}, "user": {}}])
def test_a_payload_without_a_team_names_no_workspace(body: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="no team"):
        listeners._team_id(body)
