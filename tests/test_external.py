"""Deals kept by a CRM's record id (storage/queries/external.py): the core of the import and
the webhook. The same record twice writes one deal; a changed record updates it, audited
with its source; a lost record leaves the numbers; a deal deleted in Pacer stays deleted."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from storage import queries
from storage.models import AuditEntry, Deal, Member, Team, Workspace
from storage.queries import ExternalDeal, Outcome

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
NOV = (date(2026, 11, 1), date(2026, 11, 30))


def _setup(s: Session, ws: str) -> tuple[Team, Member]:
    s.add(Workspace(id=ws))
    s.flush()
    team = Team(workspace_id=ws, name="East")
    rep = Member(workspace_id=ws, user_id="UALICE", name="alice")
    s.add_all([team, rep])
    s.flush()
    return team, rep


def _record(team: Team, rep: Member, external_id: str = "hs-1001", **over: object) -> ExternalDeal:
    assert team.id is not None and rep.id is not None
    base = ExternalDeal(
        external_id=external_id,
        team_id=team.id,
        owner_id=rep.id,
        amount_minor=1_250_000,
        currency="USD",
        customer="Acme",
        stage="won",
        close_date=date(2026, 11, 12),
    )
    return replace(base, **over)  # type: ignore[arg-type]


def _upsert(s: Session, ws: str, rec: ExternalDeal, rep: Member) -> tuple[Outcome, Deal | None]:
    assert rep.id is not None
    found = queries.existing_by_external(s, workspace_id=ws, external_ids=[rec.external_id])
    return queries.upsert_external(
        s,
        workspace_id=ws,
        record=rec,
        existing=found.get(rec.external_id),
        logged_by=rep.id,
        actor="UADMIN",
        source="import",
        now=NOW,
    )


def _won(s: Session, ws: str, team: Team) -> dict[int, tuple[int, int]]:
    return queries.totals_by_owner(s, workspace_id=ws, start=NOV[0], end=NOV[1], team_id=team.id)


def test_a_record_sent_twice_is_one_deal_and_an_edit_updates_it_audited(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        team, rep = _setup(s, "T1")
        outcome, deal = _upsert(s, "T1", _record(team, rep), rep)
        assert outcome is Outcome.CREATED and deal is not None
        assert (deal.number, deal.source, deal.external_id) == (1, "import", "hs-1001")
        assert deal.created_at == NOW
        assert _upsert(s, "T1", _record(team, rep), rep)[0] is Outcome.UNCHANGED
        edited = _record(team, rep, amount_minor=1_500_000, customer="Acme Corp")
        assert _upsert(s, "T1", edited, rep)[0] is Outcome.UPDATED
        s.commit()
        assert rep.id is not None
        assert _won(s, "T1", team) == {rep.id: (1_500_000, 1)}
        deals = s.exec(select(Deal).where(Deal.workspace_id == "T1")).all()
        assert [(d.number, d.amount_minor, d.customer) for d in deals] == [
            (1, 1_500_000, "Acme Corp")
        ]
        trail = queries.audit_trail(s, workspace_id="T1", entity="deal", entity_id=deal.id or 0)
        assert [(e.action, e.source, e.actor) for e in trail] == [
            ("create", "import", "UADMIN"),
            ("update", "import", "UADMIN"),
        ]
        before = json.loads(trail[1].before or "{}")
        assert (before["amount_minor"], before["customer"]) == (1_250_000, "Acme")


def test_a_record_moved_to_lost_leaves_the_numbers(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        team, rep = _setup(s, "T1")
        _upsert(s, "T1", _record(team, rep), rep)
        _upsert(s, "T1", _record(team, rep, "hs-2", amount_minor=300_000), rep)
        assert rep.id is not None
        assert _won(s, "T1", team) == {rep.id: (1_550_000, 2)}
        assert _upsert(s, "T1", _record(team, rep, stage="lost"), rep)[0] is Outcome.UPDATED
        s.commit()
        assert _won(s, "T1", team) == {rep.id: (300_000, 1)}


def test_a_deal_deleted_in_pacer_stays_deleted(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        team, rep = _setup(s, "T1")
        _, deal = _upsert(s, "T1", _record(team, rep), rep)
        assert deal is not None
        queries.change_deal(
            s, deal=deal, actor="UALICE", action="delete", changes={"deleted_at": NOW}
        )
        outcome, kept = _upsert(s, "T1", _record(team, rep, amount_minor=9_900_000), rep)
        assert outcome is Outcome.DELETED and kept is deal
        assert (deal.amount_minor, deal.deleted_at) == (1_250_000, NOW)
        s.commit()
        assert _won(s, "T1", team) == {}


def test_typed_deals_and_other_workspaces_are_never_matched(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        team, rep = _setup(s, "T1")
        other_team, other_rep = _setup(s, "T2")
        assert rep.id is not None and team.id is not None
        typed = Deal(
            workspace_id="T1",
            team_id=team.id,
            owner_id=rep.id,
            logged_by=rep.id,
            amount_minor=1_250_000,
            currency="USD",
            customer="Acme",
            close_date=date(2026, 11, 12),
        )
        queries.add_deal(s, deal=typed, actor="UALICE")
        # Same fields as the typed deal: still a deal of its own, not a guess at a match.
        assert _upsert(s, "T1", _record(team, rep), rep)[0] is Outcome.CREATED
        assert _upsert(s, "T2", _record(other_team, other_rep), other_rep)[0] is Outcome.CREATED
        s.commit()
        assert _won(s, "T1", team) == {rep.id: (2_500_000, 2)}
        numbers = s.exec(select(Deal.workspace_id, Deal.number, Deal.external_id)).all()
        assert sorted(numbers) == [("T1", 1, None), ("T1", 2, "hs-1001"), ("T2", 1, "hs-1001")]
        sources = s.exec(select(AuditEntry.source).where(AuditEntry.workspace_id == "T1")).all()
        assert sorted(sources, key=str) == [None, "import"]


def test_existing_deals_are_looked_up_in_chunks(engine: Engine) -> None:
    """More ids than one statement may bind: every one is found."""
    with Session(engine, expire_on_commit=False) as s:
        team, rep = _setup(s, "T1")
        for n in range(1, 1_203):
            _upsert(s, "T1", _record(team, rep, f"sf-{n:05d}"), rep)
        s.commit()
        wanted = [f"sf-{n:05d}" for n in range(1, 1_210)]  # the last 7 do not exist
        found = queries.existing_by_external(s, workspace_id="T1", external_ids=wanted)
        assert len(found) == 1_202
        assert found["sf-01202"].number == 1_202
        assert queries.existing_by_external(s, workspace_id="T2", external_ids=wanted) == {}
