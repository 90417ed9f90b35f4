"""/leaderboard: ordering by attainment, revenue and deals; ties share a rank; chart values.

Team East, November 2026 (21 working days, 18 elapsed on Wed 25 Nov: 18 / 21 = 85.7%).
Targets: alice $100,000, bob $200,000, carol $100,000; dave and erin have none.
Won: alice $50,000 (1 deal), bob $100,000 (2), carol $20,000 (3), dave $30,000 (1),
erin $50,000 (1). Attainment: alice 50%, bob 50%, carol 20%.
"""

from __future__ import annotations

import re

import pytest

from charts.specs import LeaderboardChart
from commands.i18n import t
from commands.types import Reply, Visibility
from tests.conftest import ADMIN, Run
from tests.messages import bad_input


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def deals_n(n: int) -> str:
    return en("metric.count.deals_one" if n == 1 else "metric.count.deals_other", n=str(n))


def line(badge: str, name: str, revenue: str, n: int, pct: str = "", target: str = "") -> str:
    if not target:
        return en(
            "leaderboard.line_no_target", badge=badge, name=name, revenue=revenue, deals=deals_n(n)
        )
    return en(
        "leaderboard.line",
        badge=badge,
        name=name,
        attainment=pct,
        revenue=revenue,
        target=target,
        deals=deals_n(n),
    )


ALICE = line("🥇", "alice", "$50,000", 1, "50%", "$100,000")
BOB = line("🥇", "bob", "$100,000", 2, "50%", "$200,000")
CAROL = line("🥉", "carol", "$20,000", 3, "20%", "$100,000")
# 50,000 + 100,000 + 20,000 + 30,000 + 50,000 in 1 + 2 + 3 + 1 + 1 deals.
TOTAL = en("teams.total", revenue="$250,000", deals=deals_n(8))


@pytest.fixture
def board(team: Run) -> Run:
    team(ADMIN, "/pacer", "setup team add East <@UCAROL|carol> <@UDAVE|dave> <@UERIN|erin>")
    for who, target in (("ALICE|alice", "100k"), ("BOB|bob", "200k"), ("CAROL|carol", "100k")):
        assert team("UMIA", "/goal", f"set <@U{who}> {target} 2026-11").ok
    won = [
        ("UALICE", "50,000"),
        ("UBOB", "60,000"),
        ("UBOB", "40,000"),
        ("UCAROL", "5,000"),
        ("UCAROL", "5,000"),
        ("UCAROL", "10,000"),
        ("UDAVE", "30,000"),
        ("UERIN", "50,000"),
    ]
    for user, amount in won:
        assert team(user, "/deal", f"{amount} Acme Corp date:2026-11-20").ok
    # Neither an open deal nor a deleted one counts.
    team("UDAVE", "/deal", "99,999 Hooli stage:proposal")
    deleted = team("UCAROL", "/deal", "99,999 Umbrella").buttons[0].value
    team("UCAROL", "/deal", f"delete {deleted}")
    return team


def chart_of(reply: Reply) -> LeaderboardChart:
    assert isinstance(reply.chart, LeaderboardChart)
    return reply.chart


def heading(order: str, team: str = "East", period: str = "2026-11") -> str:
    return en("leaderboard.title", team=team, period=period, order=en(f"order.{order}"))


def digits(notes: list[str]) -> list[str]:
    """The numbers in chart notes, whatever the compact style ($50K, $50k)."""
    return [re.sub(r"[^\d%]", "", n) for n in notes]


def test_by_attainment_ties_share_a_rank(board: Run) -> None:
    reply = board("UMIA", "/leaderboard")
    assert reply.visibility is Visibility.IN_CHANNEL
    lines = reply.text.splitlines()
    assert heading("attainment") in lines[0]
    assert lines[1:] == [
        ALICE,
        BOB,
        CAROL,
        # Without a target: after the ranked reps, by revenue, unranked.
        line("·", "erin", "$50,000", 1),
        line("·", "dave", "$30,000", 1),
        TOTAL,
        en("leaderboard.expected", pct="86%"),  # 18 / 21 = 85.7%
    ]
    chart = chart_of(reply)
    assert chart.names == ["alice", "bob", "carol"]
    assert chart.values == [50.0, 50.0, 20.0]
    assert chart.percent
    assert chart.reference == pytest.approx(85.714285)  # 18 / 21 x 100
    assert digits(chart.notes) == ["50%50", "50%100", "20%20"]
    assert chart.highlight == frozenset({"mia"})
    assert chart.value_prefix == "$"


def test_by_revenue(board: Run) -> None:
    reply = board("UALICE", "/leaderboard", "by revenue")
    lines = reply.text.splitlines()
    assert heading("revenue") in lines[0]
    assert lines[1:] == [
        line("🥇", "bob", "$100,000", 2, "50%", "$200,000"),
        line("🥈", "alice", "$50,000", 1, "50%", "$100,000"),
        line("🥈", "erin", "$50,000", 1),  # tied with alice at $50,000
        line("4.", "dave", "$30,000", 1),
        line("5.", "carol", "$20,000", 3, "20%", "$100,000"),
        TOTAL,
    ]
    chart = chart_of(reply)
    assert chart.names == ["bob", "alice", "erin", "dave", "carol"]
    assert chart.values == [100000.0, 50000.0, 50000.0, 30000.0, 20000.0]
    assert not chart.percent and chart.reference is None
    assert digits(chart.notes) == ["100", "50", "50", "30", "20"]
    assert chart.highlight == frozenset({"alice"})


def test_by_deals(board: Run) -> None:
    reply = board("UMIA", "/leaderboard", "team East 2026-11 by deals")
    lines = reply.text.splitlines()
    assert heading("deals") in lines[0]
    # carol 3, bob 2, then alice, dave and erin tied on 1 deal each: 1, 2, 3, 3, 3.
    assert lines[1:] == [
        line("🥇", "carol", "$20,000", 3, "20%", "$100,000"),
        line("🥈", "bob", "$100,000", 2, "50%", "$200,000"),
        line("🥉", "alice", "$50,000", 1, "50%", "$100,000"),
        line("🥉", "dave", "$30,000", 1),
        line("🥉", "erin", "$50,000", 1),
        TOTAL,
    ]
    chart = chart_of(reply)
    assert chart.names == ["carol", "bob", "alice", "dave", "erin"]
    assert chart.values == [3.0, 2.0, 1.0, 1.0, 1.0]
    assert chart.value_prefix == ""


def test_a_period_without_targets_ranks_by_revenue_in_the_chart(board: Run) -> None:
    # No rep has a Q4 goal: attainment would rank nobody, so the board ranks by revenue,
    # says so in its title, and ties share a rank (alice and erin, $50,000 each).
    reply = board("UMIA", "/leaderboard", "team East 2026-Q4")
    lines = reply.text.splitlines()
    assert heading("revenue", period="2026-Q4") in lines[0]
    assert lines[1:6] == [
        line("🥇", "bob", "$100,000", 2),
        line("🥈", "alice", "$50,000", 1),
        line("🥈", "erin", "$50,000", 1),
        line("4.", "dave", "$30,000", 1),
        line("5.", "carol", "$20,000", 3),
    ]
    chart = chart_of(reply)
    assert chart.names[0] == "bob"
    assert chart.values == [100000.0, 50000.0, 50000.0, 30000.0, 20000.0]
    assert not chart.percent
    assert en("order.revenue") in chart.title


def bad(key: str, **values: str) -> str:
    return bad_input("/leaderboard", "", key, **values)


def test_bad_input(board: Run) -> None:
    cases = [
        ("by size", bad("error.bad_order", value="size", choices="attainment, revenue, deals")),
        ("team West", bad("error.no_such_team", name="West", teams="East")),
        ("whatever", bad("error.extra_words", words="whatever")),
        ("2026-Q5", bad("error.bad_period", value="2026-Q5")),
    ]
    for text, message in cases:
        reply = board("UMIA", "/leaderboard", text)
        assert (reply.ok, reply.text) == (False, message), text


def test_no_teams_and_no_reps(run: Run) -> None:
    reply = run("UALICE", "/leaderboard")
    assert (reply.ok, reply.text) == (False, en("error.no_teams_yet"))
    run(ADMIN, "/pacer", "setup team create West")
    assert run("UALICE", "/leaderboard").text == en("leaderboard.no_reps", team="West")
