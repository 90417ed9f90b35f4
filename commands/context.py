"""Per-request context: who is asking, in which workspace, in which language."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands import markup
from commands.formatter import Formatter
from commands.parsing import Refused, UsageError, storable
from commands.types import Request
from domain import periods
from storage import queries
from storage.engine import NeedsWrite, WriteInReadScope
from storage.models import Goal, Member, Team, Workspace

if TYPE_CHECKING:
    from commands.args import PeriodRef


@dataclass
class Ctx:
    req: Request
    session: Session
    workspace: Workspace
    me: Member
    fmt: Formatter

    @classmethod
    def load(cls, req: Request, session: Session) -> Ctx:
        _check_request(req)
        with first_sight():
            me = queries.ensure_member(
                session,
                workspace_id=req.workspace_id,
                user_id=req.user_id,
                name=req.user_name,
                admin=req.user_id in req.admin_ids,
            )
        workspace = queries.get_workspace(session, workspace_id=req.workspace_id)
        return cls(req, session, workspace, me, Formatter(req.locale))

    @property
    def ws(self) -> str:
        return self.req.workspace_id

    @property
    def my_id(self) -> int:
        assert self.me.id is not None
        return self.me.id

    def t(self, key: str, **values: Any) -> str:
        return self.fmt.t(key, **values)

    def today(self, team: Team | None) -> date:
        """Today in the team's time zone (UTC without a team)."""
        return self.req.now.astimezone(ZoneInfo(team.tz if team else "UTC")).date()

    def period(self, ref: PeriodRef | None, today: date) -> periods.Period:
        """The period a user wrote, or the current month."""
        if ref is None:
            return periods.current(periods.PeriodKind.MONTH, today)
        try:
            return periods.parse(ref.text, today, self.workspace.fiscal_start_month)
        except periods.PeriodError as err:
            raise UsageError("error.bad_period", value=ref.text) from err

    def my_team(self) -> Team | None:
        """My home team: where my deals go unless a deal names another of my teams."""
        return queries.team_of(self.session, member_id=self.my_id)

    def can_manage(self, team: Team) -> bool:
        assert team.id is not None
        return self.me.is_admin or queries.manages(
            self.session, member_id=self.my_id, team_id=team.id
        )

    def require_manager(self, team: Team) -> None:
        if not self.can_manage(team):
            raise Refused("error.not_manager_of", team=name_of(team))

    def team_named(self, name: str) -> Team:
        team = queries.find_team(self.session, workspace_id=self.ws, name=name)
        if team is None:
            raise UsageError(
                "error.no_such_team", name=markup.escape(name), teams=self.team_names()
            )
        return team

    def team_names(self) -> str:
        names = [name_of(t) for t in queries.list_teams(self.session, workspace_id=self.ws)]
        return ", ".join(names) if names else "—"

    def member_for(self, user_id: str, name: str = "") -> Member:
        with first_sight():
            return queries.ensure_member(
                self.session, workspace_id=self.ws, user_id=user_id, name=name
            )

    def speaking_to(self, member: Member) -> Ctx:
        """The same request in `member`'s language: for messages sent to them."""
        locale = member.locale or "en"
        return replace(self, req=replace(self.req, locale=locale), fmt=Formatter(locale))


@contextmanager
def first_sight() -> Iterator[None]:
    """A member row created or named (a user's first request, a mention's name) is the one
    write a read-only command may need: its read scope runs it again writing, unwarned."""
    try:
        yield
    except WriteInReadScope as err:
        raise NeedsWrite(f"member row: {err}") from err


def new_goal(
    ctx: Ctx,
    scope: str,
    period: periods.Period,
    metric: str,
    target: int,
    *,
    team_id: int | None = None,
    member_id: int | None = None,
    parent_id: int | None = None,
) -> Goal:
    """A goal this request creates, in its workspace and by its user (not saved yet)."""
    return queries.new_goal(
        workspace_id=ctx.ws,
        scope=scope,
        metric=metric,
        period=period,
        target=target,
        created_by=ctx.req.user_id,
        team_id=team_id,
        member_id=member_id,
        parent_id=parent_id,
    )


def display_name(member: Member) -> str:
    """The name as typed (for charts and sorting); messages use `name_of`."""
    return member.name or member.user_id


def name_of(who: Member | Team) -> str:
    """A member's or team's name ready for a message: escaped, so a name such as
    `<!channel>` reads as typed and notifies no one."""
    return markup.escape(who.name if isinstance(who, Team) else display_name(who))


def mention(member: Member) -> str:
    return markup.mention(member.user_id)


MAX_SLACK_ID = 32  # the id columns' width


def _check_request(req: Request) -> None:
    """Refuse what one database would store and the other refuse: NUL, lone surrogates,
    ids wider than their columns."""
    ids = (req.workspace_id, req.user_id, req.channel_id or "")
    if any(len(value) > MAX_SLACK_ID for value in ids):
        raise UsageError("error.bad_text")
    if not all(storable(value) for value in (*ids, req.text, req.user_name or "")):
        raise UsageError("error.bad_text")
