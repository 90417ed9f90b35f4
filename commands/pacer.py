"""/pacer help and /pacer setup: teams, channels, members, time zones, currency, calendar."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import list_currencies

from commands import bonus, fiscal, integrations, markup
from commands.context import Ctx, name_of
from commands.parsing import CHANNEL_ID, Refused, UsageError, channel, parse_date
from commands.types import Field, Form, FormResult, Reply
from domain import money
from storage import queries
from storage.models import ROLES_IN_TEAM, Deal, Holiday, Member, Team

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
    """Each member put on the team in the role given (rep without `as:`), their other teams
    untouched; the reply says what changed for each, and warns of a team with no manager."""
    role = options.get("as", "rep").lower()
    if role not in ROLES_IN_TEAM:
        raise UsageError("error.bad_role", value=role)
    _refuse_archived(team)
    lines = join_all(ctx, team, members, role)
    return Reply(text="\n".join(lines))


def join_all(ctx: Ctx, team: Team, members: list[Member], role: str) -> list[str]:
    """Put members on a team in a role; one line per outcome (added, already there, role
    changed), a note for each who keeps another home team, a warning when no manager is left."""
    assert team.id is not None
    added: list[Member] = []
    same: list[Member] = []
    lines: list[str] = []
    notes: list[str] = []
    for member in members:
        assert member.id is not None
        joined = queries.set_membership(
            ctx.session, team_id=team.id, member_id=member.id, role=role
        )
        if joined.before is None:
            added.append(member)
            notes += _home_note(ctx, member, team, joined) if role == "rep" else []
        elif joined.before == role:
            same.append(member)
        else:
            lines.append(_role_changed(ctx, member, team, joined.before, role))
    role_name = ctx.t(f"role.{role}")
    if added:
        names = ", ".join(name_of(m) for m in added)
        lines.insert(
            0, ctx.t("setup.members_added", names=names, team=name_of(team), role=role_name)
        )
    if same:
        names = ", ".join(name_of(m) for m in same)
        lines.append(ctx.t("teams.already_member", names=names, team=name_of(team), role=role_name))
    lines += notes
    if not queries.team_members(ctx.session, team_id=team.id, role="manager"):
        lines.append(ctx.t("setup.no_manager_left", team=name_of(team)))
    return lines


def _role_changed(ctx: Ctx, member: Member, team: Team, before: str, after: str) -> str:
    return ctx.t(
        "teams.role_changed",
        name=name_of(member),
        team=name_of(team),
        before=ctx.t(f"role.{before}"),
        after=ctx.t(f"role.{after}"),
    )


def _home_note(ctx: Ctx, member: Member, team: Team, joined: queries.Joined) -> list[str]:
    """Joining a second team moves nobody: say where the member's deals keep going."""
    if joined.home:
        return []
    home = queries.team_of(ctx.session, member_id=member.id or 0)
    if home is None or home.id == team.id:
        return []
    return [ctx.t("teams.home_stays", name=name_of(member), home=name_of(home), team=name_of(team))]


def team_remove(ctx: Ctx, team: Team, members: list[Member]) -> Reply:
    """Each named member taken off the team from today, or said not to be on it; their
    deals stay with the team. A note for each whose home team changed or who is now on no
    team, and a warning when the last manager went (feedback then reaches nobody)."""
    assert team.id is not None
    managers = {
        m.id for m in members if queries.manages(ctx.session, member_id=m.id or 0, team_id=team.id)
    }
    removed: list[Member] = []
    strangers: list[Member] = []
    notes: list[str] = []
    for member in members:
        left = queries.remove_membership(
            ctx.session, team_id=team.id, member_id=member.id or 0, on=ctx.today(team)
        )
        if left is None:
            strangers.append(member)
            continue
        removed.append(member)
        notes += _after_leaving(ctx, member, left)
    lines = []
    if removed:
        names = ", ".join(name_of(m) for m in removed)
        lines.append(ctx.t("setup.members_removed", names=names, team=name_of(team)))
    if strangers:
        names = ", ".join(name_of(m) for m in strangers)
        lines.append(ctx.t("setup.not_members", names=names, team=name_of(team)))
    lines += notes
    if managers & {m.id for m in removed} and not queries.team_members(
        ctx.session, team_id=team.id, role="manager"
    ):
        lines.append(ctx.t("setup.no_manager_left", team=name_of(team)))
    return Reply(text="\n".join(lines))


def _after_leaving(ctx: Ctx, member: Member, left: queries.Left) -> list[str]:
    if left.new_home is not None:
        home = ctx.session.get(Team, left.new_home)
        assert home is not None
        return [ctx.t("teams.home_now", name=name_of(member), team=name_of(home))]
    if not queries.memberships_of(ctx.session, member_id=member.id or 0):
        return [ctx.t("teams.on_no_team", name=name_of(member))]
    return []


def team_move(
    ctx: Ctx, rep: Member, team: Team, since: str | None, options: dict[str, str]
) -> Reply:
    """/pacer setup team move @rep to NAME [from DATE]: the rep's home team becomes NAME
    from DATE (default today) and they leave their old home team that day. Their deals
    closing on or after DATE follow them, each with an audit entry; earlier deals stay with
    the team they were won for, so earlier leaderboards and champions stay as they were."""
    assert rep.id is not None and team.id is not None
    _refuse_archived(team)
    old = queries.team_of(ctx.session, member_id=rep.id)
    if old is None:
        raise Refused("error.rep_no_team", rep=name_of(rep))
    if old.id == team.id:
        raise Refused("teams.move_same", name=name_of(rep), team=name_of(team))
    today = ctx.today(team)
    text = since or options.get("date")
    day = parse_date(text, today) if text else today
    if day > today:
        raise Refused("teams.move_future", date=day.isoformat())
    assert old.id is not None
    if queries.membership(ctx.session, team_id=team.id, member_id=rep.id) is None:
        queries.set_membership(ctx.session, team_id=team.id, member_id=rep.id, role="rep")
    queries.set_home(ctx.session, team_id=team.id, member_id=rep.id)
    was_manager = queries.manages(ctx.session, member_id=rep.id, team_id=old.id)
    queries.remove_membership(ctx.session, team_id=old.id, member_id=rep.id, on=day)
    moved, kept = queries.recredit_deals(
        ctx.session,
        workspace_id=ctx.ws,
        owner_id=rep.id,
        from_team=old.id,
        to_team=team.id,
        since=day,
        currency=team.currency,
        actor=ctx.req.user_id,
        reason=f"moved from {old.name} to {team.name} from {day.isoformat()}",
    )
    lines = _moved_lines(ctx, rep, old, team, day, moved, was_manager)
    if live_kept := [d for d in kept if d.deleted_at is None]:
        deals = ctx.fmt.count("deals", len(live_kept))
        lines.insert(
            2,
            ctx.t(
                "review9.moved_kept_currency",
                deals=deals,
                old=name_of(old),
                currency=old.currency,
                new=name_of(team),
                new_currency=team.currency,
            ),
        )
    return Reply(text="\n".join(lines))


def _moved_lines(
    ctx: Ctx, rep: Member, old: Team, new: Team, day: date, moved: list[Deal], was_manager: bool
) -> list[str]:
    names = {"name": name_of(rep), "old": name_of(old), "new": name_of(new)}
    lines = [ctx.t("teams.moved", date=day.isoformat(), **names)]
    live = [d for d in moved if d.deleted_at is None]
    if live:
        deals = ctx.fmt.count("deals", len(live))
        lines.append(ctx.t("teams.moved_deals", deals=deals, date=day.isoformat(), **names))
    else:
        lines.append(ctx.t("teams.moved_no_deals", date=day.isoformat(), **names))
    if was_manager and not queries.team_members(ctx.session, team_id=old.id or 0, role="manager"):
        lines.append(ctx.t("setup.no_manager_left", team=name_of(old)))
    return lines


def team_rename(ctx: Ctx, names: tuple[Team, str]) -> Reply:
    """/pacer setup team rename OLD to NEW: names stay unique in any case."""
    team, new = names
    if len(new) > TEAM_NAME_LIMIT:
        raise UsageError("error.team_name_too_long", limit=str(TEAM_NAME_LIMIT))
    other = queries.find_team(ctx.session, workspace_id=ctx.ws, name=new)
    if other is not None and other.id != team.id:
        raise Refused("error.team_exists", name=markup.escape(new))
    if new == team.name:
        raise Refused("teams.rename_same", team=name_of(team))
    old = name_of(team)
    team.name = new
    ctx.session.add(team)
    return Reply(text=ctx.t("teams.renamed", old=old, new=name_of(team)))


def team_archive(ctx: Ctx, team: Team) -> Reply:
    """Archived: every figure stays, no new deals, no scheduled messages."""
    if team.archived_at is not None:
        return Reply(text=ctx.t("teams.already_archived", team=name_of(team)))
    team.archived_at = ctx.req.now
    ctx.session.add(team)
    return Reply(text=ctx.t("teams.archived_done", team=name_of(team)))


def team_unarchive(ctx: Ctx, team: Team) -> Reply:
    if team.archived_at is None:
        return Reply(text=ctx.t("teams.not_archived", team=name_of(team)))
    team.archived_at = None
    ctx.session.add(team)
    return Reply(text=ctx.t("teams.unarchived", team=name_of(team)))


def _refuse_archived(team: Team) -> None:
    if team.archived_at is not None:
        raise Refused("teams.archived", team=name_of(team))


def admin_add(ctx: Ctx, members: list[Member]) -> Reply:
    new = [m for m in members if not m.is_admin]
    for member in new:
        member.is_admin = True
        ctx.session.add(member)
    lines = []
    if new:
        lines.append(ctx.t("setup.admins_added", names=", ".join(name_of(m) for m in new)))
    if already := [m for m in members if m not in new]:
        lines.append(ctx.t("teams.already_admins", names=", ".join(name_of(m) for m in already)))
    return Reply(text="\n".join(lines))


def admin_remove(ctx: Ctx, members: list[Member]) -> Reply:
    """Refuses to leave the workspace with no admin; admins named by PACER_ADMINS are set
    again on each of their requests (Ctx.load), so only the operator can remove them."""
    fixed = [m for m in members if m.user_id in ctx.req.admin_ids]
    others = [m for m in members if m not in fixed and not m.is_admin]
    going = [m for m in members if m not in fixed and m.is_admin]
    admins = queries.workspace_admins(ctx.session, workspace_id=ctx.ws)
    if going and not [a for a in admins if a not in going]:
        raise Refused("teams.last_admin", names=", ".join(name_of(m) for m in going))
    for member in going:
        member.is_admin = False
        ctx.session.add(member)
    lines = []
    outcomes = (
        ("teams.admins_removed", going),
        ("teams.not_admins", others),
        ("teams.env_admins", fixed),
    )
    for key, who in outcomes:
        if who:
            lines.append(ctx.t(key, names=", ".join(name_of(m) for m in who)))
    return Reply(text="\n".join(lines))


def admin_list(ctx: Ctx) -> Reply:
    admins = queries.workspace_admins(ctx.session, workspace_id=ctx.ws)
    names = [
        ctx.t("teams.env_mark", name=name_of(a)) if a.user_id in ctx.req.admin_ids else name_of(a)
        for a in admins
    ]
    return Reply(text=ctx.t("teams.admins_title", names=", ".join(names) or "—"))


# --- calendar and thresholds ---------------------------------------------------------------------


def holidays_add(ctx: Ctx, dates: list[str], options: dict[str, str]) -> Reply:
    team = ctx.team_named(options["team"]) if "team" in options else None
    days = sorted({parse_date(w, ctx.today(team)) for w in dates})
    team_id = team.id if team else None
    existing = {
        h.day
        for h in queries.holiday_rows(ctx.session, workspace_id=ctx.ws, team_id=team_id)
        if h.team_id == team_id
    }
    new = [d for d in days if d not in existing]
    for day in new:
        ctx.session.add(Holiday(workspace_id=ctx.ws, team_id=team_id, day=day))
    scope = _scope(ctx, team)
    lines = []
    if new:
        lines.append(ctx.t("setup.holidays_added", days=_days(new), scope=scope))
    if old := [d for d in days if d in existing]:
        lines.append(ctx.t("teams.holidays_already", days=_days(old), scope=scope))
    return Reply(text="\n".join(lines))


def holidays_list(ctx: Ctx, options: dict[str, str]) -> Reply:
    """/pacer setup holidays list [team:NAME]: every holiday, or those a team keeps."""
    team = ctx.team_named(options["team"]) if "team" in options else None
    rows = queries.holiday_rows(ctx.session, workspace_id=ctx.ws, team_id=team.id if team else None)
    if not rows:
        return Reply(text=ctx.t("teams.no_holidays", scope=_scope(ctx, team)))
    names = {t.id: t for t in queries.list_teams(ctx.session, workspace_id=ctx.ws)}
    title = ctx.t("teams.holidays_title", scope=name_of(team)) if team else None
    lines = [title or ctx.t("teams.holidays_title_all")]
    for row in rows:
        scope = _scope(ctx, names.get(row.team_id) if row.team_id else None)
        lines.append(ctx.t("teams.holiday_line", day=row.day.isoformat(), scope=scope))
    return Reply(text="\n".join(lines))


def holidays_remove(ctx: Ctx, dates: list[str], options: dict[str, str]) -> Reply:
    """/pacer setup holidays remove DATE… [team:NAME]: the team's own holidays, or without
    `team:` those of every team; says which days were no holiday there."""
    team = ctx.team_named(options["team"]) if "team" in options else None
    days = sorted({parse_date(w, ctx.today(team)) for w in dates})
    removed = queries.remove_holidays(
        ctx.session, workspace_id=ctx.ws, team_id=team.id if team else None, days=days
    )
    scope = _scope(ctx, team)
    lines = []
    if removed:
        lines.append(ctx.t("teams.holidays_removed", days=_days(removed), scope=scope))
    if missing := [d for d in days if d not in removed]:
        everyone = queries.holidays(ctx.session, workspace_id=ctx.ws, team_id=None)
        common = [d for d in missing if team is not None and d in everyone]
        if rest := [d for d in missing if d not in common]:
            lines.append(ctx.t("teams.not_holidays", days=_days(rest), scope=scope))
        if common:
            lines.append(ctx.t("teams.holiday_of_every_team", days=_days(common), scope=scope))
    return Reply(text="\n".join(lines))


def _scope(ctx: Ctx, team: Team | None) -> str:
    return name_of(team) if team else ctx.t("setup.all_teams")


def _days(days: list[date]) -> str:
    return ", ".join(d.isoformat() for d in days)


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
        line = describe_team(ctx, team)
        lines.append(line + ctx.t("teams.archived_mark") if team.archived_at else line)
        for role in ("manager", "rep"):
            people = queries.team_members(ctx.session, team_id=team.id or 0, role=role)
            if people:
                names = ", ".join(_shown_member(ctx, p, team) for p in people)
                lines.append(f"    {ctx.t(f'role.{role}s')}: {names}")
        lines += bonus.show_lines(ctx, team)
    if ctx.me.is_admin:  # names and dates only: a token is never shown again
        lines += integrations.listed(ctx)
    return Reply(text="\n".join(lines))


def _shown_member(ctx: Ctx, member: Member, team: Team) -> str:
    """A name, marked with the home team when the member is on several teams."""
    if len(queries.memberships_of(ctx.session, member_id=member.id or 0)) < 2:
        return name_of(member)
    home = queries.team_of(ctx.session, member_id=member.id or 0)
    if home is None or home.id == team.id:
        return ctx.t("teams.home_mark", name=name_of(member))
    return ctx.t("teams.home_elsewhere", name=name_of(member), team=name_of(home))


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
    elif team.archived_at is not None:  # plain text: a modal shows no markup
        return FormResult(errors={"team": markup.unescape(ctx.t("teams.archived", team=team.name))})
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
    lines = [ctx.t("setup.team_saved", team=describe_team(ctx, team))]
    for role in ("manager", "rep"):  # managers first: no warning of a team about to get one
        chosen = [ctx.member_for(user_id) for user_id in lists.get(f"{role}s", [])]
        if chosen:
            lines += join_all(ctx, team, chosen, role)
    if (values.get("fiscal_start") or "").isdigit() and 1 <= int(values["fiscal_start"]) <= 12:
        ctx.workspace.fiscal_start_month = int(values["fiscal_start"])
        ctx.session.add(ctx.workspace)
    return FormResult(reply=Reply(text="\n".join(lines)))
