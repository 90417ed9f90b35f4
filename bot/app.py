"""The Bolt app factory: clients, listeners and (in OAuth mode) the install flow."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import Engine

from bot import lifecycle
from bot.delivery import SEND_TIMEOUT
from bot.listeners import Pacer
from bot.settings import Mode, Settings
from bot.tokens import REFRESH_MINUTES, Clients, Installed, OneToken
from bot.work import Work
from commands import registry
from storage import queries
from storage.engine import READ_ONLY, session_scope

if TYPE_CHECKING:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

log = logging.getLogger(__name__)

# The bot scopes in manifest.yml (tests/test_manifest.py keeps that list minimal).
SCOPES = [
    "commands",
    "chat:write",
    "files:write",
    "users:read",
    "im:write",
    "users:read.email",  # the CSV import and the webhook: a CRM owner's email to the member
    "files:read",  # the /pacer import modal: the CSV file the user chose
]
STATE_SECONDS = 600


def web_client(
    settings: Settings, token: str | None = None, timeout: int = SEND_TIMEOUT
) -> WebClient:
    """A Web API client at SLACK_API_URL (if set) that waits out 429s and retries 5xx once;
    a call hung longer than `timeout` seconds fails (the outbox retries it later)."""
    kwargs: dict[str, Any] = {}
    if settings.slack_api_url:
        kwargs["base_url"] = settings.slack_api_url
    return WebClient(
        token=token,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(),
            # Slack answers bursts with 429 and Retry-After; a run of a thousand DMs meets
            # several in a row, and waiting them out is how nothing gets lost.
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=1),
        ],
        **kwargs,
    )


def build_app(settings: Settings, engine: Engine, work: Work | None = None) -> App:
    """The one Bolt app for Socket Mode, HTTP and OAuth; calls auth.test unless OAuth.

    Every listener runs on the request thread (`process_before_response`) and acknowledges
    itself once its writes are committed: with Bolt's default, the ack waits for a free
    worker of Bolt's own pool, and a slow Slack holding those workers made acks late."""
    if settings.mode == Mode.OAUTH:
        if settings.bare_admins:  # user ids only, never a secret
            log.warning(
                "PACER_ADMINS entries without a workspace are ignored in OAuth mode: %s "
                "(write them as TEAM_ID:USER_ID)",
                ", ".join(sorted(settings.bare_admins)),
            )
        client = web_client(settings)
        app = App(
            signing_secret=settings.signing_secret,
            client=client,
            process_before_response=True,
            oauth_settings=oauth_settings(settings, engine, client),
        )
    else:
        if os.environ.get("SLACK_CLIENT_ID") and os.environ.get("SLACK_CLIENT_SECRET"):
            # Bolt then builds file-based OAuth on its own and ignores the bot token.
            log.warning(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are exported but the mode is %s: "
                "unset them, or add SLACK_SIGNING_SECRET for OAuth mode",
                settings.mode,
            )
        app = App(
            signing_secret=settings.signing_secret or "",
            client=web_client(settings, settings.bot_token),
            process_before_response=True,
        )
    register(app, Pacer(settings, engine, work or Work()))
    lifecycle.register(app, engine)
    return app


def register(app: App, p: Pacer) -> None:
    def on_command(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        p.command(body, client, ack, respond)

    def on_action(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        p.action(body, client, ack, respond)

    def on_submission(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        p.submission(body, client, ack)

    def on_home(ack: Ack, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        p.home(event, context.team_id or "", client)

    # Everything the registry declares, and nothing else.
    for command in registry.slash_commands():
        app.command(command)(on_command)
    for action in registry.ACTIONS:
        app.action(action.action_id)(on_action)
    for form in registry.FORMS:
        app.view_submission(form.callback_id)(on_submission)
    app.event("app_home_opened")(on_home)


# --- OAuth (multi-workspace) ---------------------------------------------------------------------


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    # Imported here: the store pulls in sqlalchemy.ext.asyncio, which only OAuth needs.
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    assert settings.client_id
    store = SQLAlchemyInstallationStore(client_id=settings.client_id, engine=engine)
    # Every request's authorize looks its workspace's token up: through a read scope's
    # engine, so that lookup never takes SQLite's write lock (saves keep the engine).
    reader = SQLAlchemyInstallationStore(
        client_id=settings.client_id, engine=engine.execution_options(**{READ_ONLY: True})
    )
    store.find_bot = reader.find_bot  # type: ignore[method-assign]
    store.find_installation = reader.find_installation  # type: ignore[method-assign]
    return store


def oauth_install(settings: Settings) -> bool:
    """OAuth mode, or (for `pacer jobs run`, which needs no signing secret) the client id
    and secret of an OAuth install without a bot token of its own."""
    has_client = bool(settings.client_id and settings.client_secret)
    return settings.mode == Mode.OAUTH or (has_client and not settings.bot_token)


def clients(settings: Settings, engine: Engine) -> Clients | None:
    """What Pacer's own messages are sent with: each workspace's token from the installation
    store (OAuth), else the one SLACK_BOT_TOKEN; None where there is no way to Slack."""
    if oauth_install(settings):
        assert settings.client_id and settings.client_secret
        # The rotator's own client would call slack.com: it gets ours, at SLACK_API_URL.
        rotator = TokenRotator(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            client=web_client(settings),
        )
        store = installation_store(settings, engine)
        return Installed(store, rotator, lambda token: web_client(settings, token))
    if settings.bot_token:
        return OneToken(web_client(settings, settings.bot_token))
    return None


def oauth_settings(settings: Settings, engine: Engine, client: WebClient) -> OAuthSettings:
    """Installations and OAuth states in Pacer's database (tables made by the migrations,
    0008); the installer becomes an admin, and a workspace that had uninstalled resumes."""
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    assert settings.client_id and settings.client_secret
    installations = installation_store(settings, engine)
    states = SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine)

    def success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        if installation.team_id and installation.user_id:
            with session_scope(engine) as session:
                queries.ensure_member(
                    session,
                    workspace_id=installation.team_id,
                    user_id=installation.user_id,
                    admin=True,
                )
        lifecycle.resume(engine, installation.team_id)
        return args.default.success(args)

    def failure(args: FailureArgs) -> BoltResponse:
        return args.default.failure(args)

    oauth = OAuthSettings(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scopes=SCOPES,
        installation_store=installations,
        state_store=states,
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=REFRESH_MINUTES,
        callback_options=CallbackOptions(success=success, failure=failure),
    )
    # The default authorize builds its own token-rotation client at slack.com: use ours.
    oauth.authorize = InstallationStoreAuthorize(
        logger=logging.getLogger("slack_bolt.authorize"),
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        installation_store=installations,
        token_rotation_expiration_minutes=REFRESH_MINUTES,
        client=client,
    )
    return oauth
