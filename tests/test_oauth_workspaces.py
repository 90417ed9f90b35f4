"""An OAuth install in two workspaces speaks first in each, with that workspace's own token.

Through the real HTTP app (signed requests, the install page and Slack's redirect) and the
fake Slack, which answers oauth.v2.access with a distinct bot token per authorization code
and records the Authorization header of every call. SQLite (a file) and PostgreSQL.

Every id of workspace A ends in "A" and every id of B in "B" (users, channels, DMs), so a
call that carries one workspace's token and names the other's user or channel is a
crossing, and `crossings` finds it.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine
from sqlmodel import select

from bot.app import build_app, clients
from bot.cli import _start_scheduler, jobs_run, parser
from bot.delivery import slack_or
from bot.http import wsgi_app
from bot.outbox import Outbox, Routes
from bot.scheduler import Scheduler, run_by_hand
from bot.settings import Settings
from bot.tokens import Clients, Installed
from commands.types import Notice
from storage.engine import session_scope
from storage.models import SentMessage
from tests import test_oauth_lifecycle
from tests.fakeslack import FakeSlack, Install, SlackSender, eventually, slash_body, token_of
from tests.test_http_mode import SECRET, Server, settings_for
from tests.test_oauth_lifecycle import CLIENT_ID, post_event, uninstalled, uninstalled_at

TA, TB = "TWSA", "TWSB"
TOKEN = {TA: "xoxb-workspace-a", TB: "xoxb-workspace-b"}
INSTALLER = {TA: "UINSTALLERA", TB: "UINSTALLERB"}
REP = {TA: "UREPA", TB: "UREPB"}
CHANNEL = {TA: "CSALESA", TB: "CSALESB"}
DM = {TA: "DREPA", TB: "DREPB"}
BOSS_B = "UBOSSB"  # PACER_ADMINS names him for workspace B only
CODE = {TA: "code-a", TB: "code-b"}
NINE_NY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wed 25 Nov 2026, 09:00 in New York
DAY = timedelta(days=1)
TRIGGERS = itertools.count(1)
base = test_oauth_lifecycle.base  # a SQLite file, or this process's PostgreSQL schema


@dataclass
class Pacer:
    """Pacer in OAuth mode behind its HTTP endpoint, and what it is configured with."""

    slack: SlackSender
    settings: Settings
    engine: Engine
    schedulers: list[Scheduler] = field(default_factory=list)

    def install(self, team: str) -> None:
        """The OAuth flow as a browser goes through it: install page, then the redirect."""
        page = self.slack.get("/slack/install")
        cookie = page.headers["Set-Cookie"].split(";")[0]
        state = cookie.split("=", 1)[1]
        done = self.slack.get(
            f"/slack/oauth_redirect?code={CODE[team]}&state={state}", {"Cookie": cookie}
        )
        assert done.status == 200

    def command(self, fake: FakeSlack, team: str, user: str, name: str, text: str) -> str:
        """A slash command signed as Slack signs it; the reply text its ack carries."""
        trigger = f"trigger-{next(TRIGGERS)}"
        body = _slash(fake, team, user, name, text, trigger)
        answer = self.slack.post(body)
        assert answer.status == 200
        reply: dict[str, Any] = answer.json() if answer.body else {}
        return str(reply.get("text", ""))

    def scheduler(self, now: datetime) -> Scheduler:
        senders = clients(self.settings, self.engine)
        assert isinstance(senders, Installed)
        made = Scheduler(self.engine, senders, clock=lambda: now)
        self.schedulers.append(made)  # stopped at the end: on PostgreSQL it holds the lock
        return made


def _slash(fake: FakeSlack, team: str, user: str, name: str, text: str, trigger: str) -> bytes:
    return slash_body(
        command=name,
        text=text,
        team_id=team,
        user_id=user,
        user_name=user.lower(),
        channel_id=CHANNEL[team],
        channel_name="sales",
        trigger_id=trigger,
        response_url=fake.response_url(trigger),
    )


def oauth_settings(fake: FakeSlack, engine: Engine) -> Settings:
    return settings_for(
        fake,
        engine,
        bot_token=None,
        client_id=CLIENT_ID,
        client_secret="client-secret",
        admins=frozenset({f"{TB}:{BOSS_B}"}),
    )


@pytest.fixture
def pacer(fake: FakeSlack, base: Engine) -> Iterator[Pacer]:
    for team in (TA, TB):
        fake.installs[CODE[team]] = Install(team=team, token=TOKEN[team], user=INSTALLER[team])
    settings = oauth_settings(fake, base)
    server = Server(wsgi_app(build_app(settings, base), base))
    made = Pacer(SlackSender(server.url, SECRET), settings, base)
    yield made
    for scheduler in made.schedulers:
        scheduler.stop()
    server.close()


def both_set_up(pacer: Pacer, fake: FakeSlack) -> None:
    """Both workspaces installed through the OAuth flow, each with its team and goal."""
    for team in (TA, TB):
        pacer.install(team)
    for team in (TA, TB):
        set_up(pacer, fake, team, INSTALLER[team])


def set_up(pacer: Pacer, fake: FakeSlack, team: str, admin: str) -> None:
    """Team East (New York) with a rep whose $20,000 November goal has nothing won yet:
    behind pace every working day of late November."""
    for text in (
        f"setup team create East <#{CHANNEL[team]}|sales> tz:America/New_York",
        f"setup team add East <@{REP[team]}|rep>",
        "setup threshold East 1000",
    ):
        said = pacer.command(fake, team, admin, "/pacer", text)
        assert "✅" in said or "East" in said, said
    said = pacer.command(fake, team, admin, "/goal", f"set <@{REP[team]}|rep> 20000 2026-11")
    assert "20,000" in said, said


def crossings(fake: FakeSlack) -> list[str]:
    """Calls made with one workspace's token that name a user or channel of another."""
    workspace_of = {token: team for team, token in TOKEN.items()}
    found = []
    for call in fake.calls:
        token = token_of(call)
        if token is None or call.method in ("auth.test", "oauth.v2.access"):
            continue
        team = workspace_of.get(token)
        if team is None:
            found.append(f"{call.method} with a token of no workspace")
            continue
        for name in ("channel", "channel_id", "users", "user"):
            value = str(call.params.get(name, ""))
            if value and value[-1] != team[-1]:
                found.append(f"{call.method} {name}={value} with the token of {team}")
    return found


def failed_rows(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(session.exec(select(SentMessage).where(SentMessage.status == "failed")).all())


def dms(fake: FakeSlack, since: int = 0) -> list[tuple[str, str | None]]:
    """(channel, token) of each direct message posted after call number `since`."""
    return [
        (str(c.params["channel"]), token_of(c))
        for c in fake.calls[since:]
        if c.method == "chat.postMessage" and str(c.params.get("channel", "")).startswith("D")
    ]


# --- two workspaces, each with its own token -----------------------------------------------


def test_each_workspace_gets_its_jobs_and_celebrations_with_its_own_token(
    pacer: Pacer,
    fake: FakeSlack,
    base: Engine,
) -> None:
    pacer.install(TA)
    pacer.install(TB)
    set_up(pacer, fake, TA, INSTALLER[TA])
    set_up(pacer, fake, TB, BOSS_B)  # PACER_ADMINS' TB:UBOSSB is an admin of B

    # The lag job at 09:00 in New York: each rep is warned, in their own workspace.
    pacer.scheduler(NINE_NY).catch_up(NINE_NY)
    assert sorted(dms(fake)) == [(DM[TA], TOKEN[TA]), (DM[TB], TOKEN[TB])]

    # Monday's leaderboard, uploaded to each team channel with that workspace's token.
    monday = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    senders = clients(pacer.settings, base)
    assert senders is not None
    board = run_by_hand(base, senders, "weekly-leaderboard", None, date(2026, 11, 30), monday)
    assert board.sent == 2
    shared = {
        (str(c.params["channel_id"]), token_of(c))
        for c in fake.called("files.completeUploadExternal")
    }
    assert shared == {(CHANNEL[TA], TOKEN[TA]), (CHANNEL[TB], TOKEN[TB])}

    # A big deal is celebrated in its team channel with the token of the command's workspace.
    for team in (TA, TB):
        pacer.command(fake, team, REP[team], "/deal", "5000 Acme Corp")
    posted = fake.wait_for(
        "chat.postMessage", 2, where=lambda c: str(c.params["channel"]).startswith("CSALES")
    )
    assert {(str(c.params["channel"]), token_of(c)) for c in posted} == {
        (CHANNEL[TA], TOKEN[TA]),
        (CHANNEL[TB], TOKEN[TB]),
    }
    assert crossings(fake) == []

    # PACER_ADMINS' TB:UBOSSB is no admin of workspace A.
    said = pacer.command(fake, TA, BOSS_B, "/pacer", "setup team create West")
    assert "admin" in said.lower(), said


def test_an_uninstalled_workspace_gets_nothing_until_it_is_installed_again(
    pacer: Pacer, fake: FakeSlack, base: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    both_set_up(pacer, fake)

    assert post_event(pacer.slack, uninstalled(TA)) == 200
    eventually(lambda: uninstalled_at(base, TA))

    caplog.set_level(logging.INFO, logger="bot.scheduler")
    thursday = NINE_NY + DAY
    scheduler = pacer.scheduler(thursday)
    scheduler.sync()
    scheduler.sync()  # said once, not at every sync
    scheduler.catch_up(thursday)
    assert dms(fake) == [(DM[TB], TOKEN[TB])]
    skipped = [r for r in caplog.records if "its scheduled jobs are skipped" in r.getMessage()]
    assert [r.getMessage().split()[1] for r in skipped] == [TA]

    pacer.install(TA)  # the success callback resumes the workspace
    assert uninstalled_at(base, TA) is None

    before = len(fake.calls)
    friday = thursday + DAY
    scheduler.sync()
    scheduler.catch_up(friday)
    assert sorted(dms(fake, before)) == [(DM[TA], TOKEN[TA]), (DM[TB], TOKEN[TB])]
    assert any("installed again" in r.getMessage() for r in caplog.records)
    assert crossings(fake) == []


def test_a_token_slack_refuses_marks_its_workspace_and_the_other_still_gets_its_messages(
    pacer: Pacer, fake: FakeSlack, base: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    both_set_up(pacer, fake)
    fake.refuse(TOKEN[TA], "invalid_auth")  # revoked behind Pacer's back: no event came

    pacer.scheduler(NINE_NY).catch_up(NINE_NY)

    assert uninstalled_at(base, TA) is not None
    assert uninstalled_at(base, TB) is None
    assert [dm for dm in dms(fake) if dm[1] == TOKEN[TB]] == [(DM[TB], TOKEN[TB])]
    dropped = [r.getMessage() for r in caplog.records if "dropped: invalid_auth" in r.getMessage()]
    assert len(dropped) == 1 and TA in dropped[0]

    # Not tried again: the next day's run and the retries leave workspace A alone.
    tried = len([c for c in fake.calls if token_of(c) == TOKEN[TA]])
    before = len(fake.calls)
    thursday = NINE_NY + DAY
    pacer.scheduler(thursday).catch_up(thursday)
    assert len([c for c in fake.calls if token_of(c) == TOKEN[TA]]) == tried
    assert dms(fake, before) == [(DM[TB], TOKEN[TB])]


# --- token rotation -------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_once_and_the_fresh_one_is_used(
    pacer: Pacer, fake: FakeSlack, base: Engine
) -> None:
    fake.installs[CODE[TA]] = Install(
        team=TA,
        token="xoxb-workspace-a-expired",
        user=INSTALLER[TA],
        expires_in=-60,  # expired a minute ago
        refresh_token="xoxe-1-a",
    )
    fake.refreshes["xoxe-1-a"] = (TOKEN[TA], "xoxe-1-a-next")
    pacer.install(TA)
    pacer.install(TB)
    senders = clients(pacer.settings, base)
    assert senders is not None

    for team in (TA, TB):
        notice = Notice(key=f"hello-{team}", text="Pacer here", user_id=REP[team])
        assert Outbox(base, _routes(senders)).send(team, notice)
    assert Outbox(base, _routes(senders)).send(TA, Notice(key="again", text="hi", user_id=REP[TA]))

    refreshed = [c for c in fake.called("oauth.v2.access") if c.params.get("grant_type")]
    assert [c.params["refresh_token"] for c in refreshed] == ["xoxe-1-a"]
    assert sorted(dms(fake)) == [(DM[TA], TOKEN[TA]), (DM[TA], TOKEN[TA]), (DM[TB], TOKEN[TB])]
    store = SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=base)
    saved = store.find_installation(enterprise_id=None, team_id=TA)
    assert saved is not None
    assert (saved.bot_token, saved.bot_refresh_token) == (TOKEN[TA], "xoxe-1-a-next")

    # A process that starts now reads the saved token: no second refresh.
    again = clients(pacer.settings, base)
    assert again is not None
    assert Outbox(base, _routes(again)).send(TA, Notice(key="later", text="hi", user_id=REP[TA]))
    assert len([c for c in fake.called("oauth.v2.access") if c.params.get("grant_type")]) == 1
    assert crossings(fake) == []


def _routes(senders: Clients) -> Routes:
    routes = slack_or(senders)
    assert isinstance(routes, Routes)
    return routes


# --- pacer jobs run --workspace --------------------------------------------------------------


def test_jobs_run_with_workspace_sends_to_that_workspace_only(
    pacer: Pacer, fake: FakeSlack, base: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    both_set_up(pacer, fake)
    args = ["jobs", "run", "lag-warnings", "--workspace", TA, "--date", "2026-11-25"]
    # As an operator runs it: client id and secret, no signing secret, no bot token.
    operator = Settings(
        database_url=str(base.url),
        client_id=CLIENT_ID,
        client_secret="client-secret",
        api_url=fake.api_url,
    )
    before = len(fake.calls)

    jobs_run(operator, base, parser().parse_args(args))

    assert capsys.readouterr().out == "lag-warnings: 1 sent, 0 already sent or failed\n"
    assert dms(fake, before) == [(DM[TA], TOKEN[TA])]
    assert crossings(fake) == []


# --- one workspace's slow Slack holds no other's messages ----------------------------------


def test_a_slow_workspace_does_not_delay_the_others_retries_or_jobs(
    pacer: Pacer, fake: FakeSlack, base: Engine
) -> None:
    both_set_up(pacer, fake)
    senders = clients(pacer.settings, base)
    assert senders is not None
    outbox = Outbox(base, _routes(senders))
    # Failed once each, A's first: the retry job finds A's row before B's three.
    for team, count in ((TA, 1), (TB, 3)):
        for n in range(count):
            notice = Notice(key=f"failed-{team}-{n}", text="Pacer here", user_id=REP[team])
            assert outbox.send_later(team, notice)
    fake.slow_token(TOKEN[TA], 1.0)  # A's Slack answers late (a 429's wait, a slow edge)
    before = len(fake.calls)

    assert outbox.retry_unsent(now=datetime.now(UTC) + timedelta(minutes=1)) == 4

    order = [token for _, token in dms(fake, before)]
    assert order == [TOKEN[TB]] * 3 + [TOKEN[TA]]  # B's were out before A's first answer

    start = len(fake.calls)
    pacer.scheduler(NINE_NY).catch_up(NINE_NY)
    first = [token for _, token in dms(fake, start)]
    assert first == [TOKEN[TB], TOKEN[TA]]


def test_team_jobs_due_at_once_fire_side_by_side_on_the_schedulers_pool(
    pacer: Pacer, fake: FakeSlack, base: Engine
) -> None:
    both_set_up(pacer, fake)
    fake.slow_token(TOKEN[TA], 1.0)
    scheduler = pacer.scheduler(NINE_NY)
    scheduler.scheduler.start(paused=True)  # only the team jobs: no lock campaign, no retry
    try:
        scheduler.sync()
        teams = [job for job in scheduler.scheduler.get_jobs() if job.id.startswith("team:")]
        assert len(teams) == 2
        for job in sorted(teams, key=lambda job: job.id):  # A's job is first
            job.modify(next_run_time=datetime.now(UTC))
        before = len(fake.calls)
        scheduler.scheduler.resume()
        fake.wait_for("chat.postMessage", 2, where=lambda c: str(c.params["channel"])[0] == "D")
    finally:
        scheduler.stop()
    assert [token for _, token in dms(fake, before)] == [TOKEN[TB], TOKEN[TA]]


def test_a_notice_a_command_recorded_is_retried_with_its_workspaces_token(
    pacer: Pacer, fake: FakeSlack, base: Engine
) -> None:
    pacer.install(TA)
    pacer.install(TB)
    set_up(pacer, fake, TB, INSTALLER[TB])
    fake.fail("chat.postMessage", "fatal_error")  # the celebration's first try fails

    pacer.command(fake, TB, REP[TB], "/deal", "5000 Acme Corp")
    eventually(lambda: failed_rows(base) or None)  # the post pool marked its try failed

    scheduler = pacer.scheduler(datetime.now(UTC) + timedelta(minutes=1))
    assert scheduler.retry() == 1
    first, again = fake.called("chat.postMessage")
    assert (str(again.params["channel"]), token_of(again)) == (CHANNEL[TB], TOKEN[TB])
    assert token_of(first) == TOKEN[TB]
    assert crossings(fake) == []


def test_an_oauth_start_schedules_every_workspace_and_says_so(
    fake: FakeSlack, base: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pacer")
    scheduler = _start_scheduler(oauth_settings(fake, base), base)
    try:
        assert isinstance(scheduler, Scheduler)
        assert isinstance(scheduler.client, Installed)
    finally:
        scheduler.stop()
    said = [r.getMessage() for r in caplog.records if r.name == "pacer"]
    assert "scheduled messages: every installed workspace, with its own token" in said


def test_a_refresh_slack_refuses_marks_the_workspace_and_the_other_still_gets_its_messages(
    pacer: Pacer, fake: FakeSlack, base: Engine
) -> None:
    fake.installs[CODE[TA]] = Install(
        team=TA, token=TOKEN[TA], user=INSTALLER[TA], expires_in=-60, refresh_token="xoxe-dead"
    )
    pacer.install(TA)
    pacer.install(TB)
    fake.fail("oauth.v2.access", "invalid_refresh_token")
    senders = clients(pacer.settings, base)
    assert senders is not None
    outbox = Outbox(base, _routes(senders))

    assert not outbox.send(TA, Notice(key="to-a", text="hi", user_id=REP[TA]))
    assert outbox.send(TB, Notice(key="to-b", text="hi", user_id=REP[TB]))

    assert uninstalled_at(base, TA) is not None
    assert dms(fake) == [(DM[TB], TOKEN[TB])]
