"""The why's SQL (storage/queries/workings.py) against its rule (domain/why.py): for deals
of every kind (two teams, deleted, lost and open, closing in, near and far from the
period, logged in it and outside it, either side of New York's midnight) the file lists
the same deals, with the same reasons, in the same order as the pure rule says."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from commands import why
from commands.types import ExportQuery
from domain import why as whys
from storage import queries
from storage.models import Deal, Member, Team, Workspace

NY = ZoneInfo("America/New_York")
START, END = date(2026, 11, 1), date(2026, 11, 30)


@dataclass(frozen=True)
class Fact:
    number: int
    team_id: int
    owner_id: int
    close_date: date
    stage: str
    deleted: bool
    logged_on: date  # the team's local day


def deals(session: Session, seed: int) -> tuple[Team, Member, list[Fact]]:
    session.add(Workspace(id="T1"))
    session.flush()
    east = Team(workspace_id="T1", name="East", tz="America/New_York")
    berlin = Team(workspace_id="T1", name="Berlin", tz="Europe/Berlin", currency="EUR")
    alice = Member(workspace_id="T1", user_id="UALICE", name="alice")
    bob = Member(workspace_id="T1", user_id="UBOB", name="")  # goes by the user id
    session.add_all([east, berlin, alice, bob])
    session.flush()
    rnd = random.Random(seed)
    facts = []
    for _ in range(240):
        team, owner = rnd.choice([east, berlin]), rnd.choice([alice, bob])
        # Close dates up to 70 days from the period; times around local midnights.
        close = START + timedelta(days=rnd.randint(-70, 99))
        logged = datetime(2026, 10, 20, 4, 0, tzinfo=UTC) + timedelta(
            days=rnd.randint(0, 50), minutes=rnd.choice([-61, -1, 0, 1, 59, 600])
        )
        assert team.id is not None and owner.id is not None
        deal = queries.add_deal(
            session,
            deal=Deal(
                workspace_id="T1",
                team_id=team.id,
                owner_id=owner.id,
                logged_by=owner.id,
                amount_minor=rnd.randint(1, 10**7),
                currency=team.currency,
                customer=rnd.choice(["Acme", "Beta", "<!here>"]),
                stage=rnd.choice(["won", "won", "lost", "proposal"]),
                close_date=close,
                created_at=logged,
            ),
            actor="UALICE",
        )
        if rnd.random() < 0.15:
            deal.deleted_at = logged + timedelta(hours=1)
        facts.append(
            Fact(
                deal.number or 0,
                team.id,
                owner.id,
                close,
                deal.stage,
                deal.deleted_at is not None,
                logged.astimezone(NY).date(),
            )
        )
    session.flush()
    return east, alice, facts


def by_the_rule(facts: list[Fact], team_id: int) -> list[tuple[int, str]]:
    listed = []
    for f in facts:
        reason = whys.reason(f, team_id=team_id, start=START, end=END)
        if whys.mentioned(f, reason, logged_on=f.logged_on, start=START, end=END):
            listed.append((reason != "", f.close_date, f.number, reason))
    return [(number, reason) for _, _, number, reason in sorted(listed)]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("whose", ["team", "rep"])
def test_the_file_lists_what_the_rule_says(session: Session, seed: int, whose: str) -> None:
    east, alice, facts = deals(session, seed)
    assert east.id is not None
    rep = alice.id if whose == "rep" else None
    query = ExportQuery(
        "why", "T1", START, END, team_ids=(east.id,), owner_id=rep, tz="America/New_York"
    )
    rows = list(why.csv_rows(session, query))
    scoped = [f for f in facts if (f.owner_id == rep if rep else f.team_id == east.id)]
    expected = by_the_rule(scoped, east.id)
    assert [(int(r[2]), r[1]) for r in rows] == expected
    # Every reason is met (another team's deal only in a rep's list: a team lists its own).
    met = {"", *whys.REASONS} - ({whys.OTHER_TEAM} if rep is None else set())
    assert {r[1] for r in rows} == met
    assert {r[10] for r in rows} <= {"alice", "UBOB"} and {r[9] for r in rows} <= {"East", "Berlin"}
    # The message's counts are the file's.
    summary = queries.why_summary(session, why._near(query), counted_team=east.id, listed=10)
    counted = [n for n, reason in expected if not reason]
    assert (summary.counted, summary.left_out) == (len(counted), len(expected) - len(counted))
    assert [d.number for d in summary.first_counted] == counted[:10]
