"""The scheduled jobs: one APScheduler cron trigger per team, at its hour in its time zone.

Every instance runs a scheduler, but a run only does work in the instance that holds the
PostgreSQL advisory lock (SQLite runs one instance), and every notice is recorded under
its unique key before it is sent (bot/outbox.py), so a restart mid-run, a misfire caught
up after downtime or two instances firing at once still send each message once.

Every LEAD_SECONDS each instance also tries the lock: when the holder dies its lock goes
with its connection, a standby takes it within a minute and catches up what the day's
runs left unsent (its retries, and each team whose hour has passed today).

Each workspace's messages go with its own token (bot/tokens.py: the one SLACK_BOT_TOKEN, or
each OAuth installation's), and workspaces are sent to side by side: team jobs fire on a
pool of JOB_WORKERS threads, and a catch-up, a run by hand or the retries give each
workspace a thread of its own (bot/outbox.py each_workspace), so a rate-limited or slow
workspace holds no other's messages. A workspace Pacer cannot reach is skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Connection, Engine, text
from sqlmodel import Session

from bot import metrics
from bot.delivery import Sender, slack_or
from bot.outbox import Outbox, each_workspace
from bot.tokens import Clients
from commands import jobs
from commands.types import Notice
from storage import queries
from storage.engine import session_scope
from storage.models import Team

log = logging.getLogger(__name__)

LOCK_KEY = 7_231_000_004  # pg advisory lock id of the one scheduling instance
STALE_AFTER = timedelta(hours=3)  # a morning warning later than this is not sent
MISFIRE_GRACE = int(timedelta(hours=12).total_seconds())  # later runs still catch up
RESYNC_MINUTES = 10  # new teams and changed hours are picked up this often
RETRY_SECONDS = 60  # failed sends are looked at this often (bot/outbox.py BACKOFF)
LEAD_SECONDS = 20  # a standby tries the lock this often: it takes over within a minute
# Team jobs due at one moment fire side by side on this many threads: a workspace whose
# sends are slow (rate limits, a hung Slack) does not hold another's messages.
JOB_WORKERS = 10
Clock = Callable[[], datetime]


def trigger_for(team: Team) -> CronTrigger:
    """Working days at the team's hour, in the team's zone (never the host's)."""
    hour, minute = (int(part) for part in team.report_hour.split(":"))
    return CronTrigger(day_of_week="mon-fri", hour=hour, minute=minute, timezone=ZoneInfo(team.tz))


def scheduled_at(team: Team, day: date) -> datetime:
    hour, minute = (int(part) for part in team.report_hour.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(team.tz))


@dataclass(frozen=True)
class Outcome:
    sent: int
    skipped: int  # recorded before (sent by an earlier run or another instance) or failed


def run_team(
    engine: Engine,
    to: Sender,
    team_id: int,
    now: datetime,
    kinds: Iterable[str] = jobs.KINDS,
    day: date | None = None,
) -> Outcome:
    """Run the jobs for one team, sending to Slack (a client, or each workspace's own) or
    another transport. Without `day`, the team's local date at `now`, and a lag warning is
    dropped when `now` is more than STALE_AFTER past the team's hour. A team of a workspace
    Pacer cannot reach (uninstalled, its token refused) is skipped."""
    with session_scope(engine) as session:
        team = session.get(Team, team_id)
        if team is None or not _installed(session, team.workspace_id):
            return Outcome(0, 0)
        workspace_id = team.workspace_id
    # Out of the session: finding the token may refresh it, a call to Slack.
    outbox = Outbox(engine, slack_or(to))
    if isinstance(to, Clients) and to.client_for(workspace_id) is None:
        outbox.unreachable(workspace_id, "no installation")  # logged once: it is marked
        return Outcome(0, 0)
    with session_scope(engine) as session:
        team = session.get(Team, team_id)
        if team is None:
            return Outcome(0, 0)
        todo = _notices(session, team, list(kinds), now, day)
    return send(outbox, workspace_id, todo)


def _installed(session: Session, workspace_id: str) -> bool:
    return queries.get_workspace(session, workspace_id=workspace_id).uninstalled_at is None


def _notices(
    session: Session, team: Team, kinds: list[str], now: datetime, day: date | None
) -> list[Notice]:
    local_day = day or now.astimezone(ZoneInfo(team.tz)).date()
    todo: list[Notice] = []
    for kind in kinds:
        late = now - scheduled_at(team, local_day)
        if kind == "lag-warnings" and day is None and late > STALE_AFTER:
            log.warning("team %s: lag warnings of %s skipped, %s late", team.id, local_day, late)
            continue
        todo += jobs.notices_for(session, team, kind, local_day)
    return todo


def send(outbox: Outbox, workspace_id: str, todo: list[Notice]) -> Outcome:
    sent = 0
    for notice in _unrecorded(outbox, workspace_id, todo):
        try:
            sent += outbox.send(workspace_id, notice)
        except Exception:  # one bad notice (or database hiccup) must not stop the others
            log.exception("notice %s failed", notice.key)
    return Outcome(sent, len(todo) - sent)


def _unrecorded(outbox: Outbox, workspace_id: str, todo: list[Notice]) -> list[Notice]:
    """The notices no earlier run recorded, found in one query: a re-run finds most of them
    recorded, and the outbox would otherwise open a write transaction for each to learn it
    (it still checks each key it is given, so a race between two runs stays safe)."""
    with session_scope(outbox.engine) as session:
        keys = [n.key for n in todo]
        done = queries.recorded_keys(session, workspace_id=workspace_id, keys=keys)
    return [n for n in todo if n.key not in done]


def run_by_hand(
    engine: Engine,
    to: Sender,
    kind: str,
    team_name: str | None,
    day: date | None,
    now: datetime,
    workspace_id: str | None = None,
) -> Outcome:
    """`pacer jobs run`: one kind for every team (or those named, or of one workspace), on
    `day` or their today; the workspaces side by side."""
    with session_scope(engine) as session:
        teams = [
            t
            for t in queries.all_teams(session)
            if t.id and team_name in (None, t.name) and workspace_id in (None, t.workspace_id)
        ]
        groups = _by_workspace(teams)
    outcomes: list[Outcome] = []

    def run(_ws: str, ids: list[int]) -> int:
        for team_id in ids:
            when = day or _today(engine, team_id, now)
            outcomes.append(run_team(engine, to, team_id, now, [kind], when))
        return 0

    each_workspace(groups, run)
    return Outcome(sum(o.sent for o in outcomes), sum(o.skipped for o in outcomes))


def _by_workspace(teams: Iterable[Team]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for team in teams:
        if team.id is not None:
            groups.setdefault(team.workspace_id, []).append(team.id)
    return groups


def _due_today(team: Team, now: datetime) -> bool:
    """The team's hour today (its time zone) has passed, and not by more than the grace."""
    late = now - scheduled_at(team, now.astimezone(ZoneInfo(team.tz)).date())
    return timedelta(0) <= late <= timedelta(seconds=MISFIRE_GRACE)


def _today(engine: Engine, team_id: int, now: datetime) -> date:
    """By hand, today is the team's today, and never stale: the operator asked for it."""
    with session_scope(engine) as session:
        team = session.get(Team, team_id)
        return now.astimezone(ZoneInfo(team.tz if team else "UTC")).date()


# Advisory locks span the database, not a schema: two Pacers in schemas of one database
# (a staging copy, say) each elect their own scheduler with the schema folded into the key.
LOCK = "pg_try_advisory_lock(CAST(:k AS bigint) + hashtext(current_schema()))"
UNLOCK = "pg_advisory_unlock(CAST(:k AS bigint) + hashtext(current_schema()))"


class Leader:
    """Holds the PostgreSQL advisory lock on a connection of its own while alive; the lock
    goes with the connection, so a dead instance hands over to the next one that tries."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._lock = threading.Lock()  # team jobs fire on several pool threads
        self.terms = 0  # times this instance took the lock: each is a new term to catch up
        self.released = False

    def holds(self) -> bool:
        with self._lock:
            if self.released:
                return False  # a job still running at stop must not take the lock again
            if self.engine.dialect.name != "postgresql":
                return True  # SQLite: one instance by design
            return self._hold()

    def _hold(self) -> bool:
        if self._conn is not None and self._alive(self._conn):
            return True
        conn = self.engine.connect()
        got = bool(conn.execute(text(f"SELECT {LOCK}"), {"k": LOCK_KEY}).scalar())
        conn.commit()
        if got:
            self._conn = conn
            self.terms += 1
        else:
            conn.close()
        return got

    def release(self) -> None:
        """Unlock and close for good; a connection already lost took the lock with it."""
        with self._lock:
            self.released = True
            conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text(f"SELECT {UNLOCK}"), {"k": LOCK_KEY})
            conn.commit()
        except Exception as err:
            log.warning("scheduler lock connection already gone: %s", type(err).__name__)
            conn.invalidate()
        finally:
            conn.close()

    def _alive(self, conn: Connection) -> bool:
        try:
            conn.execute(text("SELECT 1"))
            conn.commit()
            return True
        except Exception:
            log.warning("lost the scheduler lock connection; trying again")
            conn.invalidate()
            self._conn = None
            return False


class Scheduler:
    """A BackgroundScheduler with one job per team, in the process that serves Slack."""

    def __init__(self, engine: Engine, client: Sender, clock: Clock = lambda: datetime.now(UTC)):
        """`client`: one Slack client (SLACK_BOT_TOKEN), or each workspace's own (OAuth)."""
        self.engine, self.client, self.clock = engine, client, clock
        self.leader = Leader(engine)
        self.caught_up = -1  # the leader's term this instance last caught up
        self.off: set[str] = set()  # workspaces whose jobs are off (logged once)
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=JOB_WORKERS)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE,
            },
        )

    def start(self, paused: bool = False) -> None:
        self.scheduler.start(paused=paused)
        self.scheduler.add_listener(metrics.job_failed, EVENT_JOB_ERROR)
        self.sync()
        self.scheduler.add_job(self.sync, IntervalTrigger(minutes=RESYNC_MINUTES), id="sync")
        # Once at start (what failed or was cut off before a restart), then every minute.
        every = IntervalTrigger(seconds=RETRY_SECONDS)
        self.scheduler.add_job(self.retry, every, id="retry", next_run_time=datetime.now(UTC))
        self.scheduler.add_job(
            self.campaign,
            IntervalTrigger(seconds=LEAD_SECONDS),
            id="lead",
            next_run_time=datetime.now(UTC),  # at once, then every LEAD_SECONDS
        )
        teams = [job for job in self.scheduler.get_jobs() if job.id.startswith("team:")]
        log.info("scheduler started with %d teams", len(teams))

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.leader.release()

    def sync(self) -> None:
        """A job per team; a job whose trigger is unchanged keeps its next run time."""
        with session_scope(self.engine) as session:
            teams = [t for t in queries.all_teams(session) if t.id is not None]
        self._say_which_are_off()
        wanted = {f"team:{t.id}": t for t in teams}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("team:") and job.id not in wanted:
                job.remove()
        for job_id, team in wanted.items():
            trigger = trigger_for(team)
            current = self.scheduler.get_job(job_id)
            if current is None or str(current.trigger) != str(trigger):
                self.scheduler.add_job(
                    self.fire, trigger, args=[team.id], id=job_id, replace_existing=True
                )

    def _say_which_are_off(self) -> None:
        """Once per workspace, not every sync: its teams' jobs are off while it is not
        installed (uninstalled, or its token refused), and back on once it is again."""
        with session_scope(self.engine) as session:
            off = set(queries.uninstalled_workspaces(session))
        for workspace_id in sorted(off - self.off):
            log.info("workspace %s is not installed: its scheduled jobs are skipped", workspace_id)
        for workspace_id in sorted(self.off - off):
            log.info("workspace %s is installed again: its scheduled jobs resume", workspace_id)
        self.off = off

    def campaign(self) -> None:
        """Try the lock; on winning it, catch up (the holder died, or this is the start; a
        lock lost with its connection and taken again is a new term, caught up too)."""
        if not self.leader.holds() or self.caught_up == self.leader.terms:
            return
        self.caught_up = self.leader.terms
        log.info("this instance runs the scheduled jobs now")
        self.catch_up(self.clock())

    @property
    def leading(self) -> bool:
        return self.caught_up == self.leader.terms

    def catch_up(self, now: datetime) -> None:
        """Today's work not yet done: unsent notices first, then every team whose hour has
        passed within MISFIRE_GRACE. What was sent is recorded, so a second run sends
        nothing; a morning warning later than STALE_AFTER stays unsent (run_team)."""
        retried = Outbox(self.engine, slack_or(self.client)).retry_unsent(now=now)
        with session_scope(self.engine) as session:
            due = _by_workspace(t for t in queries.all_teams(session) if _due_today(t, now))

        def run(_ws: str, ids: list[int]) -> int:
            return sum(run_team(self.engine, self.client, team_id, now).sent for team_id in ids)

        sent = each_workspace(due, run)
        teams = sum(len(ids) for ids in due.values())
        log.info("caught up: %d retried, %d sent for %d teams due today", retried, sent, teams)

    def fire(self, team_id: int) -> None:
        if not self.leader.holds():
            log.debug("another instance schedules: team %s skipped here", team_id)
            return
        outcome = run_team(self.engine, self.client, team_id, self.clock())
        log.info("team %s: %d sent, %d skipped", team_id, outcome.sent, outcome.skipped)
        metrics.job_run("team", "ok")

    def retry(self) -> int:
        """Send again what failed and is due (the minute job); only where the lock is held."""
        if not self.leader.holds():
            return 0
        retried = Outbox(self.engine, slack_or(self.client)).retry_unsent(now=self.clock())
        if retried:
            log.info("%d earlier notices sent on retry", retried)
        return retried
