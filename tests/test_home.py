"""The App Home tab's content (commands/home.py) and its blocks (bot/blocks.py).

NOW is Wed 25 Nov 2026 in New York: 18 of November's 21 working days have elapsed.
"""

from __future__ import annotations

from sqlalchemy import Engine

from bot import blocks
from commands import router
from commands.i18n import t
from commands.types import Reply, Request
from storage.engine import session_scope
from tests.conftest import ADMIN, NOW, Run

ALICE = "<@UALICE|alice>"


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def home_of(engine: Engine, user: str, period: str | None = None, locale: str = "en") -> Reply:
    req = Request(workspace_id="T1", user_id=user, text="", now=NOW, locale=locale)
    with session_scope(engine) as session:
        return router.home_tab(req, session, period)


def test_a_reps_tab_by_hand(team: Run, engine: Engine) -> None:
    assert team(ADMIN, "/pacer", "setup bonus East 4000 per:month").ok
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-11").ok
    assert team("UMIA", "/goal", "set <@UBOB|bob> 50000 2026-11").ok
    assert team("UALICE", "/deal", "25,000 Acme").ok
    assert team("UBOB", "/deal", "40,000 Globex").ok
    reply = home_of(engine, "UALICE")
    assert reply.home is not None and reply.home.chart is not None
    first = reply.home.sections[0].text.splitlines()
    # alice 25,000 / 120,000 = 21%; bob 80%: alice second. 21% is under the 80% tier.
    assert en("home.rank", rank=2, of=2, team="East") in first
    tier = en("bonus.no_tier", first=en("bonus.tier_from", floor="80%", share="50%"))
    assert en("home.bonus", tier=tier, payout="$0") in first
    assert [b.action_id for b in reply.home.sections[0].buttons] == [
        "home_log_deal",
        "feedback_open",
    ]
    assert reply.home.sections[2].text.startswith("💡 ")  # behind pace: a next step


def test_a_managers_tab_stays_within_blocks_however_big_the_team(team: Run, engine: Engine) -> None:
    reps = " ".join(f"<@UR{i:02d}|rep{i:02d}>" for i in range(60))
    assert team(ADMIN, "/pacer", f"setup team add East {reps}").ok
    assert team("UMIA", "/goal", "set team East 900000 2026-11").ok
    reply = home_of(engine, "UMIA")
    assert reply.home is not None
    view = blocks.home_view(reply.home)
    assert len(view["blocks"]) <= 100
    team_text = reply.home.sections[1].text
    assert en("home.more_reps", n=62 - 30, team="East") in team_text


def test_the_tab_in_chinese(team: Run, engine: Engine) -> None:
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-11").ok
    reply = home_of(engine, "UALICE", "quarter", locale="zh-CN")
    assert reply.home is not None
    assert reply.home.sections[0].text == t(
        "zh", "home.no_goal", period=t("zh", "home.period_quarter")
    )
    assert [label for _, label in reply.home.periods] == ["月", "季度", "年"]
