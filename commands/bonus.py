"""/pacer bonus, /progress what-if and /pacer setup bonus: the payout a rep is on course
for, and what it would take to reach the next tier (domain/bonus.py does the arithmetic)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from commands import progress, stats
from commands.args import (
    PeriodRef,
    Subject,
    looks_like_amount,
    me,
    member_of,
    rep_team,
    take_amount,
)
from commands.context import Ctx, display_name, name_of
from commands.parsing import Refused, UsageError
from commands.types import Reply
from domain import bonus, money, pace, periods
from domain.periods import Period, PeriodKind
from storage import queries
from storage.models import BONUS_PERIODS, BonusPlan, Goal, Member, Team

# --- setup -----------------------------------------------------------------------------------


def setup(ctx: Ctx, words: list[str], options: dict[str, str]) -> Reply:
    """/pacer setup bonus TEAM [AMOUNT] [per:quarter] [tiers:80:50,>100:100], or
    /pacer setup bonus @rep AMOUNT (the rep's own amount on their home team)."""
    if words and words[0].startswith("<@"):
        return _rep_amount(ctx, words)
    tokens = list(words)
    amount_text = _tail_amount(tokens)
    if not tokens:
        raise UsageError("bonus.setup_usage")
    team = ctx.team_named(" ".join(tokens))
    per = _per(options.get("per"))
    tiers = _tiers(options.get("tiers"))
    amount = None if amount_text is None else _minor(amount_text, team)
    plan = queries.bonus_plan(ctx.session, workspace_id=ctx.ws, team_id=team.id or 0)
    if plan is None and amount is None:
        raise UsageError("bonus.amount_first", team=name_of(team))
    if amount is None and per is None and tiers is None:
        raise UsageError("bonus.setup_usage")
    plan = queries.set_bonus_plan(
        ctx.session,
        workspace_id=ctx.ws,
        team_id=team.id or 0,
        actor=ctx.req.user_id,
        amount_minor=amount,
        per=per,
        tiers=None if tiers is None else bonus.tiers_text(tiers),
    )
    return Reply(text=ctx.t("bonus.set", team=name_of(team), plan=describe(ctx, plan, team)))


def _rep_amount(ctx: Ctx, words: list[str]) -> Reply:
    rep = member_of(ctx, words[0])
    team = rep_team(ctx, rep)
    if len(words) < 2:
        raise UsageError("bonus.setup_usage")
    amount = _minor(take_amount(words[1:]), team)
    queries.set_bonus_override(
        ctx.session,
        workspace_id=ctx.ws,
        team_id=team.id or 0,
        member_id=rep.id or 0,
        amount_minor=amount,
        actor=ctx.req.user_id,
    )
    return Reply(
        text=ctx.t(
            "bonus.rep_set",
            rep=name_of(rep),
            team=name_of(team),
            amount=ctx.fmt.money(amount, team.currency),
        )
    )


def _tail_amount(tokens: list[str]) -> str | None:
    """The amount at the end of `TEAM AMOUNT` (`East 5000`, `East 8 万`), taken off."""
    two = len(tokens) >= 2 and tokens[-1].lower() in money.SEPARATE_SUFFIXES
    if two and looks_like_amount(tokens[-2]):
        return tokens.pop(-2) + tokens.pop(-1)
    if tokens and looks_like_amount(tokens[-1]):
        return tokens.pop()
    return None


def _minor(text: str, team: Team) -> int:
    amount = money.parse_amount(text, team.currency)
    if amount <= 0:
        raise UsageError("bonus.bad_amount", value=text)
    return money.to_minor(amount, team.currency)


def _per(text: str | None) -> str | None:
    if text is None:
        return None
    if text.lower() not in BONUS_PERIODS:
        raise UsageError("bonus.bad_per", value=text, choices=", ".join(BONUS_PERIODS))
    return text.lower()


def _tiers(text: str | None) -> tuple[bonus.Tier, ...] | None:
    if text is None:
        return None
    try:
        return bonus.parse_tiers(text)
    except bonus.TierError as err:
        raise UsageError("bonus.bad_tiers", value=str(err)) from None


def describe(ctx: Ctx, plan: BonusPlan, team: Team) -> str:
    """`$5,000 per rep per quarter; tiers: from 80% pays 50%, above 100% pays 100%`."""
    tiers = bonus.parse_tiers(plan.tiers)
    return ctx.t(
        "bonus.plan",
        amount=ctx.fmt.money(plan.amount_minor, team.currency),
        per=ctx.t(f"bonus.per_{plan.per}"),
        tiers=", ".join(_tier_name(ctx, t) for t in tiers),
    )


def show_lines(ctx: Ctx, team: Team) -> list[str]:
    """/pacer setup show: the team's bonus plan and reps' own amounts, if it has one."""
    plan = queries.bonus_plan(ctx.session, workspace_id=ctx.ws, team_id=team.id or 0)
    if plan is None:
        return []
    lines = ["    " + ctx.t("bonus.show", plan=describe(ctx, plan, team))]
    own = queries.bonus_overrides(ctx.session, workspace_id=ctx.ws, team_id=team.id or 0)
    for member_id, amount in sorted(own.items()):
        member = ctx.session.get(Member, member_id)
        if member is not None:
            lines.append(
                "    "
                + ctx.t(
                    "bonus.show_rep",
                    rep=name_of(member),
                    amount=ctx.fmt.money(amount, team.currency),
                )
            )
    return lines


def _tier_name(ctx: Ctx, tier: bonus.Tier) -> str:
    key = "bonus.tier_above" if tier.above else "bonus.tier_from"
    return ctx.t(key, floor=_pct(tier.floor), share=_pct(tier.share))


def _pct(ratio: Decimal) -> str:
    """A tier's percent as set (80%, 100%, 112.5%): tiers are exact, never rounded."""
    return f"{(ratio * 100).normalize():f}%"


# --- the standing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """A rep's bonus on one goal: now, at the forecast, and the next tier's what-if."""

    rep: Member
    team: Team
    goal: Goal
    target_bonus: int  # minor units
    tiers: tuple[bonus.Tier, ...]
    prog: pace.Progress
    actual_minor: int
    forecast_minor: int

    def attainment(self, minor: int) -> Decimal | None:
        return Decimal(minor) / self.goal.target if self.goal.target else None

    def payout(self, minor: int) -> int:
        return bonus.payout(self.tiers, self.attainment(minor), self.target_bonus)

    def tier(self, minor: int) -> int | None:
        return bonus.tier_of(self.tiers, self.attainment(minor))


def standing(
    ctx: Ctx, rep: Member, team: Team, period: PeriodRef | None, extra_minor: int = 0
) -> Standing | None:
    """The rep's bonus standing on the team for the plan's period (or the one asked), with
    `extra_minor` more won today; None without a plan or a revenue goal for it."""
    plan = queries.bonus_plan(ctx.session, workspace_id=ctx.ws, team_id=team.id or 0)
    if plan is None:
        return None
    today = ctx.today(team)
    shown = _bonus_period(ctx, plan, period, today)
    goals = queries.live_goals(
        ctx.session,
        workspace_id=ctx.ws,
        scope="rep",
        team_id=team.id,
        member_ids=[rep.id or 0],
        period=shown,
    )
    goal = next((g for g in goals if g.metric == "revenue"), None)
    if goal is None:
        return None
    prog = stats.progress_of(ctx.session, goal, team, today)  # its forecast, as /progress
    if extra_minor:
        prog = _with_more(
            ctx, goal, team, prog, today, money.from_minor(extra_minor, team.currency)
        )
    own = queries.bonus_overrides(ctx.session, workspace_id=ctx.ws, team_id=team.id or 0)
    return Standing(
        rep=rep,
        team=team,
        goal=goal,
        target_bonus=own.get(rep.id or 0, plan.amount_minor),
        tiers=bonus.parse_tiers(plan.tiers),
        prog=prog,
        actual_minor=_to_minor(prog.actual, team),
        forecast_minor=_to_minor(prog.forecast, team),
    )


def _bonus_period(ctx: Ctx, plan: BonusPlan, ref: PeriodRef | None, today: date) -> Period:
    if ref is not None:
        return ctx.period(ref, today)
    kind = {"month": PeriodKind.MONTH, "quarter": PeriodKind.QUARTER, "year": PeriodKind.YEAR}
    return periods.current(kind[plan.per], today, ctx.workspace.fiscal_start_month)


def _to_minor(value: Decimal, team: Team) -> int:
    """An amount in minor units, a forecast's fraction of a cent dropped (never rounded up
    into a tier it has not reached)."""
    scaled = value.scaleb(money.minor_digits(team.currency))
    return int(scaled.to_integral_value(rounding=ROUND_FLOOR))


def _with_more(
    ctx: Ctx, goal: Goal, team: Team, prog: pace.Progress, today: date, more: Decimal
) -> pace.Progress:
    """The goal's progress as it would be with `more` won today (in the trailing window too)."""
    hols = queries.holidays(ctx.session, workspace_id=ctx.ws, team_id=team.id)
    return pace.progress(
        target=prog.target,
        actual=prog.actual + more,
        period=stats.goal_period(goal),
        today=today,
        holidays=hols,
        behind_below=Decimal(team.behind_pct) / 100,
        trailing=None if prog.recent is None else prog.recent + more,
    )


# --- /pacer bonus -------------------------------------------------------------------------------


def handle(ctx: Ctx, subject: Subject | None, period: PeriodRef | None) -> Reply:
    """/pacer bonus [@rep | team NAME] [PERIOD]: reps see their own; managers their teams'."""
    subject = subject or me(ctx)
    mine = subject.rep is not None and subject.rep.id == ctx.my_id
    if not mine and not ctx.can_manage(subject.team):
        raise Refused("bonus.own_only")
    if subject.rep is not None:
        return Reply(text="\n".join(_rep_lines(ctx, subject.rep, subject.team, period)))
    return Reply(text="\n".join(_team_lines(ctx, subject.team, period)))


def _rep_lines(ctx: Ctx, rep: Member, team: Team, period: PeriodRef | None) -> list[str]:
    found = standing(ctx, rep, team, period)
    if found is None:
        return [_none(ctx, rep, team)]
    cur = team.currency
    fmt = ctx.fmt
    title = ctx.t(
        "bonus.title",
        who=name_of(rep),
        period=fmt.period(stats.goal_period(found.goal), ctx.workspace.fiscal_start_month),
        amount=fmt.money(found.target_bonus, cur),
    )
    lines = [
        title,
        ctx.t(
            "bonus.now",
            actual=fmt.money(found.actual_minor, cur),
            target=fmt.money(found.goal.target, cur),
            attainment=fmt.pct(found.attainment(found.actual_minor)),
            tier=tier_text(ctx, found, found.actual_minor),
            payout=fmt.money(found.payout(found.actual_minor), cur),
        ),
    ]
    if found.prog.days_left and found.prog.days_elapsed:
        lines.append(
            ctx.t(
                "bonus.forecast",
                forecast=fmt.money(found.forecast_minor, cur),
                attainment=fmt.pct(found.attainment(found.forecast_minor)),
                tier=tier_text(ctx, found, found.forecast_minor),
                payout=fmt.money(found.payout(found.forecast_minor), cur),
            )
        )
    lines.append(_what_if_line(ctx, found))
    return lines


def tier_text(ctx: Ctx, found: Standing, minor: int) -> str:
    index = found.tier(minor)
    if index is None:
        return ctx.t("bonus.no_tier", first=_tier_name(ctx, found.tiers[0]))
    return _tier_name(ctx, found.tiers[index])


def _what_if_line(ctx: Ctx, found: Standing) -> str:
    step = bonus.next_tier(found.tiers, found.actual_minor, found.goal.target)
    cur = found.team.currency
    if step is None:
        return ctx.t("bonus.top_tier")
    after = found.actual_minor + step.more_minor
    return ctx.t(
        "bonus.what_if",
        more=ctx.fmt.money(step.more_minor, cur),
        attainment=_exact_pct(step.attainment),
        tier=_tier_name(ctx, found.tiers[step.tier]),
        payout=ctx.fmt.money(found.payout(after), cur),
        now=ctx.fmt.money(found.payout(found.actual_minor), cur),
    )


def _exact_pct(ratio: Decimal) -> str:
    """Two decimals, never rounded up past what is reached (100.0008% reads 100.00%)."""
    shown = (ratio * 100).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
    return f"{shown}%"


def _team_lines(ctx: Ctx, team: Team, period: PeriodRef | None) -> list[str]:
    plan = queries.bonus_plan(ctx.session, workspace_id=ctx.ws, team_id=team.id or 0)
    if plan is None:
        return [ctx.t("bonus.no_plan", team=name_of(team))]
    cur = team.currency
    reps = queries.team_members(ctx.session, team_id=team.id or 0, role="rep")
    found = [(r, standing(ctx, r, team, period)) for r in sorted(reps, key=display_name)]
    lines = [ctx.t("bonus.team_title", team=name_of(team), plan=describe(ctx, plan, team))]
    now_total = projected_total = 0
    for rep, s in found:
        if s is None:
            lines.append(ctx.t("bonus.team_rep_no_goal", rep=name_of(rep)))
            continue
        now, projected = s.payout(s.actual_minor), s.payout(s.forecast_minor)
        now_total, projected_total = now_total + now, projected_total + projected
        lines.append(
            ctx.t(
                "bonus.team_rep",
                rep=name_of(rep),
                attainment=ctx.fmt.pct(s.attainment(s.actual_minor)),
                now=ctx.fmt.money(now, cur),
                forecast=ctx.fmt.pct(s.attainment(s.forecast_minor)),
                projected=ctx.fmt.money(projected, cur),
            )
        )
    lines.append(
        ctx.t(
            "bonus.team_total",
            now=ctx.fmt.money(now_total, cur),
            projected=ctx.fmt.money(projected_total, cur),
        )
    )
    return lines


def _none(ctx: Ctx, rep: Member, team: Team) -> str:
    plan = queries.bonus_plan(ctx.session, workspace_id=ctx.ws, team_id=team.id or 0)
    if plan is None:
        return ctx.t("bonus.no_plan", team=name_of(team))
    return ctx.t("bonus.no_goal", rep=name_of(rep), per=ctx.t(f"bonus.per_{plan.per}"))


# --- /progress what-if --------------------------------------------------------------------------


def what_if(ctx: Ctx, amount_text: str, rep: Member | None) -> Reply:
    """/progress what-if AMOUNT [@rep]: the lead goal and the bonus as they would be with
    AMOUNT more won today."""
    rep = rep or ctx.me
    if rep.id != ctx.my_id and not ctx.can_manage(rep_team(ctx, rep)):
        raise Refused("bonus.own_only")
    team = rep_team(ctx, rep)
    subject = Subject(display_name(rep), team, rep)
    today = ctx.today(team)
    goals = progress.goals_of(ctx, subject, today, None)
    money_goals = [g for g in goals if g.metric == "revenue"]
    if not money_goals:
        raise Refused("bonus.what_if_no_goal", rep=name_of(rep))
    goal = money_goals[0]
    more = money.parse_amount(amount_text, team.currency)
    if more <= 0:
        raise UsageError("bonus.bad_amount", value=amount_text)
    now = stats.progress_of(ctx.session, goal, team, today)
    then = _with_more(ctx, goal, team, now, today, more)
    cur = team.currency
    v = ctx.fmt.amount
    lines = [
        ctx.t(
            "bonus.what_if_title",
            more=v(more, cur),
            who=name_of(rep),
            period=ctx.fmt.period(stats.goal_period(goal), ctx.workspace.fiscal_start_month),
        ),
        ctx.t(
            "bonus.what_if_attainment",
            then=ctx.fmt.pct(then.attainment),
            now=ctx.fmt.pct(now.attainment),
            actual=v(then.actual, cur),
            target=v(then.target, cur),
        ),
    ]
    if then.pace is not None:
        lines.append(
            ctx.t("bonus.what_if_pace", then=ctx.fmt.pct(then.pace), now=ctx.fmt.pct(now.pace))
        )
    if then.actual >= then.target:
        lines.append(ctx.t("progress.target_met", days=then.days_left))
    elif then.run_rate is not None and now.run_rate is not None:
        lines.append(
            ctx.t(
                "bonus.what_if_run_rate",
                then=v(then.run_rate, cur),
                now=v(now.run_rate, cur),
                days=then.days_left,
            )
        )
    if then.days_left and then.days_elapsed:
        lines.append(
            ctx.t("bonus.what_if_forecast", then=v(then.forecast, cur), now=v(now.forecast, cur))
        )
    lines += _what_if_bonus(ctx, rep, team, money.to_minor(more, cur))
    return Reply(text="\n".join(lines))


def _what_if_bonus(ctx: Ctx, rep: Member, team: Team, more_minor: int) -> list[str]:
    found = standing(ctx, rep, team, None)
    if found is None:
        return []
    after = found.actual_minor + more_minor
    cur = team.currency
    return [
        ctx.t(
            "bonus.what_if_tier",
            tier=tier_text(ctx, found, after),
            payout=ctx.fmt.money(found.payout(after), cur),
            now=ctx.fmt.money(found.payout(found.actual_minor), cur),
        )
    ]
