"""Suggestions from the rep's own data, each with the number behind it (commands/suggest.py).

NOW is Wed 25 Nov 2026 in New York: 18 of November's 21 working days have elapsed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from commands.i18n import t
from domain import funnel
from tests.conftest import Run

ALICE = "<@UALICE|alice>"
NOV2 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def tip(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("💡 "))[2:]


def logged(team: Run, user: str, text: str) -> int:
    reply = team(user, "/deal", text, now=NOV2)
    assert reply.ok, reply.text
    return int(re.search(r"#(\d+)", reply.text).group(1))  # type: ignore[union-attr]


def moved(team: Run, user: str, number: int, *stages: str) -> None:
    for stage in stages:
        assert team(user, "/deal", f"stage {number} {stage}").ok


def test_the_stage_where_the_reps_deals_stall_against_the_team(team: Run) -> None:
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-11").ok
    # alice: four deals at proposal, one went on to negotiation; all lost. bob: four at
    # proposal, all on to negotiation and won. proposal -> negotiation: alice 1 of 4 (25%),
    # the team 5 of 8 (62.5%, shown 63%). The other steps: 100% for both, or fewer than
    # three of alice's deals (negotiation -> won: one).
    for i in range(4):
        number = logged(team, "UALICE", f"1,000 A{i} stage:proposal close:2026-11-1{i}")
        moved(team, "UALICE", number, *(["negotiation", "lost"] if i == 0 else ["lost"]))
        number = logged(team, "UBOB", f"1,000 B{i} stage:proposal close:2026-11-1{i}")
        moved(team, "UBOB", number, "negotiation", "won")
    assert tip(team("UALICE", "/progress").text) == en(
        "jobs.lag.suggest_stall",
        stage="proposal",
        next="negotiation",
        went_on=1,
        reached=4,
        mine="25%",
        team="63%",
        days=90,
    )


def test_open_deals_enough_to_close_the_gap_say_so(team: Run) -> None:
    assert team("UMIA", "/goal", f"set {ALICE} 21000 2026-11").ok
    assert team("UALICE", "/deal", "2,000 Acme").ok
    assert team("UALICE", "/deal", "30,000 Hooli stage:negotiation close:2026-11-30").ok
    # Expected 21,000 x 18 / 21 = 18,000; 2,000 won: 16,000 behind; Hooli's 30,000 covers it.
    assert tip(team("UALICE", "/progress").text) == en(
        "jobs.lag.suggest_open_enough", deals="Hooli ($30,000)", total="$30,000", gap="$16,000"
    )


def test_no_suggestion_on_track_nor_for_a_team(team: Run) -> None:
    assert team("UMIA", "/goal", f"set {ALICE} 1000 2026-11").ok
    assert team("UALICE", "/deal", "2,000 Acme").ok
    assert "💡" not in team("UALICE", "/progress").text
    assert team("UMIA", "/goal", "set team East 900000 2026-11").ok
    assert "💡" not in team("UMIA", "/progress", "team East").text


def test_a_stall_needs_three_deals_and_ten_points() -> None:
    def made(reaches: list[tuple[int, str, int]]) -> funnel.Funnel:
        stages = ("lead", "qualified", "proposal", "negotiation", "won")
        return funnel.funnel(stages, [funnel.Reach(f, e, n, n * 100) for f, e, n in reaches])

    team = made([(4, "won", 6), (2, "lost", 4)])  # proposal -> negotiation: 6 of 10
    two = made([(2, "lost", 2)])  # 0 of 2 went on: too few to say
    assert funnel.stall(two, team) is None
    close = made([(4, "won", 2), (2, "lost", 2)])  # 2 of 4 = 50%: 10 points under 60%
    found = funnel.stall(close, team)
    assert found is not None
    assert (found.stage, found.went_on, found.reached) == ("proposal", 2, 4)
    assert (found.mine, found.team) == (Decimal("0.5"), Decimal("0.6"))
    near = made([(4, "won", 11), (2, "lost", 9)])  # 11 of 20 = 55%: 5 points under
    assert funnel.stall(near, team) is None
