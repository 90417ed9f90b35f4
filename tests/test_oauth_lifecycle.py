"""The app's lifecycle in a workspace, through the real HTTP app and a fake Slack:
app_uninstalled and tokens_revoked stop every message Pacer sends on its own, reinstalling
resumes, bot tokens close to expiry are refreshed, and the Slack stores' tables come from
the migrations. SQLite (a file: waitress serves from several threads) and PostgreSQL.

The two event payloads are COMPOSED: the recorded event_callback envelope of
tests/fixtures with the inner event of Slack's documented app_uninstalled and
tokens_revoked (no recorded sample of either is in tests/fixtures).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine, text
from sqlmodel import select

from bot.app import build_app, web_client
from bot.delivery import SlackTransport
from bot.http import wsgi_app
from bot.outbox import Outbox
from bot.scheduler import run_by_hand
from commands.types import Notice
from storage.engine import make_engine, session_scope
from storage.migrate import alembic_config, upgrade
from storage.models import SentMessage, Workspace
from tests.conftest import PostgresSchema, _drop, _postgres_engine
from tests.fakeslack import Answer, FakeSlack, SlackSender, eventually, fixture, slash_body
from tests.test_http_mode import ADMIN, ALICE, SECRET, Server, settings_for, setup_team

T1 = "T1"
NINE_NY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wed 25 Nov 2026, 09:00 in New York
INSTALLED = fixture("webapi.oauth.v2.access.bolt.json")  # what the fake's install answers
ORG, ENTERPRISE = INSTALLED["team"]["id"], INSTALLED["enterprise"]["id"]
CLIENT_ID = "111.222"
ONE_DM_TEXT = "Pacer here"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def base(request: pytest.FixtureRequest) -> Engine:
    """A migrated, empty database that threads (waitress, Bolt) share: a SQLite file, or
    this process's PostgreSQL schema."""
    if request.param == "sqlite":
        eng: Engine = request.getfixturevalue("db")
        return eng
    schema: PostgresSchema = request.getfixturevalue("postgres_schema")
    schema.empty()
    return schema.engine


def event_body(team: str, event: dict[str, Any], enterprise: str | None = None) -> bytes:
    body: dict[str, Any] = copy.deepcopy(fixture("event_callback.app_home_opened.home_tab.json"))
    body.update({"team_id": team, "event": event, "event_id": f"Ev{event['type']}"})
    if enterprise:
        body["enterprise_id"] = enterprise
    return json.dumps(body).encode()


def uninstalled(team: str, enterprise: str | None = None) -> bytes:
    return event_body(team, {"type": "app_uninstalled"}, enterprise)


def revoked(team: str, *, users: list[str], bots: list[str], enterprise: str | None) -> bytes:
    tokens = {"oauth": users, "bot": bots}
    return event_body(team, {"type": "tokens_revoked", "tokens": tokens}, enterprise)


def post_event(slack: SlackSender, body: bytes) -> int:
    return slack.post(body, content_type="application/json").status


def uninstalled_at(engine: Engine, workspace: str) -> datetime | None:
    with session_scope(engine) as session:
        ws = session.get(Workspace, workspace)
        return ws.uninstalled_at if ws else None


def rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def dm(key: str, user: str = ALICE) -> Notice:
    return Notice(key=key, text=ONE_DM_TEXT, user_id=user)


@pytest.fixture
def served(fake: FakeSlack, base: Engine) -> Iterator[SlackSender]:
    """HTTP mode with one bot token (workspace T1)."""
    server = Server(wsgi_app(build_app(settings_for(fake, base), base), base))
    yield SlackSender(server.url, SECRET)
    server.close()


@pytest.fixture
def oauth(fake: FakeSlack, base: Engine) -> Iterator[SlackSender]:
    """OAuth mode: installations in the store, no bot token of its own."""
    settings = settings_for(
        fake, base, bot_token=None, client_id=CLIENT_ID, client_secret="client-secret"
    )
    server = Server(wsgi_app(build_app(settings, base), base))
    yield SlackSender(server.url, SECRET)
    server.close()


def install(browser: SlackSender) -> None:
    """The OAuth flow as a browser goes through it: install page, then Slack's redirect."""
    page = browser.get("/slack/install")
    cookie = page.headers["Set-Cookie"].split(";")[0]
    state = cookie.split("=", 1)[1]
    done = browser.get(f"/slack/oauth_redirect?code=c0de&state={state}", {"Cookie": cookie})
    assert done.status == 200


def org_command(browser: SlackSender, fake: FakeSlack, response: str) -> Answer:
    """`/pacer help` from the org workspace; its acknowledgement (which carries the reply)."""
    body = slash_body(
        command="/pacer",
        text="help",
        team_id=ORG,
        enterprise_id=ENTERPRISE,
        user_id=INSTALLED["authed_user"]["id"],
        trigger_id=f"trigger-{response}",
        response_url=fake.response_url(response),
    )
    answer = browser.post(body)
    assert answer.status == 200
    return answer


# --- app_uninstalled in a single-workspace install ------------------------------------------


def test_app_uninstalled_stops_jobs_retries_and_notices_of_that_workspace(
    served: SlackSender, fake: FakeSlack, base: Engine
) -> None:
    # alice has a $20,000 goal for November and nothing won: behind pace on the 25th.
    setup_team(base, (ADMIN, "/goal", f"set <@{ALICE}|alice> 20000 2026-11"))
    client = web_client(settings_for(fake, base), "xoxb-t")
    outbox = Outbox(base, SlackTransport(client))
    fake.fail("chat.postMessage", "fatal_error")
    assert not outbox.send(T1, dm("failed-before"))  # failed: a retry would send it again

    assert post_event(served, uninstalled(T1)) == 200

    marked = eventually(lambda: uninstalled_at(base, T1))
    before = len(fake.called("chat.postMessage"))
    assert before == 1  # the failed try only
    day = date(2026, 11, 25)
    outcome = run_by_hand(base, client, "lag-warnings", None, day, NINE_NY)
    assert (outcome.sent, outcome.skipped) == (0, 0)  # no team of T1 is run at all
    assert outbox.retry_unsent(now=NINE_NY + timedelta(minutes=1)) == 0
    assert not outbox.send(T1, dm("celebration-after"))
    assert len(fake.called("chat.postMessage")) == before
    with session_scope(base) as session:
        assert session.get(Workspace, T1) is not None
        keys = set(session.exec(select(SentMessage.key)).all())
    assert keys == {"failed-before"}  # nothing new was even recorded

    # Slack delivers an event again when the ack is slow: the first mark stands.
    assert post_event(served, uninstalled(T1)) == 200
    assert uninstalled_at(base, T1) == marked


def test_another_workspace_keeps_its_messages(
    served: SlackSender, fake: FakeSlack, base: Engine
) -> None:
    client = web_client(settings_for(fake, base), "xoxb-t")
    outbox = Outbox(base, SlackTransport(client))
    assert post_event(served, uninstalled("T2")) == 200
    eventually(lambda: uninstalled_at(base, "T2"))
    assert outbox.send(T1, dm("t1-news"))
    assert not outbox.send("T2", dm("t2-news"))
    assert [c.params["text"] for c in fake.called("chat.postMessage")] == [ONE_DM_TEXT]


def test_a_start_with_a_valid_bot_token_resumes_its_workspace(
    fake: FakeSlack, base: Engine
) -> None:
    token_team = fixture("webapi.auth.test.bot.bolt.json")["team_id"]
    with session_scope(base) as session:
        session.add(Workspace(id=token_team, uninstalled_at=NINE_NY))
        session.add(Workspace(id="T2", uninstalled_at=NINE_NY))
    build_app(settings_for(fake, base), base)  # Bolt checks the token with auth.test
    assert uninstalled_at(base, token_team) is None
    assert uninstalled_at(base, "T2") == NINE_NY  # another workspace is not this token's
    assert [c.method for c in fake.calls] == ["auth.test"]  # that one call, not a second


# --- OAuth: uninstall, revoke, reinstall ------------------------------------------------------


def test_uninstalling_deletes_the_installation_and_reinstalling_resumes(
    oauth: SlackSender, fake: FakeSlack, base: Engine
) -> None:
    install(oauth)
    assert (rows(base, "slack_installations"), rows(base, "slack_bots")) == (1, 1)

    assert post_event(oauth, uninstalled(ORG, ENTERPRISE)) == 200

    eventually(lambda: uninstalled_at(base, ORG))
    eventually(lambda: rows(base, "slack_bots") == 0 or None)
    assert rows(base, "slack_installations") == 0
    # A command that still arrives finds no token: Bolt tells the user to reinstall.
    org_command(oauth, fake, "after-uninstall")
    [answer] = fake.wait_for("response")
    assert "no longer available" in answer.params["text"]
    assert fake.called("users.info") == []

    install(oauth)

    assert uninstalled_at(base, ORG) is None
    client = web_client(settings_for(fake, base), "xoxb-t")
    assert Outbox(base, SlackTransport(client)).send(ORG, dm("after-reinstall"))
    reply = org_command(oauth, fake, "after-reinstall").json()
    assert "Pacer" in reply["text"]


def test_revoked_user_tokens_keep_the_bot_a_revoked_bot_token_stops_it(
    oauth: SlackSender, fake: FakeSlack, base: Engine
) -> None:
    install(oauth)
    user = INSTALLED["authed_user"]["id"]
    assert post_event(oauth, revoked(ORG, users=[user], bots=[], enterprise=ENTERPRISE)) == 200
    # Bolt deletes that user's installation rows; the bot row stays and so does sending.
    eventually(lambda: rows(base, "slack_installations") == 0 or None)
    assert rows(base, "slack_bots") == 1
    assert uninstalled_at(base, ORG) is None

    bot = [INSTALLED["bot_user_id"]]
    assert post_event(oauth, revoked(ORG, users=[], bots=bot, enterprise=ENTERPRISE)) == 200

    eventually(lambda: uninstalled_at(base, ORG))
    eventually(lambda: rows(base, "slack_bots") == 0 or None)


# --- token rotation ---------------------------------------------------------------------------


def test_a_bot_token_close_to_expiry_is_refreshed_before_the_request_uses_it(
    oauth: SlackSender, fake: FakeSlack, base: Engine
) -> None:
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=base)
    store.save(
        Installation(
            app_id=INSTALLED["app_id"],
            enterprise_id=ENTERPRISE,
            team_id=ORG,
            user_id=INSTALLED["authed_user"]["id"],
            bot_token="xoxb-about-to-expire",
            bot_id="B1",
            bot_user_id=INSTALLED["bot_user_id"],
            bot_scopes="commands,chat:write",
            bot_refresh_token="xoxe-1-old-refresh",
            bot_token_expires_in=600,  # ten minutes left: inside the two-hour margin
        )
    )

    assert "Pacer" in org_command(oauth, fake, "first").json()["text"]

    refreshed = fixture("webapi.oauth.v2.access.token_rotation_refresh.bolt.json")
    [rotation] = fake.called("oauth.v2.access")
    assert rotation.params["grant_type"] == "refresh_token"
    assert rotation.params["refresh_token"] == "xoxe-1-old-refresh"
    [lookup] = fake.called("users.info")
    assert lookup.headers["authorization"] == f"Bearer {refreshed['access_token']}"
    bot = store.find_bot(enterprise_id=ENTERPRISE, team_id=ORG)
    assert bot is not None
    assert (bot.bot_token, bot.bot_refresh_token) == (
        refreshed["access_token"],
        refreshed["refresh_token"],
    )

    second = org_command(oauth, fake, "second")  # twelve hours left now: no second refresh
    assert "Pacer" in second.json()["text"]
    assert len(fake.called("oauth.v2.access")) == 1


# --- the stores' tables and the migrations ----------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own: the migrations run in it for real."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield eng
        eng.dispose()
        return
    eng, schema = _postgres_engine()
    yield eng
    _drop(eng, schema)


def test_tables_an_older_start_created_are_kept_by_the_migration(fresh: Engine) -> None:
    # Before 0008 the OAuth mode made the stores' tables itself at start, with rows in them.
    upgrade(fresh, "0006")
    old = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=fresh)
    old.create_tables()
    old.save(Installation(app_id="A1", team_id="T9", user_id="U9", bot_token="xoxb-kept"))

    upgrade(fresh)

    kept = old.find_bot(enterprise_id=None, team_id="T9")
    assert kept is not None and kept.bot_token == "xoxb-kept"
    with fresh.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    # The latest revision, whichever that is now (later ones keep the tables too).
    assert version == ScriptDirectory.from_config(alembic_config(fresh)).get_current_head()


def test_the_migrations_make_tables_the_stores_work_with(fresh: Engine) -> None:
    upgrade(fresh)
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=fresh)
    store.save(Installation(app_id="A1", team_id="T9", user_id="U9", bot_token="xoxb-new"))
    found = store.find_installation(enterprise_id=None, team_id="T9")
    assert found is not None and found.bot_token == "xoxb-new"
