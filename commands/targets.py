"""Targets changed in chat: `/goal adjust` (the rep is told, the reason audited) and
`/goal history`; and the lookups that feedback on targets (commands/feedback.py) shares.
Direct messages go out as Notices by the edge, once each: nothing here talks to Slack.
"""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from commands import markup, stats
from commands.context import Ctx
from commands.formatter import to_value
from commands.parsing import Refused, UsageError
from commands.types import Notice, Reply
from storage import queries
from storage.models import Goal, Member, Team

REASON_LIMIT = 500  # AuditEntry.reason
# History lines of entries that do not change the target.
HISTORY_KEYS = {"delete": "feedback.history_deleted", "keep": "feedback.history_kept"}


# --- shared lookups ----------------------------------------------------------------------------


def find_goal(ctx: Ctx, goal_id: int, *, deleted_too: bool = False) -> Goal:
    """The goal `#goal_id`; a soft-deleted one only for reading (`deleted_too`)."""
    goal = queries.get_goal(
        ctx.session, workspace_id=ctx.ws, number=goal_id, deleted_too=deleted_too
    )
    if goal is None:
        raise Refused("feedback.no_goal", id=str(goal_id))
    return goal


def team_of(ctx: Ctx, goal: Goal) -> Team | None:
    return ctx.session.get(Team, goal.team_id) if goal.team_id is not None else None


def may_manage(ctx: Ctx, team: Team | None) -> bool:
    return ctx.me.is_admin if team is None else ctx.can_manage(team)


def require_manager(ctx: Ctx, team: Team | None) -> None:
    if team is not None:
        ctx.require_manager(team)
    elif not ctx.me.is_admin:
        raise Refused("feedback.admins_only")


def currency_of(team: Team | None) -> str:
    return team.currency if team else "USD"


def member(ctx: Ctx, member_id: int | None) -> Member | None:
    return ctx.session.get(Member, member_id) if member_id is not None else None


def target_text(ctx: Ctx, goal: Goal, team: Team | None, target: int | None = None) -> str:
    currency = currency_of(team)
    value = to_value(goal.target if target is None else target, goal.metric, currency)
    return ctx.fmt.value(value, goal.metric, currency)


def check_length(ctx: Ctx, text: str, field: str, limit: int) -> None:
    if len(text) > limit:
        raise UsageError("feedback.too_long", field=ctx.t(field), limit=str(limit))


# --- /goal adjust ID AMOUNT reason:... -----------------------------------------------------------


def adjust(ctx: Ctx, goal_id: int, amount: str, options: dict[str, str]) -> Reply:
    """/goal adjust ID AMOUNT reason:…: the rep is told, the audit keeps the reason."""
    reason = options.get("reason", "").strip()
    if not reason:
        raise UsageError("feedback.reason_needed")
    goal = find_goal(ctx, goal_id)
    team = team_of(ctx, goal)
    require_manager(ctx, team)
    check_length(ctx, reason, "feedback.field_reason", REASON_LIMIT)
    target = stats.parse_target(goal.metric, amount, currency_of(team))
    if target == goal.target:
        raise Refused("feedback.same_target", id=goal.number, target=target_text(ctx, goal, team))
    old = goal.target
    audit_id = change_target(ctx, goal, target, reason)
    notices = []
    rep = member(ctx, goal.member_id) if goal.scope == "rep" else None
    if rep is not None and rep.user_id != ctx.req.user_id:
        notices.append(
            _adjusted_notice(ctx.speaking_to(rep), goal, team, rep, old, reason, audit_id)
        )
    text = ctx.t(
        "feedback.adjusted",
        id=goal.number,
        old=target_text(ctx, goal, team, old),
        new=target_text(ctx, goal, team),
        reason=markup.escape(reason),
    )
    return Reply(text=text, notices=notices)


def change_target(ctx: Ctx, goal: Goal, target: int, reason: str) -> int:
    """Set a goal's target with an audit entry (old, new, reason); the entry's id."""
    assert goal.id is not None
    before = queries.snapshot(goal)
    goal.target = target
    goal.origin = "set"  # a person chose it now: a re-split of its parent keeps it
    queries.save_goal(ctx.session, goal=goal, actor=ctx.req.user_id, before=before, reason=reason)
    return queries.last_audit_id(ctx.session, workspace_id=ctx.ws, entity="goal", entity_id=goal.id)


def _adjusted_notice(
    ctx: Ctx, goal: Goal, team: Team | None, rep: Member, old: int, reason: str, audit_id: int
) -> Notice:
    text = ctx.t(
        "feedback.adjusted_dm",
        by=markup.mention(ctx.req.user_id),
        id=goal.number,
        period=goal.period,
        metric=ctx.t(f"metric.{goal.metric}"),
        old=target_text(ctx, goal, team, old),
        new=target_text(ctx, goal, team),
        reason=markup.escape(reason),
    )
    return Notice(key=f"adjust:{audit_id}", text=text, user_id=rep.user_id, locale=ctx.req.locale)


# --- /goal history ID ----------------------------------------------------------------------------


def history(ctx: Ctx, goal_id: int) -> Reply:
    """Every change of a goal, a deleted or replaced one too (when, by whom, why)."""
    goal = find_goal(ctx, goal_id, deleted_too=True)
    team = team_of(ctx, goal)
    if not _may_view_goal(ctx, goal, team):
        raise Refused("feedback.history_refused", id=goal.number)
    assert goal.id is not None
    tz = ZoneInfo(team.tz if team else "UTC")
    lines = [
        ctx.t(
            "feedback.history_title",
            id=goal.number,
            period=goal.period,
            metric=ctx.t(f"metric.{goal.metric}"),
        ),
    ]
    for entry in queries.audit_trail(
        ctx.session, workspace_id=ctx.ws, entity="goal", entity_id=goal.id
    ):
        before = json.loads(entry.before) if entry.before else None
        after = json.loads(entry.after) if entry.after else {}
        values = {
            "when": entry.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "by": markup.mention(entry.actor),
            "new": target_text(ctx, goal, team, int(after.get("target", goal.target))),
        }
        if before is None:
            line = ctx.t("feedback.history_created", **values)
        elif entry.action in HISTORY_KEYS:
            line = ctx.t(HISTORY_KEYS[entry.action], **values)
        else:
            old = target_text(ctx, goal, team, int(before.get("target", 0)))
            line = ctx.t("feedback.history_changed", old=old, **values)
        if entry.reason:
            line += ctx.t("feedback.history_reason", reason=markup.escape(entry.reason))
        lines.append(line)
    return Reply(text="\n".join(lines))


def _may_view_goal(ctx: Ctx, goal: Goal, team: Team | None) -> bool:
    if may_manage(ctx, team):
        return True
    if goal.scope == "rep":
        return goal.member_id == ctx.my_id
    mine = queries.memberships_of(ctx.session, member_id=ctx.my_id)
    return any(t.id == goal.team_id for t, _ in mine)
