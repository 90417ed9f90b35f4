"""Scheduled jobs end to end: commands/jobs.py picks the notices, bot/scheduler.py sends them
through bot/outbox.py to the fake Slack. Numbers are worked out by hand in the comments."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import web_client
from bot.outbox import Outbox
from bot.scheduler import run_by_hand, run_team
from bot.settings import Settings
from charts.specs import LeaderboardChart
from commands import jobs
from storage import queries
from storage.engine import session_scope
from storage.models import Deal, Feedback, Goal, Holiday, Member, SentMessage, Team
from tests.conftest import ADMIN, Run
from tests.fakeslack import FakeSlack, SharedFile, shared_files

WED = date(2026, 11, 25)
# 09:00 in New York on Wednesday 25 November (EST, UTC-5).
NINE_NY = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return web_client(Settings(api_url=fake.api_url), "xoxb-test")


def member(s: Session, user_id: str) -> Member:
    found = queries.get_member(s, workspace_id="T1", user_id=user_id)
    assert found is not None
    return found


def east(s: Session) -> Team:
    found = queries.find_team(s, workspace_id="T1", name="East")
    assert found is not None
    return found


def add_goal(s: Session, user_id: str, target: int, metric: str = "revenue") -> None:
    team = east(s)
    s.add(
        Goal(
            workspace_id="T1",
            scope="rep",
            team_id=team.id,
            member_id=member(s, user_id).id,
            metric=metric,
            period="2026-11",
            starts_on=date(2026, 11, 1),
            ends_on=date(2026, 11, 30),
            target=target,
            created_by=ADMIN,
        )
    )


def add_deal(
    s: Session, user_id: str, amount: int, customer: str, day: date, stage: str = "won"
) -> Deal:
    team, owner = east(s), member(s, user_id)
    assert team.id is not None and owner.id is not None
    deal = Deal(
        workspace_id="T1",
        team_id=team.id,
        owner_id=owner.id,
        logged_by=owner.id,
        amount_minor=amount,
        currency="USD",
        customer=customer,
        stage=stage,
        close_date=day,
    )
    s.add(deal)
    s.flush()
    return deal


@pytest.fixture
def month(team: Run, engine: Engine) -> Engine:
    """November 2026 has 21 working days; by Wed 25th, 18 have elapsed and 3 are left.

    alice: target $20,000, won $6,000, an open $5,000 deal: expected 20,000 x 18/21 =
    $17,142.86, gap $11,142.86, run-rate 14,000 / 3 = $4,666.67, 30%: behind.
    bob: target $10,000, won $9,000: expected $8,571.43, pace 105%: on pace.
    carol: target $10,000, won nothing, notify off: in the digest, no direct message.
    dave: no goal. erin: a goal, but deactivated.
    """
    team(ADMIN, "/pacer", "setup team add East <@UCAROL|carol> <@UDAVE|dave> <@UERIN|erin>")
    with session_scope(engine) as s:
        add_goal(s, "UALICE", 2_000_000)
        add_goal(s, "UBOB", 1_000_000)
        add_goal(s, "UCAROL", 1_000_000)
        add_goal(s, "UERIN", 1_000_000)
        member(s, "UCAROL").notify = False
        member(s, "UERIN").active = False
        add_deal(s, "UALICE", 600_000, "Acme", date(2026, 11, 10))
        add_deal(s, "UALICE", 500_000, "Globex", date(2026, 11, 28), stage="proposal")
        add_deal(s, "UBOB", 900_000, "Initech", date(2026, 11, 12))
    return engine


def posts(fake: FakeSlack) -> dict[str, str]:
    """channel -> text of every chat.postMessage, in order."""
    return {
        str(c.params["channel"]): str(c.params["text"]) for c in fake.called("chat.postMessage")
    }


def test_lag_warning_and_digest_say_the_hand_computed_numbers(
    month: Engine, fake: FakeSlack, client: WebClient
) -> None:
    outcome = run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    assert outcome.sent == 2
    sent = posts(fake)
    assert sorted(sent) == ["DALICE", "DMIA"]  # not bob (on pace), carol (off), dave, erin
    assert sent["DALICE"] == (
        "⏱️ *2026-11: you're behind pace.* You have $6,000 of $20,000 (30%); by today you "
        "would be at $17,142.86, so you are $11,142.86 behind.\n"
        "To reach your target you need $4,666.67 per working day for the 3 working days left "
        "($14,000 to go).\n"
        # Globex's $5,000 is 44.9% of the $11,142.86 gap.
        "💡 Push your biggest open deals: Globex ($5,000). Together $5,000: 45% of the "
        "$11,142.86 you are behind."
    )
    # carol: 0 of 10,000, expected 8,571.43, pace 0%.
    assert sent["DMIA"] == (
        "📋 *East, 2026-11-25: 2 behind pace*\n"
        "• alice: 30% of $20,000, $11,142.86 behind (pace 35%)\n"
        "• carol: 0% of $10,000, $8,571.43 behind (pace 0%)"
    )


def test_count_goals_warn_with_the_deals_needed_rounded_up(
    month: Engine, fake: FakeSlack, client: WebClient
) -> None:
    """dave gets a 10-deal goal for November and has won none: expected 10 x 18 / 21 = 8.57
    -> 8.6 deals (one decimal), 10 to go in 3 days = 3.33 a day -> 4 a day (3 would leave
    one short). bob's new weekly deals goal (0 of 5 by Wednesday) does not take the place
    of his November revenue goal, on which he is on pace: no warning for bob."""
    with session_scope(month) as s:
        add_goal(s, "UDAVE", 10, metric="deals")
        week = Goal(
            workspace_id="T1",
            scope="rep",
            team_id=east(s).id,
            member_id=member(s, "UBOB").id,
            metric="deals",
            period="2026-W48",
            starts_on=date(2026, 11, 23),
            ends_on=date(2026, 11, 29),
            target=5,
            created_by=ADMIN,
        )
        s.add(week)
    run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    sent = posts(fake)
    assert "DBOB" not in sent
    assert sent["DDAVE"] == (
        "⏱️ *2026-11: you're behind pace.* You have 0 deals of 10 deals (0%); by today you "
        "would be at 8.6 deals, so you are 8.6 deals behind.\n"
        "To reach your target you need 4 deals per working day for the 3 working days left "
        "(10 deals to go).\n"
        "💡 Your pipeline is empty: log the deals you are working on with `/deal`."
    )


def east_id(engine: Engine) -> int:
    with Session(engine) as s:
        team_id = east(s).id
    assert team_id is not None
    return team_id


def test_running_twice_sends_nothing_new(month: Engine, fake: FakeSlack, client: WebClient) -> None:
    first = run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    second = run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    assert (first.sent, second.sent, second.skipped) == (2, 0, 2)
    assert len(fake.called("chat.postMessage")) == 2


def test_a_rerun_composes_no_suggestion_for_a_warning_already_sent(
    month: Engine, fake: FakeSlack, client: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The suggestion reads the rep's open deals, quiet customers and recent wins: alice's
    # first run needs it, the re-run finds her warning recorded and leaves it out.
    real, asked = jobs.suggestion, []

    def counted(td: jobs.TeamDay, b: jobs.Behind, out: Any) -> str:
        asked.append(b.member.user_id)
        return real(td, b, out)

    monkeypatch.setattr(jobs, "suggestion", counted)
    first = run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    second = run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    assert (first.sent, second.sent, second.skipped, asked) == (2, 0, 2, ["UALICE"])


def test_a_run_caught_up_hours_late_skips_the_stale_warning(
    month: Engine, fake: FakeSlack, client: WebClient
) -> None:
    evening = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)  # 17:00 in New York
    assert run_team(month, client, east_id(month), evening, ["lag-warnings"]).sent == 0
    late_morning = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)  # 11:30: 2.5 h late, still fine
    assert run_team(month, client, east_id(month), late_morning, ["lag-warnings"]).sent == 2


def test_nothing_on_weekends_or_holidays(month: Engine, fake: FakeSlack, client: WebClient) -> None:
    saturday = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    assert run_team(month, client, east_id(month), saturday).sent == 0
    with session_scope(month) as s:
        s.add(Holiday(workspace_id="T1", team_id=east(s).id, day=WED, name="Thanksgiving eve"))
    assert run_team(month, client, east_id(month), NINE_NY).sent == 0
    assert fake.called("chat.postMessage") == []


def test_the_suggestion_falls_back_to_quiet_customers_then_deal_size(
    month: Engine, fake: FakeSlack, client: WebClient
) -> None:
    with session_scope(month) as s:
        for deal in s.exec(select(Deal).where(Deal.stage == "proposal")).all():
            deal.stage = "lost"
        # carol won from Umbrella in August and not since: quiet for over 30 days.
        member(s, "UCAROL").notify = True
        add_deal(s, "UCAROL", 300_000, "Umbrella", date(2026, 8, 14))
    run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    sent = posts(fake)
    assert sent["DCAROL"].endswith(
        "💡 Get back in touch with Umbrella: no deal with them for 103 days (since 2026-08-14)."
    )
    # alice's deals in the last 90 days: Acme $6,000 won (Globex is lost, so not quiet: it
    # closes after the 30-day line); average $6,000; gap 11,142.86 / 6,000 -> 2 deals.
    assert sent["DALICE"].endswith(
        "💡 Your average deal is $6,000: about 2 more like it close the gap."
    )


def test_chinese_speakers_read_chinese(month: Engine, fake: FakeSlack, client: WebClient) -> None:
    with session_scope(month) as s:
        member(s, "UALICE").locale = "zh-CN"
    run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    assert posts(fake)["DALICE"].startswith(
        "⏱️ *2026-11：你的进度落后了。* 目前完成 $6,000，目标 $20,000（30%）"
    )


def test_interrupted_run_restarted_sends_each_message_once(
    month: Engine, fake: FakeSlack, client: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Outbox.send
    calls: list[str] = []

    def dies_after_one(*args: Any) -> bool:
        if calls:
            raise KeyboardInterrupt  # the process is stopped after the first message
        calls.append("x")
        return real(*args)

    monkeypatch.setattr(Outbox, "send", dies_after_one)
    with pytest.raises(KeyboardInterrupt):
        run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    monkeypatch.setattr(Outbox, "send", real)
    again = run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    assert (again.sent, again.skipped) == (1, 1)
    assert sorted(c.params["channel"] for c in fake.called("chat.postMessage")) == [
        "DALICE",
        "DMIA",
    ]


def test_a_429_is_waited_out_and_the_message_arrives(
    month: Engine, fake: FakeSlack, client: WebClient
) -> None:
    fake.rate_limit("chat.postMessage", times=2)
    assert run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"]).sent == 2
    assert sorted(posts(fake)) == ["DALICE", "DMIA"]
    with Session(month) as s:
        assert {r.status for r in s.exec(select(SentMessage)).all()} == {"sent"}


def test_a_failed_send_is_marked_failed_and_the_others_still_go(
    month: Engine, fake: FakeSlack, client: WebClient
) -> None:
    fake.fail("chat.postMessage", "channel_not_found")
    outcome = run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"])
    assert (outcome.sent, outcome.skipped) == (1, 1)
    with Session(month) as s:
        statuses = {r.key: r.status for r in s.exec(select(SentMessage)).all()}
    assert statuses == {"lag:2026-11-25:UALICE": "dropped", "lag-digest:2026-11-25:UMIA": "sent"}


@pytest.mark.postgres
def test_two_instances_at_once_send_each_message_once(
    month: Engine, fake: FakeSlack, client: WebClient
) -> None:
    if month.dialect.name != "postgresql":
        pytest.skip("two instances share a PostgreSQL database")
    team_id = east_id(month)
    start = threading.Barrier(2)
    results: list[int] = []

    def instance() -> None:
        start.wait()
        own = web_client(Settings(api_url=fake.api_url), "xoxb-test")
        results.append(run_team(month, own, team_id, NINE_NY, jobs.KINDS).sent)

    threads = [threading.Thread(target=instance) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 2
    assert sorted(posts(fake)) == ["DALICE", "DMIA"]
    assert len(fake.called("chat.postMessage")) == 2


# --- weekly leaderboard, month end, feedback reminders, notify -------------------------------


def test_weekly_leaderboard_goes_to_the_channel_on_monday_only(
    month: Engine, fake: FakeSlack, client: WebClient
) -> None:
    with session_scope(month) as s:
        add_deal(s, "UBOB", 250_000, "Hooli", date(2026, 11, 20))  # Friday of week 47
        add_deal(s, "UALICE", 400_000, "Stark", date(2026, 11, 16))
        add_deal(s, "UALICE", 100_000, "Wayne", date(2026, 11, 22))  # Sunday, still week 47
        add_deal(s, "UBOB", 700_000, "Soylent", date(2026, 11, 23))  # week 48: not counted
    assert run_team(month, client, east_id(month), NINE_NY, ["weekly-leaderboard"]).sent == 0
    monday = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert run_by_hand(month, client, "weekly-leaderboard", "East", None, monday).sent == 1
    # The text rides along as the chart's comment; no separate chat.postMessage.
    assert fake.called("chat.postMessage") == []
    (shared,) = shared_files(fake)
    assert (shared.channel, shared.filename) == ("CEAST", "leaderboard.png")
    assert shared.comment == (
        "🏆 *East, week 2026-W47*\n"
        "1. alice: $5,000 (2 deals)\n"
        "2. bob: $2,500 (1 deal)\n"
        "3. carol: $0 (0 deals)\n"
        "3. dave: $0 (0 deals)"
    )
    assert shared.title == "East, week 2026-W47: won revenue"
    assert shared.alt_text == "Bar chart: East, week 2026-W47: won revenue. Top: alice, bob, carol."
    assert_png(shared)
    again = run_by_hand(month, client, "weekly-leaderboard", "East", date(2026, 11, 23), monday)
    assert again.sent == 0
    assert len(shared_files(fake)) == 1
    with Session(month) as s:
        row = queries.sent_message(s, workspace_id="T1", key=f"weekly:{east_id(month)}:2026-W47")
        assert row is not None
        assert (row.status, row.channel_id, row.ts) == ("sent", "CEAST", None)


def assert_png(shared: SharedFile) -> None:
    """What was uploaded is a real PNG picture, not a placeholder."""
    assert shared.body.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(shared.body) > 5_000


def test_the_weekly_chart_ranks_like_the_text(month: Engine) -> None:
    with session_scope(month) as s:
        add_deal(s, "UBOB", 250_000, "Hooli", date(2026, 11, 20))
        add_deal(s, "UALICE", 400_000, "Stark", date(2026, 11, 16))
        (notice,) = jobs.notices_for(s, east(s), "weekly-leaderboard", date(2026, 11, 23))
    chart = notice.chart
    assert isinstance(chart, LeaderboardChart)
    assert (chart.names, chart.values) == (
        ["alice", "bob", "carol", "dave"],
        [4000.0, 2500.0, 0.0, 0.0],
    )
    assert (chart.percent, chart.value_prefix) == (False, "$")
    assert chart.notes[:2] == ["$4k", "$2.5k"]


def test_month_end_names_the_champion_and_biggest_deal_on_the_first_working_day(
    month: Engine, fake: FakeSlack, client: WebClient
) -> None:
    # 1 December 2026 is a Tuesday; the 30th of November is no first working day.
    with session_scope(month) as s:
        add_deal(s, "UBOB", 300_000, "Hooli", date(2026, 11, 27))
    tue = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    assert run_team(month, client, east_id(month), monday, ["month-end"]).sent == 0
    # The channel's review, and the month's report to mia, East's manager.
    assert run_team(month, client, east_id(month), tue, ["month-end"]).sent == 2
    assert run_team(month, client, east_id(month), tue, ["month-end"]).sent == 0  # once
    # alice 6,000 / 20,000 = 30%; bob 12,000 / 10,000 = 120%; carol 0%.
    # Team: 18,000 from 3 won deals; targets 40,000 (erin's goal is for an inactive rep
    # and left out) -> 18,000 / 40,000 = 45%.
    shared, report = sorted(shared_files(fake), key=lambda f: f.channel)
    assert shared.channel == "CEAST"
    assert (report.channel, report.filename) == ("DMIA", "pacer-report-East-2026-11.pdf")
    assert report.body.startswith(b"%PDF") and report.comment.startswith("📄 East's report")
    assert shared.comment == (
        "🗓️ *East, 2026-11 in review*\n"
        "🥇 Champion: bob, 120% of target ($12,000)\n"
        "💎 Biggest deal: bob, Initech, $9,000\n"
        "Team total: $18,000 from 3 deals, 45% of the reps' targets."
    )
    assert shared.alt_text == (
        "Bar chart: East, 2026-11: attainment of target. Top: bob, alice, carol."
    )
    assert_png(shared)
    with session_scope(month) as s:
        notice, to_mia = jobs.notices_for(s, east(s), "month-end", date(2026, 12, 1))
    assert to_mia.user_id == "UMIA" and to_mia.file is not None
    chart = notice.chart
    assert isinstance(chart, LeaderboardChart)
    # Reps with a target only (dave has none): bob 120%, alice 30%, carol 0%.
    assert (chart.names, chart.values) == (["bob", "alice", "carol"], [120.0, 30.0, 0.0])
    assert chart.percent and chart.highlight == frozenset({"bob"})


def test_feedback_waiting_two_working_days_reminds_the_manager(
    month: Engine, fake: FakeSlack, client: WebClient
) -> None:
    with session_scope(month) as s:
        goal = s.exec(select(Goal).where(Goal.member_id == member(s, "UBOB").id)).one()
        s.add(
            Feedback(
                workspace_id="T1",
                goal_id=goal.id or 0,
                member_id=member(s, "UBOB").id or 0,
                text="Too high <!channel>",
                created_at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),  # Friday 11:00 in NY
            )
        )
    # Monday is one working day later, Tuesday two: the reminder; Wednesday three: none.
    for day, expected in ((date(2026, 11, 23), 0), (date(2026, 11, 24), 1), (WED, 0)):
        got = run_by_hand(month, client, "feedback-reminders", None, day, NINE_NY).sent
        assert got == expected, day
    assert posts(fake)["DMIA"].startswith(
        "⏰ Feedback from bob on their 2026-11 target has waited 2 working days for an answer: "
        "“Too high &lt;!channel&gt;”."
    )


def test_reps_turn_direct_messages_off_and_on(
    month: Engine, fake: FakeSlack, client: WebClient, team: Run
) -> None:
    assert "no longer" in team("UALICE", "/pacer", "notify off").text
    assert run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"]).sent == 1
    assert team("UALICE", "/pacer", "notify on").text.startswith("Pacer will send you")
    assert run_team(month, client, east_id(month), NINE_NY, ["lag-warnings"]).sent == 1
    assert sorted(posts(fake)) == ["DALICE", "DMIA"]


def test_a_large_run_under_repeated_rate_limits_loses_no_message(
    team: Run, engine: Engine, fake: FakeSlack, client: WebClient
) -> None:
    # 60 reps behind pace (goals, no deals) plus mia's digest: 61 messages. Slack answers
    # 429 four times in a row along the way; each is waited out and all 61 arrive once.
    reps = [f"UREP{i:03d}" for i in range(60)]
    team(ADMIN, "/pacer", "setup team add East " + " ".join(f"<@{u}|r{u[-3:]}>" for u in reps))
    with session_scope(engine) as s:
        for user in reps:
            add_goal(s, user, 1_000_000)
    fake.rate_limit("chat.postMessage", times=4)
    outcome = run_team(engine, client, east_id(engine), NINE_NY, ["lag-warnings"])
    assert outcome.sent == 61
    channels = [c.params["channel"] for c in fake.called("chat.postMessage")]
    assert len(set(channels)) == 61
    with Session(engine) as s:
        assert {r.status for r in s.exec(select(SentMessage)).all()} == {"sent"}
