"""manifest.yml is a valid Slack app manifest and agrees with the commands the code handles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from commands.router import COMMANDS

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"
MENTIONING = {"/deal", "/goal", "/progress", "/pacer"}  # take @user or #channel arguments


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return data


def test_manifest_declares_exactly_the_handled_commands() -> None:
    declared = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert declared == set(COMMANDS)


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
    # users:read: users.info for locale and time zone; im:write: conversations.open.
    assert scopes == {"commands", "chat:write", "files:write", "users:read", "im:write"}
