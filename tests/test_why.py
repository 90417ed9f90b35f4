"""/progress why: the deals counted and left out, the days, each formula, by hand.

NOW is Wed 25 Nov 2026 in New York. With the holiday on Thu 26 Nov, November has 20
working days; 18 have elapsed (today counts), 2 are left.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

import charts
from charts.specs import WhyChart
from commands import export
from commands.i18n import t
from tests.conftest import ADMIN, Run

ALICE = "<@UALICE|alice>"
OCT20 = datetime(2026, 10, 20, 15, 0, tzinfo=UTC)


# The four deals november() leaves out of alice's November, one for each reason.
LEFT_OUT_PARTS = (
    "Outside the period: 1 deal, $4,000; Deleted: 1 deal, $7,000; "
    "Another team: 1 deal, €8,000; Not won: 1 deal, $9,000"
)


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def november(team: Run) -> None:
    assert team(ADMIN, "/pacer", "setup holidays add 2026-11-26 team:East").ok
    assert team(ADMIN, "/pacer", "setup team create Berlin currency:EUR tz:Europe/Berlin").ok
    assert team(ADMIN, "/pacer", f"setup team add Berlin {ALICE}").ok
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-11").ok
    for text, now in (
        ("10,000 Acme date:2026-11-03", None),  # 1: counted
        ("15,000 Beta date:2026-11-16", None),  # 2: counted, in the last 10 working days
        ("9,000 Open stage:negotiation close:2026-11-20", None),  # 3: not won
        ("7,000 Gone date:2026-11-12", None),  # 4: deleted below
        ("4,000 Late date:2026-10-30", None),  # 5: logged today, dated October
        ("3,000 Old date:2026-10-15", OCT20),  # 6: logged in October: not mentioned
        ("8,000 Euro close:2026-11-18 team:Berlin", None),  # 7: another team, in EUR
    ):
        reply = team("UALICE", "/deal", text, **({"now": now} if now else {}))
        assert reply.ok, reply.text
    assert team("UALICE", "/deal", "delete 4").ok


def test_a_reps_figures_with_their_workings(team: Run) -> None:
    november(team)
    reply = team("UALICE", "/progress", "why")
    # Actual 25,000 of 120,000: 21%. Expected 120,000 x 18 / 20 = 108,000; pace 23%;
    # 83,000 short. Needed (120,000 - 25,000) / 2 = 47,500 a day. The last 10 working days
    # run from 12 Nov: 15,000 in them, so 25,000 + 15,000 / 10 x 2 = 28,000. The open
    # negotiation deal at 75%: 25,000 + 6,750 = 31,750.
    assert reply.text.splitlines() == [
        en("why.title", who="alice", metric="revenue", period="2026-11"),
        en("why.counted", deals="2 deals", total="$25,000"),
        "• `#1` · 2026-11-03 · Acme · $10,000",
        "• `#2` · 2026-11-16 · Beta · $15,000",
        en("why.left_out", deals="4 deals", parts=LEFT_OUT_PARTS),
        "• `#5` · 2026-10-30 · Late · $4,000: " + en("why.reason_outside"),
        "• `#4` · 2026-11-12 · Gone · $7,000: " + en("why.reason_deleted"),
        "• `#7` · 2026-11-18 · Euro · €8,000: "
        + en("why.reason_other_currency", team="Berlin", currency="EUR"),
        "• `#3` · 2026-11-20 · Open · $9,000: " + en("why.reason_not_won", stage="negotiation"),
        en(
            "why.days",
            total=20,
            start="2026-11-01",
            end="2026-11-30",
            elapsed=18,
            today="2026-11-25",
            left=2,
        ),
        en("why.holidays", count=1, days="2026-11-26"),
        en("why.attainment", actual="$25,000", target="$120,000", attainment="21%"),
        en("why.expected", target="$120,000", elapsed=18, total=20, expected="$108,000"),
        en("why.pace", actual="$25,000", expected="$108,000", pace="23%"),
        en(
            "why.gap",
            expected="$108,000",
            actual="$25,000",
            gap="$83,000",
            gap_word=en("progress.gap_behind"),
        ),
        en("why.run_rate", remaining="$95,000", left=2, run_rate="$47,500"),
        en(
            "why.forecast",
            days=10,
            start="2026-11-12",
            actual="$25,000",
            recent="$15,000",
            left=2,
            forecast="$28,000",
        ),
        en(
            "why.pipeline",
            actual="$25,000",
            chances="lead 10%, qualified 25%, proposal 50%, negotiation 75%",
            pipeline="$31,750",
        ),
    ]
    assert reply.file is None
    # The chart: the same counts and amounts as the text, the counted deals first.
    assert reply.chart == WhyChart(
        title="The deals behind alice's revenue, 2026-11",
        names=["Counted", "Outside the period", "Deleted", "Another team", "Not won"],
        deals=[2, 1, 1, 1, 1],
        notes=[
            "2 deals · $25,000",
            "1 deal · $4,000",
            "1 deal · $7,000",
            "1 deal · €8,000",
            "1 deal · $9,000",
        ],
        alt_text="The deals behind alice's revenue, 2026-11",
    )
    png = charts.render(reply.chart)
    assert png.startswith(b"\x89PNG") and len(png) > 5_000


def test_the_figures_are_those_of_progress(team: Run) -> None:
    november(team)
    shown = team("UALICE", "/progress").text
    assert "$25,000" in shown and "$108,000" in shown and "$47,500" in shown
    assert "$28,000" in shown and "$31,750" in shown


def test_a_long_list_comes_as_a_csv_with_every_deal(team: Run, engine: Engine) -> None:
    assert team("UMIA", "/goal", "set team East 50000 2026-11").ok
    for day in range(2, 14):  # 12 won deals of bob's, one a day
        assert team("UBOB", "/deal", f"1,000 Client{day} date:2026-11-{day:02d}").ok
    assert team("UBOB", "/deal", "500 Maybe stage:lead close:2026-11-28").ok
    reply = team("UMIA", "/progress", "why team East")
    lines = reply.text.splitlines()
    assert lines[1] == en("why.counted", deals="12 deals", total="$12,000")
    assert lines[2] == "• `#1` · 2026-11-02 · Client2 · $1,000 · bob"  # the team's: whose
    assert en("why.in_the_file", listed=10) in lines
    assert sum(line.startswith("• ") for line in lines) == 11  # 10 counted, 1 left out
    assert reply.file is not None and reply.file.filename == "pacer-why-2026-11.csv"
    assert reply.file.content == b""  # written after the acknowledgement, as an export
    out = io.BytesIO()
    with Session(engine) as s:
        assert export.write_file(s, reply.file, out) == 13
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert [r["counted"] for r in rows] == ["yes"] * 12 + ["no"]
    assert rows[0] | {"logged_at": ""} == {
        "counted": "yes",
        "reason": "",
        "deal": "1",
        "close_date": "2026-11-02",
        "logged_at": "",
        "customer": "Client2",
        "amount": "1000.00",
        "currency": "USD",
        "stage": "won",
        "team": "East",
        "rep": "bob",
    }
    assert rows[-1]["reason"] == "not_won" and rows[-1]["amount"] == "500.00"


def test_without_a_goal_it_says_how_to_set_one(team: Run) -> None:
    reply = team("UBOB", "/progress", "why 2026-10")
    assert reply.text.endswith(en("progress.no_goal", who="bob", period="2026-10"))


def test_no_deals_count_nothing_and_draw_no_chart(team: Run) -> None:
    assert team("UMIA", "/goal", "set <@UBOB|bob> 50000 2026-11").ok
    reply = team("UBOB", "/progress", "why")
    assert reply.text.splitlines()[1] == en("why.counted", deals="0 deals", total="$0")
    assert not any(line.startswith("Left out") for line in reply.text.splitlines())
    assert reply.chart is None and reply.file is None


def test_why_in_chinese(team: Run) -> None:
    november(team)
    lines = team("UALICE", "/progress", "why", locale="zh-CN").text.splitlines()
    assert lines[0] == t("zh", "why.title", who="alice", metric="销售额", period="2026-11")
    assert t("zh", "why.holidays", count=1, days="2026-11-26") in lines


def test_a_new_customers_goal_lists_the_customers_counted(team: Run) -> None:
    assert team("UMIA", "/goal", "set team East 5 2026-11 new_customers").ok
    for user, text in (
        ("UALICE", "1,000 Gamma date:2026-10-05"),  # first won in October
        ("UALICE", "1,000 Acme date:2026-11-03"),
        ("UBOB", "1,000 Beta date:2026-11-10"),
        ("UALICE", "1,000 ACME date:2026-11-12"),  # Acme again: counted once
        ("UALICE", "1,000 Gamma date:2026-11-15"),  # not new any more
    ):
        assert team(user, "/deal", text).ok
    lines = team("UMIA", "/progress", "why team East").text.splitlines()
    assert lines[1:4] == [
        en("why.counted_new_customers", customers="2 new customers"),
        # Named as the customer table keeps it: the least of its spellings.
        "• " + en("why.customer_line", customer="ACME", day="2026-11-03"),
        "• " + en("why.customer_line", customer="Beta", day="2026-11-10"),
    ]
    assert (
        en("why.attainment", actual="2 new customers", target="5 new customers", attainment="40%")
        in lines
    )


def test_a_collected_goal_lists_the_payments_counted(team: Run) -> None:
    assert team("UMIA", "/goal", f"set {ALICE} 10000 2026-11 collected").ok
    assert team("UALICE", "/deal", "12,000 Acme date:2026-10-20").ok
    for text in ("1 4,000 date:2026-10-30", "1 5,000 date:2026-11-05", "1 2,000 date:2026-11-20"):
        assert team("UALICE", "/deal", "paid " + text).ok
    lines = team("UALICE", "/progress", "why").text.splitlines()
    # October's payment is outside the month: 5,000 + 2,000 = 7,000.
    assert lines[1:4] == [
        en("why.counted_collected", payments="2 payments", total="$7,000"),
        "• " + en("why.payment_line", day="2026-11-05", amount="$5,000", deal=1, customer="Acme"),
        "• " + en("why.payment_line", day="2026-11-20", amount="$2,000", deal=1, customer="Acme"),
    ]
    assert en("why.attainment", actual="$7,000", target="$10,000", attainment="70%") in lines


def test_the_message_and_the_file_sort_the_deals_alike(team: Run, engine: Engine) -> None:
    """The message counts and the file lists by one rule: the same deals either way."""
    november(team)
    for day in range(2, 14):  # enough for a file
        assert team("UALICE", "/deal", f"100 Small{day} date:2026-11-{day:02d}").ok
    reply = team("UALICE", "/progress", "why")
    assert reply.file is not None
    out = io.BytesIO()
    with Session(engine) as s:
        export.write_file(s, reply.file, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    counted = [r for r in rows if r["counted"] == "yes"]
    left = [r for r in rows if r["counted"] == "no"]
    lines = reply.text.splitlines()
    assert lines[1] == en("why.counted", deals=f"{len(counted)} deals", total="$26,200")
    assert en("why.left_out", deals=f"{len(left)} deals", parts=LEFT_OUT_PARTS) in lines
    assert [r["reason"] for r in left] == ["outside", "deleted", "other_team", "not_won"]


def test_names_are_escaped_in_the_message_and_kept_as_typed_in_the_file(
    team: Run, engine: Engine
) -> None:
    assert team(ADMIN, "/pacer", "setup team add East <@UEVE|eve>").ok
    assert team("UMIA", "/goal", "set team East 50000 2026-11").ok
    assert team("UEVE", "/pacer", "notify off").ok
    for day in range(2, 14):
        assert team("UEVE", "/deal", f"100 <!here>&{day} date:2026-11-{day:02d}").ok
    reply = team("UMIA", "/progress", "why team East")
    assert "• `#1` · 2026-11-02 · &lt;!here&gt;&amp;2 · $100 · eve" in reply.text.splitlines()
    assert reply.file is not None
    out = io.BytesIO()
    with Session(engine) as s:
        export.write_file(s, reply.file, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert rows[0]["customer"] == "<!here>&2"
