"""Workspaces, members, teams, memberships and holidays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ScalarSelect, bindparam, event, func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import Deal, Holiday, Member, Membership, Payment, Team, Workspace, utcnow
from storage.queries.audit import save_audited, snapshot


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


# The lookups of every request, built once with bound parameters: built per call, the
# statement and its cache key cost as much as running it (tests/test_deal_cost.py).
_MEMBER = select(Member).where(
    Member.workspace_id == bindparam("ws"), Member.user_id == bindparam("user")
)


def get_member(session: Session, *, workspace_id: str, user_id: str) -> Member | None:
    return session.exec(_MEMBER, params={"ws": workspace_id, "user": user_id}).first()


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
    """The team of that name, any case; archived teams too (their figures stay readable)."""
    return session.exec(
        select(Team).where(
            Team.workspace_id == workspace_id, func.lower(Team.name) == name.strip().lower()
        )
    ).first()


def list_teams(session: Session, *, workspace_id: str) -> Sequence[Team]:
    return session.exec(
        select(Team).where(Team.workspace_id == workspace_id).order_by(col(Team.name))
    ).all()


CURRENT = col(Membership.left_on).is_(None)  # a membership that has not ended


def memberships_of(session: Session, *, member_id: int) -> list[tuple[Team, str]]:
    """The member's current teams with their role there, by team id."""
    teams = []
    for row in _current_rows(session, member_id):
        team = session.get(Team, row.team_id)  # in the session already, most often
        if team is not None:
            teams.append((team, row.role))
    return teams


def membership(session: Session, *, team_id: int, member_id: int) -> Membership | None:
    """The member's current membership of the team, if any."""
    row = session.get(Membership, (team_id, member_id))
    return row if row is not None and row.left_on is None else None


def _current_rows(session: Session, member_id: int) -> list[Membership]:
    """The member's current memberships, by team id. Held for the session (a /deal asks
    for them to find its team, then to say which team it counted for); a flush that writes
    a membership forgets them."""
    if _pending(session, Membership):
        session.flush()  # what autoflush would do, before the read is held (it forgets)
    held: dict[int, list[tuple[Membership, Team]]] = session.info.setdefault(MEMBERSHIPS, {})
    if member_id not in held:
        # The teams are held too: the session's identity map keeps only what is referenced.
        rows = session.exec(_CURRENT_ROWS, params={"member": member_id}).all()
        held[member_id] = [(row, team) for row, team in rows]
    return [row for row, _team in held[member_id]]


# With their teams, which the callers look up next (session.get then finds them loaded):
# one statement, not one more per team.
_CURRENT_ROWS = (
    select(Membership, Team)
    .join(Team, col(Team.id) == col(Membership.team_id))
    .where(Membership.member_id == bindparam("member"), CURRENT)
    .order_by(col(Membership.team_id))
)


MEMBERSHIPS = "pacer_memberships"  # session.info: current memberships read, per member


@event.listens_for(OrmSession, "after_transaction_end")
def _memberships_end_with_the_transaction(session: OrmSession, transaction: Any) -> None:
    """A job's session that commits as it goes reads them again in its next transaction
    (a savepoint's end is not the transaction's)."""
    if transaction.parent is None:
        session.info.pop(MEMBERSHIPS, None)


def team_of(session: Session, *, member_id: int) -> Team | None:
    """The member's home team: where their deals go unless a deal names another."""
    rows = _current_rows(session, member_id)
    home = next((r for r in rows if r.home), None) or _fallback_home(rows)
    return session.get(Team, home.team_id) if home is not None else None


def _fallback_home(rows: list[Membership]) -> Membership | None:
    """The team that becomes home when none is marked: the first as rep, else the first."""
    return next((r for r in rows if r.role == "rep"), None) or (rows[0] if rows else None)


def team_members(session: Session, *, team_id: int, role: str | None = None) -> list[Member]:
    query = (
        select(Member)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Membership.team_id == team_id, CURRENT, Member.active == True)  # noqa: E712
    )
    if role:
        query = query.where(Membership.role == role)
    return list(session.exec(query.order_by(col(Member.name))).all())


def members_during(
    session: Session, *, team_id: int, start: date
) -> list[tuple[Member, Membership]]:
    """Active members on the team at some time from `start` on (now, or until a day after
    `start`), with their membership: the people a leaderboard of a period may show."""
    query = (
        select(Member, Membership)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(
            Membership.team_id == team_id,
            Member.active == True,  # noqa: E712
            or_(CURRENT, col(Membership.left_on) > start),
        )
        .order_by(col(Member.name), col(Member.id))
    )
    return [(member, row) for member, row in session.exec(query).all()]


@dataclass(frozen=True)
class Joined:
    """What adding a member to a team changed: `before` is their role there until now
    (None: they were not on it), `home` whether the team became their home team."""

    before: str | None
    home: bool


def set_membership(session: Session, *, team_id: int, member_id: int, role: str) -> Joined:
    """Put a member on a team in a role. Their other teams stay as they are; the first
    current team a member has becomes their home team."""
    row = session.get(Membership, (team_id, member_id))
    before = row.role if row is not None and row.left_on is None else None
    home = not _current_rows(session, member_id)
    if row is None:
        row = Membership(team_id=team_id, member_id=member_id, role=role, home=home)
    else:
        row.role, row.left_on = role, None
        row.home = row.home if before is not None else home
    session.add(row)
    session.flush()
    return Joined(before, home)


@dataclass(frozen=True)
class Left:
    """A membership ended: `new_home` is the team that became the member's home instead
    (None when the team left was not home, or the member is now on no team)."""

    was_home: bool
    new_home: int | None


def remove_membership(session: Session, *, team_id: int, member_id: int, on: date) -> Left | None:
    """End a member's membership of a team from `on` (kept, for earlier leaderboards);
    None when they were not on it. Leaving the home team makes another team home."""
    row = membership(session, team_id=team_id, member_id=member_id)
    if row is None:
        return None
    home = team_of(session, member_id=member_id)
    was_home = home is not None and home.id == team_id
    row.left_on, row.home = on, False
    session.add(row)
    session.flush()
    new_home = None
    if was_home:
        other = _fallback_home(_current_rows(session, member_id))
        if other is not None:
            new_home = set_home(session, team_id=other.team_id, member_id=member_id)
    return Left(was_home, new_home)


def set_home(session: Session, *, team_id: int, member_id: int) -> int:
    """Make a current membership the member's only home; the team id."""
    for row in _current_rows(session, member_id):
        row.home = row.team_id == team_id
        session.add(row)
    session.flush()
    return team_id


def manages(session: Session, *, member_id: int, team_id: int) -> bool:
    row = membership(session, team_id=team_id, member_id=member_id)
    return row is not None and row.role == "manager"


HOLIDAYS = "holidays"  # session.info: the holidays read in this session, per scope


def holidays(session: Session, *, workspace_id: str, team_id: int | None) -> frozenset[date]:
    """The days off a team keeps (its own and every team's). Held for the session: one reply
    asks for them once per goal shown, and a flush that writes a holiday forgets them."""
    if _pending(session, Holiday):
        session.flush()  # what autoflush would do, before the read is held (it forgets)
    held: dict[tuple[str, int | None], frozenset[date]] = session.info.setdefault(HOLIDAYS, {})
    key = (workspace_id, team_id)
    if key not in held:
        rows = session.exec(_HOLIDAYS, params={"ws": workspace_id, "team": team_id}).all()
        held[key] = frozenset(rows)
    return held[key]


_HOLIDAYS = select(col(Holiday.day)).where(
    Holiday.workspace_id == bindparam("ws"),
    or_(col(Holiday.team_id).is_(None), col(Holiday.team_id) == bindparam("team")),
)


def _pending(session: OrmSession, model: type) -> bool:
    """Whether the session has unflushed rows of `model` (new, changed or deleted)."""
    return any(isinstance(row, model) for row in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(OrmSession, "after_flush")
def _forget_written(session: OrmSession, _context: object) -> None:
    """What a session holds (holidays, memberships) is forgotten when a flush writes it."""
    for key, model in ((HOLIDAYS, Holiday), (MEMBERSHIPS, Membership)):
        if _pending(session, model):
            session.info.pop(key, None)


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_holidays_rolled_back(session: OrmSession, _previous: object) -> None:
    session.info.pop(HOLIDAYS, None)  # a holiday flushed, then rolled back (or a savepoint)


def holiday_rows(session: Session, *, workspace_id: str, team_id: int | None) -> list[Holiday]:
    """Every holiday of the workspace (team_id None), or those a team keeps: its own and
    those of every team. By day."""
    query = select(Holiday).where(Holiday.workspace_id == workspace_id)
    if team_id is not None:
        query = query.where(or_(col(Holiday.team_id).is_(None), col(Holiday.team_id) == team_id))
    return list(session.exec(query.order_by(col(Holiday.day), col(Holiday.team_id))).all())


def remove_holidays(
    session: Session, *, workspace_id: str, team_id: int | None, days: Sequence[date]
) -> list[date]:
    """Delete the holidays on `days` of exactly that scope (one team, or every team when
    team_id is None); the days that were holidays there."""
    rows = session.exec(
        select(Holiday).where(
            Holiday.workspace_id == workspace_id,
            col(Holiday.team_id).is_(None) if team_id is None else Holiday.team_id == team_id,
            col(Holiday.day).in_(list(days)),
        )
    ).all()
    for row in rows:
        session.delete(row)
    session.flush()
    return sorted(row.day for row in rows)


def recredit_deals(
    session: Session,
    *,
    workspace_id: str,
    owner_id: int,
    from_team: int,
    to_team: int,
    since: date,
    currency: str,
    actor: str,
    reason: str,
) -> tuple[list[Deal], list[Deal]]:
    """Credit the owner's deals closing on or after `since` (deleted ones too, should they
    be restored) to another team, with the payments on them: one audit entry each, so the
    move can be traced and undone. Deals before `since` stay where they were won, and so do
    deals in another currency than the new team's (`currency`): amounts are never converted,
    so they could not be added to its totals. Returns (moved, kept for their currency)."""
    found = session.exec(
        select(Deal)
        .where(
            Deal.workspace_id == workspace_id,
            Deal.owner_id == owner_id,
            Deal.team_id == from_team,
            col(Deal.close_date) >= since,
        )
        .order_by(col(Deal.close_date), col(Deal.id))
    ).all()
    deals = [d for d in found if d.currency == currency]
    ids = [d.id for d in deals]
    payments = (
        session.exec(  # one query for every moved deal's payments, not one per deal
            select(Payment).where(col(Payment.deal_id).in_(ids), Payment.team_id == from_team)
        ).all()
        if ids
        else []
    )
    rows: list[Deal | Payment] = [*deals, *payments]
    for row in rows:
        _recredit(session, row, to_team, actor=actor, reason=reason)
    return deals, [d for d in found if d.currency != currency]


def _recredit(
    session: Session, row: Deal | Payment, to_team: int, *, actor: str, reason: str | None
) -> None:
    """Credit a deal or payment to another team, with its audit entry."""
    before = snapshot(row)
    row.team_id = to_team
    if isinstance(row, Deal):
        row.updated_at = utcnow()
    entity = "deal" if isinstance(row, Deal) else "payment"
    save_audited(
        session, row=row, entity=entity, action="update", actor=actor, before=before, reason=reason
    )


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
    """Every team not archived of every installed workspace: the scheduler runs them all."""
    return session.exec(
        select(Team)
        .join(Workspace, col(Workspace.id) == col(Team.workspace_id))
        .where(col(Workspace.uninstalled_at).is_(None), col(Team.archived_at).is_(None))
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
        .where(Membership.team_id == team_id, CURRENT, Member.active == True)  # noqa: E712
        .order_by(col(Member.name), col(Member.id))
    )
    return [(member, role) for member, role in session.exec(query).all()]
