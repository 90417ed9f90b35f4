"""/progress: the numbers a rep and a manager see, and the chart spec behind them.

Team East (USD, America/New_York). NOW is Wed 25 Nov 2026, 10:00 in New York.
November 2026 has 21 working days (2-6, 9-13, 16-20, 23-27, 30); 18 have elapsed
on the 25th (today counts) and 3 are left. Expected texts are built from the English
catalog with numbers worked out by hand, so rewording a message does not break them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from charts.specs import ProgressChart
from commands.i18n import t
from storage.models import Deal, Goal, Member
from tests.conftest import ADMIN, Run
from tests.messages import bad_input

ALICE = "<@UALICE|alice>"
BOB = "<@UBOB|bob>"


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def title(who: str, period: str, metric: str = "revenue") -> str:
    return en("progress.title", who=who, period=period, metric=en(f"metric.{metric}"))


def attained(actual: str, target: str, pct: str) -> str:
    return en("progress.attainment", actual=actual, target=target, attainment=pct)


def pace_line(expected: str, pace: str, gap: str, *, behind: bool = True) -> str:
    return en(
        "progress.pace",
        expected=expected,
        pace=pace,
        status=en("pace.behind") if behind else en("pace.on_track"),
        gap=gap,
        gap_word=en("progress.gap_behind") if behind else en("progress.gap_ahead"),
    )


def run_rate(rate: str, days: int, remaining: str) -> str:
    return en("progress.run_rate", run_rate=rate, days=days, remaining=remaining)


def forecast(at_rate: str) -> str:
    return en("progress.forecast", forecast=at_rate, days=10)


def pipeline(total: str, won: str, weighted: str) -> str:
    return en("progress.forecast_pipeline", pipeline=total, actual=won, weighted=weighted)


def fresh(days: int, *earlier: str) -> list[str]:
    """The comparison lines when the earlier periods had nothing at the same point."""
    return [en("progress.compare_new_running", period=p, days=days) for p in earlier]


def deals_n(n: int | str) -> str:
    return en("metric.count.deals_one" if n == 1 else "metric.count.deals_other", n=str(n))


def ids(engine: Engine, model: type[Deal] | type[Goal]) -> list[int]:
    with Session(engine) as s:
        found = s.exec(select(model.id)).all()
        return sorted(i for i in found if i is not None)


@pytest.fixture
def sales(team: Run) -> Run:
    """alice: $120,000 for November; $25,000 won, $50,000 open in the pipeline."""
    team("UMIA", "/goal", f"set {ALICE} 120000 2026-11")
    team("UALICE", "/deal", "12,500 Acme Corp date:2026-11-20")
    team("UALICE", "/deal", "12,500 Globex")  # today, 25 Nov
    team("UALICE", "/deal", "10,000 Initech stage:lead date:2026-11-30")
    team("UALICE", "/deal", "40,000 Hooli stage:proposal date:2026-11-27")
    return team


def test_rep_progress_numbers(sales: Run, engine: Engine) -> None:
    reply = sales("UALICE", "/progress")
    # attainment = 25000 / 120000 = 20.8% -> 21%
    # expected = 120000 x 18 / 21 = 102857.142..; pace = 25000 / 102857.14 = 24.3% -> 24%
    # gap = 102857.14 - 25000 = 77857.14; run-rate = (120000 - 25000) / 3 = 31666.666..
    # Money rounds half up to cents. The last 10 working days (12-25 Nov) hold both deals:
    # 25000 / 10 = 2500 a day; forecast = 25000 + 2500 x 3 = 32500.
    # won + weighted pipeline = 25000 + 10000 x 10% (lead) + 40000 x 50% (proposal) = 46000
    assert reply.ok
    assert reply.text.splitlines() == [
        title("alice", "2026-11"),
        attained("$25,000", "$120,000", "21%"),
        *fresh(18, "2026-10", "2025-11"),
        pace_line("$102,857.14", "24%", "$77,857.14"),
        run_rate("$31,666.67", 3, "$95,000"),
        forecast("$32,500"),
        pipeline("$46,000", "$25,000", "$21,000"),
        # Behind pace: her open deals, 40,000 + 10,000 = 50,000 = 64% of the 77,857.14 gap.
        "💡 "
        + en(
            "jobs.lag.suggest_open_share",
            deals="Hooli ($40,000), Initech ($10,000)",
            total="$50,000",
            share="64%",
            gap="$77,857.14",
        ),
        en("progress.goal_ref", id=ids(engine, Goal)[0]),
    ]


def test_rep_progress_chart(sales: Run) -> None:
    chart = sales("UALICE", "/progress").chart
    assert isinstance(chart, ProgressChart)
    assert chart.title == en("progress.chart_title", who="alice", period="2026-11")
    assert len(chart.days) == 21
    assert (chart.days[0], chart.days[14], chart.days[-1]) == ("11-02", "11-20", "11-30")
    # One cumulative value per elapsed working day: 12,500 from Fri 20 Nov, 25,000 on the 25th.
    assert chart.actual == [0.0] * 14 + [12500.0] * 3 + [25000.0]
    # pace[i] = 120000 x (i + 1) / 21
    assert chart.pace[0] == pytest.approx(5714.285714)
    assert chart.pace[17] == pytest.approx(102857.142857)
    assert chart.pace[-1] == pytest.approx(120000.0)
    assert (chart.target, chart.value_prefix) == (120000.0, "$")
    assert chart.alt_text == en(
        "progress.alt", who="alice", period="2026-11", actual="$25,000", target="$120,000"
    )


def test_manager_sees_a_rep(sales: Run) -> None:
    mine = sales("UALICE", "/progress").text
    assert sales("UMIA", "/progress", ALICE).text == mine
    assert sales("UMIA", "/progress", f"{ALICE} 2026-11").text == mine


def test_team_without_a_team_goal_sums_rep_goals(sales: Run) -> None:
    sales("UMIA", "/goal", f"set {BOB} 100000 2026-11")
    sales("UBOB", "/deal", "10,000 Umbrella")
    reply = sales("UMIA", "/progress", "team East")
    # target = 120000 + 100000 = 220000; actual = 25000 + 10000 = 35000
    # attainment = 35000 / 220000 = 15.9% -> 16%
    # expected = 220000 x 18 / 21 = 188571.43; pace = 35000 / 188571.43 = 18.6% -> 19%
    # gap = 153571.43; run-rate = 185000 / 3 = 61666.67
    # forecast = 35000 + 35000 / 10 x 3 = 45500; pipeline = 35000 + 1000 + 20000
    # No goal reference: the summed goal is not a stored goal.
    assert reply.text.splitlines() == [
        title("East", "2026-11"),
        attained("$35,000", "$220,000", "16%"),
        *fresh(18, "2026-10", "2025-11"),
        pace_line("$188,571.43", "19%", "$153,571.43"),
        run_rate("$61,666.67", 3, "$185,000"),
        forecast("$45,500"),
        pipeline("$56,000", "$35,000", "$21,000"),
        # Each rep's part (tests/test_drill_down.py works the same numbers out).
        en("progress.by_rep"),
        *[line for line in reply.text.splitlines() if line.startswith("• ")],
        en("progress.gap_owner", team="East", gap="$153,571.43", rep="alice", part="$77,857.14"),
    ]
    assert len([line for line in reply.text.splitlines() if line.startswith("• ")]) == 2
    chart = reply.chart
    assert isinstance(chart, ProgressChart)
    assert chart.target == 220000.0
    assert chart.actual[-1] == 35000.0
    assert chart.pace[17] == pytest.approx(188571.428571)  # 220000 x 18 / 21


def test_team_goal_wins_over_the_sum(sales: Run) -> None:
    sales(ADMIN, "/goal", "set team East 500k 2026-Q4")
    reply = sales("UMIA", "/progress", "team East 2026-Q4")
    # Q4 2026: Oct 22 + Nov 21 + Dec 23 = 66 working days; elapsed Oct 22 + Nov 18 = 40.
    # expected = 500000 x 40 / 66 = 303030.30; pace = 25000 / 303030.30 = 8.25% -> 8%
    # gap = 278030.30; run-rate = 475000 / 26 = 18269.23
    assert reply.text.splitlines()[:6] == [
        title("East", "2026-Q4"),
        attained("$25,000", "$500,000", "5%"),
        *fresh(40, "2026-Q3", "2025-Q4"),
        pace_line("$303,030.30", "8%", "$278,030.30"),
        run_rate("$18,269.23", 26, "$475,000"),
    ]
    chart = reply.chart
    assert isinstance(chart, ProgressChart)
    assert len(chart.days) == 66 and len(chart.actual) == 40


def test_deleted_deals_do_not_count(sales: Run, engine: Engine) -> None:
    first = ids(engine, Deal)[0]
    sales("UALICE", "/deal", f"delete {first}")
    # 12500 / 120000 = 10.4% -> 10%
    line = sales("UALICE", "/progress").text.splitlines()[1]
    assert line == attained("$12,500", "$120,000", "10%")
    sales("UALICE", "/deal", f"restore {first}")
    line = sales("UALICE", "/progress").text.splitlines()[1]
    assert line == attained("$25,000", "$120,000", "21%")


def test_on_track_and_target_met(team: Run) -> None:
    team("UMIA", "/goal", f"set {ALICE} 20000 2026-W48")
    team("UALICE", "/deal", "25,000 Acme Corp")
    # W48 = Mon 23 .. Fri 27 Nov: 5 working days, 3 elapsed on Wednesday.
    # expected = 20000 x 3 / 5 = 12000; pace = 25000 / 12000 = 208%; ahead by 13000
    # forecast = 25000 + 25000 / 10 x 2 = 30000; no open deals, so no pipeline line
    reply = team("UALICE", "/progress", "week")
    assert reply.text.splitlines() == [
        title("alice", "2026-W48"),
        attained("$25,000", "$20,000", "125%"),
        *fresh(3, "2026-W47", "2025-W48"),
        pace_line("$12,000", "208%", "$13,000", behind=False),
        en("progress.target_met", days=2),
        forecast("$30,000"),
        en("progress.goal_ref", id=1),
    ]


def test_before_and_after_the_period(team: Run, engine: Engine) -> None:
    team("UMIA", "/goal", f"set {ALICE} 230000 2026-12")
    team("UMIA", "/goal", f"set {ALICE} 110000 2026-10")
    dec, octo = ids(engine, Goal)
    # December: 23 working days, none elapsed; run-rate = 230000 / 23 = 10000; no forecast.
    assert team("UALICE", "/progress", "2026-12").text.splitlines()[1:] == [
        attained("$0", "$230,000", "0%"),
        en("progress.not_started", days=23),
        run_rate("$10,000", 23, "$230,000"),
        en("progress.goal_ref", id=dec),
    ]
    # October: 22 of 22 elapsed, so expected = target and nothing is left.
    assert team("UALICE", "/progress", "2026-10").text.splitlines()[1:] == [
        attained("$0", "$110,000", "0%"),
        pace_line("$110,000", "0%", "$110,000"),
        en("progress.period_over"),
        en("progress.goal_ref", id=octo),
    ]


def test_deal_count_goal(team: Run) -> None:
    team("UMIA", "/goal", f"set {BOB} 12 2026-11 deals")
    for customer in ("Acme", "Globex", "Initech"):
        team("UBOB", "/deal", f"1,000 {customer}")
    # attainment = 3 / 12 = 25%; expected = 12 x 18 / 21 = 10.29 -> 10.3 deals (one decimal)
    # pace = 3 / 10.29 = 29%; gap = 7.29 -> 7.3; run-rate = (12 - 3) / 3 = 3 a day
    # forecast = 3 + 3 / 10 x 3 = 3.9 deals (no pipeline for a count)
    assert team("UBOB", "/progress").text.splitlines()[:7] == [
        title("bob", "2026-11", "deals"),
        attained(deals_n(3), deals_n(12), "25%"),
        *fresh(18, "2026-10", "2025-11"),
        pace_line(deals_n("10.3"), "29%", deals_n("7.3")),
        run_rate(deals_n(3), 3, deals_n(9)),
        forecast(deals_n("3.9")),
    ]


def test_counts_needed_per_day_round_up(team: Run) -> None:
    # 13 deals for November, 3 won: 10 to go in 3 days is 3.33 a day, so 4 a day (3 a day
    # would leave one short). expected = 13 x 18 / 21 = 11.14 -> 11.1; gap 8.14 -> 8.1.
    team("UMIA", "/goal", f"set {BOB} 13 2026-11 deals")
    for customer in ("Acme", "Globex", "Initech"):
        team("UBOB", "/deal", f"1,000 {customer}")
    assert team("UBOB", "/progress").text.splitlines()[4:6] == [
        pace_line(deals_n("11.1"), "27%", deals_n("8.1")),  # 3 / 11.14 = 26.9%
        run_rate(deals_n(4), 3, deals_n(10)),
    ]
    # December has 23 working days, none elapsed: 6 deals is 0.26 a day, needed 1 a day.
    team("UMIA", "/goal", f"set {BOB} 6 2026-12 deals")
    assert team("UBOB", "/progress", "2026-12").text.splitlines()[3] == run_rate(
        deals_n(1), 23, deals_n(6)
    )


def test_no_goal_and_bad_input(team: Run, engine: Engine) -> None:
    assert team("UBOB", "/progress").text == en("progress.no_goal", who="bob", period="2026-11")
    with Session(engine) as s:
        members = len(s.exec(select(Member)).all())
    cases = [
        ("team West", bad_input("/progress", "", "error.no_such_team", name="West", teams="East")),
        ("foo bar", bad_input("/progress", "", "error.extra_words", words="foo bar")),
        ("<@UZED|zed>", en("error.rep_no_team", rep="zed")),
        ("2026-13", bad_input("/progress", "", "error.bad_period", value="2026-13")),
    ]
    for text, message in cases:
        reply = team("UMIA", "/progress", text)
        assert (reply.ok, reply.text) == (False, message), text
    with Session(engine) as s:
        assert len(s.exec(select(Member)).all()) == members  # zed was not written


def test_time_zone_decides_today(run: Run) -> None:
    """The same instant is Tue 1 Dec in Shanghai and Mon 30 Nov in Los Angeles."""
    at = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)
    run(ADMIN, "/pacer", "setup team create Asia tz:Asia/Shanghai")
    run(ADMIN, "/pacer", "setup team create West tz:America/Los_Angeles")
    run(ADMIN, "/pacer", "setup team add Asia <@UANA|ana>")
    run(ADMIN, "/pacer", "setup team add West <@ULEO|leo>")
    run(ADMIN, "/goal", "set <@UANA|ana> 660000 2026-Q4", now=at)
    run(ADMIN, "/goal", "set <@ULEO|leo> 660000 2026-Q4", now=at)
    # Q4 2026 has 66 working days. Shanghai: through Tue 1 Dec = 22 + 21 + 1 = 44 elapsed,
    # expected = 660000 x 44 / 66 = 440000, 22 left. Los Angeles: through Mon 30 Nov = 43,
    # expected = 430000, 23 left.
    ana = run("UANA", "/progress", now=at).text.splitlines()
    leo = run("ULEO", "/progress", now=at).text.splitlines()
    assert ana[2:4] == [
        pace_line("$440,000", "0%", "$440,000"),
        run_rate("$30,000", 22, "$660,000"),  # 660000 / 22
    ]
    assert leo[2:4] == [
        pace_line("$430,000", "0%", "$430,000"),
        run_rate("$28,695.65", 23, "$660,000"),  # 660000 / 23 = 28695.652
    ]
    # A deal logged at that instant closes on each team's own today.
    on_dec_1 = en("deal.on_date", date="2026-12-01")
    on_nov_30 = en("deal.on_date", date="2026-11-30")
    assert on_dec_1 in run("UANA", "/deal", "1,000 Acme", now=at).text
    assert on_nov_30 in run("ULEO", "/deal", "1,000 Acme", now=at).text
    # "month" is December in Shanghai and still November in Los Angeles.
    assert "Asia · 2026-12 ·" in run("UANA", "/leaderboard", now=at).text.splitlines()[0]
    assert "West · 2026-11 ·" in run("ULEO", "/leaderboard", now=at).text.splitlines()[0]


def test_another_workspace_sees_nothing_of_t1(sales: Run, engine: Engine) -> None:
    """T2 has a team East with the same Slack user ids; none of T1's deals or goals show."""
    t1_deal = ids(engine, Deal)[0]
    sales(ADMIN, "/goal", "set team East 500k 2026-Q4")
    setup = [
        "setup team create East <#CEAST|sales-east> tz:America/New_York",
        f"setup team add East {ALICE} {BOB}",
        "setup team add East <@UMIA|mia> as:manager",
    ]
    for text in setup:
        assert sales(ADMIN, "/pacer", text, workspace="T2").ok

    def t2(user: str, command: str, text: str = "") -> str:
        return sales(user, command, text, workspace="T2").text

    assert t2("UALICE", "/deal", "list") == en("deal.list_empty")
    assert t2("UALICE", "/goal") == en("goal.none")
    assert t2("UALICE", "/progress") == en("progress.no_goal", who="alice", period="2026-11")
    assert t2("UMIA", "/progress", "team East 2026-Q4") == en(
        "progress.no_goal", who="East", period="2026-Q4"
    )
    board = t2("UMIA", "/leaderboard", "by revenue").splitlines()
    zero = {"revenue": "$0", "deals": deals_n(0)}
    assert board[1:3] == [
        en("leaderboard.line_no_target", badge="🥇", name="alice", **zero),
        en("leaderboard.line_no_target", badge="🥇", name="bob", **zero),
    ]
    assert t2("UALICE", "/deal", f"delete {t1_deal}") == en("error.no_such_deal", id=t1_deal)
    # A T2 deal does not reach T1 either.
    t2("UALICE", "/deal", "99,000 Stark")
    line = sales("UALICE", "/progress").text.splitlines()[1]
    assert line == attained("$25,000", "$120,000", "21%")


def test_last_working_day_and_after_the_period(team: Run) -> None:
    # Goal $100,000 for November; $60,000 won. Mon 30 Nov is the last working day: 0 left
    # after today, so no run-rate, but $40,000 still to go today. On 1 Dec it is over.
    team("UMIA", "/goal", f"set {ALICE} 100000 2026-11")
    team("UALICE", "/deal", "60000 Acme date:2026-11-20")
    last_day = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    reply = team("UALICE", "/progress", "2026-11", now=last_day)
    assert en("progress.last_day", remaining="$40,000") in reply.text
    after = team("UALICE", "/progress", "2026-11", now=datetime(2026, 12, 1, 15, tzinfo=UTC))
    assert en("progress.period_over") in after.text
    assert en("progress.last_day", remaining="$40,000") not in after.text


def test_collected_goal_charts_payments_by_payment_date(team: Run, engine: Engine) -> None:
    # A $12,000 deal won on 3 Nov, $5,000 of it paid on 10 Nov and $2,000 on 20 Nov.
    # Collected goal $20,000: actual $7,000; the chart's cumulative series is 0 before the
    # 10th, 5,000 from the 10th (working day 7), 7,000 from the 20th (working day 15).
    team("UMIA", "/goal", f"set {ALICE} 20000 2026-11 collected")
    team("UALICE", "/deal", "12000 Acme date:2026-11-03")
    with Session(engine) as s:
        deal_id = s.exec(select(Deal.id)).one()
    assert team("UALICE", "/deal", f"paid {deal_id} 5000 date:2026-11-10").ok
    assert team("UALICE", "/deal", f"paid {deal_id} 2000 date:2026-11-20").ok
    reply = team("UALICE", "/progress", "2026-11")
    assert attained("$7,000", "$20,000", "35%") in reply.text
    chart = reply.chart
    assert isinstance(chart, ProgressChart)
    assert chart.actual[5] == 0 and chart.actual[6] == 5000 and chart.actual[14] == 7000
    assert chart.actual[-1] == 7000


def test_new_customers_chart_counts_first_wins_only(team: Run) -> None:
    # Acme won on 3 and 5 Nov (one new customer, on the 3rd), Globex on 10 Nov: 2 by the end.
    team("UMIA", "/goal", f"set {ALICE} 5 2026-11 new_customers")
    for text in (
        "100 Acme date:2026-11-03",
        "100 acme date:2026-11-05",
        "100 Globex date:2026-11-10",
    ):
        assert team("UALICE", "/deal", text).ok
    chart = team("UALICE", "/progress", "2026-11").chart
    assert isinstance(chart, ProgressChart)
    # Working days: 2(0) 3(1) 4(2) 5(3) 6(4) 9(5) 10(6).
    assert chart.actual[:7] == [0, 1, 1, 1, 1, 1, 2]
    assert chart.actual[-1] == 2


def test_team_progress_flags_rep_goals_that_do_not_add_up(team: Run) -> None:
    team("UMIA", "/goal", "set team East 500000 2026-11")
    team("UMIA", "/goal", f"set {ALICE} 200000 2026-11")
    team("UMIA", "/goal", f"set {BOB} 280000 2026-11")
    text = team("UMIA", "/progress", "team East 2026-11").text
    assert "$480,000" in text and "$20,000" in text and "unassigned" in text


# --- which goal leads, actuals without a goal, fiscal titles, the trailing rate -------------


def test_a_weekly_deals_goal_does_not_displace_the_month_revenue_goal(sales: Run) -> None:
    """alice has November's revenue goal; a manager adds a 4-deal goal for this week (W48).
    /progress and the /deal confirmation still lead with the revenue goal; the week's goal
    follows on one line."""
    before = sales("UALICE", "/progress").text
    sales("UMIA", "/goal", f"set {ALICE} 4 2026-W48 deals")
    reply = sales("UALICE", "/progress")
    lines = reply.text.splitlines()
    # W48 = Mon 23 .. Fri 27 Nov, 3 of 5 days elapsed: expected 4 x 3 / 5 = 2.4; one deal
    # (Globex, today) won in the week: pace 1 / 2.4 = 41.7% -> 42%.
    assert lines[: len(before.splitlines())] == before.splitlines()
    assert lines[-1] == en(
        "figures.other_goal",
        period="2026-W48",
        metric=en("metric.deals"),
        actual=deals_n(1),
        target=deals_n(4),
        attainment="25%",
        pace="42%",
        ref=en("figures.goal_ref_short", id=2),
    )
    chart = reply.chart
    assert isinstance(chart, ProgressChart) and chart.target == 120000.0
    # /deal: revenue for November first ($25,000 + $1,000 of $120,000), then the week.
    deal = sales("UALICE", "/deal", "1,000 Soylent").text.splitlines()
    # November: expected 102857.14, pace 26000 / 102857.14 = 25.3%; week: 2 / 2.4 = 83%.
    assert deal[-2:] == [
        en(
            "deal.standing",
            period="2026-11",
            actual="$26,000",
            target="$120,000",
            attainment="22%",
            pace="25%",
            status=en("pace.behind"),
        ),
        en(
            "deal.standing",
            period="2026-W48",
            actual=deals_n(2),
            target=deals_n(4),
            attainment="50%",
            pace="83%",
            status=en("pace.behind"),
        ),
    ]


def test_goal_order_is_the_metric_asked_then_the_shortest_period_then_revenue(
    team: Run, engine: Engine
) -> None:
    from commands import stats

    team("UMIA", "/goal", f"set {ALICE} 5 2026-W48 deals")
    team("UMIA", "/goal", f"set {ALICE} 90000 2026-Q4")
    team("UMIA", "/goal", f"set {ALICE} 30000 2026-11")
    team("UMIA", "/goal", f"set {ALICE} 9 2026-11 new_customers")
    with Session(engine) as s:
        goals = list(s.exec(select(Goal)).all())
    order = [(g.period, g.metric) for g in stats.goal_order(goals)]
    assert order == [
        ("2026-11", "revenue"),
        ("2026-Q4", "revenue"),
        ("2026-W48", "deals"),
        ("2026-11", "new_customers"),
    ]
    by_deals = [(g.period, g.metric) for g in stats.goal_order(goals, "deals")]
    assert by_deals[0] == ("2026-W48", "deals")
    assert stats.goal_order(reversed(goals)) == stats.goal_order(goals)


def test_a_rep_without_a_goal_sees_what_they_won(team: Run) -> None:
    team("UBOB", "/deal", "2,500 Acme date:2026-11-03")
    team("UBOB", "/deal", "1,250.50 Globex")
    team("UBOB", "/deal", "9,000 Initech stage:proposal")  # open: not won, not counted
    assert team("UMIA", "/progress", BOB).text.splitlines() == [
        en(
            "figures.no_goal_actuals",
            who="bob",
            period="2026-11",
            revenue="$3,750.50",
            deals=deals_n(2),
        ),
        en("progress.no_goal", who="bob", period="2026-11"),
    ]
    # October: nothing won, so only the no-goal line.
    assert team("UBOB", "/progress", "2026-10").text == en(
        "progress.no_goal", who="bob", period="2026-10"
    )


def test_fiscal_quarter_titles_carry_their_dates(team: Run, engine: Engine) -> None:
    # A July start: FY2026-Q2 is Oct-Dec 2026, typed as 2026-Q2 or FY2026-Q2.
    team(ADMIN, "/pacer", "setup fiscal-start 7")
    team("UMIA", "/goal", f"set {ALICE} 66000 2026-Q2")
    with Session(engine) as s:
        goal = s.exec(select(Goal)).one()
    assert (goal.period, goal.starts_on, goal.ends_on) == (
        "FY2026-Q2",
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    named = "FY2026-Q2 · Oct–Dec 2026"
    for typed in ("2026-Q2", "FY2026-Q2", "quarter"):
        reply = team("UALICE", "/progress", typed)
        assert reply.text.splitlines()[0] == title("alice", named), typed
        chart = reply.chart
        assert isinstance(chart, ProgressChart)
        assert chart.title == en("progress.chart_title", who="alice", period=named)
    # With no period given, the current goal is the same one, with the same title.
    assert team("UALICE", "/progress").text.splitlines()[0] == title("alice", named)
    # The leaderboard for the quarter names it the same way, in its title and its chart.
    board = team("UALICE", "/leaderboard", "2026-Q2")
    order = en("order.attainment")
    board_title = en("leaderboard.title", team="East", period=named, order=order)
    assert board.text.splitlines()[0] == f"🏆 *{board_title}*"
    assert board.chart is not None and named in board.chart.title
    # So is the /deal confirmation's standing line: Q2 has 66 working days, 40 elapsed by
    # 25 Nov; expected 66000 x 40 / 66 = 40000; pace 6600 / 40000 = 16.5% -> 17%.
    assert team("UALICE", "/deal", "6,600 Acme").text.splitlines()[-1] == en(
        "deal.standing",
        period=named,
        actual="$6,600",
        target="$66,000",
        attainment="10%",
        pace="17%",
        status=en("pace.behind"),
    )


def test_the_forecast_on_the_first_day_of_a_month_uses_the_trailing_rate(team: Run) -> None:
    # Tue 1 Dec: one $10,000 deal today. December has 23 working days, 22 left after today.
    # The old average (10000 a day so far) projected 10000 + 10000 x 22 = 230000. The last 10
    # working days (18 Nov .. 1 Dec) also hold a $5,000 November deal: (10000 + 5000) / 10 =
    # 1500 a day, forecast = 10000 + 1500 x 22 = 43000.
    dec_1 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    team("UMIA", "/goal", f"set {ALICE} 100000 2026-12", now=dec_1)
    team("UALICE", "/deal", "5,000 Acme date:2026-11-19", now=dec_1)
    team("UALICE", "/deal", "10,000 Globex", now=dec_1)
    team("UALICE", "/deal", "8,000 Hooli date:2026-11-10", now=dec_1)  # before the window
    lines = team("UALICE", "/progress", now=dec_1).text.splitlines()
    assert forecast("$43,000") in lines


def test_a_goal_kept_through_a_fiscal_change_goes_by_its_new_name(
    team: Run, engine: Engine
) -> None:
    # Set for calendar 2026-Q4 (Oct-Dec), then the fiscal year moves to April: those dates
    # are now FY2026-Q3, and that is the name that finds the goal, titles it and lists it.
    team("UMIA", "/goal", f"set {ALICE} 65000 2026-Q4")
    team(ADMIN, "/pacer", "setup fiscal-start 4")
    named = "FY2026-Q3 · Oct–Dec 2026"
    for typed in ("FY2026-Q3", "2026-Q3", "quarter"):
        lines = team("UALICE", "/progress", typed).text.splitlines()
        assert lines[0] == title("alice", named), typed
        assert en("progress.goal_ref", id=1) in lines
    assert f"*{named}*" in team("UALICE", "/goal").text
    # "2026-Q4" now names Jan-Mar 2027 (FY2026-Q4), where alice has no goal.
    assert team("UALICE", "/progress", "2026-Q4").text == en(
        "progress.no_goal", who="alice", period="FY2026-Q4"
    )
