"""One audit helper behind every audited write: the row, then its entry with before and after."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import Session

from domain import periods
from storage import queries
from storage.models import AuditEntry, Deal, Member, Payment, Team, Workspace


def _deal(session: Session) -> Deal:
    session.add(Workspace(id="T1"))
    session.flush()
    team = Team(workspace_id="T1", name="East")
    alice = Member(workspace_id="T1", user_id="UALICE", name="alice")
    session.add_all([team, alice])
    session.flush()
    assert team.id is not None and alice.id is not None
    return Deal(
        workspace_id="T1",
        team_id=team.id,
        owner_id=alice.id,
        logged_by=alice.id,
        amount_minor=125_000,
        currency="USD",
        customer="Acme",
        close_date=date(2026, 11, 20),
    )


def _trail(session: Session, entity: str, entity_id: int | None) -> list[AuditEntry]:
    assert entity_id is not None
    trail = queries.audit_trail(session, workspace_id="T1", entity=entity, entity_id=entity_id)
    return list(trail)


def test_save_audited_writes_the_row_and_its_entry(session: Session) -> None:
    deal = _deal(session)
    before = queries.snapshot(deal)
    queries.save_audited(
        session, row=deal, entity="deal", action="import", actor="UADMIN", before=before
    )
    assert deal.id is not None
    [entry] = _trail(session, "deal", deal.id)
    assert (entry.action, entry.actor, entry.reason) == ("import", "UADMIN", None)
    assert entry.before == before
    assert entry.after == queries.snapshot(deal)
    assert json.loads(entry.after)["id"] == deal.id  # after: as written, with its new id
    assert queries.last_audit_id(session, workspace_id="T1", entity="deal", entity_id=deal.id)


def test_deals_and_payments_are_audited_on_create_and_change(session: Session) -> None:
    deal = queries.add_deal(session, deal=_deal(session), actor="UALICE")
    queries.change_deal(
        session, deal=deal, actor="UMIA", action="update", changes={"amount_minor": 150_000}
    )
    created, changed = _trail(session, "deal", deal.id)
    assert (created.action, created.before) == ("create", None)
    assert (changed.action, changed.actor) == ("update", "UMIA")
    assert changed.before == created.after
    assert changed.before is not None and changed.after is not None
    assert json.loads(changed.before)["amount_minor"] == 125_000
    assert json.loads(changed.after)["amount_minor"] == 150_000
    assert deal.id is not None
    payment = Payment(
        workspace_id="T1",
        deal_id=deal.id,
        team_id=deal.team_id,
        owner_id=deal.owner_id,
        amount_minor=50_000,
        paid_on=date(2026, 11, 24),
        logged_by=deal.owner_id,
    )
    queries.add_payment(session, payment=payment, actor="UALICE")
    [paid] = _trail(session, "payment", payment.id)
    assert (paid.action, paid.actor, paid.before) == ("create", "UALICE", None)


def test_goals_are_audited_with_the_reason(session: Session) -> None:
    session.add(Workspace(id="T1"))
    session.flush()
    goal = queries.new_goal(
        workspace_id="T1",
        scope="workspace",
        metric="deals",
        period=periods.month(2026, 11),
        target=10,
        created_by="UADMIN",
    )
    queries.save_goal(session, goal=goal, actor="UADMIN", before=None, reason="kick-off")
    before = queries.snapshot(goal)
    goal.target = 12
    queries.save_goal(session, goal=goal, actor="UMIA", before=before, reason="feedback #1")
    queries.delete_goal(session, goal=goal, actor="UADMIN", reason="wrong month")
    trail = _trail(session, "goal", goal.id)
    assert [(e.action, e.actor, e.reason) for e in trail] == [
        ("create", "UADMIN", "kick-off"),
        ("update", "UMIA", "feedback #1"),
        ("delete", "UADMIN", "wrong month"),
    ]
    assert trail[1].before == trail[0].after
    assert trail[2].after is not None and json.loads(trail[2].after)["deleted_at"] is not None
    assert queries.get_goal(session, workspace_id="T1", number=goal.number) is None
