"""A demo workspace: two teams, eight reps, goals and six months of deals.

Teams, members, holidays, thresholds and goals go through the same commands an admin
types in Slack (router.dispatch); the bulk of the deals are written as "import" rows,
as a CSV import would. Everything derives from `today` and the seed, so the same
call gives the same workspace.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from commands import markup
from commands.router import dispatch
from commands.types import Request
from domain import money, periods, workdays
from storage import queries
from storage.models import Deal, Goal, Member, Membership, Team

ADMIN = ("UDEMO00", "Demo Admin")
MONTHS_OF_DEALS = 6
PIPELINE_STAGES = ("proposal", "negotiation", "negotiation")


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    monthly: int = 0  # monthly revenue target, whole currency units
    drive: int = 100  # won revenue as a percentage of what pace expects
    deals_per_month: int = 6


@dataclass(frozen=True)
class DemoTeam:
    name: str
    channel: str  # Slack-escaped channel mention
    tz: str
    currency: str
    threshold: int  # big-deal threshold, whole currency units
    step: int  # deal amounts are rounded to this many whole units
    manager: Person
    reps: tuple[Person, ...]
    customers: tuple[str, ...]
    products: tuple[str, ...]
    regions: tuple[str, ...]
    holidays: tuple[tuple[int, int], ...]  # (month, day), every year


EAST = DemoTeam(
    name="East",
    channel="<#CDEMOEAST|sales-east>",
    tz="America/New_York",
    currency="USD",
    threshold=40_000,
    step=50,
    manager=Person("UDEMO09", "Mia Wong"),
    reps=(
        Person("UDEMO01", "Alice Johnson", monthly=80_000, drive=135, deals_per_month=8),
        Person("UDEMO02", "Bob Smith", monthly=70_000, drive=55, deals_per_month=4),
        Person("UDEMO03", "Carol Diaz", monthly=90_000, drive=102, deals_per_month=7),
        Person("UDEMO04", "Dan Lee", monthly=60_000, drive=78, deals_per_month=5),
    ),
    customers=(
        "Acme Corp",
        "Globex",
        "Initech",
        "Umbrella Health",
        "Stark Logistics",
        "Wayne Retail",
        "Hooli",
        "Vandelay Imports",
        "Soylent Foods",
        "Wonka Industries",
        "Pied Piper",
        "Cyberdyne Systems",
    ),
    products=("CRM", "Analytics", "Support Plus", "Onboarding"),
    regions=("New York", "Boston", "Philadelphia", "Atlanta"),
    holidays=((1, 1), (7, 4), (12, 24), (12, 25)),
)
SHANGHAI = DemoTeam(
    name="华东",
    channel="<#CDEMOSHA|sales-shanghai>",
    tz="Asia/Shanghai",
    currency="CNY",
    threshold=300_000,
    step=100,
    manager=Person("UDEMO10", "刘洋"),
    reps=(
        Person("UDEMO05", "王芳", monthly=600_000, drive=124, deals_per_month=9),
        Person("UDEMO06", "李雷", monthly=500_000, drive=96, deals_per_month=6),
        Person("UDEMO07", "张伟", monthly=450_000, drive=62, deals_per_month=4),
        Person("UDEMO08", "陈静", monthly=550_000, drive=110, deals_per_month=7),
    ),
    customers=(
        "上海明远科技",
        "杭州云帆信息",
        "苏州华信制造",
        "南京恒通物流",
        "宁波海达贸易",
        "无锡星辰电子",
        "合肥天启软件",
        "上海锦程医药",
        "绍兴远航纺织",
        "常州新域能源",
    ),
    products=("CRM", "数据分析", "客服系统", "实施服务"),
    regions=("上海", "杭州", "南京", "苏州"),
    holidays=((1, 1), *((5, d) for d in range(1, 6)), *((10, d) for d in range(1, 8))),
)
TEAMS = (EAST, SHANGHAI)
FIRST_REP = EAST.reps[0]


@dataclass(frozen=True)
class DemoSummary:
    created: bool  # False: the workspace was already filled, nothing was written
    workspace_id: str
    teams: tuple[str, ...]
    reps: int
    managers: int
    goals: int
    won_deals: int
    open_deals: int
    first_day: date | None  # earliest won deal
    last_day: date | None  # latest won deal
    user_id: str  # a rep to try the demo as
    user_name: str


def today_for(now: datetime) -> date:
    """The demo's today: the earliest local date among its teams, so no deal is in the future."""
    return min(now.astimezone(ZoneInfo(team.tz)).date() for team in TEAMS)


def fill_demo(session: Session, *, workspace_id: str, today: date, seed: int = 7) -> DemoSummary:
    """Fill `workspace_id` with the demo, unless it already holds it."""
    if queries.find_team(session, workspace_id=workspace_id, name=EAST.name) is None:
        rng = random.Random(seed)
        for team in TEAMS:
            _set_up_team(session, workspace_id, team, today)
            _add_deals(session, workspace_id, team, today, rng)
        return _summary(session, workspace_id, created=True)
    return _summary(session, workspace_id, created=False)


# --- setup through the commands -----------------------------------------------------------------


def _admin(session: Session, workspace_id: str, today: date, command: str, text: str) -> None:
    req = Request(
        workspace_id=workspace_id,
        user_id=ADMIN[0],
        user_name=ADMIN[1],
        text=text,
        # Noon UTC is still `today` from New York to Shanghai.
        now=datetime.combine(today, time(12), UTC),
        admin_ids=frozenset({ADMIN[0]}),
        source="import",
    )
    reply = dispatch(command, req, session)
    if not reply.ok:  # the router rolled back: stop rather than half-fill
        raise RuntimeError(f"demo setup failed at {command} {text!r}: {reply.text}")


def _set_up_team(session: Session, workspace_id: str, team: DemoTeam, today: date) -> None:
    # Names have spaces, which a mention in command text cannot carry: create members first.
    for person in (team.manager, *team.reps):
        queries.ensure_member(
            session, workspace_id=workspace_id, user_id=person.user_id, name=person.name
        )
    reps = " ".join(markup.mention(p.user_id) for p in team.reps)

    def admin(command: str, text: str) -> None:
        _admin(session, workspace_id, today, command, text)

    admin(
        "/pacer",
        f"setup team create {team.name} {team.channel} tz:{team.tz} currency:{team.currency}",
    )
    admin("/pacer", f"setup team add {team.name} {reps}")
    admin("/pacer", f"setup team add {team.name} <@{team.manager.user_id}> as:manager")
    admin("/pacer", f"setup threshold {team.name} {team.threshold}")
    days = " ".join(d.isoformat() for d in _holidays(team, today))
    admin("/pacer", f"setup holidays add {days} team:{team.name}")
    for kind, months in ((periods.PeriodKind.MONTH, 1), (periods.PeriodKind.QUARTER, 3)):
        label = periods.current(kind, today).label
        for rep in team.reps:
            admin("/goal", f"set <@{rep.user_id}> {rep.monthly * months} {label}")
        admin("/goal", f"set team {team.name} {_team_monthly(team) * months} {label}")
    year = periods.current(periods.PeriodKind.YEAR, today).label
    for rep in team.reps:
        admin("/goal", f"set <@{rep.user_id}> {rep.monthly * 12} {year}")
    admin("/goal", f"set team {team.name} {_team_monthly(team) * 12} {year}")


def _team_monthly(team: DemoTeam) -> int:
    return sum(rep.monthly for rep in team.reps)


def _first_month(today: date) -> date:
    index = today.year * 12 + today.month - 1 - (MONTHS_OF_DEALS - 1)
    return date(index // 12, index % 12 + 1, 1)


def _holidays(team: DemoTeam, today: date) -> list[date]:
    years = range(_first_month(today).year, today.year + 1)
    return [date(y, m, d) for y in years for m, d in team.holidays]


# --- deals as imported rows ---------------------------------------------------------------------


def _add_deals(
    session: Session, workspace_id: str, team: DemoTeam, today: date, rng: random.Random
) -> None:
    row = queries.find_team(session, workspace_id=workspace_id, name=team.name)
    assert row is not None and row.id is not None
    hols = queries.holidays(session, workspace_id=workspace_id, team_id=row.id)
    deals: list[Deal] = []
    for person in team.reps:
        member = queries.get_member(session, workspace_id=workspace_id, user_id=person.user_id)
        assert member is not None and member.id is not None
        for start in _month_starts(today):
            days = _month_days(start, hols)
            elapsed = [d for d in days if d <= today]
            for amount, day in _month_deals(team, person, len(days), elapsed, rng):
                deals.append(_deal(row, member.id, team, amount, day, rng))
        for amount, day in _pipeline(team, person, today, hols, rng):
            deal = _deal(row, member.id, team, amount, day, rng, stage=rng.choice(PIPELINE_STAGES))
            deal.created_at = deal.updated_at = _evening(today, team)  # entered today
            deals.append(deal)
    session.add_all(deals)
    session.flush()


def _month_starts(today: date) -> list[date]:
    first = _first_month(today)
    return [date(*_add_months(first, i), 1) for i in range(MONTHS_OF_DEALS)]


def _add_months(start: date, months: int) -> tuple[int, int]:
    index = start.year * 12 + start.month - 1 + months
    return index // 12, index % 12 + 1


def _month_days(start: date, hols: frozenset[date]) -> list[date]:
    period = periods.month(start.year, start.month)
    return list(workdays.working_days(period.start, period.end, hols))


def _month_deals(
    team: DemoTeam, person: Person, total_days: int, elapsed: list[date], rng: random.Random
) -> list[tuple[int, date]]:
    """A month of won deals: the rep's drive times what pace expects so far, give or take."""
    if not elapsed:
        return []
    noise = rng.randint(88, 112)
    budget = person.monthly * person.drive * noise * len(elapsed) // (total_days * 100 * 100)
    count = max(1, round(person.deals_per_month * len(elapsed) / total_days))
    days = sorted(rng.choice(elapsed) for _ in range(count))
    return list(zip(_amounts(team, budget, count, rng), days, strict=True))


def _amounts(team: DemoTeam, budget: int, count: int, rng: random.Random) -> list[int]:
    """Minor units: a budget split by log-normal weights, rounded to the team's step."""
    weights = [Decimal(int(rng.lognormvariate(0, 0.7) * 1000) + 1) for _ in range(count)]
    step = money.to_minor(Decimal(team.step), team.currency)
    total = money.to_minor(Decimal(max(budget, team.step * count)), team.currency)
    return [max(step, round(part / step) * step) for part in money.split_exact(total, weights)]


def _pipeline(
    team: DemoTeam, person: Person, today: date, hols: frozenset[date], rng: random.Random
) -> list[tuple[int, date]]:
    """Two or three open deals expected to close on the month's remaining working days."""
    period = periods.month(today.year, today.month)
    ahead = [d for d in workdays.working_days(today + timedelta(days=1), period.end, hols)]
    if not ahead:
        next_start = period.end + timedelta(days=1)
        ahead = _month_days(next_start, hols)
    count = rng.randint(2, 3)
    budget = person.monthly * rng.randint(30, 60) // 100
    days = sorted(rng.choice(ahead) for _ in range(count))
    return list(zip(_amounts(team, budget, count, rng), days, strict=True))


def _evening(day: date, team: DemoTeam) -> datetime:
    return datetime.combine(day, time(17), ZoneInfo(team.tz))


def _deal(
    team_row: Team,
    owner_id: int,
    team: DemoTeam,
    amount_minor: int,
    day: date,
    rng: random.Random,
    stage: str = "won",
) -> Deal:
    assert team_row.id is not None
    return Deal(
        workspace_id=team_row.workspace_id,
        team_id=team_row.id,
        owner_id=owner_id,
        logged_by=owner_id,
        amount_minor=amount_minor,
        currency=team.currency,
        customer=rng.choice(team.customers),
        product=rng.choice(team.products),
        region=rng.choice(team.regions),
        stage=stage,
        close_date=day,
        source="import",
        created_at=_evening(day, team),
        updated_at=_evening(day, team),
    )


# --- what is there ------------------------------------------------------------------------------


def _summary(session: Session, workspace_id: str, *, created: bool) -> DemoSummary:
    teams = [t for t in queries.list_teams(session, workspace_id=workspace_id)]
    roles = session.exec(
        select(Membership.role, func.count())
        .join(Team, col(Team.id) == col(Membership.team_id))
        .where(Team.workspace_id == workspace_id)
        .group_by(col(Membership.role))
    ).all()
    by_role = dict(roles)
    won, first, last = session.exec(
        select(func.count(), func.min(Deal.close_date), func.max(Deal.close_date)).where(
            Deal.workspace_id == workspace_id, Deal.stage == "won"
        )
    ).one()
    total = session.exec(select(func.count()).where(Deal.workspace_id == workspace_id)).one()
    goals = session.exec(select(func.count()).where(Goal.workspace_id == workspace_id)).one()
    rep = queries.get_member(session, workspace_id=workspace_id, user_id=FIRST_REP.user_id)
    return DemoSummary(
        created=created,
        workspace_id=workspace_id,
        teams=tuple(t.name for t in teams),
        reps=int(by_role.get("rep", 0)),
        managers=int(by_role.get("manager", 0)),
        goals=int(goals),
        won_deals=int(won),
        open_deals=int(total) - int(won),
        first_day=first,
        last_day=last,
        user_id=FIRST_REP.user_id,
        user_name=rep.name if isinstance(rep, Member) else FIRST_REP.name,
    )
