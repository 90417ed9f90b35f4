"""Settings: which mode the environment selects, and secrets kept out of sight."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.settings import Mode, Settings, load

BOT = "xoxb-1-secret-bot"
APP = "xapp-1-secret-app"
SIGNING = "secret-signing-value"
CLIENT_SECRET = "secret-client-value"


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({"SLACK_BOT_TOKEN": BOT, "SLACK_APP_TOKEN": APP}, Mode.SOCKET),
        ({"SLACK_BOT_TOKEN": BOT, "SLACK_SIGNING_SECRET": SIGNING}, Mode.HTTP),
        (
            {
                "SLACK_CLIENT_ID": "111.222",
                "SLACK_CLIENT_SECRET": CLIENT_SECRET,
                "SLACK_SIGNING_SECRET": SIGNING,
            },
            Mode.OAUTH,
        ),
        ({}, Mode.CONSOLE),
        ({"SLACK_BOT_TOKEN": BOT}, Mode.CONSOLE),  # a token alone cannot receive anything
        ({"SLACK_APP_TOKEN": APP, "SLACK_SIGNING_SECRET": SIGNING}, Mode.CONSOLE),
        ({"SLACK_BOT_TOKEN": "  ", "SLACK_APP_TOKEN": APP}, Mode.CONSOLE),  # blank is unset
    ],
)
def test_the_environment_selects_the_mode(env: dict[str, str], mode: Mode) -> None:
    assert load(env).mode == mode


def test_oauth_wins_when_every_variable_is_set() -> None:
    env = {
        "SLACK_BOT_TOKEN": BOT,
        "SLACK_APP_TOKEN": APP,
        "SLACK_SIGNING_SECRET": SIGNING,
        "SLACK_CLIENT_ID": "111.222",
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
    }
    assert load(env).mode == Mode.OAUTH


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api/"),
        ("http://127.0.0.1:8080/api/", "http://127.0.0.1:8080/api/"),
        ("", None),
    ],
)
def test_slack_api_url_gets_the_trailing_slash_urljoin_needs(
    given: str, expected: str | None
) -> None:
    assert load({"SLACK_API_URL": given}).slack_api_url == expected


def test_pacer_admins_is_a_comma_separated_list_of_user_ids() -> None:
    settings = load({"PACER_ADMINS": " U111, U222 ,,U333 "})
    assert settings.admins == frozenset({"U111", "U222", "U333"})
    assert load({}).admins == frozenset()


def test_port_database_and_log_level_have_defaults() -> None:
    settings = load({})
    assert (settings.port, settings.log_level) == (3000, "INFO")
    assert settings.database_url.startswith("sqlite:///")
    assert load({"PORT": "8080", "DATABASE_URL": "postgresql://db/pacer"}).port == 8080


def test_secrets_never_appear_in_repr() -> None:
    settings = load(
        {
            "SLACK_BOT_TOKEN": BOT,
            "SLACK_APP_TOKEN": APP,
            "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_CLIENT_ID": "111.222",
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        }
    )
    shown = repr(settings) + str(settings)
    for secret in (BOT, APP, SIGNING, CLIENT_SECRET):
        assert secret not in shown
    assert "111.222" in shown  # the client id is not a secret


def test_the_environment_overrides_the_dotenv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"SLACK_BOT_TOKEN={BOT}\nSLACK_APP_TOKEN={APP}\nPORT=4000\n")
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "5000")

    settings = load(dotenv_path=str(dotenv))

    assert settings.mode == Mode.SOCKET
    assert settings.port == 5000


# --- the `pacer` command ----------------------------------------------------------------------


def test_log_lines_never_carry_tokens_or_secrets() -> None:
    import logging

    from bot.cli import Redact

    redact = Redact([BOT, SIGNING, None])
    record = logging.LogRecord(
        "slack_sdk", logging.DEBUG, __file__, 1, "token=%s secret=%s other=%s", None, None
    )
    record.args = (BOT, SIGNING, "xoxp-99-user-token")

    assert redact.filter(record) is True
    assert record.getMessage() == "token=xoxb-*** secret=*** other=xoxp-***"


@pytest.fixture
def no_slack_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setattr("bot.cli.configure_logging", lambda settings: None)
    return tmp_path / "missing.env"


@pytest.mark.parametrize(("argv", "demo"), [([], False), (["console"], False), (["demo"], True)])
def test_pacer_opens_the_console_without_slack_settings(
    argv: list[str], demo: bool, no_slack_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import inspect

    from bot import cli

    seen: list[tuple[str, bool, list[str]]] = []

    class Console:
        @staticmethod
        def run(settings: Settings, engine: Engine, *, demo: bool) -> None:
            seen.append((settings.mode, demo, inspect(engine).get_table_names()))

    monkeypatch.setattr(cli, "_console", lambda: Console)

    cli.main(["--env-file", str(no_slack_env), *argv])

    [(mode, got_demo, tables)] = seen
    assert (mode, got_demo) == (Mode.CONSOLE, demo)
    assert {"deal", "goal", "member", "alembic_version"} <= set(tables)  # migrated first
