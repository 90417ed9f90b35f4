"""Hostile names and free text reach Slack escaped, on every path: replies, in_channel
replies, notices (DMs and channel posts), updates, form intros and the scheduled jobs.

A Slack display name or a team name such as `<!channel>` must read as typed and notify
no one; the mentions Pacer itself makes (`<@UALICE>`) stay real mentions.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from commands import feedback, jobs, markup, router
from commands.types import Reply, Request
from storage import queries
from storage.engine import session_scope
from storage.models import Feedback, Team
from tests.conftest import ADMIN, NOW, Run

HOSTILE = [
    "<!channel> Eve <https://x|login>",
    "<!here>",
    "<@U123>",
    "<https://evil|click>",
    "*bold* & <b>",
]
# The references Pacer makes itself: people it mentions and the team's channel.
OWN = re.compile(r"<@U(?:ALICE|BOB|MIA|MAX|EVE|ADMIN)>|<#CEAST>")


def texts(reply: Reply) -> list[str]:
    """Every text of a reply that Slack reads as mrkdwn."""
    found = [reply.text, *(n.text for n in reply.notices), *(u.text for u in reply.updates)]
    if reply.form is not None and reply.form.intro:
        found.append(reply.form.intro)
    return found


def assert_escaped(text: str) -> None:
    for raw in ("<!", "<@U123>", "<https", "<b>"):
        assert raw not in text, text
    assert "<" not in OWN.sub("", text), text


def rename(engine: Engine, hostile: str) -> Team:
    """Team East and rep eve take the hostile name, as Slack or an admin could give them."""
    with session_scope(engine) as s:
        team = queries.find_team(s, workspace_id="T1", name="East")
        eve = queries.get_member(s, workspace_id="T1", user_id="UEVE")
        assert team is not None and eve is not None
        team.name, eve.name = hostile, hostile
        s.add_all([team, eve])
        return team


def commands(team: Run, hostile: str) -> list[Reply]:
    """The commands that show names or typed text, as reps, a manager and an admin."""
    replies = [
        team("UMIA", "/goal", "set <@UEVE> 100k 2026-11"),
        team("UMIA", "/goal", "set <@UALICE> 100k 2026-11"),
        team("UMIA", "/deal", f"for <@UEVE> 60,000 {hostile} product:x region:y"),
        team("UALICE", "/deal", f"60,000 {hostile}"),
        team("UEVE", "/deal", "list"),
        team("UALICE", "/leaderboard"),
        team("UEVE", "/progress"),
        team("UMIA", "/progress", "<@UEVE>"),
        team("UMIA", "/progress", f"team {hostile}"),
        team("UEVE", "/goal"),
        team("UMIA", "/goal", "tree"),
        team(ADMIN, "/pacer", "setup show"),
        team("UEVE", "/goal", f"feedback {hostile} propose:80000"),
        team("UMIA", "/goal", "review"),
        team("UMIA", "/goal", "feedback"),
    ]
    goal_id = replies[0].text.split("`#")[1].split("`")[0]
    replies += [
        team("UMIA", "/goal", f"adjust {goal_id} 90000 reason:{hostile}"),
        team("UMIA", "/goal", f"history {goal_id}"),
        team("UMIA", "/goal", f"split {goal_id} weeks"),
    ]
    return replies


def answer(engine: Engine, hostile: str) -> list[Reply]:
    """A manager opens the decline form of eve's feedback and declines with a hostile
    reason: eve is told, the other manager's message is updated."""
    with session_scope(engine) as s:
        [row] = s.exec(select(Feedback)).all()
        fid = str(row.id)
    req = Request(workspace_id="T1", user_id="UMIA", text="", now=NOW, channel_id="DXYZ")
    with session_scope(engine) as s:
        opened = router.action(feedback.DECLINE, fid, req, s)
    assert opened.form is not None
    values = {"_metadata": opened.form.metadata, "reason": hostile}
    with session_scope(engine) as s:
        done = router.submit(feedback.DECLINE_FORM, values, {}, req, s)
    assert done.reply is not None and done.reply.updates
    return [opened, done.reply]


def job_texts(engine: Engine, team_id: int) -> list[str]:
    days = {
        "lag-warnings": date(2026, 11, 25),
        "weekly-leaderboard": date(2026, 11, 30),
        "month-end": date(2026, 12, 1),
        "feedback-reminders": date(2026, 11, 27),
    }
    found = []
    with session_scope(engine) as s:
        for row in s.exec(select(Feedback)).all():  # written on Wednesday 25 November
            row.created_at = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
        team = s.get(Team, team_id)
        assert team is not None
        for kind, day in days.items():
            notices = jobs.notices_for(s, team, kind, day)
            assert notices, kind
            found += [n.text for n in notices]
    return found


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_names_and_text_reach_slack_escaped(
    team: Run, engine: Engine, hostile: str
) -> None:
    team(ADMIN, "/pacer", "setup team add East <@UEVE|eve>")
    team(ADMIN, "/pacer", "setup team add East <@UMAX|max> as:manager")
    team(ADMIN, "/pacer", "setup threshold East 50000")
    east = rename(engine, hostile)
    assert east.id is not None

    replies = commands(team, hostile)
    assert all(r.ok for r in replies), [r.text for r in replies if not r.ok]
    found = job_texts(engine, east.id)  # while the feedback is open
    replies += answer(engine, hostile)
    sent = [text for r in replies for text in texts(r)] + found

    for text in sent:
        assert_escaped(text)
    shown = markup.escape(hostile)
    board = replies[5]  # /leaderboard
    assert shown in board.text and "<@UALICE>" not in board.text
    assert hostile in markup.to_plain(board.text, {})  # the console reads it as typed
    celebrated = [n.text for r in replies[2:4] for n in r.notices]
    assert any("<@UALICE>" in t and shown in t for t in celebrated), celebrated
    assert any("<@UEVE>" in t for r in replies for t in texts(r))
    assert sum(shown in text for text in sent) > 20


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/progress", "team {}"),
        ("/leaderboard", "team {}"),
        ("/deal", "stage 1 {}"),
        ("/deal", "lsit {}"),
        ("/goal", "split 1 reps {}"),
        ("/goal", "set <@UALICE> 100k {}"),
        ("/goal", "set <@UALICE> {} 2026-11"),
        ("/pacer", "setup team set East tz:{}"),
    ],
)
def test_typed_words_echoed_in_errors_are_escaped(
    team: Run, command: str, text: str, hostile: str
) -> None:
    assert team("UALICE", "/deal", "5,000 Acme").ok
    reply = team(ADMIN, command, text.format(hostile))
    assert not reply.ok
    assert_escaped(reply.text)
