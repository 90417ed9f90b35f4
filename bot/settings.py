"""Settings from the environment or a .env file; read once, in the app factory's caller."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from dotenv import dotenv_values

from storage.engine import DEFAULT_URL


def cores() -> int:
    """The CPUs this process may run on (a container's share, not the host's), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Mode(StrEnum):
    SOCKET = "socket"
    HTTP = "http"
    OAUTH = "oauth"
    CONSOLE = "console"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    api_url: str | None = None  # SLACK_API_URL: Web API base for every client (tests, emulators)
    port: int = 3000
    # PACER_ADMINS as written: `T123:U456` (an admin of that workspace) or a bare `U456`.
    admins: frozenset[str] = frozenset()
    log_level: str = "INFO"
    log_format: str | None = None  # LOG_FORMAT json|text; unset: json when serving Slack
    # PACER_DRAW_PROCESSES: processes drawing charts for the server; 0 draws in the server.
    draw_processes: int = field(default_factory=cores)
    chart_cache_mb: int = 32  # PACER_CHART_CACHE_MB: drawn charts kept for asking again

    @property
    def mode(self) -> Mode:
        if self.client_id and self.client_secret and self.signing_secret:
            return Mode.OAUTH
        if self.bot_token and self.app_token:
            return Mode.SOCKET
        if self.bot_token and self.signing_secret:
            return Mode.HTTP
        return Mode.CONSOLE

    def admins_of(self, workspace_id: str) -> frozenset[str]:
        """The PACER_ADMINS users who are admins of this workspace: the `T123:U456` entries
        naming it, and the bare ids where there is only one workspace (not in OAuth mode,
        where a user id of one workspace must never be an admin of another)."""
        users = {user for team, user in map(_scoped, self.admins) if team == workspace_id}
        return frozenset(users | (set() if self.mode == Mode.OAUTH else self.bare_admins))

    @property
    def bare_admins(self) -> frozenset[str]:
        """PACER_ADMINS entries without a workspace: ignored in OAuth mode."""
        return frozenset(entry for entry in self.admins if _scoped(entry)[0] is None)

    @property
    def slack_api_url(self) -> str | None:
        """With the trailing slash the SDK's urljoin needs."""
        if not self.api_url:
            return None
        return self.api_url if self.api_url.endswith("/") else self.api_url + "/"


def _scoped(entry: str) -> tuple[str | None, str]:
    """`T123:U456` -> ("T123", "U456"); a bare `U456` -> (None, "U456")."""
    team, colon, user = entry.partition(":")
    return (team.strip(), user.strip()) if colon else (None, entry)


def load(env: Mapping[str, str] | None = None, dotenv_path: str | None = ".env") -> Settings:
    """Settings from `env` (default: the process environment over the .env file)."""
    if env is None:
        file_values = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None}
        env = {**file_values, **os.environ} if dotenv_path else dict(os.environ)

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    admins = frozenset(a.strip() for a in (get("PACER_ADMINS") or "").split(",") if a.strip())
    return Settings(
        database_url=get("DATABASE_URL") or DEFAULT_URL,
        bot_token=get("SLACK_BOT_TOKEN"),
        app_token=get("SLACK_APP_TOKEN"),
        signing_secret=get("SLACK_SIGNING_SECRET"),
        client_id=get("SLACK_CLIENT_ID"),
        client_secret=get("SLACK_CLIENT_SECRET"),
        api_url=get("SLACK_API_URL"),
        port=int(get("PORT") or 3000),
        admins=admins,
        log_level=get("LOG_LEVEL") or "INFO",
        log_format=(get("LOG_FORMAT") or "").lower() or None,
        draw_processes=max(0, int(get("PACER_DRAW_PROCESSES") or cores())),
        chart_cache_mb=max(0, int(get("PACER_CHART_CACHE_MB") or 32)),
    )
