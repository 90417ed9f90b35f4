"""/deal: log, list, edit, delete and restore deals."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from commands import celebrate, markup, stats
from commands.args import looks_like_amount, take_amount
from commands.context import Ctx, name_of
from commands.parsing import Refused, UsageError, parse_date, parse_stage
from commands.types import Button, Field, Form, FormResult, Reply
from domain import money, periods
from domain.periods import PeriodKind
from storage import queries
from storage.models import Deal, Goal, Member, Team, utcnow

KEYS = ("product", "region", "date", "note", "customer", "amount", "stage", "team")
FORM_ID = "deal_new"


@dataclass
class DealInput:
    amount: Decimal | None = None
    customer: str | None = None
    product: str | None = None
    region: str | None = None
    close_date: date | None = None
    note: str | None = None
    stage: str | None = None


def open_form(ctx: Ctx) -> Reply:
    return Reply(text="", form=deal_form(ctx))


def log_mine(ctx: Ctx, words: list[str] | None, options: dict[str, str]) -> Reply:
    """/deal AMOUNT CUSTOMER [key:value…]"""
    return log(ctx, ctx.me, words, options)


def log_for(ctx: Ctx, rep: Member, words: list[str] | None, options: dict[str, str]) -> Reply:
    """/deal for @rep AMOUNT CUSTOMER: a manager of the team the deal counts for, on a rep's
    behalf."""
    team = team_for(ctx, rep, options, missing="error.rep_no_team")
    ctx.require_manager(team)
    return log(ctx, rep, words, options)


def log(ctx: Ctx, owner: Member, words: list[str] | None, options: dict[str, str]) -> Reply:
    team = team_for(ctx, owner, options)
    values = parse_deal_text(ctx, words, options, team)
    return record(ctx, owner, team, values)


def team_for(
    ctx: Ctx, owner: Member, options: dict[str, str] | None = None, missing: str = "error.no_team"
) -> Team:
    """The team a new deal counts for: the one `team:NAME` names, which the owner must be
    on, else the owner's home team. An archived team takes no new deals."""
    if options and "team" in options:
        team = ctx.team_named(options["team"])
        if queries.membership(ctx.session, team_id=_id(team), member_id=_id(owner)) is None:
            teams = [
                name_of(t) for t, _ in queries.memberships_of(ctx.session, member_id=_id(owner))
            ]
            raise Refused(
                "teams.not_on_team",
                rep=name_of(owner),
                team=name_of(team),
                teams=", ".join(teams) or "—",
            )
    else:
        found = queries.team_of(ctx.session, member_id=_id(owner))
        if found is None:
            raise Refused(missing, rep=name_of(owner))
        team = found
    if team.archived_at is not None:
        raise Refused("teams.archived", team=name_of(team))
    return team


# Longest text each field keeps (the column sizes); longer input is refused, never cut.
LIMITS = {"customer": 200, "product": 120, "region": 120, "note": 2000}


def parse_deal_text(
    ctx: Ctx, words: list[str] | None, keys: dict[str, str], team: Team
) -> DealInput:
    words = list(words or [])
    if not words and "amount" not in keys:
        raise UsageError("error.missing_arg", what="AMOUNT")
    amount_text = keys.get("amount") or _amount_words(words)
    values = DealInput(amount=money.parse_amount(amount_text, team.currency))
    values.customer = keys.get("customer") or " ".join(words) or None
    if not values.customer:
        raise UsageError("error.no_customer", amount=amount_text)
    _apply_options(ctx, values, keys, team)
    return values


def _amount_words(words: list[str]) -> str:
    """Take the amount off the front, with a multiplier typed apart: `8 万`, `12.5 k`."""
    return take_amount(words)


def _apply_options(ctx: Ctx, values: DealInput, keys: dict[str, str], team: Team) -> None:
    values.product = keys.get("product") or values.product
    values.region = keys.get("region") or values.region
    values.note = keys.get("note") or values.note
    for name in LIMITS:
        if _over(values, name):
            raise UsageError(
                "error.too_long", field=ctx.t(f"deal.field_{name}"), limit=str(LIMITS[name])
            )
    if "date" in keys:
        values.close_date = _close_date(keys["date"], ctx.today(team))
    if "stage" in keys:
        values.stage = _stage(keys["stage"])


def _over(values: DealInput, name: str) -> bool:
    return len(getattr(values, name) or "") > LIMITS[name]


def _too_long(ctx: Ctx, name: str) -> str:
    return ctx.t("error.too_long", field=ctx.t(f"deal.field_{name}"), limit=str(LIMITS[name]))


def _close_date(text: str, today: date) -> date:
    """Any day parse_date reads: a late entry years back is allowed, and said
    (closed_note); a won deal in the future is refused where the stage is known."""
    return parse_date(text, today)


def closed_note(ctx: Ctx, day: date, today: date) -> str | None:
    """A close date before the current month lands in a closed period: say which."""
    if day >= today.replace(day=1):
        return None
    return ctx.t("grammar.closed_period", period=periods.month(day.year, day.month).label)


def _with_note(reply: Reply, note: str | None) -> Reply:
    if note is None or not reply.ok:
        return reply
    first, *rest = reply.text.split("\n")
    return dataclasses.replace(reply, text="\n".join([first, note, *rest]))


def _stage(text: str) -> str:
    return parse_stage(text)


def record(ctx: Ctx, owner: Member, team: Team, values: DealInput) -> Reply:
    """Write the deal once per delivery, then answer with the rep's new standing. The router
    runs a delivery once (commands/router.py); the deal's own unique request key is the
    last guard, should the same key arrive another way: nothing is written twice."""
    today = ctx.today(team)
    close = values.close_date or today
    stage = values.stage or "won"
    if stage == "won" and close > today:
        raise UsageError("error.future_date", date=close.isoformat())
    assert values.amount is not None and values.customer is not None
    deal = Deal(
        workspace_id=ctx.ws,
        team_id=_id(team),
        owner_id=_id(owner),
        logged_by=ctx.my_id,
        amount_minor=money.to_minor(values.amount, team.currency),
        currency=team.currency,
        customer=values.customer,
        product=values.product,
        region=values.region,
        stage=stage,
        close_date=close,
        source=ctx.req.source,
        note=values.note,
        request_key=ctx.req.request_key,
        created_at=ctx.req.now,  # the request's clock: the celebration cap counts by it
    )
    # No savepoint: the router's claim of the delivery, in this transaction, already keeps
    # a second delivery of the key from getting here. The deal's unique request key is the
    # last guard: should it fire, the whole transaction (claim included) rolls back.
    queries.add_deal(ctx.session, deal=deal, actor=ctx.req.user_id)
    return _with_note(
        logged_reply(ctx, deal, owner, team, new=True), closed_note(ctx, close, today)
    )


def logged_reply(ctx: Ctx, deal: Deal, owner: Member, team: Team, *, new: bool = False) -> Reply:
    lines = [ctx.t("deal.logged", id=deal.number, deal=describe(ctx, deal))]
    if owner.id != ctx.my_id:
        lines.append(ctx.t("deal.logged_for", rep=name_of(owner)))
    lines += _credited(ctx, owner, team)
    lines.append(standing(ctx, owner, team))
    reply = Reply(
        text="\n".join(lines),
        buttons=[Button("deal_delete", ctx.t("deal.button_delete"), str(deal.number), "danger")],
    )
    return celebrate.attach(ctx, deal, reply, new=new)


def _credited(ctx: Ctx, owner: Member, team: Team) -> list[str]:
    """Which team the deal counts for, said when the owner is on several."""
    others = [
        name_of(t)
        for t, _ in queries.memberships_of(ctx.session, member_id=_id(owner))
        if t.id != team.id
    ]
    if not others:
        return []
    return [
        ctx.t("teams.credited", team=name_of(team), rep=name_of(owner), others=", ".join(others))
    ]


def standing(ctx: Ctx, owner: Member, team: Team) -> str:
    """The rep's standing after a deal: the goal stats.goal_order leads with (revenue, the
    shortest period containing today), then each other current goal, one line each.
    Without a goal, what they have won this month."""
    today = ctx.today(team)
    goals = queries.live_goals(
        ctx.session, workspace_id=ctx.ws, scope="rep", member_ids=[_id(owner)], covering=today
    )
    # The goals of the team the deal was credited to: a rep on two teams has a goal in each,
    # each counting that team's deals in its currency.
    goals = [g for g in goals if g.team_id == team.id]
    if not goals:
        return _no_goal_standing(ctx, owner, team, today)
    goals = stats.goal_order(goals)
    actuals = stats.actuals_of(ctx.session, goals)
    return "\n".join(
        _standing_line(ctx, goal, team, today, known)
        for goal, known in zip(goals, actuals, strict=True)
    )


def _standing_line(ctx: Ctx, goal: Goal, team: Team, today: date, known: int) -> str:
    prog = stats.progress_of(ctx.session, goal, team, today, pipeline=False, known=known)
    cur = (stats.goal_team(ctx.session, goal, team) or team).currency
    status = ctx.t("pace.behind") if prog.behind else ctx.t("pace.on_track")
    return ctx.t(
        "deal.standing",
        period=ctx.fmt.period(stats.goal_period(goal), ctx.workspace.fiscal_start_month),
        actual=ctx.fmt.value(prog.actual, goal.metric, cur),
        target=ctx.fmt.value(prog.target, goal.metric, cur),
        attainment=ctx.fmt.pct(prog.attainment),
        pace=ctx.fmt.pct(prog.pace),
        status=status,
    )


def _no_goal_standing(ctx: Ctx, owner: Member, team: Team, today: date) -> str:
    month = periods.current(PeriodKind.MONTH, today)
    scope = stats.Scope(ctx.ws, team.id, (_id(owner),))
    won = stats.actuals(ctx.session, scope, month, team.currency)
    if not won.deals:
        return ctx.t("deal.no_goal")
    return ctx.t(
        "figures.deal_no_goal_actuals",
        period=month.label,
        revenue=ctx.fmt.amount(won.revenue, team.currency),
        deals=ctx.fmt.count("deals", won.deals),
    )


def describe(ctx: Ctx, deal: Deal) -> str:
    parts = [
        f"*{ctx.fmt.money(deal.amount_minor, deal.currency)}* — {markup.escape(deal.customer)}"
    ]
    extras = [markup.escape(x) for x in (deal.product, deal.region) if x]
    if extras:
        parts.append(f"({', '.join(extras)})")
    parts.append(ctx.t("deal.on_date", date=deal.close_date.isoformat()))
    if deal.stage != "won":
        parts.append(f"[{ctx.t('stage.' + deal.stage)}]")
    return " ".join(parts)


# --- list, edit, delete ----------------------------------------------------------------------


def list_deals(ctx: Ctx) -> Reply:
    deals = queries.recent_deals(ctx.session, workspace_id=ctx.ws, owner_id=ctx.my_id)
    if not deals:
        return Reply(text=ctx.t("deal.list_empty"))
    lines = [ctx.t("deal.list_title")]
    lines += [f"`#{d.number}` {describe(ctx, d)}" for d in deals]
    lines.append(ctx.t("deal.list_hint"))
    return Reply(text="\n".join(lines))


def editable(ctx: Ctx, deal_id: int, include_deleted: bool = False) -> Deal:
    deal = queries.get_deal(
        ctx.session, workspace_id=ctx.ws, number=deal_id, include_deleted=include_deleted
    )
    if deal is None:
        raise Refused("error.no_such_deal", id=str(deal_id))
    if ctx.my_id in (deal.owner_id, deal.logged_by) or ctx.me.is_admin:
        return deal
    team = ctx.session.get(Team, deal.team_id)
    if team is None or not ctx.can_manage(team):
        raise Refused("error.not_your_deal", id=str(deal_id))
    return deal


def edit(ctx: Ctx, deal_id: int, words: list[str] | None, options: dict[str, str]) -> Reply:
    """/deal edit ID [AMOUNT] [CUSTOMER] [key:value…]"""
    deal = editable(ctx, deal_id)
    team = ctx.session.get(Team, deal.team_id)
    assert team is not None
    values = DealInput()
    words = list(words or [])
    if words and looks_like_amount(words[0]):
        values.amount = money.parse_amount(_amount_words(words), team.currency)
    if "amount" in options:
        values.amount = money.parse_amount(options["amount"], team.currency)
    values.customer = options.get("customer") or " ".join(words) or None
    _apply_options(ctx, values, options, team)
    changes = _changes(deal, values, team)
    if not changes:
        raise UsageError("error.nothing_to_change")
    close = values.close_date or deal.close_date
    if (values.stage or deal.stage) == "won" and close > ctx.today(team):
        raise UsageError("error.future_date", date=close.isoformat())
    queries.change_deal(
        ctx.session,
        deal=deal,
        actor=ctx.req.user_id,
        action="update",
        changes=changes,
        now=ctx.req.now,
    )
    note = closed_note(ctx, close, ctx.today(team)) if "close_date" in changes else None
    text = ctx.t("deal.edited", id=deal.number, deal=describe(ctx, deal))
    return celebrate.attach(ctx, deal, _with_note(Reply(text=text), note))


def _changes(deal: Deal, values: DealInput, team: Team) -> dict[str, object]:
    changes: dict[str, object] = {}
    if values.amount is not None:
        changes["amount_minor"] = money.to_minor(values.amount, team.currency)
    for name in ("customer", "product", "region", "note", "stage"):
        if getattr(values, name) is not None:
            changes[name] = getattr(values, name)
    if values.close_date is not None:
        changes["close_date"] = values.close_date
    return {k: v for k, v in changes.items() if getattr(deal, k) != v}


def delete(ctx: Ctx, deal_id: int) -> Reply:
    deal = editable(ctx, deal_id)
    queries.change_deal(
        ctx.session,
        deal=deal,
        actor=ctx.req.user_id,
        action="delete",
        changes={"deleted_at": utcnow()},
    )
    reply = Reply(
        text=ctx.t("deal.deleted", id=deal.number, deal=describe(ctx, deal)),
        buttons=[Button("deal_restore", ctx.t("deal.button_undo"), str(deal.number), "primary")],
    )
    return celebrate.attach(ctx, deal, reply)


def restore(ctx: Ctx, deal_id: int) -> Reply:
    deal = editable(ctx, deal_id, include_deleted=True)
    if deal.deleted_at is None:
        return Reply(text=ctx.t("deal.not_deleted", id=deal.number))
    queries.change_deal(
        ctx.session,
        deal=deal,
        actor=ctx.req.user_id,
        action="restore",
        changes={"deleted_at": None},
    )
    reply = Reply(text=ctx.t("deal.restored", id=deal.number, deal=describe(ctx, deal)))
    return celebrate.attach(ctx, deal, reply)


def set_stage(ctx: Ctx, deal_id: int, stage: str) -> Reply:
    deal = editable(ctx, deal_id)
    if stage == deal.stage:  # nothing changes, so nothing is written or audited
        return celebrate.attach(
            ctx, deal, Reply(text=ctx.t("deal.edited", id=deal.number, deal=describe(ctx, deal)))
        )
    changes: dict[str, object] = {"stage": stage}
    team = ctx.session.get(Team, deal.team_id)
    if stage == "won" and team is not None and deal.close_date > ctx.today(team):
        changes["close_date"] = ctx.today(team)
    queries.change_deal(
        ctx.session,
        deal=deal,
        actor=ctx.req.user_id,
        action="update",
        changes=changes,
        now=ctx.req.now,
    )
    return celebrate.attach(
        ctx, deal, Reply(text=ctx.t("deal.edited", id=deal.number, deal=describe(ctx, deal)))
    )


# --- the modal ---------------------------------------------------------------------------------


def deal_form(ctx: Ctx) -> Form:
    team = ctx.my_team()
    today = ctx.today(team)
    currency = team.currency if team else "USD"
    return Form(
        callback_id=FORM_ID,
        title=ctx.t("deal.form_title"),
        submit=ctx.t("deal.form_submit"),
        metadata=ctx.req.channel_id or "",
        fields=[
            Field("amount", ctx.t("deal.field_amount", currency=currency), placeholder="12,500"),
            Field("customer", ctx.t("deal.field_customer"), placeholder="Acme Corp"),
            Field("date", ctx.t("deal.field_date"), kind="date", initial=today.isoformat()),
            Field("product", ctx.t("deal.field_product"), required=False),
            Field("region", ctx.t("deal.field_region"), required=False),
            Field("note", ctx.t("deal.field_note"), kind="long_text", required=False),
            *_team_field(ctx, team),
        ],
    )


def _team_field(ctx: Ctx, home: Team | None) -> list[Field]:
    """A choice of team for a member on several, their home team first chosen."""
    teams = [t for t, _ in queries.memberships_of(ctx.session, member_id=ctx.my_id)]
    teams = [t for t in teams if t.archived_at is None]
    if len(teams) < 2 or home is None:
        return []
    choices = [(str(t.id), t.name) for t in teams]
    return [
        Field(
            "team", ctx.t("teams.field_team"), kind="select", options=choices, initial=str(home.id)
        )
    ]


def _form_team(ctx: Ctx, values: dict[str, str]) -> Team | None:
    """The team chosen in the form, if the member is on it; else their home team."""
    chosen = values.get("team") or ""
    if chosen.isdigit() and queries.membership(
        ctx.session, team_id=int(chosen), member_id=ctx.my_id
    ):
        return ctx.session.get(Team, int(chosen))
    return ctx.my_team()


def submit_form(ctx: Ctx, values: dict[str, str]) -> FormResult:
    team = _form_team(ctx, values)
    if team is None:
        return FormResult(errors={"amount": ctx.t("error.no_team")})
    if team.archived_at is not None:
        return FormResult(
            errors={"amount": markup.unescape(ctx.t("teams.archived", team=team.name))}
        )
    errors: dict[str, str] = {}
    data = DealInput(
        customer=(values.get("customer") or "").strip() or None,
        product=(values.get("product") or "").strip() or None,
        region=(values.get("region") or "").strip() or None,
        note=(values.get("note") or "").strip() or None,
    )
    try:
        data.amount = money.parse_amount(values.get("amount") or "", team.currency)
    except money.AmountError as err:
        errors["amount"] = ctx.t(err.reason, value=err.text, currency=team.currency)
    if not data.customer:
        errors["customer"] = ctx.t("error.customer_required")
    errors.update((name, _too_long(ctx, name)) for name in LIMITS if _over(data, name))
    data.close_date = date.fromisoformat(values["date"]) if values.get("date") else None
    if data.close_date and data.close_date > ctx.today(team):
        errors["date"] = ctx.t("error.future_date", date=data.close_date.isoformat())
    if errors:
        return FormResult(errors=errors)
    return FormResult(reply=record(ctx, ctx.me, team, data))


def _id(row: Member | Team) -> int:
    assert row.id is not None
    return row.id
