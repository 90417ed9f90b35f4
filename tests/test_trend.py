"""/pacer trend: months side by side with their targets, each against the month before.

NOW is Wed 25 Nov 2026 in New York: 18 of November's working days have elapsed, and the
18th working day of October is Mon 26 Oct, so November to date is compared with 1–26 Oct.
"""

from __future__ import annotations

from charts import draw
from charts.specs import TrendChart
from commands.i18n import t
from tests.conftest import ADMIN, Run

ALICE, BOB = "<@UALICE|alice>", "<@UBOB|bob>"


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def autumn(team: Run) -> None:
    for user, text in (
        ("UALICE", "1,000 Acme date:2026-08-20"),  # the month before the first shown
        ("UALICE", "4,000 Acme date:2026-09-10"),
        ("UBOB", "2,000 Beta date:2026-10-05"),
        ("UALICE", "3,000 Gamma date:2026-10-28"),  # after the 26th: not in November's like
        ("UALICE", "6,000 Delta date:2026-11-03"),
        ("UALICE", "9,000 Open stage:proposal close:2026-11-20"),  # not won: not counted
    ):
        assert team(user, "/deal", text).ok
    for text in (
        f"set {ALICE} 3000 2026-09",  # September: no team goal, the reps' goals summed
        f"set {BOB} 2000 2026-09",
        "set team East 10000 2026-10",
        "set team East 12000 2026-11",  # the team's own goal, not alice's, for the team
        f"set {ALICE} 20000 2026-11",
        "set team East 30000 2026-Q4",  # a quarter: not a month's target
    ):
        assert team("UMIA", "/goal", text).ok, text


def test_the_team_by_month_with_targets_and_changes(team: Run) -> None:
    autumn(team)
    reply = team("UMIA", "/pacer", "trend team East months 3")
    change = "analysis.trend_change"
    assert reply.text.splitlines() == [
        en("analysis.trend_title", metric="Revenue", who="East", months=3),
        "2026-09: $4,000 "
        + en("analysis.trend_of_target", target="$5,000", attainment="80%")
        + " · "
        + en(change, change="+300%", before="$1,000"),
        "2026-10: $5,000 "
        + en("analysis.trend_of_target", target="$10,000", attainment="50%")
        + " · "
        + en(change, change="+25%", before="$4,000"),
        "2026-11: $6,000 "
        + en("analysis.trend_of_target", target="$12,000", attainment="50%")
        + " · "
        + en("analysis.trend_change_running", change="+200%", before="$2,000", days=18),
    ]
    chart = reply.chart
    assert isinstance(chart, TrendChart)
    assert (chart.months, chart.actual) == (
        ["2026-09", "2026-10", "2026-11"],
        [4000.0, 5000.0, 6000.0],
    )
    assert chart.target == [5000.0, 10000.0, 12000.0]
    assert chart.notes == ["+300%", "+25%", "+200%"]
    assert draw.render(chart).startswith(b"\x89PNG")


def test_a_reps_deal_count_by_month(team: Run) -> None:
    autumn(team)
    lines = team("UALICE", "/pacer", "trend deals months 4").text.splitlines()
    # alice's won deals: Aug 1, Sep 1, Oct 1 (the 28th), Nov 1. Her deal goals: none.
    # November to date against 1–26 Oct: nothing then, so "new".
    assert lines == [
        en("analysis.trend_title", metric="Deals won", who="alice", months=4),
        "2026-08: 1 deal · " + en("analysis.trend_new"),
        "2026-09: 1 deal · " + en("analysis.trend_change", change="0%", before="1 deal"),
        "2026-10: 1 deal · " + en("analysis.trend_change", change="0%", before="1 deal"),
        "2026-11: 1 deal · " + en("analysis.trend_new"),
    ]


def test_six_months_by_default_and_the_rep_target(team: Run) -> None:
    autumn(team)
    lines = team("UMIA", "/pacer", f"trend {ALICE}").text.splitlines()
    assert lines[0] == en("analysis.trend_title", metric="Revenue", who="alice", months=6)
    assert [line.split(":")[0] for line in lines[1:]] == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    assert lines[1] == "2026-06: $0"  # nothing then nor before: no change at all
    assert lines[4].startswith(
        "2026-09: $4,000 " + en("analysis.trend_of_target", target="$3,000", attainment="133%")
    )
    assert lines[6].startswith(
        "2026-11: $6,000 " + en("analysis.trend_of_target", target="$20,000", attainment="30%")
    )


def test_a_month_count_out_of_range_is_refused_with_an_example(team: Run) -> None:
    reply = team("UALICE", "/pacer", "trend months 30")
    assert not reply.ok
    assert en("analysis.bad_months", value="30", low="1", high="24") in reply.text


def test_the_trend_in_chinese(team: Run) -> None:
    autumn(team)
    lines = team("UMIA", "/pacer", "trend team East months 2", locale="zh-CN").text.splitlines()
    assert lines[0] == t("zh", "analysis.trend_title", metric="销售额", who="East", months=2)


def test_another_workspace_never_counts(team: Run) -> None:
    autumn(team)
    team(ADMIN, "/pacer", "setup team create East tz:America/New_York", workspace="T2")
    team(ADMIN, "/pacer", "setup team add East <@UALICE|alice>", workspace="T2")
    lines = team("UALICE", "/pacer", "trend months 1", workspace="T2").text.splitlines()
    assert lines[1] == "2026-11: $0"
