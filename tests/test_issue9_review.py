"""Acceptance review of issue 9, through the commands as users type them, with inputs other
than the issue's examples. The `team` fixture: East (USD, New York) with reps alice and bob,
manager mia. NOW is Wed 25 Nov 2026."""

from __future__ import annotations

from sqlalchemy import Engine

from commands.i18n import t
from tests.conftest import ADMIN, Run
from tests.messages import bad_input
from tests.test_teams import deal_number, deal_teams, deals_n

ALICE = "<@UALICE|alice>"


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def test_a_move_to_a_team_of_another_currency_leaves_deals_in_the_old_one(
    team: Run, engine: Engine
) -> None:
    """Moving alice from USD East to CNY West from a past date once credited her $4,000 deal
    to West, whose board then showed it as ¥4,000: amounts are never converted, so a deal in
    another currency stays with the team it was won for, and the reply says so."""
    team(ADMIN, "/pacer", "setup team create West tz:Asia/Shanghai currency:CNY")
    team(ADMIN, "/pacer", f"setup team add West {ALICE}")
    usd = deal_number(team("UALICE", "/deal", "4,000 Globex date:2026-11-20"))
    cny = deal_number(team("UALICE", "/deal", "6,500 Hooli date:2026-11-21 team:West"))
    reply = team(ADMIN, "/pacer", f"setup team move {ALICE} to West from 2026-11-18")
    names = {"name": "alice", "old": "East", "new": "West", "date": "2026-11-18"}
    assert reply.text.splitlines() == [
        en("teams.moved", **names),
        en("teams.moved_no_deals", **names),
        en(
            "review9.moved_kept_currency",
            deals=deals_n(1),
            currency="USD",
            old="East",
            new="West",
            new_currency="CNY",
        ),
    ]
    assert deal_teams(engine) == {usd: ("East", "USD"), cny: ("West", "CNY")}
    west = team("UALICE", "/leaderboard", "team West 2026-11 by revenue")
    assert west.text.splitlines()[-1] == "*Team total: ¥6,500 · 1 deal*"
    east = team("UMIA", "/progress", "team East 2026-11")
    assert "$4,000" in east.text


def test_a_bad_payment_amount_gets_the_amount_message_in_both_languages(team: Run) -> None:
    """`/deal paid 7 abc` answered only "I didn't understand": the amount of a payment is
    refused as every other typed amount is."""
    number = deal_number(team("UBOB", "/deal", "2,400 Initech"))
    for locale in ("en-US", "zh-CN"):
        reply = team("UBOB", "/deal", f"paid {number} twelve", locale=locale)
        message = bad_input("/deal", "paid", "amount.invalid", locale[:2], value="twelve")
        assert (reply.ok, reply.text) == (False, message)
    paid = team("UBOB", "/deal", f"paid {number} 1.2k")
    assert paid.ok and "$1,200" in paid.text


def test_a_rep_on_two_teams_sees_the_home_goal_first_and_the_other_named(team: Run) -> None:
    """alice's goal on West, set before her East one, led her /progress, and neither reply
    said which team either goal was on: the home team's goal leads, the other is named."""
    team(ADMIN, "/pacer", "setup team create West tz:Asia/Shanghai currency:CNY")
    team(ADMIN, "/pacer", "setup team add West <@UCAROL|carol> as:manager")
    team(ADMIN, "/pacer", f"setup team add West {ALICE}")
    assert team("UCAROL", "/goal", f"set {ALICE} 40000 month team:West").ok
    assert team("UMIA", "/goal", f"set {ALICE} 6000 month").ok
    team("UALICE", "/deal", "3,000 Globex")
    progress = team("UALICE", "/progress").text.splitlines()
    assert progress[0] == en("progress.title", who="alice", period="2026-11", metric="revenue")
    assert progress[1] == en(
        "progress.attainment", actual="$3,000", target="$6,000", attainment="50%"
    )
    on_west = en("review9.on_team", team="West")
    assert progress[-1] == en(
        "figures.other_goal",
        period="2026-11" + on_west,
        metric="revenue",
        actual="¥0",
        target="¥40,000",
        attainment="0%",
        pace="0%",
        ref=en("figures.goal_ref_short", id=1),
    )
    goals = team("UALICE", "/goal").text.splitlines()
    assert goals[1:] == [
        en(
            "goal.line",
            id=1,
            period="2026-11",
            metric="revenue",
            who=on_west,
            actual="¥0",
            target="¥40,000",
            attainment="0%",
        ),
        en(
            "goal.line",
            id=2,
            period="2026-11",
            metric="revenue",
            who="",
            actual="$3,000",
            target="$6,000",
            attainment="50%",
        ),
    ]
    zh = team("UALICE", "/progress", locale="zh-CN").text.splitlines()
    assert "（West 团队）" in zh[-1]


def test_a_team_is_named_alike_as_team_name_or_team_colon_name(team: Run) -> None:
    """`/deal` and `/goal set` take `team:East`; the leaderboard, progress and goal tree
    refused it. Every command that names a team reads both spellings alike."""
    team("UALICE", "/deal", "1,500 Acme")
    for command, rest in [("/leaderboard", ""), ("/progress", ""), ("/goal", "tree ")]:
        typed = f"{rest}team East".strip()
        colon = f"{rest}team:East".strip()
        assert team("UMIA", command, colon).text == team("UMIA", command, typed).text, command
    assert team("UMIA", "/leaderboard", "team:east 2026-11").ok
