"""Bonus plans and per-rep overrides (domain/bonus.py computes the payouts)."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import BonusOverride, BonusPlan, utcnow


def bonus_plan(session: Session, *, workspace_id: str, team_id: int) -> BonusPlan | None:
    return session.get(BonusPlan, (workspace_id, team_id))


def set_bonus_plan(
    session: Session,
    *,
    workspace_id: str,
    team_id: int,
    actor: str,
    amount_minor: int | None = None,
    per: str | None = None,
    tiers: str | None = None,
) -> BonusPlan:
    """Create the team's plan, or change the parts given; a new plan needs its amount."""
    plan = bonus_plan(session, workspace_id=workspace_id, team_id=team_id)
    if plan is None:
        assert amount_minor is not None
        plan = BonusPlan(
            workspace_id=workspace_id, team_id=team_id, amount_minor=amount_minor, updated_by=actor
        )
    if amount_minor is not None:
        plan.amount_minor = amount_minor
    if per is not None:
        plan.per = per
    if tiers is not None:
        plan.tiers = tiers
    plan.updated_by, plan.updated_at = actor, utcnow()
    session.add(plan)
    session.flush()
    return plan


def bonus_overrides(session: Session, *, workspace_id: str, team_id: int) -> dict[int, int]:
    """{member id: target bonus} of the team's reps with their own amount."""
    rows = session.exec(
        select(BonusOverride.member_id, BonusOverride.amount_minor).where(
            BonusOverride.workspace_id == workspace_id, BonusOverride.team_id == team_id
        )
    ).all()
    return {int(m): int(a) for m, a in rows}


def set_bonus_override(
    session: Session,
    *,
    workspace_id: str,
    team_id: int,
    member_id: int,
    amount_minor: int,
    actor: str,
) -> None:
    row = session.get(BonusOverride, (workspace_id, team_id, member_id))
    if row is None:
        row = BonusOverride(
            workspace_id=workspace_id,
            team_id=team_id,
            member_id=member_id,
            amount_minor=amount_minor,
            updated_by=actor,
        )
    row.amount_minor, row.updated_by, row.updated_at = amount_minor, actor, utcnow()
    session.add(row)
    session.flush()
