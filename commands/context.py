"""Per-request context: who is asking, in which workspace, in which language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from commands import i18n
from commands.parsing import UsageError
from commands.types import Reply, Request
from domain import money, periods
from storage import queries
from storage.models import Member, Team, Workspace


@dataclass
class Ctx:
    req: Request
    session: Session
    workspace: Workspace
    me: Member

    @classmethod
    def load(cls, req: Request, session: Session) -> Ctx:
        me = queries.ensure_member(
            session,
            workspace_id=req.workspace_id,
            user_id=req.user_id,
            name=req.user_name,
            admin=req.user_id in req.admin_ids,
        )
        workspace = queries.get_workspace(session, workspace_id=req.workspace_id)
        return cls(req=req, session=session, workspace=workspace, me=me)

    @property
    def ws(self) -> str:
        return self.req.workspace_id

    @property
    def my_id(self) -> int:
        assert self.me.id is not None
        return self.me.id

    def t(self, key: str, **values: Any) -> str:
        return i18n.t(self.req.locale, key, **values)

    def today(self, team: Team | None) -> date:
        """Today in the team's time zone (UTC without a team)."""
        return self.req.now.astimezone(ZoneInfo(team.tz if team else "UTC")).date()

    def period(self, text: str | None, today: date) -> periods.Period:
        """The period a user wrote, or the current month."""
        if text is None:
            return periods.current(periods.PeriodKind.MONTH, today)
        try:
            return periods.parse(text, today, self.workspace.fiscal_start_month)
        except periods.PeriodError as err:
            raise UsageError("error.bad_period", value=text) from err

    def money(self, minor: int, currency: str) -> str:
        amount = money.from_minor(minor, currency)
        return money.fmt(amount, currency, i18n.babel_locale(self.req.locale))

    def amount(self, value: Decimal, currency: str) -> str:
        return money.fmt(value, currency, i18n.babel_locale(self.req.locale))

    def my_team(self) -> Team | None:
        return queries.team_of(self.session, member_id=self.my_id)

    def can_manage(self, team: Team) -> bool:
        assert team.id is not None
        return self.me.is_admin or queries.manages(
            self.session, member_id=self.my_id, team_id=team.id
        )

    def team_named(self, name: str) -> Team:
        team = queries.find_team(self.session, workspace_id=self.ws, name=name)
        if team is None:
            raise UsageError("error.no_such_team", name=name, teams=self.team_names())
        return team

    def team_names(self) -> str:
        names = [t.name for t in queries.list_teams(self.session, workspace_id=self.ws)]
        return ", ".join(names) if names else "—"

    def member_for(self, user_id: str, name: str = "") -> Member:
        return queries.ensure_member(self.session, workspace_id=self.ws, user_id=user_id, name=name)

    def error(self, key: str, **values: Any) -> Reply:
        return Reply(text=self.t(key, **values), ok=False)


def display_name(member: Member) -> str:
    return member.name or member.user_id


def mention(member: Member) -> str:
    return f"<@{member.user_id}>"
