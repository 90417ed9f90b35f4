"""Smoke test of the benchmark: the generated data, the table and one real HTTP round trip.

No timing is asserted here: bench/run.py prints the figures, this only checks they can be
produced from sane data.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench import generate
from bench.generate import QUICK, build_sqlite, cached_sqlite, foreign_key_problems
from bench.run import percentile
from bench.table import Row, failures, format_table

END = date(2026, 11, 25)  # a Wednesday
PARAMS = replace(QUICK, end=END)
FIXTURES = Path(__file__).parent / "fixtures"


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


def test_quick_mode_writes_the_asked_row_counts(quick_db: Path) -> None:
    assert query(quick_db, "SELECT count(*) FROM team") == [(5,)]
    assert query(quick_db, "SELECT count(*) FROM member") == [(100,)]
    assert query(quick_db, "SELECT count(*) FROM membership WHERE role = 'rep'") == [(100,)]
    # Per rep: 1 year + 4 quarters + 12 months.
    assert query(quick_db, "SELECT count(*) FROM goal") == [(1700,)]
    assert query(quick_db, "SELECT count(*), count(DISTINCT team_id) FROM deal") == [(20000, 5)]
    assert foreign_key_problems(quick_db) == 0


def test_amounts_are_positive_whole_dollars_stored_as_integers(quick_db: Path) -> None:
    rows = query(
        quick_db,
        "SELECT min(amount_minor), sum(amount_minor % 100), "
        "count(*) FILTER (WHERE typeof(amount_minor) != 'integer') FROM deal",
    )
    smallest, cents, not_integer = rows[0]
    assert isinstance(smallest, int) and smallest >= 100
    assert (cents, not_integer) == (0, 0)


def test_close_dates_are_past_working_days_of_one_year(quick_db: Path) -> None:
    weekend = query(
        quick_db, "SELECT count(*) FROM deal WHERE strftime('%w', close_date) IN ('0','6')"
    )
    assert weekend == [(0,)]
    # 365 days ending on Wednesday 2026-11-25 start on Thursday 2025-11-26.
    assert query(quick_db, "SELECT min(close_date), max(close_date) FROM deal") == [
        ("2025-11-26", "2026-11-25")
    ]
    # 52 weeks and a day: 260 working days plus Wednesday 2026-11-25 itself, all used.
    assert query(quick_db, "SELECT count(DISTINCT close_date) FROM deal") == [(261,)]


def test_productivity_is_skewed_and_goals_follow_it(quick_db: Path) -> None:
    per_rep = [
        int(str(n))
        for (n,) in query(quick_db, "SELECT count(*) FROM deal GROUP BY owner_id ORDER BY 1")
    ]
    top_fifth = sum(per_rep[-20:]) / sum(per_rep)
    assert len(per_rep) == 100
    assert 0.35 < top_fifth < 0.75  # uniform would give 0.2
    # The busiest rep gets the largest year target; quarters add up to the year.
    busiest = query(
        quick_db, "SELECT owner_id FROM deal GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1"
    )
    largest = query(
        quick_db, "SELECT member_id FROM goal WHERE period = '2026' ORDER BY target DESC LIMIT 1"
    )
    assert busiest == largest
    mismatched = query(
        quick_db,
        "SELECT y.id FROM goal y JOIN goal q ON q.parent_id = y.id WHERE y.period = '2026' "
        "GROUP BY y.id HAVING sum(q.target) != y.target",
    )
    assert mismatched == []


def test_the_cache_is_reused_for_the_same_parameters(tmp_path: Path) -> None:
    small = replace(PARAMS, teams=1, deals=500)
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


HTTP_MODULES = ("bot.app", "bot.http", "tests.fakeslack", "waitress")


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in HTTP_MODULES),
    reason="the HTTP app or the fake Slack is not there yet",
)
def test_one_leaderboard_goes_through_the_real_endpoint(quick_db: Path, tmp_path: Path) -> None:
    from bench import endpoint

    work = tmp_path / "work.db"
    shutil.copyfile(quick_db, work)
    user = generate.rep_user_id(0, 0)
    with endpoint.running(f"sqlite:///{work}", tmp_path / "server.log") as (server, client):
        ack, delivered = client.run("/leaderboard", "", user)
        memory = server.memory()
        reply = client.replies["bench1"]
        upload = client.fake.called("files.completeUploadExternal")[0]
    assert 0 < ack <= delivered
    assert reply["response_type"] == "in_channel"
    assert "Team 01" in reply["text"]
    assert upload.params["channel_id"] == client.channel_id
    assert 0 < memory["VmRSS"] <= memory["VmHWM"]


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


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in HTTP_MODULES),
    reason="the HTTP app or the fake Slack is not there yet",
)
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
