"""Reps' feedback on their targets, answered by managers: `/goal feedback`, `/goal
review`, the answer buttons (Accept, Adjust, Decline) and their forms. Direct messages go
out as Notices (and are replaced through Updates) by the edge, once each: nothing here
talks to Slack. Changing a target itself is commands/targets.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NoReturn

from commands import markup, stats, targets
from commands.context import Ctx, mention
from commands.formatter import to_value
from commands.parsing import Refused, UsageError, parse_id
from commands.types import Button, Field, Form, FormResult, Notice, Reply, Update
from domain import money
from storage import queries
from storage.models import Feedback, Goal, Member, Team

NEW_FORM = "feedback_new"
ADJUST_FORM = "feedback_adjust"
DECLINE_FORM = "feedback_decline"
OPEN = "feedback_open"  # the button under /progress: opens NEW_FORM
ACCEPT = "feedback_accept"
ADJUST = "feedback_adjust_open"
DECLINE = "feedback_decline_open"
ACTIONS = (OPEN, ACCEPT, ADJUST, DECLINE)
FORMS = (NEW_FORM, ADJUST_FORM, DECLINE_FORM)

TEXT_LIMIT = 2000  # Feedback.text and Feedback.answer
REVIEW_ITEMS = 8  # three buttons each: an actions block holds at most 25
LIST_ITEMS = 15
STATUS = {
    "open": "feedback.status_open",
    "accepted": "feedback.status_accepted",
    "adjusted": "feedback.status_adjusted",
    "declined": "feedback.status_declined",
}
SETTLED = {
    "accepted": "feedback.settled_accepted",
    "adjusted": "feedback.settled_adjusted",
    "declined": "feedback.settled_declined",
}
OUTCOME = {
    "accepted": "feedback.outcome_accepted",
    "adjusted": "feedback.outcome_adjusted",
    "declined": "feedback.outcome_declined",
}


# --- /goal feedback [ID] TEXT [propose:AMOUNT] ---------------------------------------------------


def feedback(ctx: Ctx, goal_id: int | None, text: str | None, options: dict[str, str]) -> Reply:
    """/goal feedback [ID] TEXT [propose:AMOUNT]; alone, the feedback you may see."""
    if goal_id is None and not text and not options:
        return list_feedback(ctx)
    body = (text or "").strip()
    if not body:
        raise UsageError("feedback.text_missing")
    goal = targets.find_goal(ctx, goal_id) if goal_id is not None else _current_goal(ctx)
    if goal is None:
        raise Refused("feedback.no_current_goal")
    _require_mine(ctx, goal)
    team = targets.team_of(ctx, goal)
    targets.check_length(ctx, body, "feedback.field_text", TEXT_LIMIT)
    proposed = options.get("propose", "").strip()
    target = (
        stats.parse_target(goal.metric, proposed, targets.currency_of(team)) if proposed else None
    )
    return file_feedback(ctx, goal, team, body, target)


def _current_goal(ctx: Ctx) -> Goal | None:
    """The rep's shortest goal covering today, revenue first (as /progress shows)."""
    goals = _current_goals(ctx)
    if not goals:
        return None
    return min(goals, key=lambda g: (g.ends_on - g.starts_on, g.metric != "revenue", g.id or 0))


def _current_goals(ctx: Ctx) -> list[Goal]:
    today = ctx.today(ctx.my_team())
    return list(
        queries.live_goals(
            ctx.session, workspace_id=ctx.ws, scope="rep", member_ids=[ctx.my_id], covering=today
        )
    )


def _is_mine(ctx: Ctx, goal: Goal) -> bool:
    return goal.scope == "rep" and goal.member_id == ctx.my_id and goal.team_id is not None


def _require_mine(ctx: Ctx, goal: Goal) -> None:
    if not _is_mine(ctx, goal):
        raise Refused("feedback.not_your_goal", id=goal.number)


def file_feedback(
    ctx: Ctx, goal: Goal, team: Team | None, text: str, proposed: int | None
) -> Reply:
    """Save the feedback and write to each of the team's managers (admins if it has none)."""
    recipients = _recipients(ctx, team)
    if not recipients:
        raise Refused("feedback.no_managers")
    row = Feedback(
        workspace_id=ctx.ws, goal_id=goal.id or 0, member_id=ctx.my_id, text=text, proposed=proposed
    )
    ctx.session.add(row)
    ctx.session.flush()
    notices = [_manager_notice(ctx.speaking_to(m), row, goal, team, ctx.me, m) for m in recipients]
    who = ", ".join(mention(m) for m in recipients)
    return Reply(
        text=ctx.t("feedback.sent", id=row.number, goal=goal.number, who=who), notices=notices
    )


def _recipients(ctx: Ctx, team: Team | None) -> list[Member]:
    managers = []
    if team is not None and team.id is not None:
        managers = queries.team_members(ctx.session, team_id=team.id, role="manager")
    return managers or queries.workspace_admins(ctx.session, workspace_id=ctx.ws)


def _message_key(row: Feedback, member: Member) -> str:
    return f"feedback:{row.id}:{member.user_id}"


def _manager_notice(
    ctx: Ctx, row: Feedback, goal: Goal, team: Team | None, rep: Member, manager: Member
) -> Notice:
    return Notice(
        key=_message_key(row, manager),
        text=describe(ctx, row, goal, team, rep),
        user_id=manager.user_id,
        buttons=answer_buttons(ctx, row),
        locale=ctx.req.locale,
    )


def describe(ctx: Ctx, row: Feedback, goal: Goal, team: Team | None, rep: Member) -> str:
    """The feedback as a manager reads it: the goal, the words, the proposal, where the rep is."""
    prog = stats.progress_of(ctx.session, goal, team, ctx.today(team))
    currency = targets.currency_of(team)
    lines = [
        ctx.t(
            "feedback.dm_title",
            id=row.number,
            rep=mention(rep),
            goal=goal.number,
            period=goal.period,
            metric=ctx.t(f"metric.{goal.metric}"),
            target=targets.target_text(ctx, goal, team),
        ),
        "\n".join(f"> {line}" for line in markup.escape(row.text).splitlines() or [""]),
    ]
    if row.proposed is not None:
        lines.append(
            ctx.t("feedback.dm_proposed", amount=targets.target_text(ctx, goal, team, row.proposed))
        )
    status = ctx.t("pace.behind") if prog.behind else ctx.t("pace.on_track")
    lines.append(
        ctx.t(
            "feedback.dm_standing",
            actual=ctx.fmt.value(prog.actual, goal.metric, currency),
            attainment=ctx.fmt.pct(prog.attainment),
            pace=ctx.fmt.pct(prog.pace),
            status=status if prog.pace is not None else "",
        ).rstrip()
    )
    return "\n".join(lines)


def answer_buttons(ctx: Ctx, row: Feedback, numbered: bool = False) -> list[Button]:
    value = str(row.number)
    suffix = f" #{row.number}" if numbered else ""
    buttons = []
    if row.proposed is not None:
        buttons.append(Button(ACCEPT, ctx.t("feedback.button_accept") + suffix, value, "primary"))
    buttons.append(Button(ADJUST, ctx.t("feedback.button_adjust") + suffix, value))
    buttons.append(Button(DECLINE, ctx.t("feedback.button_decline") + suffix, value, "danger"))
    return buttons


# --- seeing feedback: /goal feedback, /goal feedback show ID, /goal review -----------------------


def _managed_team_ids(ctx: Ctx) -> list[int]:
    return [
        team.id
        for team, role in queries.memberships_of(ctx.session, member_id=ctx.my_id)
        if role == "manager" and team.id is not None
    ]


def list_feedback(ctx: Ctx) -> Reply:
    """Reps see their own feedback; managers also their teams'; admins everyone's."""
    rows = list(queries.feedback_list(ctx.session, workspace_id=ctx.ws, member_id=ctx.my_id))
    if ctx.me.is_admin:
        rows = list(queries.feedback_list(ctx.session, workspace_id=ctx.ws, limit=LIST_ITEMS))
    elif managed := _managed_team_ids(ctx):
        rows += queries.feedback_list(ctx.session, workspace_id=ctx.ws, team_ids=managed)
    unique = sorted({r.id: r for r in rows}.values(), key=lambda r: -(r.id or 0))[:LIST_ITEMS]
    if not unique:
        return Reply(text=ctx.t("feedback.list_none"))
    return Reply(text="\n".join([ctx.t("feedback.list_title"), *(_line(ctx, r) for r in unique)]))


def _line(ctx: Ctx, row: Feedback) -> str:
    rep = targets.member(ctx, row.member_id)
    return ctx.t(
        "feedback.list_line",
        id=row.number,
        rep=mention(rep) if rep else "?",
        goal=goal.number if (goal := ctx.session.get(Goal, row.goal_id)) else "?",
        status=ctx.t(STATUS.get(row.status, "feedback.status_open")),
        text=_short(markup.escape(row.text)),
    )


def _short(text: str, limit: int = 80) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def show(ctx: Ctx, feedback_id: int) -> Reply:
    row, goal, team = _load(ctx, feedback_id)
    if row.member_id != ctx.my_id and not targets.may_manage(ctx, team):
        raise Refused("feedback.not_yours", id=feedback_id)
    rep = targets.member(ctx, row.member_id) or ctx.me
    lines = [describe(ctx, row, goal, team, rep)]
    if row.status == "open":
        lines.append(ctx.t("feedback.status_line", status=ctx.t(STATUS["open"])))
        buttons = answer_buttons(ctx, row) if targets.may_manage(ctx, team) else []
        return Reply(text="\n".join(lines), buttons=buttons)
    lines.append(
        ctx.t(
            "feedback.status_answered",
            status=ctx.t(STATUS.get(row.status, "feedback.status_open")),
            by=markup.mention(row.answered_by or "?"),
            note=markup.escape(row.answer or "—"),
        )
    )
    return Reply(text="\n".join(lines))


def review(ctx: Ctx) -> Reply:
    """Open feedback to answer: managers their teams', admins everyone's."""
    team_ids: list[int] | None = None
    if not ctx.me.is_admin:
        team_ids = _managed_team_ids(ctx)
        if not team_ids:
            raise Refused("feedback.review_refused")
    rows = list(
        queries.feedback_list(
            ctx.session, workspace_id=ctx.ws, status="open", team_ids=team_ids, limit=100
        )
    )
    if not rows:
        return Reply(text=ctx.t("feedback.review_none"))
    rows.reverse()  # oldest first: they have waited longest
    shown = rows[:REVIEW_ITEMS]
    lines = [ctx.t("feedback.review_title", count=len(rows))]
    buttons: list[Button] = []
    for row in shown:
        _, goal, team = _load(ctx, row.number)
        rep = targets.member(ctx, row.member_id) or ctx.me
        lines.append(describe(ctx, row, goal, team, rep))
        buttons += answer_buttons(ctx, row, numbered=True)
    if len(rows) > len(shown):
        lines.append(ctx.t("feedback.review_more", count=len(rows) - len(shown)))
    return Reply(text="\n\n".join(lines), buttons=buttons)


def _load(ctx: Ctx, feedback_id: int) -> tuple[Feedback, Goal, Team | None]:
    row = queries.get_feedback(ctx.session, workspace_id=ctx.ws, number=feedback_id)
    goal = ctx.session.get(Goal, row.goal_id) if row is not None else None
    if row is None or goal is None:
        raise Refused("feedback.no_feedback", id=str(feedback_id))
    return row, goal, targets.team_of(ctx, goal)


# --- answering: Accept, Adjust, Decline ----------------------------------------------------------


def _answerable(ctx: Ctx, feedback_id: int) -> tuple[Feedback, Goal, Team | None]:
    """The feedback if this user may answer it and it is still open; else Refused."""
    row, goal, team = _load(ctx, feedback_id)
    targets.require_manager(ctx, team)
    if row.status != "open" or goal.deleted_at is not None:
        _already(ctx, row)
    return row, goal, team


def _already(ctx: Ctx, row: Feedback) -> NoReturn:
    if row.answered_by is None:  # the goal was deleted
        raise Refused("feedback.goal_gone", id=row.number)
    raise Refused(
        "feedback.already_answered",
        id=row.number,
        by=markup.mention(row.answered_by or "?"),
        status=ctx.t(STATUS.get(row.status, "feedback.status_open")),
    )


def accept(ctx: Ctx, feedback_id: int) -> Reply:
    row, goal, team = _answerable(ctx, feedback_id)
    if row.proposed is None:
        raise Refused("feedback.nothing_proposed", id=row.number)
    return settle(ctx, row, goal, team, "accepted", row.proposed, None)


def open_answer_form(ctx: Ctx, feedback_id: int, callback_id: str) -> Reply:
    """Adjust and Decline open a form; checked first, so a refusal opens nothing."""
    row, goal, team = _answerable(ctx, feedback_id)
    rep = targets.member(ctx, row.member_id) or ctx.me
    metadata = f"{ctx.req.channel_id or ''}|{row.number}"
    intro = describe(ctx, row, goal, team, rep)
    if callback_id == ADJUST_FORM:
        initial = None
        if row.proposed is not None:
            initial = _plain_number(to_value(row.proposed, goal.metric, targets.currency_of(team)))
        fields = [
            Field("amount", ctx.t("feedback.field_new_target"), initial=initial),
            Field("note", ctx.t("feedback.field_note"), kind="long_text", required=False),
        ]
        title, submit = ctx.t("feedback.adjust_title"), ctx.t("feedback.adjust_submit")
    else:
        fields = [Field("reason", ctx.t("feedback.field_reason"), kind="long_text")]
        title, submit = ctx.t("feedback.decline_title"), ctx.t("feedback.decline_submit")
    form = Form(callback_id, title, submit, fields, metadata=metadata, intro=intro)
    return Reply(text="", form=form)


def submit_adjust(ctx: Ctx, values: dict[str, str]) -> FormResult:
    row, goal, team = _answerable(ctx, _form_feedback_id(values))
    note = (values.get("note") or "").strip()
    errors: dict[str, str] = {}
    target = _field_target(ctx, values.get("amount") or "", goal, team, errors, "amount")
    if len(note) > targets.REASON_LIMIT:
        errors["note"] = _too_long(ctx, "feedback.field_note", targets.REASON_LIMIT)
    if errors or target is None:
        return FormResult(errors=errors)
    return FormResult(reply=settle(ctx, row, goal, team, "adjusted", target, note or None))


def submit_decline(ctx: Ctx, values: dict[str, str]) -> FormResult:
    row, goal, team = _answerable(ctx, _form_feedback_id(values))
    reason = (values.get("reason") or "").strip()
    if not reason:
        return FormResult(errors={"reason": ctx.t("feedback.reason_required")})
    if len(reason) > targets.REASON_LIMIT:
        return FormResult(
            errors={"reason": _too_long(ctx, "feedback.field_reason", targets.REASON_LIMIT)}
        )
    return FormResult(reply=settle(ctx, row, goal, team, "declined", None, reason))


def _plain_number(value: Decimal) -> str:
    """80000, 80000.5: as a user would type it back."""
    whole = value == value.to_integral_value()
    return f"{value.quantize(Decimal(1)) if whole else value.normalize():f}"


def _form_feedback_id(values: dict[str, str]) -> int:
    """The feedback id the form carries in its metadata: `CHANNEL|ID`."""
    return parse_id(values.get("_metadata", "").rpartition("|")[2] or "0")


def _too_long(ctx: Ctx, field: str, limit: int) -> str:
    return ctx.t("feedback.too_long", field=ctx.t(field), limit=str(limit))


def _field_target(
    ctx: Ctx, text: str, goal: Goal, team: Team | None, errors: dict[str, str], name: str
) -> int | None:
    """A typed target, or None with the reason in errors[name]."""
    try:
        return stats.parse_target(goal.metric, text.strip(), targets.currency_of(team))
    except UsageError as err:
        errors[name] = markup.unescape(ctx.t(err.key, **err.values))  # plain text
    except money.AmountError as err:
        errors[name] = ctx.t(err.reason, value=err.text)
    return None


def settle(
    ctx: Ctx,
    row: Feedback,
    goal: Goal,
    team: Team | None,
    status: str,
    target: int | None,
    note: str | None,
) -> Reply:
    """Answer the feedback if nobody has yet; the goal changes, the rep is told, and every
    manager's copy of the message is replaced to show who answered and how."""
    assert row.id is not None
    old = goal.target
    new = old if target is None else target
    won = queries.settle_feedback(
        ctx.session,
        workspace_id=ctx.ws,
        feedback_id=row.id,
        status=status,
        answered_by=ctx.req.user_id,
        answer=note,
        new_target=new if status != "declined" else None,
    )
    if not won:
        _already(ctx, row)
    if new != old:
        reason = ctx.t("feedback.audit_reason", id=row.number, note=note or "")
        targets.change_target(ctx, goal, new, reason[: targets.REASON_LIMIT])
    rep = targets.member(ctx, row.member_id) or ctx.me
    updates = [
        Update(
            key=_message_key(row, manager),
            text=_settled_text(ctx.speaking_to(manager), row, goal, team, rep, old, new),
        )
        for manager in _recipients(ctx, team)
    ]
    notices = [_outcome_notice(ctx.speaking_to(rep), row, goal, team, rep, old, new)]
    text = _settled_text(ctx, row, goal, team, rep, old, new)
    return Reply(text=text, notices=notices, updates=updates)


def _settled_text(
    ctx: Ctx, row: Feedback, goal: Goal, team: Team | None, rep: Member, old: int, new: int
) -> str:
    return ctx.t(
        SETTLED[row.status],
        id=row.number,
        rep=mention(rep),
        goal=goal.number,
        by=markup.mention(row.answered_by or "?"),
        old=targets.target_text(ctx, goal, team, old),
        new=targets.target_text(ctx, goal, team, new),
        note=markup.escape(row.answer or "—"),
    )


def _outcome_notice(
    ctx: Ctx, row: Feedback, goal: Goal, team: Team | None, rep: Member, old: int, new: int
) -> Notice:
    text = ctx.t(
        OUTCOME[row.status],
        id=row.number,
        goal=goal.number,
        by=markup.mention(row.answered_by or "?"),
        old=targets.target_text(ctx, goal, team, old),
        new=targets.target_text(ctx, goal, team, new),
        note=markup.escape(row.answer or "—"),
    )
    return Notice(
        key=f"feedback:{row.id}:outcome", text=text, user_id=rep.user_id, locale=ctx.req.locale
    )


# --- the form behind "Feedback on this target" ----------------------------------------------------


def progress_button(ctx: Ctx, goal: Goal) -> Button:
    return Button(OPEN, ctx.t("feedback.button_open"), str(goal.number))


def open_feedback_form(ctx: Ctx, goal_id: int) -> Reply:
    goal = targets.find_goal(ctx, goal_id)
    _require_mine(ctx, goal)
    team = targets.team_of(ctx, goal)
    goals = {g.id: g for g in [goal, *_current_goals(ctx)]}
    options = [(str(g.number), _goal_label(ctx, g, team)) for g in goals.values()]
    fields = [
        Field(
            "goal",
            ctx.t("feedback.field_goal"),
            kind="select",
            initial=str(goal.number),
            options=options,
        ),
        Field(
            "text",
            ctx.t("feedback.field_text"),
            kind="long_text",
            placeholder=ctx.t("feedback.text_placeholder"),
        ),
        Field(
            "proposed",
            ctx.t("feedback.field_proposed"),
            required=False,
            hint=ctx.t("feedback.proposed_hint"),
        ),
    ]
    form = Form(
        NEW_FORM,
        ctx.t("feedback.form_title"),
        ctx.t("feedback.form_submit"),
        fields,
        metadata=f"{ctx.req.channel_id or ''}|{goal.number}",
    )
    return Reply(text="", form=form)


def _goal_label(ctx: Ctx, goal: Goal, team: Team | None) -> str:
    return ctx.t(
        "feedback.goal_option",
        id=goal.number,
        period=goal.period,
        metric=ctx.t(f"metric.{goal.metric}"),
        target=targets.target_text(ctx, goal, team),
    )


def submit_feedback_form(ctx: Ctx, values: dict[str, str]) -> FormResult:
    errors: dict[str, str] = {}
    goal = queries.get_goal(
        ctx.session, workspace_id=ctx.ws, number=parse_id(values.get("goal") or "0")
    )
    if goal is None or not _is_mine(ctx, goal):
        return FormResult(errors={"goal": ctx.t("feedback.pick_goal")})
    team = targets.team_of(ctx, goal)
    text = (values.get("text") or "").strip()
    if not text:
        errors["text"] = ctx.t("feedback.text_required")
    elif len(text) > TEXT_LIMIT:
        errors["text"] = _too_long(ctx, "feedback.field_text", TEXT_LIMIT)
    proposed_text = (values.get("proposed") or "").strip()
    proposed = None
    if proposed_text:
        proposed = _field_target(ctx, proposed_text, goal, team, errors, "proposed")
    if errors:
        return FormResult(errors=errors)
    return FormResult(reply=file_feedback(ctx, goal, team, text, proposed))
