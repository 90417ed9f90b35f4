"""bot/scheduler.py: when each team's job fires, and which instance does the work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, text

from bot.app import web_client
from bot.scheduler import LEAD_SECONDS, Leader, Scheduler, trigger_for
from bot.settings import Settings
from storage.engine import session_scope
from storage.models import Team
from tests.conftest import _drop, _postgres_engine
from tests.fakeslack import FakeSlack
from tests.test_jobs import NINE_NY, client, east, east_id, month, posts  # noqa: F401


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def next_fires(team: Team, now: datetime, n: int = 3) -> list[datetime]:
    trigger = trigger_for(team)
    fires: list[datetime] = []
    previous = None
    for _ in range(n):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        fires.append(fire.astimezone(UTC))
        previous, now = fire, fire
    return fires


@pytest.mark.parametrize(
    ("tz", "hour", "now", "expected"),
    [
        # New York leaves daylight time on Sunday 1 November 2026: 09:00 is 13:00 UTC on
        # Friday, 14:00 UTC on Monday; Saturday and Sunday never fire.
        (
            "America/New_York",
            "09:00",
            utc(2026, 10, 29, 14, 0),
            [utc(2026, 10, 30, 13, 0), utc(2026, 11, 2, 14, 0), utc(2026, 11, 3, 14, 0)],
        ),
        # ... and enters it on Sunday 8 March 2026.
        (
            "America/New_York",
            "09:00",
            utc(2026, 3, 5, 15, 0),
            [utc(2026, 3, 6, 14, 0), utc(2026, 3, 9, 13, 0), utc(2026, 3, 10, 13, 0)],
        ),
        # Shanghai keeps UTC+8: 08:30 is 00:30 UTC the same day.
        (
            "Asia/Shanghai",
            "08:30",
            utc(2026, 11, 25, 0, 0),
            [utc(2026, 11, 25, 0, 30), utc(2026, 11, 26, 0, 30), utc(2026, 11, 27, 0, 30)],
        ),
        # Berlin leaves summer time on 25 October 2026: 09:00 is 07:00 UTC, then 08:00.
        (
            "Europe/Berlin",
            "09:00",
            utc(2026, 10, 23, 7, 0, 1),
            [utc(2026, 10, 26, 8, 0), utc(2026, 10, 27, 8, 0), utc(2026, 10, 28, 8, 0)],
        ),
    ],
)
def test_each_team_fires_at_its_local_hour_on_working_days(
    tz: str, hour: str, now: datetime, expected: list[datetime]
) -> None:
    team = Team(workspace_id="T1", name="X", tz=tz, report_hour=hour)
    assert next_fires(team, now) == expected


def test_the_trigger_never_uses_the_host_zone() -> None:
    trigger = trigger_for(Team(workspace_id="T1", name="X", tz="Asia/Tokyo"))
    assert str(trigger.timezone) == "Asia/Tokyo"


@pytest.fixture
def scheduler(month: Engine, client: WebClient) -> Iterator[Scheduler]:  # noqa: F811
    """An instance at 09:00 in New York on Wednesday 25 November; stopped after the test so
    its lock connection never outlives it."""
    made = Scheduler(month, client, clock=lambda: NINE_NY)
    yield made
    made.stop()


def test_sync_keeps_one_job_per_team_and_follows_changes(
    month: Engine,  # noqa: F811
    scheduler: Scheduler,
) -> None:
    scheduler.start(paused=True)
    job_id = f"team:{east_id(month)}"
    jobs = sorted(j.id for j in scheduler.scheduler.get_jobs())
    assert jobs == ["lead", "retry", "sync", job_id]
    with session_scope(month) as s:
        east(s).report_hour = "08:15"
    scheduler.sync()
    job = scheduler.scheduler.get_job(job_id)
    assert job is not None
    assert str(job.trigger) == ("cron[day_of_week='mon-fri', hour='8', minute='15']")


def test_a_fired_job_sends_the_days_messages_once(
    month: Engine,  # noqa: F811
    fake: FakeSlack,
    scheduler: Scheduler,
) -> None:
    scheduler.fire(east_id(month))
    scheduler.fire(east_id(month))  # a misfire caught up, or a coalesced duplicate
    assert sorted(posts(fake)) == ["DALICE", "DMIA"]
    assert len(fake.called("chat.postMessage")) == 2


def test_a_late_fire_skips_the_morning_warning(
    month: Engine,  # noqa: F811
    fake: FakeSlack,
    client: WebClient,  # noqa: F811
) -> None:
    evening = utc(2026, 11, 25, 23, 0)  # 18:00 in New York: nine hours late
    late = Scheduler(month, client, clock=lambda: evening)
    late.fire(east_id(month))
    late.stop()
    assert fake.called("chat.postMessage") == []


def test_only_the_lock_holder_schedules_on_postgresql(engine: Engine) -> None:
    first, second = Leader(engine), Leader(engine)
    try:
        assert first.holds()
        if engine.dialect.name != "postgresql":
            assert second.holds()  # SQLite runs one instance: always the leader
            return
        assert not second.holds()
        assert first.holds()  # still held on its own connection
        first.release()
        assert second.holds()
        assert not first.holds()
    finally:
        first.release()
        second.release()


def test_a_job_still_running_when_its_scheduler_stops_does_not_take_the_lock_again(
    engine: Engine, fake: FakeSlack
) -> None:
    """stop() does not wait for running jobs: a campaign that asks after it must lose, or
    the lock stays held by a stopped instance and no other instance ever leads."""
    stopped = Scheduler(engine, WebClient(base_url=fake.api_url))
    stopped.stop()

    stopped.campaign()  # what the "lead" job does on its pool thread, a moment late

    assert not stopped.leading and stopped.leader._conn is None
    successor = Leader(engine)
    try:
        assert successor.holds()
    finally:
        successor.release()


def test_two_scheduling_instances_send_once(
    month: Engine,  # noqa: F811
    fake: FakeSlack,
) -> None:
    if month.dialect.name != "postgresql":
        pytest.skip("instances share a PostgreSQL database; SQLite runs one")
    team_id = east_id(month)
    instances = [
        Scheduler(month, web_client(Settings(api_url=fake.api_url), "xoxb-t"), lambda: NINE_NY)
        for _ in range(2)
    ]
    start = threading.Barrier(2)

    def fire(instance: Scheduler) -> None:
        start.wait()
        instance.fire(team_id)

    threads = [threading.Thread(target=fire, args=(i,)) for i in instances]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for instance in instances:
        instance.stop()
    assert len(fake.called("chat.postMessage")) == 2
    assert sorted(posts(fake)) == ["DALICE", "DMIA"]


# --- taking over: the lock tried every LEAD_SECONDS, and the day caught up ---------------------


def ny(hour: int, minute: int = 0) -> datetime:
    """Wednesday 25 November 2026 in New York (UTC-5) as UTC."""
    return utc(2026, 11, 25, hour + 5, minute)


def instance(engine: Engine, fake: FakeSlack, at: datetime) -> Scheduler:
    return Scheduler(engine, web_client(Settings(api_url=fake.api_url), "xoxb-t"), lambda: at)


def test_the_lock_is_tried_every_lead_seconds_from_the_start(scheduler: Scheduler) -> None:
    scheduler.start(paused=True)
    job = scheduler.scheduler.get_job("lead")
    assert job is not None
    assert str(job.trigger) == "interval[0:00:20]"
    assert LEAD_SECONDS * 3 <= 60  # a standby tries at least thrice a minute


def test_the_first_campaign_catches_up_a_day_whose_hour_has_passed(
    month: Engine,  # noqa: F811
    fake: FakeSlack,
) -> None:
    """A start (or a takeover) at 10:30 in New York sends the 09:00 run once; the next
    start finds everything recorded; a start at 08:00 finds nothing due yet."""
    early = instance(month, fake, ny(8))
    early.campaign()
    early.stop()
    assert fake.called("chat.postMessage") == []
    for _ in range(2):
        late = instance(month, fake, ny(10, 30))
        late.campaign()
        late.campaign()  # still leading: no second catch-up
        late.stop()
    assert sorted(posts(fake)) == ["DALICE", "DMIA"]
    assert len(fake.called("chat.postMessage")) == 2


def test_a_standby_takes_over_when_the_holder_dies_and_sends_what_it_did_not(
    month: Engine,  # noqa: F811
    fake: FakeSlack,
) -> None:
    if month.dialect.name != "postgresql":
        pytest.skip("instances share a PostgreSQL database; SQLite runs one")
    holder, standby = instance(month, fake, ny(8, 59)), instance(month, fake, ny(9, 20))
    try:
        holder.campaign()  # leads, nothing due at 08:59
        standby.campaign()
        assert (holder.leading, standby.leading) == (True, False)
        # The holder dies before 09:00: its lock connection's backend goes with it.
        kill_lock_connection(month, holder)
        assert fake.called("chat.postMessage") == []

        standby.campaign()  # the next try, LEAD_SECONDS later

        assert standby.leading
        assert sorted(posts(fake)) == ["DALICE", "DMIA"]
        assert len(fake.called("chat.postMessage")) == 2
    finally:
        holder.stop()
        standby.stop()


def kill_lock_connection(engine: Engine, scheduler: Scheduler) -> None:
    """What a database restart or a dropped network does to the holder's lock connection."""
    conn = scheduler.leader._conn
    assert conn is not None
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with engine.connect() as other:
        # With a timeout it waits until the backend is gone, and its lock with it.
        other.execute(text("SELECT pg_terminate_backend(:p, 10000)"), {"p": pid})


def test_a_lock_lost_with_its_connection_and_taken_again_is_caught_up_again(
    month: Engine,  # noqa: F811
    fake: FakeSlack,
) -> None:
    if month.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    now = [ny(8, 59)]
    made = Scheduler(month, web_client(Settings(api_url=fake.api_url), "xoxb-t"), lambda: now[0])
    try:
        made.campaign()  # leads; nothing due yet
        kill_lock_connection(month, made)
        now[0] = ny(9, 20)
        made.campaign()  # the dead connection is noticed, the lock taken again: a new term
        assert made.leading and made.leader.terms == 2
        assert sorted(posts(fake)) == ["DALICE", "DMIA"]
    finally:
        made.stop()


def test_pacers_in_two_schemas_of_one_database_each_elect_a_scheduler(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    other_engine, schema = _postgres_engine()
    here, there = Leader(engine), Leader(other_engine)
    try:
        assert here.holds() and there.holds()
        assert not Leader(other_engine).holds()  # one per schema, still
    finally:
        here.release()
        there.release()
        _drop(other_engine, schema)
