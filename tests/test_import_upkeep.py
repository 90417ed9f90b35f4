"""A bulk write keeps the derived tables (rep days, customers) once at its end
(storage/queries/flushed.deferred_upkeep): what it leaves is what a rebuild from the deals
gives, on both databases."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, select

from commands import imports
from storage import queries
from storage.models import Customer, RepDay
from tests.conftest import NOW, Run

HEADER = "Record ID,Deal Name,Amount,Close Date,Deal Stage,Deal owner,Associated Company\n"


def _rows(s: Session) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    days = s.exec(select(RepDay)).all()
    customers = s.exec(select(Customer)).all()
    return (
        sorted((r.team_id, r.owner_id, r.day, r.won_minor, r.won_count) for r in days),
        sorted((c.key, c.owner_id, c.first_won, c.last_deal) for c in customers),
    )


def test_an_import_leaves_the_kept_tables_as_a_rebuild_would(team: Run, engine: Engine) -> None:
    assert team("UALICE", "/deal", "700 Acme date:2026-11-03").ok  # kept by its own flush
    lines = [
        f"hs-{n},Deal {n},{100 * n},2026-11-{1 + n % 20:02d},"
        f"{'Closed Won' if n % 4 else 'Closed Lost'},{'alice' if n % 3 else 'bob'},"
        f"Customer {n % 7}\n"
        for n in range(1, 1_201)
    ]
    text = HEADER + "".join(lines)
    with Session(engine, expire_on_commit=False) as s:
        plan = imports.import_deals(
            s,
            workspace_id="T1",
            lines=lambda: io.StringIO(text, newline=""),
            options=imports.Options(team="East"),
            importer=imports.Importer(actor="cli"),
            lookup=lambda _email: None,
            now=NOW,
        )
        assert plan.written and plan.counts[imports.Outcome.CREATED] == 1_200
        s.commit()
        kept = _rows(s)
        queries.rebuild_repdays(s, workspace_id="T1")
        queries.rebuild_customers(s, workspace_id="T1")
        s.commit()
        assert _rows(s) == kept
        # Won deals fall on the (rep, day) pairs below; days 1, 5, 9, 13, 17 hold lost ones only.
        won_keys = {(n % 3 != 0, 1 + n % 20) for n in range(1, 1_201) if n % 4}
        assert len(won_keys) == 30 and len(kept[0]) == 30
        assert len(kept[1]) == 1 + 7 * 2  # Acme, and the 7 customers with each rep
        won = queries.totals_by_owner(
            s, workspace_id="T1", start=date(2026, 11, 1), end=date(2026, 11, 30)
        )
        # 900 of the 1,200 won (n not a multiple of 4), 100 x n each, plus alice's $700.
        assert sum(minor for minor, _n in won.values()) == 70_000 + 100 * 100 * sum(
            n for n in range(1, 1_201) if n % 4
        )
