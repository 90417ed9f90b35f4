"""Which bot token speaks to which workspace, for what Pacer sends on its own.

With SLACK_BOT_TOKEN there is one client, for the one workspace Pacer serves. In an OAuth
install each workspace has its own bot token, in the installation store (slack_sdk's
SQLAlchemyInstallationStore, the tables of migration 0008): the latest installation of
the workspace, refreshed first when token rotation is on and it is about to expire (as
Bolt's InstallationStoreAuthorize does for requests, with our client at SLACK_API_URL).

Requests never come here: Bolt hands each one a client with its own workspace's token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import desc, select

if TYPE_CHECKING:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

log = logging.getLogger(__name__)

# With token rotation on, a bot token lives 12 hours; one this close to expiry is refreshed
# (oauth.v2.access, grant_type=refresh_token) before it is used.
REFRESH_MINUTES = 120
# A client is reused this long before the store is read again: a run of a thousand DMs
# reads it once, and a token refreshed by another instance is picked up within a minute.
# Far below REFRESH_MINUTES, so a cached token is never one that has expired.
CACHE_SECONDS = 60.0
# What oauth.v2.access answers when a refresh token can never work again.
REFRESH_REFUSED = frozenset(
    {"invalid_refresh_token", "invalid_auth", "token_revoked", "account_inactive"}
)


@runtime_checkable
class Clients(Protocol):
    def client_for(self, workspace_id: str) -> WebClient | None:
        """The client that speaks to the workspace, or None where Pacer has no token."""

    def forget(self, workspace_id: str) -> None:
        """Slack refused the workspace's token: the next call reads the store again."""


class OneToken:
    """SLACK_BOT_TOKEN: one client, for the one workspace of a single-workspace app."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def client_for(self, workspace_id: str) -> WebClient | None:
        return self.client

    def forget(self, workspace_id: str) -> None:
        pass


class Installed:
    """OAuth: each workspace's own bot token, from the installation store."""

    def __init__(
        self,
        store: SQLAlchemyInstallationStore,
        rotator: TokenRotator,
        make_client: Callable[[str], WebClient],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.rotator, self.make_client, self.clock = store, rotator, make_client, clock
        self._cache: dict[str, tuple[WebClient, float]] = {}
        self._guard = threading.Lock()
        # One lock per workspace: a slow refresh in one never holds another's sends.
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    def client_for(self, workspace_id: str) -> WebClient | None:
        with self._guard:
            lock = self._locks[workspace_id]
        with lock:  # two threads at once refresh a token once, not twice
            cached = self._cache.get(workspace_id)
            if cached is not None and cached[1] > self.clock():
                return cached[0]
            try:
                token = self._token(workspace_id)
            except SlackTokenRotationError as err:
                if _error(err) not in REFRESH_REFUSED:
                    raise  # e.g. still rate limited: the next run tries again
                log.warning("workspace %s: token refresh refused: %s", workspace_id, _error(err))
                token = None  # the refresh token is dead: only a reinstall helps
            if token is None:
                self._cache.pop(workspace_id, None)
                return None
            client = self.make_client(token)
            self._cache[workspace_id] = (client, self.clock() + CACHE_SECONDS)
            return client

    def forget(self, workspace_id: str) -> None:
        self._cache.pop(workspace_id, None)

    def _token(self, workspace_id: str) -> str | None:
        """The bot token of the latest installation, rotated (and saved) when expiring."""
        enterprise_id = self._enterprise_of(workspace_id)
        installation = self.store.find_installation(
            enterprise_id=enterprise_id, team_id=workspace_id
        )
        if installation is not None and installation.bot_token:
            return self._installation_token(workspace_id, installation)
        # The installing user's rows go with their revoked tokens; the bot's row stays.
        bot = self.store.find_bot(enterprise_id=enterprise_id, team_id=workspace_id)
        return self._bot_token(workspace_id, bot) if bot is not None else None

    def _installation_token(self, workspace_id: str, installation: Installation) -> str | None:
        rotated = self.rotator.perform_token_rotation(
            installation=installation, minutes_before_expiration=REFRESH_MINUTES
        )
        if rotated is None:
            return installation.bot_token
        self.store.save(rotated)  # both tables, as Bolt saves a rotation
        log.info("workspace %s: bot token refreshed", workspace_id)
        return rotated.bot_token

    def _bot_token(self, workspace_id: str, bot: Bot) -> str | None:
        rotated = self.rotator.perform_bot_token_rotation(
            bot=bot, minutes_before_expiration=REFRESH_MINUTES
        )
        if rotated is None:
            return bot.bot_token
        self.store.save_bot(rotated)
        log.info("workspace %s: bot token refreshed", workspace_id)
        return rotated.bot_token

    def _enterprise_of(self, workspace_id: str) -> str | None:
        """A workspace of an Enterprise Grid org is stored under its org's id too; Pacer
        knows a workspace by its team id alone, so the latest bot row tells the org."""
        bots = self.store.bots
        query = (
            select(bots.c.enterprise_id)
            .where(bots.c.client_id == self.store.client_id, bots.c.team_id == workspace_id)
            .order_by(desc(bots.c.installed_at))
            .limit(1)
        )
        with self.store.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return str(found) if found else None


def _error(err: SlackTokenRotationError) -> str:
    response = getattr(err.api_error, "response", None)
    return str(response.get("error")) if response is not None else "api error"
