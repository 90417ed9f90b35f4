"""manifest.yml is a valid Slack app manifest and agrees with the commands the code handles."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from slack_bolt.request import BoltRequest
from sqlalchemy import Engine

from bot.app import SCOPES, build_app
from bot.settings import Settings
from commands.registry import slash_commands
from tests.fakeslack import FakeSlack, sign, slash_body

SECRET = "manifest-test-secret"

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"
MENTIONING = {"/deal", "/goal", "/progress", "/pacer"}  # take @user or #channel arguments


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return data


def test_manifest_declares_exactly_the_handled_commands() -> None:
    declared = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert declared == set(slash_commands())


def test_every_command_has_description_and_usage_hint_within_limits() -> None:
    for cmd in manifest()["features"]["slash_commands"]:
        assert len(cmd["command"]) <= 32
        assert 0 < len(cmd["description"]) <= 100
        assert 0 < len(cmd["usage_hint"]) <= 100
        assert cmd["should_escape"] is (cmd["command"] in MENTIONING), cmd["command"]


def test_manifest_enables_home_interactivity_and_socket_mode() -> None:
    data = manifest()
    assert data["_metadata"]["major_version"] == 1
    assert len(data["display_information"]["name"]) <= 35
    assert len(data["display_information"]["description"]) <= 140
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is True
    assert "app_home_opened" in data["settings"]["event_subscriptions"]["bot_events"]


def test_bot_scopes_are_the_least_the_code_needs() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    # commands: slash commands; chat:write: replies and DMs; files:write: files_upload_v2;
    # users:read: users.info for locale and time zone; im:write: conversations.open;
    # users:read.email: users.lookupByEmail, a CRM deal's owner (the webhook, the import);
    # files:read: the import modal's file.
    assert scopes == {
        "commands",
        "chat:write",
        "files:write",
        "users:read",
        "im:write",
        "users:read.email",
        "files:read",
    }
    assert scopes == set(SCOPES)


def test_the_bolt_app_answers_every_manifest_command_and_nothing_else(
    sqlite_engine: Engine,
) -> None:
    # Bolt answers 404 when no listener matches: dispatch each command, signed as Slack does.
    with FakeSlack() as fake:
        settings = Settings(bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.api_url)
        app = build_app(settings, sqlite_engine)
        declared = [c["command"] for c in manifest()["features"]["slash_commands"]]
        helps: dict[str, str] = {}
        for command in [*declared, "/unknown"]:
            body = slash_body(
                command=command,
                text="help",
                team_id="T1",
                user_id="U1",
                trigger_id=f"trigger-{command}",  # a delivery of its own each
                response_url=fake.response_url(command.strip("/")),
            )
            ts = str(int(time.time()))
            headers = {
                "content-type": ["application/x-www-form-urlencoded"],
                "x-slack-request-timestamp": [ts],
                "x-slack-signature": [sign(SECRET, ts, body)],
            }
            response = app.dispatch(BoltRequest(body=body.decode(), headers=headers))
            assert response.status == (404 if command == "/unknown" else 200), command
            if command != "/unknown":  # each command's help is its acknowledgement
                helps[command] = json.loads(response.body)["text"]
    assert len(set(helps.values())) == len(declared)  # each its own help
