"""/pacer funnel: how far each deal got, from its stage history, by hand.

Team East (USD, New York). The deals closing in November 2026:

| deal | rep   | amount | history                              | reached          |
| ---- | ----- | ------ | ------------------------------------ | ---------------- |
| a    | alice | 10,000 | won (logged won)                     | every stage      |
| b    | alice | 20,000 | lead Nov 2 -> qualified -> won Nov 12 | every stage      |
| c    | alice | 30,000 | lead -> proposal -> lost             | lead..proposal   |
| d    | alice | 40,000 | negotiation (logged there)           | lead..negotiation|
| e    | alice |  5,000 | lead -> negotiation -> proposal      | lead..negotiation|
| f    | bob   |  2,000 | lead                                 | lead             |

Left out: a December deal, a deleted one, one in EUR on another team.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from charts import draw
from charts.specs import FunnelChart
from commands.i18n import t
from storage import queries
from storage.models import Deal
from tests.conftest import ADMIN, Run

ALICE, BOB = "<@UALICE|alice>", "<@UBOB|bob>"
NOV2 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
NOV5 = datetime(2026, 11, 5, 15, 0, tzinfo=UTC)
NOV12 = datetime(2026, 11, 12, 15, 0, tzinfo=UTC)


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def log(team: Run, user: str, text: str, now: datetime = NOV2) -> int:
    reply = team(user, "/deal", text, now=now)
    assert reply.ok, reply.text
    return int(re.search(r"#(\d+)", reply.text).group(1))  # type: ignore[union-attr]


def stage(team: Run, number: int, to: str, now: datetime) -> None:
    reply = team("UALICE", "/deal", f"stage {number} {to}", now=now)
    assert reply.ok, reply.text


def november(team: Run) -> None:
    log(team, "UALICE", "10,000 Acme")
    b = log(team, "UALICE", "20,000 Beta stage:lead close:2026-11-10")
    stage(team, b, "qualified", NOV5)
    stage(team, b, "won", NOV12)
    c = log(team, "UALICE", "30,000 Gamma stage:lead close:2026-11-20")
    stage(team, c, "proposal", NOV5)
    stage(team, c, "lost", NOV12)
    log(team, "UALICE", "40,000 Delta stage:negotiation close:2026-11-28")
    e = log(team, "UALICE", "5,000 Epsilon stage:lead close:2026-11-27")
    stage(team, e, "negotiation", NOV5)
    stage(team, e, "proposal", NOV12)
    log(team, "UBOB", "2,000 Zeta stage:lead close:2026-11-27")
    log(team, "UALICE", "90,000 Later stage:proposal close:2026-12-05")  # December
    gone = log(team, "UALICE", "70,000 Gone stage:proposal close:2026-11-15")
    assert team("UALICE", "/deal", f"delete {gone}").ok
    # Another team in another currency: never in East's funnel.
    assert team(ADMIN, "/pacer", "setup team create Berlin currency:EUR tz:Europe/Berlin").ok
    assert team(ADMIN, "/pacer", "setup team add Berlin <@UALICE|alice>").ok
    log(team, "UALICE", "8,000 Eta stage:lead close:2026-11-18 team:Berlin")


def test_a_deal_keeps_every_stage_it_entered_with_the_time(team: Run, engine: Engine) -> None:
    e = log(team, "UALICE", "5,000 Epsilon stage:lead close:2026-11-27")
    stage(team, e, "negotiation", NOV5)
    stage(team, e, "negotiation", NOV12)  # no change: nothing written
    stage(team, e, "proposal", NOV12)
    with Session(engine) as s:
        deal = queries.get_deal(s, workspace_id="T1", number=e)
        assert deal is not None and deal.id is not None
        rows = queries.stage_history(s, workspace_id="T1", deal_id=deal.id)
    assert [(r.stage, r.changed_at) for r in rows] == [
        ("lead", NOV2),
        ("negotiation", NOV5),
        ("proposal", NOV12),
    ]


def test_the_team_funnel_by_hand(team: Run) -> None:
    november(team)
    reply = team("UMIA", "/pacer", "funnel team East 2026-11")
    # reached: lead 6 ($107,000), qualified 5 ($105,000), proposal 5, negotiation 4
    # ($75,000: a, b, d, e), won 2 ($30,000). Conversions 5/6 = 83%, 5/5 = 100%,
    # 4/5 = 80%, 2/4 = 50%: the bottleneck is negotiation -> won.
    # Win rate 2 / (2 + 1) = 67%; average won (10,000 + 20,000) / 2; cycle (0 + 10) / 2.
    assert reply.text.splitlines() == [
        en("analysis.funnel_title", who="East", period="2026-11"),
        en(
            "analysis.funnel_step",
            stage="lead",
            deals="6 deals",
            amount="$107,000",
            conversion="83%",
            next="qualified",
            reached=5,
            of=6,
        ),
        en(
            "analysis.funnel_step",
            stage="qualified",
            deals="5 deals",
            amount="$105,000",
            conversion="100%",
            next="proposal",
            reached=5,
            of=5,
        ),
        en(
            "analysis.funnel_step",
            stage="proposal",
            deals="5 deals",
            amount="$105,000",
            conversion="80%",
            next="negotiation",
            reached=4,
            of=5,
        ),
        en(
            "analysis.funnel_step",
            stage="negotiation",
            deals="4 deals",
            amount="$75,000",
            conversion="50%",
            next="won",
            reached=2,
            of=4,
        ),
        en("analysis.funnel_last_step", stage="won", deals="2 deals", amount="$30,000"),
        " · ".join(
            [
                en("analysis.funnel_win_rate", rate="67%", won=2, lost=1, open=3),
                en("analysis.funnel_average_won", amount="$15,000"),
                en("analysis.funnel_cycle", days="5"),
            ]
        ),
        en("analysis.funnel_bottleneck", stage="negotiation", next="won", conversion="50%"),
    ]
    chart = reply.chart
    assert isinstance(chart, FunnelChart)
    assert chart.deals == [6.0, 5.0, 5.0, 4.0, 2.0]
    assert chart.bottleneck == 3
    assert chart.notes[0] == "6 · $107k · → 83%"
    assert chart.notes[-1] == "2 · $30k"
    assert draw.render(chart).startswith(b"\x89PNG")


def test_a_reps_funnel_is_their_deals_alone(team: Run) -> None:
    november(team)
    # bob's one open lead in his month (November: NOW is 25 Nov). No stage past lead was
    # reached, nothing is decided: no win rate, no average, no cycle.
    assert team("UBOB", "/pacer", "funnel").text.splitlines() == [
        en("analysis.funnel_title", who="bob", period="2026-11"),
        en(
            "analysis.funnel_step",
            stage="lead",
            deals="1 deal",
            amount="$2,000",
            conversion="0%",
            next="qualified",
            reached=0,
            of=1,
        ),
        *(
            en("analysis.funnel_last_step", stage=s, deals="0 deals", amount="$0")
            for s in ("qualified", "proposal", "negotiation", "won")
        ),
        en("analysis.funnel_win_rate", rate="—", won=0, lost=0, open=1),
        en("analysis.funnel_bottleneck", stage="lead", next="qualified", conversion="0%"),
    ]


def test_a_rep_funnel_with_a_mention(team: Run) -> None:
    november(team)
    lines = team("UMIA", "/pacer", f"funnel {ALICE} 2026-11").text.splitlines()
    # alice: a..e. lead 5 ($105,000) -> qualified 5 -> proposal 5 -> negotiation 4 -> won 2.
    assert lines[0] == en("analysis.funnel_title", who="alice", period="2026-11")
    assert lines[1].startswith("lead: 5 deals, $105,000 → 100% reached qualified")
    assert lines[-1] == en(
        "analysis.funnel_bottleneck", stage="negotiation", next="won", conversion="50%"
    )


def test_no_deal_in_the_period_says_how_to_log_one(team: Run) -> None:
    reply = team("UALICE", "/pacer", "funnel 2026-10")
    assert reply.text.splitlines() == [
        en("analysis.funnel_title", who="alice", period="2026-10"),
        en("analysis.funnel_empty"),
    ]
    assert reply.chart is None


def test_a_deal_from_before_the_history_counts_at_its_stage(team: Run, engine: Engine) -> None:
    """A row written around the ORM (a bulk load) has no history until it is backfilled."""
    log(team, "UALICE", "10,000 Acme")
    with Session(engine) as s:
        deal = s.get(Deal, 1)
        assert deal is not None
        s.connection().exec_driver_sql("DELETE FROM stagechange")
        queries.backfill_stages(s, workspace_id="T1")
        queries.backfill_stages(s, workspace_id="T1")  # again: nothing more
        rows = [r.stage for r in queries.stage_history(s, workspace_id="T1", deal_id=1)]
    assert rows == ["won"]


def test_the_funnel_in_chinese(team: Run) -> None:
    november(team)
    reply = team("UMIA", "/pacer", "funnel team East 2026-11", locale="zh-CN")
    assert reply.text.splitlines()[-1] == t(
        "zh", "analysis.funnel_bottleneck", stage="商务谈判", next="赢单", conversion="50%"
    )
    assert isinstance(reply.chart, FunnelChart)
    assert reply.chart.stages[0] == "线索"
    assert draw.render(reply.chart).startswith(b"\x89PNG")  # CJK stage names drawn


def test_no_bottleneck_where_no_step_loses_a_deal(team: Run) -> None:
    log(team, "UALICE", "10,000 Acme")
    lines = team("UALICE", "/pacer", "funnel").text.splitlines()
    assert not any(line.startswith("Bottleneck") for line in lines)
    assert lines[-1].startswith(en("analysis.funnel_win_rate", rate="100%", won=1, lost=0, open=0))
