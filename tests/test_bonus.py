"""Bonus tiers, payouts and the what-if, by hand at every tier boundary.

NOW is Wed 25 Nov 2026 in New York. 2026-Q4 has 66 working days (October 22, November 21,
December 23); 40 have elapsed (today counts), 26 are left. The last 10 working days run
from Thu 12 Nov.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from commands.i18n import t
from domain import bonus
from tests.conftest import ADMIN, Run

ALICE, BOB = "<@UALICE|alice>", "<@UBOB|bob>"
D = Decimal
TARGET = 12_000_000  # $120,000 in cents
PLAN = 500_000  # $5,000


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


@pytest.mark.parametrize(
    ("actual", "paid"),
    [
        (9_599_999, 0),  # 79.99999%: under 80% pays nothing
        (9_600_000, 250_000),  # exactly 80%: from 80%, half
        (12_000_000, 250_000),  # exactly 100%: still half (100% is "up to and including")
        (12_000_001, 500_000),  # one cent above 100%: the whole bonus
        (30_000_000, 500_000),  # 250%: the top tier pays no more
    ],
)
def test_the_default_tiers_at_each_boundary(actual: int, paid: int) -> None:
    assert bonus.payout(bonus.DEFAULT_TIERS, D(actual) / TARGET, PLAN) == paid


@pytest.mark.parametrize(
    ("actual", "more", "tier"),
    [
        (9_000_000, 600_000, 0),  # 75%: $6,000 reaches exactly 80%
        (9_599_999, 1, 0),  # a cent short of 80%: one cent
        (10_800_000, 1_200_001, 1),  # 90%: $12,000.01, since 100% itself is not "above"
        (12_000_000, 1, 1),  # exactly 100%: one cent
    ],
)
def test_the_what_if_is_the_smallest_amount_to_the_next_tier(
    actual: int, more: int, tier: int
) -> None:
    step = bonus.next_tier(bonus.DEFAULT_TIERS, actual, TARGET)
    assert step is not None and (step.more_minor, step.tier) == (more, tier)
    before = bonus.tier_of(bonus.DEFAULT_TIERS, D(actual + more - 1) / TARGET)
    assert before != tier  # a cent less does not reach it
    assert bonus.next_tier(bonus.DEFAULT_TIERS, 12_000_001, TARGET) is None  # the top tier


def test_tiers_of_a_teams_own() -> None:
    tiers = bonus.parse_tiers("50:25, 80:50, >100:100, >120:150")
    assert bonus.tiers_text(tiers) == "50:25,80:50,>100:100,>120:150"
    assert bonus.payout(tiers, D("1.25"), PLAN) == 750_000
    assert bonus.payout(tiers, D("0.5"), 333) == 83  # 83.25 cents, half up
    assert bonus.payout(tiers, D("0.5"), 334) == 84  # 83.5, half up
    for bad in ("80:50,70:60", "abc", "80", "80:50,80:60", ">-5:10"):
        with pytest.raises(bonus.TierError):
            bonus.parse_tiers(bad)


def quarter(team: Run) -> None:
    assert team(ADMIN, "/pacer", "setup bonus East 5000 per:quarter").ok
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-Q4").ok
    assert team("UALICE", "/deal", "60,000 Acme date:2026-10-10").ok
    assert team("UALICE", "/deal", "48,000 Globex date:2026-11-20").ok


def test_a_reps_bonus_now_at_the_forecast_and_the_what_if(team: Run) -> None:
    quarter(team)
    # 108,000 of 120,000: 90%, half of $5,000. Forecast: 48,000 in the last 10 working
    # days, 4,800 a day x 26 days left: 108,000 + 124,800 = 232,800, 194%: the whole $5,000.
    # The what-if: above 100% takes $12,000.01 (120,000.01 / 120,000 = 100.000008%).
    assert team("UALICE", "/pacer", "bonus").text.splitlines() == [
        en("bonus.title", who="alice", period="2026-Q4", amount="$5,000"),
        en(
            "bonus.now",
            actual="$108,000",
            target="$120,000",
            attainment="90%",
            tier=en("bonus.tier_from", floor="80%", share="50%"),
            payout="$2,500",
        ),
        en(
            "bonus.forecast",
            forecast="$232,800",
            attainment="194%",
            tier=en("bonus.tier_above", floor="100%", share="100%"),
            payout="$5,000",
        ),
        en(
            "bonus.what_if",
            more="$12,000.01",
            attainment="100.00%",
            tier=en("bonus.tier_above", floor="100%", share="100%"),
            payout="$5,000",
            now="$2,500",
        ),
    ]


def test_a_reps_own_amount_and_the_teams_payouts(team: Run) -> None:
    quarter(team)
    assert team(ADMIN, "/pacer", f"setup bonus {ALICE} 8000").ok
    lines = team("UMIA", "/pacer", "bonus team East").text.splitlines()
    plan = en(
        "bonus.plan",
        amount="$5,000",
        per="quarter",
        tiers=", ".join(
            [
                en("bonus.tier_from", floor="80%", share="50%"),
                en("bonus.tier_above", floor="100%", share="100%"),
            ]
        ),
    )
    # alice's own $8,000: half now ($4,000), all of it at the forecast. bob has no goal.
    assert lines == [
        en("bonus.team_title", team="East", plan=plan),
        en(
            "bonus.team_rep",
            rep="alice",
            attainment="90%",
            now="$4,000",
            forecast="194%",
            projected="$8,000",
        ),
        en("bonus.team_rep_no_goal", rep="bob"),
        en("bonus.team_total", now="$4,000", projected="$8,000"),
    ]
    assert en("bonus.show", plan=plan) in team("UMIA", "/pacer", "setup show").text


def test_reps_see_only_their_own(team: Run) -> None:
    quarter(team)
    refused = team("UBOB", "/pacer", f"bonus {ALICE}")
    assert not refused.ok and refused.text == en("bonus.own_only")
    assert not team("UBOB", "/pacer", "bonus team East").ok
    assert team("UMIA", "/pacer", f"bonus {ALICE}").ok  # her manager


def test_what_if_an_amount_more_today(team: Run) -> None:
    quarter(team)
    # Expected to date 120,000 x 40 / 66 = 72,727.27: pace 108,000 / that = 149%, with
    # 12,000 more 165%. Forecast: (48,000 + 12,000) / 10 x 26 + 120,000 = 276,000.
    # Exactly 100% is still the 80% tier: $12,000 is a cent short of the next one.
    assert team("UALICE", "/progress", "what-if 12,000").text.splitlines() == [
        en("bonus.what_if_title", more="$12,000", who="alice", period="2026-Q4"),
        en(
            "bonus.what_if_attainment",
            then="100%",
            now="90%",
            actual="$120,000",
            target="$120,000",
        ),
        en("bonus.what_if_pace", then="165%", now="149%"),
        en("progress.target_met", days=26),
        en("bonus.what_if_forecast", then="$276,000", now="$232,800"),
        en(
            "bonus.what_if_tier",
            tier=en("bonus.tier_from", floor="80%", share="50%"),
            payout="$2,500",
            now="$2,500",
        ),
    ]


def test_setup_errors_name_the_problem(team: Run) -> None:
    first = team(ADMIN, "/pacer", "setup bonus East tiers:80:50,>100:100")
    assert not first.ok and en("bonus.amount_first", team="East") in first.text
    bad = team(ADMIN, "/pacer", "setup bonus East 5000 tiers:90:50,80:100")
    assert not bad.ok and en("bonus.bad_tiers", value="80:100") in bad.text
    assert not team(ADMIN, "/pacer", "setup bonus East 5000 per:week").ok
    assert not team("UMIA", "/pacer", "setup bonus East 5000").ok  # admins only
    assert team(ADMIN, "/pacer", "setup bonus East 5000").ok
    assert team(ADMIN, "/pacer", "setup bonus East tiers:50:25,>100:100").ok


def test_no_plan_says_how_to_set_one(team: Run) -> None:
    assert team("UALICE", "/pacer", "bonus").text == en("bonus.no_plan", team="East")


def test_bonus_in_chinese(team: Run) -> None:
    quarter(team)
    lines = team("UALICE", "/pacer", "bonus", locale="zh-CN").text.splitlines()
    assert lines[0] == t("zh", "bonus.title", who="alice", period="2026-Q4", amount="$5,000")
