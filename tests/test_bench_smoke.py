"""Smoke test of the benchmark: the generated data, the table, a real HTTP round trip, and
the whole bench end to end at a tiny size.

No timing is asserted here: bench/run.py prints the figures, this only checks they can be
produced from sane data, with real numbers and no lost deals.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.generate import QUICK, TODAY, build_sqlite, cached_sqlite, foreign_key_problems
from bench.run import percentile
from bench.table import Row, failures, format_table

PARAMS = QUICK  # 5 teams of 20 reps, 20,000 deals; today Wednesday 2026-11-18
FIXTURES = Path(__file__).parent / "fixtures"
HTTP_MODULES = ("bot.app", "bot.http", "tests.fakeslack", "waitress")
NO_HTTP = any(importlib.util.find_spec(m) is None for m in HTTP_MODULES)


@pytest.fixture(scope="module")
def quick_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "quick.db"
    build_sqlite(path, PARAMS)
    return path


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql)).all()]
    engine.dispose()
    return rows


def test_quick_mode_writes_the_asked_row_counts_in_both_workspaces(quick_db: Path) -> None:
    by_ws = "SELECT workspace_id, count(*) FROM {} GROUP BY 1 ORDER BY 1"
    both = [("TBENCH", 5), ("TEMPTY", 5)]
    assert query(quick_db, by_ws.format("team")) == both
    # 20 reps and a manager per team.
    assert query(quick_db, by_ws.format("member")) == [("TBENCH", 105), ("TEMPTY", 105)]
    roles = "SELECT role, count(*) FROM membership WHERE home GROUP BY 1 ORDER BY 1"
    assert query(quick_db, roles) == [("manager", 10), ("rep", 200)]
    # Two years of 1 year + 4 quarters + 12 months, per rep and per team.
    assert query(quick_db, by_ws.format("goal")) == [("TBENCH", 3570), ("TEMPTY", 3570)]
    assert query(quick_db, by_ws.format("holiday")) == [("TBENCH", 15), ("TEMPTY", 15)]
    # The empty workspace has no deals: the baseline.
    assert query(quick_db, by_ws.format("deal")) == [("TBENCH", 20000)]
    assert query(quick_db, "SELECT count(DISTINCT team_id) FROM deal") == [(5,)]
    assert foreign_key_problems(quick_db) == 0


def test_teams_keep_the_defaults_two_currencies(quick_db: Path) -> None:
    # No big-deal thresholds (the default); Team 05 in CNY, its deals too.
    teams = query(
        quick_db,
        "SELECT currency, count(*), count(big_deal_minor) FROM team GROUP BY 1 ORDER BY 1",
    )
    assert teams == [("CNY", 2, 0), ("USD", 8, 0)]
    mixed = query(
        quick_db,
        "SELECT count(*) FROM deal d JOIN team t ON t.id = d.team_id "
        "WHERE d.currency != t.currency",
    )
    assert mixed == [(0,)]


def test_amounts_are_positive_whole_units_stored_as_integers(quick_db: Path) -> None:
    rows = query(
        quick_db,
        "SELECT min(amount_minor), sum(amount_minor % 100), "
        "count(*) FILTER (WHERE typeof(amount_minor) != 'integer') FROM deal",
    )
    smallest, cents, not_integer = rows[0]
    assert isinstance(smallest, int) and smallest >= 100
    assert (cents, not_integer) == (0, 0)


def test_won_deals_fall_on_past_working_days_never_a_holiday(quick_db: Path) -> None:
    won = "FROM deal WHERE stage = 'won'"
    weekend = query(quick_db, f"SELECT count(*) {won} AND strftime('%w', close_date) IN ('0','6')")
    assert weekend == [(0,)]
    # 365 days ending on Wednesday 2026-11-18 start on Thursday 2025-11-19.
    assert query(quick_db, f"SELECT min(close_date), max(close_date) {won}") == [
        ("2025-11-19", "2026-11-18")
    ]
    # 52 weeks and a day: 260 working days plus Wednesday 2026-11-18 itself, all used.
    assert query(quick_db, f"SELECT count(DISTINCT close_date) {won}") == [(261,)]
    on_holidays = query(
        quick_db,
        "SELECT count(*) FROM deal d JOIN holiday h ON h.team_id = d.team_id "
        "AND h.day = d.close_date",
    )
    assert on_holidays == [(0,)]
    # Each team has two holidays in the deal year and one ahead.
    ahead = query(quick_db, f"SELECT count(*) FROM holiday WHERE day > '{TODAY}'")
    assert ahead == [(10,)]


def test_open_deals_are_the_pipeline_closing_after_today(quick_db: Path) -> None:
    rows = query(
        quick_db,
        "SELECT stage, min(close_date) > '2026-11-18', max(close_date) <= '2027-02-17' "
        "FROM deal WHERE stage != 'won' GROUP BY 1 ORDER BY 1",
    )
    assert rows == [(s, 1, 1) for s in ("lead", "negotiation", "proposal", "qualified")]
    assert query(quick_db, "SELECT count(*) FROM deal WHERE stage != 'won'") == [(1000,)]


def test_payments_collect_won_deals_by_today(quick_db: Path) -> None:
    rows = query(
        quick_db,
        "SELECT count(*), sum(p.amount_minor != d.amount_minor), sum(d.stage != 'won'), "
        "sum(p.paid_on < d.close_date), max(p.paid_on), sum(p.team_id != d.team_id) "
        "FROM payment p JOIN deal d ON d.id = p.deal_id",
    )
    count, wrong_amount, not_won, early, last, wrong_team = rows[0]
    assert 0.5 < int(str(count)) / 19000 < 0.7  # about 60% of the won deals
    assert (wrong_amount, not_won, early, last, wrong_team) == (0, 0, 0, "2026-11-18", 0)


def test_some_customers_are_new_every_month(quick_db: Path) -> None:
    first_seen = query(
        quick_db,
        "SELECT count(*) FROM (SELECT customer, min(close_date) AS first FROM deal "
        "WHERE stage = 'won' GROUP BY customer) WHERE first >= '2026-11-01'",
    )
    assert int(str(first_seen[0][0])) > 30


def test_productivity_is_skewed_and_goals_follow_it(quick_db: Path) -> None:
    per_rep = [
        int(str(n))
        for (n,) in query(
            quick_db, "SELECT count(*) FROM deal WHERE stage = 'won' GROUP BY owner_id ORDER BY 1"
        )
    ]
    top_fifth = sum(per_rep[-20:]) / sum(per_rep)
    assert len(per_rep) == 100
    assert 0.35 < top_fifth < 0.75  # uniform would give 0.2
    # The busiest rep gets one of the largest year targets (of reps in USD).
    busiest = query(
        quick_db,
        "SELECT owner_id FROM deal WHERE currency = 'USD' GROUP BY owner_id "
        "ORDER BY count(*) DESC LIMIT 1",
    )
    largest = query(
        quick_db,
        "SELECT g.member_id FROM goal g JOIN team t ON t.id = g.team_id WHERE g.period = '2026' "
        "AND g.scope = 'rep' AND t.currency = 'USD' ORDER BY g.target DESC LIMIT 5",
    )
    assert busiest[0] in largest
    # Months add up to quarters, quarters to the year, for rep and team goals alike.
    mismatched = query(
        quick_db,
        "SELECT p.id FROM goal p JOIN goal c ON c.parent_id = p.id "
        "GROUP BY p.id HAVING sum(c.target) != p.target",
    )
    assert mismatched == []


def test_two_years_of_goals_of_three_metrics(quick_db: Path) -> None:
    rows = query(
        quick_db,
        "SELECT scope, metric, count(DISTINCT substr(period, 1, 4)) FROM goal "
        "WHERE workspace_id = 'TBENCH' GROUP BY 1, 2 ORDER BY 1, 2",
    )
    assert rows == [
        ("rep", "revenue", 2),
        ("team", "collected", 2),
        ("team", "new_customers", 2),
        ("team", "revenue", 2),
    ]


def test_the_cache_is_reused_for_the_same_parameters(tmp_path: Path) -> None:
    small = replace(PARAMS, teams=1, reps_per_team=3, deals=500)
    path, first = cached_sqlite(small, out=tmp_path)
    again_path, again = cached_sqlite(small, out=tmp_path)
    assert (first.cached, again.cached, again_path) == (False, True, path)
    assert again.deals == 500
    other, _ = cached_sqlite(replace(small, deals=600), out=tmp_path)
    assert other != path


def test_table_marks_pass_fail_and_plain_figures() -> None:
    rows = [
        Row("ack p99", "12.0 ms", "< 100 ms", True),
        Row("ORM / raw SQL", "1.70x", "<= 1.5x", False),
        Row("empty figure alone", "14.0 ms"),
    ]
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["metric", "value", "target", "result"]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].endswith("PASS") and lines[3].endswith("FAIL")
    assert lines[4] == "empty figure alone  14.0 ms"
    # Columns line up: every value starts where the header's "value" does.
    column = lines[0].index("value")
    assert all(line[column - 2 : column] == "  " for line in lines[2:])
    assert [r.metric for r in failures(rows)] == ["ORM / raw SQL"]


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([3.0], 99) == 3.0


def test_requests_are_signed_as_slack_signs_them() -> None:
    from bench.endpoint import sign

    sample = json.loads((FIXTURES / "signature.docs_example.json").read_text(encoding="utf-8"))
    headers = sample["headers"]
    got = sign(sample["signing_secret"], headers["X-Slack-Request-Timestamp"], sample["raw_body"])
    assert got == headers["X-Slack-Signature"]


# --- the load benchmark (bench/load.py) ----------------------------------------------------------


def test_load_tally_counts_lost_doubled_late_and_failed_by_command() -> None:
    from bench.load import Shot, tally
    from commands import i18n

    shots = [
        Shot("a", "/deal", False, 200, 0.1),  # acknowledged, written once
        Shot("b", "/deal", False, 404, 3.1),  # Bolt gave up on the ack...
        Shot("b", "/deal", True, 200, 0.2),  # ...the retry was acknowledged; written twice
        Shot("c", "/deal", False, 200, 3.5),  # acknowledged too late, written anyway
        Shot("d", "/deal", False, 0, 10.0),  # no answer, not written
        Shot("e", "/deal", False, 200, 0.3),  # acknowledged, never written
        Shot("p", "/progress", False, 200, 0.2),
        # Answered at once, with "something went wrong" in the ack: not acknowledged.
        Shot("f", "/deal", False, 200, 0.05, i18n.t("en", "error.internal")),
    ]
    rows = {"a": 1, "b": 2, "c": 1, "other": 5}
    t = tally(shots, rows, seconds=2.0)
    assert (t.sent, t.retries, t.charts) == (6, 1, 1)
    assert (t.acknowledged, t.turned_away) == (3, 1)  # a b e; f
    assert (t.late, t.failed, t.unanswered) == (1, 2, 1)  # c; b's first and d; d
    assert (t.written, t.doubled, t.lost, t.unacked_written) == (4, 1, 1, 1)
    # Sorted times 0.05 0.1 0.2 0.2 0.3 3.1 3.5 10.0: the median lies halfway between the
    # 4th and 5th; p99 at rank 6.93, so 3.5 + 0.93 x (10.0 - 3.5).
    assert t.p50 == pytest.approx(0.25)
    assert t.p99 == pytest.approx(9.545)
    assert t.per_second == pytest.approx(1.5)  # a, e and p were first deliveries acked in time


def test_load_reads_the_reply_given_in_the_ack() -> None:
    from bench.load import reply_text

    assert reply_text(b'{"response_type": "ephemeral", "text": "Logged"}') == "Logged"
    assert reply_text(b"") == ""  # a bare ack: the reply goes to the response_url
    assert reply_text(b"unhandled request") == ""
    assert reply_text(b'["not", "a", "reply"]') == ""


def test_slow_slack_holds_answers_back_and_rate_limits_upload_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import urllib.error
    import urllib.request

    from bench import slowslack

    class Clock:
        def __init__(self) -> None:
            self.waits: list[float] = []

        def sleep(self, seconds: float) -> None:
            self.waits.append(seconds)

    clock = Clock()
    monkeypatch.setattr(slowslack, "time", clock)

    def post(url: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=b"a=1")) as resp:
                return resp.status, resp.headers.get("Retry-After", "")
        except urllib.error.HTTPError as err:
            return err.code, err.headers.get("Retry-After", "")

    with slowslack.SlowSlack(delay=1.5, limit_of=3, retry_after=2) as slow:
        statuses = [post(slow.api_url + "files.getUploadURLExternal") for _ in range(4)]
        assert post(slow.api_url + "chat.postMessage") == (200, "")
        assert post(slow.response_url("r7")) == (200, "")
    # Of every three upload-URL calls the first two are refused; the cycle starts again.
    assert statuses == [(429, "2"), (429, "2"), (200, ""), (429, "2")]
    assert clock.waits == [1.5] * 6  # every answer, the response URL's included
    assert [c.method for c in slow.called("files.getUploadURLExternal")] == [
        "files.getUploadURLExternal"
    ] * 4


@pytest.mark.skipif(NO_HTTP, reason="the HTTP app or the fake Slack is not there yet")
def test_load_run_writes_every_deal_once_though_each_is_delivered_twice(tmp_path: Path) -> None:
    from bench.load import Load, result_rows, run_once, sqlite_database
    from tests.fakeslack import FakeSlack

    # Every /deal is delivered again with X-Slack-Retry-Num: 1; every third command is a
    # /progress with its chart.
    load = Load(
        users=2, seconds=1.5, retry_share=1.0, chart_every=3, drain=30.0, quiet=5.0, settle=0.3
    )
    with sqlite_database(load, tmp_path) as db, FakeSlack() as fake:
        result = run_once("smoke", db, fake, load, tmp_path / "server.log")
    t = result.tally
    assert t.sent > 0 and t.charts > 0
    assert t.retries == t.sent
    # "acked within 3 s": a normal Slack and two users leave the ack nothing to wait for.
    assert (t.acknowledged, t.turned_away, t.late, t.failed) == (t.sent, 0, 0, 0)
    assert (t.written, t.doubled, t.lost, t.unacked_written) == (t.sent, 0, 0, 0)
    assert result.doubled_keys == 0
    assert (result.replied, result.failure_notices) == (t.sent + t.charts, 0)
    judged = {r.metric: r.result for r in result_rows(result) if r.ok is not None}
    assert sorted(judged) == [
        "ack p99",  # its value is a figure, not judged here
        "doubled (commands with 2+ deal rows)",
        "lost (acknowledged, not written)",
    ]
    assert judged["doubled (commands with 2+ deal rows)"] == "PASS"
    assert judged["lost (acknowledged, not written)"] == "PASS"


# --- the whole bench, tiny -----------------------------------------------------------------------

TINY = replace(QUICK, teams=5, reps_per_team=4, deals=3000)


@pytest.mark.skipif(NO_HTTP, reason="the HTTP app or the fake Slack is not there yet")
def test_the_whole_bench_prints_real_figures_and_loses_no_deal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench import run
    from storage.engine import make_engine

    plan = run.Plan(
        query_runs=3,
        command_runs=1,
        chart_runs=1,
        warm=1,  # the middle memory reading comes after 10 replies
        ack=3,
        delivered=1,
        replies=10,
        clients=4,
        deal_seconds=1.5,
        chart_seconds=1.0,
    )
    path, _summary = cached_sqlite(TINY, out=tmp_path)
    work = tmp_path / "work.db"
    shutil.copyfile(path, work)
    url = f"sqlite:///{work}"
    engine = make_engine(url)
    try:
        rows = run.measure(url, engine, TINY, plan, http=True, postgres=False)
    finally:
        engine.dispose()
    print(format_table(rows))
    table = capsys.readouterr().out
    by_metric = {r.metric: r for r in rows}

    def seconds(metric: str) -> float:
        found = re.match(r"([0-9.]+) (ms|s)\b", by_metric[metric].value)
        assert found, by_metric[metric]
        return float(found[1]) / (1000 if found[2] == "ms" else 1)

    # Every command was measured in both workspaces, with a real figure and a ratio.
    for label, _ask, _factor in run.COMMANDS:
        busy, empty = re.findall(
            r"([0-9.]+) ms", by_metric[f"{label} dispatch, busy (empty)"].value
        )
        assert float(busy) > 0 and float(empty) > 0
        assert by_metric[f"{label}: busy / empty"].value.endswith("x")
    assert by_metric["/progress year: busy / empty"].ok is not None  # judged
    assert seconds("/deal at the threshold (celebrated)") > 0
    lag = next(r.metric for r in rows if r.metric.startswith("lag job computation (5 teams"))
    assert seconds(lag) > 0
    deals = next(r for r in rows if "clients logging deals" in r.metric)
    written = re.search(r"\(([0-9,]+) written of ([0-9,]+) sent", deals.value)
    assert written and int(written[1].replace(",", "")) > 0
    assert written[1] == written[2]  # every deal sent has its row
    assert by_metric["  lost (acknowledged, no row)"].result == "PASS"
    assert by_metric["  doubled (2+ rows)"].result == "PASS"
    # The served process logged its deals on the data's today, not the calendar's; the
    # empty workspace and the thresholds are as generated again.
    logged = "FROM deal WHERE customer LIKE 'Load %' OR customer LIKE 'Bench Customer%'"
    assert query(work, f"SELECT DISTINCT close_date {logged}") == [(TODAY.isoformat(),)]
    assert query(work, "SELECT count(*) FROM deal WHERE workspace_id = 'TEMPTY'") == [(0,)]
    assert query(work, "SELECT count(big_deal_minor) FROM team") == [(0,)]
    charts = next(r for r in rows if "/leaderboard year (" in r.metric)
    assert float(charts.value.split()[0]) > 0
    # The table prints every row, and a target's verdict beside its figure.
    assert table.count("\n") >= len(rows) + 1
    assert re.search(
        r"/deal, no threshold \(default\): busy / empty +[0-9.]+x +<= 1.5x +(PASS|FAIL)", table
    )
    # Issue 12's commands: each against its own SQL and chart, and its statements the same
    # in the busy workspace as in the empty one (a count, not a timing: it always holds).
    counts = [r for r in rows if r.metric.endswith("statements, busy (empty)")]
    assert len(counts) == 8 and all(r.result == "PASS" for r in counts)
    assert len([r for r in rows if r.metric.endswith("delivered / (SQL + chart)")]) == 8
