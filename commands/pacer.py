"""/pacer help and /pacer setup: teams, channels, members, time zones, currency, calendar."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import list_currencies

from commands import fiscal, markup
from commands.context import Ctx, name_of
from commands.parsing import CHANNEL_ID, Refused, UsageError, channel, parse_date
from commands.types import Field, Form, FormResult, Reply
from domain import money
from storage import queries
from storage.models import Holiday, Member, Team

FORM_ID = "pacer_setup"
TEAM_KEYS = {"tz", "currency", "hour", "channel", "as", "team"}
TEAM_NAME_LIMIT = 80
HOUR = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def overview(ctx: Ctx) -> Reply:
    """/pacer alone: what Pacer does, and its commands."""
    return Reply(text=ctx.t("pacer.help"))


def notify(ctx: Ctx, state: str) -> Reply:
    """/pacer notify off|on: whether Pacer sends this member direct messages on its own."""
    ctx.me.notify = state == "on"
    ctx.session.add(ctx.me)
    ctx.session.flush()
    return Reply(text=ctx.t("jobs.notify.on" if ctx.me.notify else "jobs.notify.off"))


def setup_alone(ctx: Ctx) -> Reply:
    """/pacer setup: the form for admins, what is set up for everyone else."""
    return Reply(text="", form=setup_form(ctx)) if ctx.me.is_admin else show(ctx)


# --- teams ------------------------------------------------------------------------------------


def _team_settings(channel_id: str | None, options: dict[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    if channel_id is not None:
        values["channel_id"] = channel_id
    if "channel" in options:
        values["channel_id"] = _channel_id(options["channel"])
    if "tz" in options:
        values["tz"] = _tz(options["tz"])
    if "currency" in options:
        values["currency"] = _currency(options["currency"])
    if "hour" in options:
        values["report_hour"] = _hour(options["hour"])
    return values


def _channel_id(text: str) -> str:
    chan = channel(text) or (text if CHANNEL_ID.fullmatch(text) else None)
    if chan is None:
        raise UsageError("error.bad_channel", value=text)
    return chan


def _tz(text: str) -> str:
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise UsageError("error.bad_tz", value=text) from err
    return text


def _currency(text: str) -> str:
    code = text.strip().upper()
    if code not in list_currencies():
        raise UsageError("error.bad_currency", value=text)
    return code


def _hour(text: str) -> str:
    m = HOUR.match(text.strip())
    if not m:
        raise UsageError("error.bad_hour", value=text)
    return f"{int(m[1]):02d}:{m[2]}"


def team_create(ctx: Ctx, name: str, channel_id: str | None, options: dict[str, str]) -> Reply:
    if len(name) > TEAM_NAME_LIMIT:
        raise UsageError("error.team_name_too_long", limit=str(TEAM_NAME_LIMIT))
    settings = _team_settings(channel_id, options)
    if queries.find_team(ctx.session, workspace_id=ctx.ws, name=name):
        raise Refused("error.team_exists", name=markup.escape(name))
    team = Team(workspace_id=ctx.ws, name=name, **settings)  # type: ignore[arg-type]
    if not queries.inserted(ctx.session, team):  # created by another admin meanwhile
        raise Refused("error.team_exists", name=name)
    return Reply(text=ctx.t("setup.team_created", team=describe_team(ctx, team)))


def team_set(ctx: Ctx, team: Team, channel_id: str | None, options: dict[str, str]) -> Reply:
    changes = _team_settings(channel_id, options)
    if not changes:
        raise UsageError("error.nothing_to_change")
    if (
        "currency" in changes
        and changes["currency"] != team.currency
        and queries.team_has_deals(ctx.session, team_id=team.id or 0)
    ):
        raise Refused("error.currency_locked", team=name_of(team), currency=team.currency)
    for key, value in changes.items():
        setattr(team, key, value)
    ctx.session.add(team)
    return Reply(text=ctx.t("setup.team_updated", team=describe_team(ctx, team)))


def describe_team(ctx: Ctx, team: Team) -> str:
    chan = markup.channel(team.channel_id) if team.channel_id else ctx.t("setup.no_channel")
    return ctx.t(
        "setup.team_line",
        name=name_of(team),
        channel=chan,
        tz=team.tz,
        currency=team.currency,
        hour=team.report_hour,
    )


def team_add(ctx: Ctx, team: Team, members: list[Member], options: dict[str, str]) -> Reply:
    role = options.get("as", "rep").lower()
    if role not in ("rep", "manager"):
        raise UsageError("error.bad_role", value=role)
    for member in members:
        assert member.id is not None and team.id is not None
        if role == "rep":
            set_rep_team(ctx, member, team)
        queries.set_membership(ctx.session, team_id=team.id, member_id=member.id, role=role)
    names = ", ".join(name_of(m) for m in members)
    return Reply(
        text=ctx.t(
            "setup.members_added", names=names, team=name_of(team), role=ctx.t(f"role.{role}")
        )
    )


def set_rep_team(ctx: Ctx, member: Member, team: Team) -> None:
    """A rep sells for one team: joining a team as rep leaves the previous one."""
    assert member.id is not None
    for other, role in queries.memberships_of(ctx.session, member_id=member.id):
        if role == "rep" and other.id != team.id and other.id is not None:
            queries.remove_membership(ctx.session, team_id=other.id, member_id=member.id)


def team_remove(ctx: Ctx, team: Team, members: list[Member]) -> Reply:
    """Each named member taken off the team, or said not to be on it; a warning when the
    last manager went (nobody is then asked about the team's feedback)."""
    assert team.id is not None
    managers = {
        m.id for m in members if queries.manages(ctx.session, member_id=m.id or 0, team_id=team.id)
    }
    removed: list[Member] = []
    strangers: list[Member] = []
    for member in members:
        gone = queries.remove_membership(ctx.session, team_id=team.id, member_id=member.id or 0)
        (removed if gone else strangers).append(member)
    lines = []
    if removed:
        names = ", ".join(name_of(m) for m in removed)
        lines.append(ctx.t("setup.members_removed", names=names, team=name_of(team)))
    if strangers:
        names = ", ".join(name_of(m) for m in strangers)
        lines.append(ctx.t("setup.not_members", names=names, team=name_of(team)))
    if managers & {m.id for m in removed} and not queries.team_members(
        ctx.session, team_id=team.id, role="manager"
    ):
        lines.append(ctx.t("setup.no_manager_left", team=name_of(team)))
    return Reply(text="\n".join(lines))


def admin_add(ctx: Ctx, members: list[Member]) -> Reply:
    for member in members:
        member.is_admin = True
        ctx.session.add(member)
    return Reply(text=ctx.t("setup.admins_added", names=", ".join(name_of(m) for m in members)))


# --- calendar and thresholds ---------------------------------------------------------------------


def holidays_add(ctx: Ctx, dates: list[str], options: dict[str, str]) -> Reply:
    team = ctx.team_named(options["team"]) if "team" in options else None
    days = sorted({parse_date(w, ctx.today(team)) for w in dates})
    existing = queries.holidays(ctx.session, workspace_id=ctx.ws, team_id=team.id if team else None)
    for day in days:
        if day not in existing:
            ctx.session.add(
                Holiday(workspace_id=ctx.ws, team_id=team.id if team else None, day=day)
            )
    scope = name_of(team) if team else ctx.t("setup.all_teams")
    listed = ", ".join(d.isoformat() for d in days)
    return Reply(text=ctx.t("setup.holidays_added", days=listed, scope=scope))


def threshold(ctx: Ctx, team: Team, amount_text: str) -> Reply:
    amount = money.parse_amount(amount_text, team.currency)
    team.big_deal_minor = money.to_minor(amount, team.currency)
    ctx.session.add(team)
    return Reply(
        text=ctx.t(
            "setup.threshold_set", team=name_of(team), amount=ctx.fmt.amount(amount, team.currency)
        )
    )


MAX_CELEBRATIONS = 50  # big-deal posts per channel per day


def celebrations(ctx: Ctx, team: Team, count: int) -> Reply:
    """/pacer setup celebrations NAME N: the daily cap on big-deal posts in a team's channel."""
    team.celebrations_per_day = count
    ctx.session.add(team)
    return Reply(text=ctx.t("celebrate.cap_set", team=name_of(team), count=count))


def fiscal_start(ctx: Ctx, month: int) -> Reply:
    ctx.workspace.fiscal_start_month = month
    ctx.session.add(ctx.workspace)
    return Reply(text=fiscal.changed(ctx, month))


def show(ctx: Ctx) -> Reply:
    teams = queries.list_teams(ctx.session, workspace_id=ctx.ws)
    if not teams:
        key = "setup.empty_admin" if ctx.me.is_admin else "setup.empty"
        return Reply(text=ctx.t(key))
    lines = [ctx.t("setup.title", month=ctx.t(f"month.{ctx.workspace.fiscal_start_month}"))]
    for team in teams:
        lines.append(describe_team(ctx, team))
        for role in ("manager", "rep"):
            people = queries.team_members(ctx.session, team_id=team.id or 0, role=role)
            if people:
                names = ", ".join(name_of(p) for p in people)
                lines.append(f"    {ctx.t(f'role.{role}s')}: {names}")
    return Reply(text="\n".join(lines))


# --- the modal ------------------------------------------------------------------------------------


def setup_form(ctx: Ctx) -> Form:
    months = [(str(m), ctx.t(f"month.{m}")) for m in range(1, 13)]
    return Form(
        callback_id=FORM_ID,
        title=ctx.t("setup.form_title"),
        submit=ctx.t("setup.form_submit"),
        intro=ctx.t("setup.form_intro"),
        fields=[
            Field("team", ctx.t("setup.field_team"), placeholder="East"),
            Field("channel", ctx.t("setup.field_channel"), kind="channel", required=False),
            Field("reps", ctx.t("setup.field_reps"), kind="users", required=False),
            Field("managers", ctx.t("setup.field_managers"), kind="users", required=False),
            Field(
                "tz",
                ctx.t("setup.field_tz"),
                initial=ctx.me.tz or "UTC",
                placeholder="Asia/Shanghai",
            ),
            Field("currency", ctx.t("setup.field_currency"), initial="USD", placeholder="CNY"),
            Field("hour", ctx.t("setup.field_hour"), initial="09:00"),
            Field(
                "fiscal_start",
                ctx.t("setup.field_fiscal_start"),
                kind="select",
                options=months,
                initial=str(ctx.workspace.fiscal_start_month),
            ),
        ],
    )


def submit_form(ctx: Ctx, values: dict[str, str], lists: dict[str, list[str]]) -> FormResult:
    if not ctx.me.is_admin:
        return FormResult(errors={"team": ctx.t("error.admins_only")})
    errors: dict[str, str] = {}
    settings: dict[str, object] = {}
    checks = {"tz": _tz, "currency": _currency, "hour": _hour}
    column = {"tz": "tz", "currency": "currency", "hour": "report_hour"}
    for name, check in checks.items():
        try:
            settings[column[name]] = check(values.get(name) or "")
        except UsageError as err:
            errors[name] = markup.unescape(ctx.t(err.key, **err.values))  # plain text
    name = (values.get("team") or "").strip()
    if not name:
        errors["team"] = ctx.t("error.team_name_required")
    elif len(name) > TEAM_NAME_LIMIT:
        errors["team"] = ctx.t("error.team_name_too_long", limit=str(TEAM_NAME_LIMIT))
    if errors:
        return FormResult(errors=errors)
    team = queries.find_team(ctx.session, workspace_id=ctx.ws, name=name)
    if team is None:
        team = Team(workspace_id=ctx.ws, name=name)
    elif settings["currency"] != team.currency and queries.team_has_deals(
        ctx.session, team_id=team.id or 0
    ):
        message = ctx.t("error.currency_locked", team=team.name, currency=team.currency)  # plain
        return FormResult(errors={"currency": message})
    for key, value in settings.items():
        setattr(team, key, value)
    if values.get("channel"):
        team.channel_id = values["channel"]
    ctx.session.add(team)
    ctx.session.flush()
    for role in ("rep", "manager"):
        for user_id in lists.get(f"{role}s", []):
            member = ctx.member_for(user_id)
            if role == "rep":
                set_rep_team(ctx, member, team)
            queries.set_membership(
                ctx.session, team_id=team.id or 0, member_id=member.id or 0, role=role
            )
    if (values.get("fiscal_start") or "").isdigit() and 1 <= int(values["fiscal_start"]) <= 12:
        ctx.workspace.fiscal_start_month = int(values["fiscal_start"])
        ctx.session.add(ctx.workspace)
    return FormResult(reply=Reply(text=ctx.t("setup.team_saved", team=describe_team(ctx, team))))
