"""PACER_ADMINS: `T1:U1` makes U1 an admin of workspace T1 only; a bare `U1` is an admin of
the one workspace of Socket Mode, HTTP mode and the console, and of none in OAuth mode,
where one install serves many workspaces. Checked through the listener that builds each
request (bot/listeners.py) and the router, with the same user id in two workspaces."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import build_app, web_client
from bot.listeners import Pacer
from bot.settings import Mode, Settings, load
from commands.i18n import t
from storage.models import Team
from tests.fakeslack import FakeSlack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CLIENT_SECRET = "client-secret-value"
OAUTH = {"client_id": "111.222", "client_secret": CLIENT_SECRET, "signing_secret": SECRET}
HTTP = {"bot_token": "xoxb-pacer-test-token", "signing_secret": SECRET}


def settings(fake: FakeSlack, db: Engine, admins: set[str], mode: dict[str, str]) -> Settings:
    return Settings(
        database_url=str(db.url), api_url=fake.api_url, admins=frozenset(admins), **mode
    )


def create_team(fake: FakeSlack, db: Engine, s: Settings, workspace: str, user: str) -> str:
    """`/pacer setup team create East` from `user` in `workspace`, through the listener: the
    reply's text."""
    acks: list[dict[str, Any]] = []
    body = {
        "team_id": workspace,
        "user_id": user,
        "command": "/pacer",
        "text": "setup team create East",
        "channel_id": "CEAST",
        "trigger_id": f"{workspace}.{user}.trigger",
    }
    client = web_client(s, "xoxb-any")
    Pacer(s, db).command(body, client, lambda **kw: acks.append(kw), lambda **_: None)
    [ack] = acks  # the reply travels in the acknowledgement
    return str(ack["text"])


def teams(db: Engine) -> list[str]:
    with Session(db) as session:
        return sorted(team.workspace_id for team in session.exec(select(Team)).all())


REFUSED = t("en-US", "error.admins_only")


def test_in_oauth_mode_a_scoped_admin_is_admin_of_its_workspace_only(
    fake: FakeSlack, db: Engine
) -> None:
    s = settings(fake, db, {"T1:U1"}, OAUTH)
    assert s.mode == Mode.OAUTH
    assert create_team(fake, db, s, "T1", "U1").startswith("Team created:")
    assert create_team(fake, db, s, "T2", "U1") == REFUSED  # the same user id, a rep in T2
    assert teams(db) == ["T1"]


def test_in_oauth_mode_a_bare_user_id_is_admin_of_no_workspace(fake: FakeSlack, db: Engine) -> None:
    s = settings(fake, db, {"U1", "T2:U2"}, OAUTH)
    assert create_team(fake, db, s, "T1", "U1") == REFUSED
    assert create_team(fake, db, s, "T2", "U1") == REFUSED
    assert teams(db) == []


def test_in_http_mode_a_bare_user_id_is_admin_of_the_one_workspace(
    fake: FakeSlack, db: Engine
) -> None:
    s = settings(fake, db, {"U1", "T9:U2"}, HTTP)
    assert s.mode == Mode.HTTP
    assert create_team(fake, db, s, "T1", "U1").startswith("Team created:")
    assert create_team(fake, db, s, "T1", "U2") == REFUSED  # an admin of T9 only
    assert teams(db) == ["T1"]


@pytest.mark.parametrize(
    ("mode", "t1", "t2"),
    [
        (OAUTH, {"U1"}, {"U3"}),
        (HTTP, {"U1", "U2"}, {"U2", "U3"}),
        ({"bot_token": "xoxb-1", "app_token": "xapp-1"}, {"U1", "U2"}, {"U2", "U3"}),  # socket
        ({}, {"U1", "U2"}, {"U2", "U3"}),  # the console
    ],
)
def test_admins_of_a_workspace_by_mode(mode: dict[str, str], t1: set[str], t2: set[str]) -> None:
    s = Settings(admins=load({"PACER_ADMINS": "T1:U1, U2 ,T2:U3"}).admins, **mode)
    assert (s.admins_of("T1"), s.admins_of("T2")) == (frozenset(t1), frozenset(t2))
    assert s.bare_admins == frozenset({"U2"})


def test_oauth_mode_warns_once_at_start_naming_the_ignored_entries(
    fake: FakeSlack, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        build_app(settings(fake, db, {"U1", "U2", "T1:U3"}, OAUTH), db)
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
    assert warnings == [
        "PACER_ADMINS entries without a workspace are ignored in OAuth mode: U1, U2 "
        "(write them as TEAM_ID:USER_ID)"
    ]
    assert CLIENT_SECRET not in caplog.text and SECRET not in caplog.text


def test_http_mode_does_not_warn(
    fake: FakeSlack, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.app"):
        build_app(settings(fake, db, {"U1"}, HTTP), db)
    assert [r for r in caplog.records if "PACER_ADMINS" in r.getMessage()] == []
