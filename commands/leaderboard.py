"""/leaderboard [team NAME] [period] [by revenue|deals|attainment]: ranking with a chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from charts.numbers import compact
from charts.specs import LeaderboardChart
from commands import markup
from commands.args import PeriodRef
from commands.context import Ctx, display_name, name_of
from commands.formatter import Formatter
from commands.parsing import Refused
from commands.types import Reply, Visibility
from domain import money, pace, ranking
from domain.periods import Period
from storage import queries
from storage.models import Member, Team

ORDERS = ("attainment", "revenue", "deals")


@dataclass(frozen=True)
class Row:
    member: Member
    revenue: Decimal
    deals: int
    target: Decimal | None

    @property
    def attainment(self) -> Decimal | None:
        return self.revenue / self.target if self.target else None


@dataclass(frozen=True)
class Board:
    """A team's rows for a period, and what people no longer on it sold there: together
    they are every won deal credited to the team, the team's actual in /progress."""

    rows: list[Row]
    former_minor: int = 0
    former_deals: int = 0

    def total_minor(self, currency: str) -> int:
        shown = sum((money.to_minor(r.revenue, currency) for r in self.rows), 0)
        return shown + self.former_minor


def handle(ctx: Ctx, team: Team | None, period: PeriodRef | None, order: str | None) -> Reply:
    """/leaderboard [team NAME] [PERIOD] [by revenue|deals|attainment]"""
    team = team or _default_team(ctx)
    today = ctx.today(team)
    shown = ctx.period(period, today)
    board = board_of(ctx.session, team, shown.start, shown.end)
    order = order or "attainment"
    if order == "attainment" and not any(r.target for r in board.rows):
        order = "revenue"  # nobody has a target this period: attainment would rank nobody
    return render(ctx, team, shown, board, order, today)


def _default_team(ctx: Ctx) -> Team:
    """My team, else the workspace's first."""
    team = ctx.my_team() or next(iter(queries.list_teams(ctx.session, workspace_id=ctx.ws)), None)
    if team is None:
        raise Refused("error.no_teams_yet")
    return team


def board_of(
    session: Session,
    team: Team,
    start: date,
    end: date,
    targets: dict[int, int] | None = None,
) -> Board:
    """Who is on the team's leaderboard for [start, end]: its reps, and anyone else on the
    team during the period (a manager who sells, a rep who left or moved away since) with
    deals credited to the team or a revenue target there; the rest of the team's won deals
    make the former members' line. Targets (minor units): the team's rep goals of exactly
    that period unless given. Two aggregate queries and one for the goals."""
    totals = queries.totals_by_owner(
        session, workspace_id=team.workspace_id, start=start, end=end, team_id=team.id
    )
    if targets is None:
        targets = _targets(session, team, start, end)
    people = [
        member
        for member, row in queries.members_during(session, team_id=team.id or 0, start=start)
        if (row.left_on is None and row.role == "rep")
        or member.id in totals
        or member.id in targets
    ]
    rows = rows_of(session, team, people, start, end, targets, totals)
    shown = {r.member.id for r in rows}
    former = [value for owner, value in totals.items() if owner not in shown]
    return Board(rows, sum(v[0] for v in former), sum(v[1] for v in former))


def _targets(session: Session, team: Team, start: date, end: date) -> dict[int, int]:
    return queries.rep_targets(
        session,
        workspace_id=team.workspace_id,
        team_id=team.id or 0,
        start=start,
        end=end,
        metric="revenue",
    )


def rows_of(
    session: Session,
    team: Team,
    reps: list[Member],
    start: date,
    end: date,
    targets: dict[int, int] | None = None,
    totals: dict[int, tuple[int, int]] | None = None,
) -> list[Row]:
    """The members' won revenue and deals for the team in [start, end], with their revenue
    targets (minor units) where given: one aggregate query, unless the totals are given."""
    if totals is None:
        totals = queries.totals_by_owner(
            session, workspace_id=team.workspace_id, start=start, end=end, team_id=team.id
        )
    targets = targets or {}
    cur = team.currency
    return [
        Row(
            member=r,
            revenue=money.from_minor(totals.get(r.id or 0, (0, 0))[0], cur),
            deals=totals.get(r.id or 0, (0, 0))[1],
            target=money.from_minor(targets[r.id], cur) if r.id in targets else None,
        )
        for r in reps
    ]


def rank(rows: list[Row], order: str) -> list[tuple[int | None, Row]]:
    """Ranked rows; by attainment, reps without a target follow, unranked, by revenue."""
    rows = sorted(rows, key=lambda r: display_name(r.member).lower())
    if order == "deals":
        return list(ranking.competition_ranks(rows, lambda r: Decimal(r.deals)))
    if order == "revenue":
        return list(ranking.competition_ranks(rows, lambda r: r.revenue))
    with_target = [r for r in rows if r.attainment is not None]
    without = sorted((r for r in rows if r.attainment is None), key=lambda r: -r.revenue)
    ranked: list[tuple[int | None, Row]] = list(
        ranking.competition_ranks(with_target, lambda r: r.attainment or Decimal(0))
    )
    return ranked + [(None, r) for r in without]


def render(ctx: Ctx, team: Team, period: Period, board: Board, order: str, today: date) -> Reply:
    rows = board.rows
    if not rows and not board.former_deals:
        return Reply(text=ctx.t("leaderboard.no_reps", team=name_of(team)))
    ranked = rank(rows, order)
    cur = team.currency
    shown = ctx.fmt.period(period, ctx.workspace.fiscal_start_month)  # FY2026-Q3 · Oct–Dec 2026
    title = ctx.t(
        "leaderboard.title", team=name_of(team), period=shown, order=ctx.t(f"order.{order}")
    )
    lines = [f"🏆 *{title}*"]
    for place, row in ranked:
        lines.append(_line(ctx, place, row, cur))
    lines += _totals(ctx, board, cur)
    hols = queries.holidays(ctx.session, workspace_id=ctx.ws, team_id=team.id)
    total_days = pace.workdays.count(period.start, period.end, hols)
    elapsed = pace.elapsed_days(period, today, hols)
    expected = Decimal(elapsed * 100) / total_days if total_days else None
    if order == "attainment" and expected is not None and any(r.target for r in rows):
        lines.append(ctx.t("leaderboard.expected", pct=f"{expected:.0f}%"))
    chart = _chart(ctx, markup.unescape(title), ranked, order, cur, expected)
    return Reply(text="\n".join(lines), chart=chart, visibility=Visibility.IN_CHANNEL)


def _totals(ctx: Ctx, board: Board, cur: str) -> list[str]:
    """The former members' line, if any, and the team total: the rows plus that line."""
    lines = []
    if board.former_deals:
        revenue = ctx.fmt.money(board.former_minor, cur)
        deals = ctx.fmt.count("deals", board.former_deals)
        lines.append(ctx.t("teams.former", revenue=revenue, deals=deals))
    count = sum(r.deals for r in board.rows) + board.former_deals
    total = ctx.fmt.money(board.total_minor(cur), cur)
    lines.append(ctx.t("teams.total", revenue=total, deals=ctx.fmt.count("deals", count)))
    return lines


MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


def _line(ctx: Ctx, place: int | None, row: Row, cur: str) -> str:
    name = name_of(row.member)
    revenue = ctx.fmt.amount(row.revenue, cur)
    deals = ctx.fmt.count("deals", row.deals)
    badge = MEDALS.get(place or 0, f"{place}." if place else "·")
    if row.target is None:
        return ctx.t(
            "leaderboard.line_no_target", badge=badge, name=name, revenue=revenue, deals=deals
        )
    return ctx.t(
        "leaderboard.line",
        badge=badge,
        name=name,
        attainment=ctx.fmt.pct(row.attainment),
        revenue=revenue,
        target=ctx.fmt.amount(row.target, cur),
        deals=deals,
    )


def _chart(
    ctx: Ctx,
    title: str,
    ranked: list[tuple[int | None, Row]],
    order: str,
    cur: str,
    expected: Decimal | None,
) -> LeaderboardChart:
    shown = [r for _, r in ranked if order != "attainment" or r.attainment is not None]
    return bar_chart(
        ctx.fmt,
        title,
        shown,
        order,
        cur,
        alt_key="leaderboard.alt",
        expected=expected,
        highlight=frozenset({display_name(ctx.me)}),
    )


def bar_chart(
    out: Formatter,
    title: str,
    rows: list[Row],
    order: str,
    cur: str,
    *,
    alt_key: str,
    expected: Decimal | None = None,
    highlight: frozenset[str] = frozenset(),
) -> LeaderboardChart:
    """The rows as bars in their order, by attainment (percent), revenue or deals: for
    /leaderboard and for the weekly and month-end posts alike."""
    names = [display_name(r.member) for r in rows]
    prefix = money.symbol(cur)
    if order == "attainment":
        values = [float((r.attainment or 0) * 100) for r in rows]
        notes = [f"{out.pct(r.attainment)}  {compact(float(r.revenue), prefix)}" for r in rows]
    elif order == "deals":
        values = [float(r.deals) for r in rows]
        notes = [str(r.deals) for r in rows]
    else:
        values = [float(r.revenue) for r in rows]
        notes = [compact(float(r.revenue), prefix) for r in rows]
    return LeaderboardChart(
        title=title,
        names=names,
        values=values,
        percent=order == "attainment",
        reference=float(expected) if expected is not None and order == "attainment" else None,
        value_prefix=prefix if order != "deals" else "",
        notes=notes,
        highlight=highlight,
        labels={"pace": out.t("chart.pace"), "target": out.t("chart.target")},
        alt_text=out.t(alt_key, title=title, top=", ".join(names[:3])),
    )
