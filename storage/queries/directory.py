"""Workspaces, members, teams, memberships and holidays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ScalarSelect, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import Holiday, Member, Membership, Team, Workspace


def get_workspace(session: Session, *, workspace_id: str) -> Workspace:
    """The workspace, created on first sight. Held in `session.info` for the session's life:
    the identity map keeps rows weakly, and a request asks for its workspace several times."""
    held = session.info.get(("workspace", workspace_id))
    if isinstance(held, Workspace) and held in session:  # not one a rollback took back
        return held
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        ws = Workspace(id=workspace_id)
        if not inserted(session, ws):  # another request created it meanwhile
            ws = session.get(Workspace, workspace_id)
    assert ws is not None
    session.info[("workspace", workspace_id)] = ws
    return ws


def inserted(session: Session, row: SQLModel) -> bool:
    """Insert a row that a concurrent request may insert too; False if that one won."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def workspace_of_team(team_id: int) -> ScalarSelect[str]:
    """A team's workspace as a subquery, for queries given only a team: with it they filter
    by workspace and lead with the indexes that start with workspace_id."""
    return select(Team.workspace_id).where(Team.id == team_id).scalar_subquery()


def get_member(session: Session, *, workspace_id: str, user_id: str) -> Member | None:
    return session.exec(
        select(Member).where(Member.workspace_id == workspace_id, Member.user_id == user_id)
    ).first()


def ensure_member(
    session: Session,
    *,
    workspace_id: str,
    user_id: str,
    name: str = "",
    admin: bool = False,
) -> Member:
    """The member for a Slack user, created on first sight; names are refreshed when known."""
    get_workspace(session, workspace_id=workspace_id)
    member = get_member(session, workspace_id=workspace_id, user_id=user_id)
    if member is None:
        member = Member(workspace_id=workspace_id, user_id=user_id, name=name or user_id)
        if not inserted(session, member):  # the user's other first request created it
            member = get_member(session, workspace_id=workspace_id, user_id=user_id)
            assert member is not None
    if name and member.name != name and (not member.name or member.name == user_id):
        member.name = name
    if admin and not member.is_admin:
        member.is_admin = True
    session.flush()
    return member


def find_team(session: Session, *, workspace_id: str, name: str) -> Team | None:
    return session.exec(
        select(Team).where(
            Team.workspace_id == workspace_id, func.lower(Team.name) == name.strip().lower()
        )
    ).first()


def list_teams(session: Session, *, workspace_id: str) -> Sequence[Team]:
    return session.exec(
        select(Team).where(Team.workspace_id == workspace_id).order_by(col(Team.name))
    ).all()


def memberships_of(session: Session, *, member_id: int) -> list[tuple[Team, str]]:
    rows = session.exec(
        select(Team, Membership.role)
        .join(Membership, col(Membership.team_id) == col(Team.id))
        .where(Membership.member_id == member_id)
        .order_by(col(Team.id))
    ).all()
    return [(team, role) for team, role in rows]


def team_of(session: Session, *, member_id: int) -> Team | None:
    """The team a member sells for (first as rep, else first managed)."""
    teams = memberships_of(session, member_id=member_id)
    for team, role in teams:
        if role == "rep":
            return team
    return teams[0][0] if teams else None


def team_members(session: Session, *, team_id: int, role: str | None = None) -> list[Member]:
    query = (
        select(Member)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Membership.team_id == team_id, Member.active == True)  # noqa: E712
    )
    if role:
        query = query.where(Membership.role == role)
    return list(session.exec(query.order_by(col(Member.name))).all())


def set_membership(session: Session, *, team_id: int, member_id: int, role: str) -> None:
    row = session.get(Membership, (team_id, member_id))
    if row is None:
        session.add(Membership(team_id=team_id, member_id=member_id, role=role))
    else:
        row.role = role
    session.flush()


def remove_membership(session: Session, *, team_id: int, member_id: int) -> bool:
    row = session.get(Membership, (team_id, member_id))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def manages(session: Session, *, member_id: int, team_id: int) -> bool:
    row = session.get(Membership, (team_id, member_id))
    return row is not None and row.role == "manager"


def holidays(session: Session, *, workspace_id: str, team_id: int | None) -> frozenset[date]:
    rows = session.exec(
        select(col(Holiday.day)).where(
            Holiday.workspace_id == workspace_id,
            or_(col(Holiday.team_id).is_(None), col(Holiday.team_id) == team_id),
        )
    ).all()
    return frozenset(rows)


def workspace_admins(session: Session, *, workspace_id: str) -> list[Member]:
    return list(
        session.exec(
            select(Member)
            .where(
                Member.workspace_id == workspace_id,
                Member.is_admin == True,  # noqa: E712
                Member.active == True,  # noqa: E712
            )
            .order_by(col(Member.id))
        ).all()
    )


def all_teams(session: Session) -> Sequence[Team]:
    """Every team of every installed workspace: the scheduler runs them all."""
    return session.exec(
        select(Team)
        .join(Workspace, col(Workspace.id) == col(Team.workspace_id))
        .where(col(Workspace.uninstalled_at).is_(None))
        .order_by(col(Team.workspace_id), col(Team.id))
    ).all()


def installed_workspaces() -> SelectOfScalar[str]:
    """The ids of workspaces Pacer may send to, as a subquery for IN."""
    return select(Workspace.id).where(col(Workspace.uninstalled_at).is_(None))


def uninstalled_workspaces(session: Session) -> Sequence[str]:
    """The ids of workspaces Pacer sends nothing to (uninstalled, or their token refused)."""
    return session.exec(
        select(Workspace.id)
        .where(col(Workspace.uninstalled_at).is_not(None))
        .order_by(Workspace.id)
    ).all()


def mark_uninstalled(session: Session, *, workspace_id: str, at: datetime) -> bool:
    """The app left the workspace (or lost its bot token): Pacer stops sending there. Its
    data stays, for a reinstall. False when it was marked already (Slack retries events)."""
    ws = get_workspace(session, workspace_id=workspace_id)
    if ws.uninstalled_at is not None:
        return False
    ws.uninstalled_at = at
    session.flush()
    return True


def mark_installed(session: Session, *, workspace_id: str) -> bool:
    """Installed again: True when it had been uninstalled and now resumes. Creates no row:
    a workspace Pacer never saw has nothing to resume."""
    ws = session.get(Workspace, workspace_id)
    if ws is None or ws.uninstalled_at is None:
        return False
    ws.uninstalled_at = None
    session.flush()
    return True


def team_roster(session: Session, *, team_id: int) -> list[tuple[Member, str]]:
    """Active members of a team with their role, by name."""
    query = (
        select(Member, Membership.role)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Membership.team_id == team_id, Member.active == True)  # noqa: E712
        .order_by(col(Member.name), col(Member.id))
    )
    return [(member, role) for member, role in session.exec(query).all()]
