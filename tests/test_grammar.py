"""One grammar for typed values, through the router as a user types them: amounts, periods,
stages, dates and key:value options read alike in every command, and refused alike, with
the problem named and the example of the command typed.

Team East (USD, America/New_York); NOW is Wed 25 Nov 2026, so last month is 2026-10.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from commands import deal as deal_cmd
from commands.i18n import t
from storage.models import AuditEntry, Goal
from tests.conftest import Run
from tests.messages import bad_input
from tests.test_cmd_deal import count, deals

ALICE = "<@UALICE|alice>"
BOB = "<@UBOB|bob>"


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def goals(engine: Engine) -> list[tuple[str, str, int]]:
    with Session(engine) as s:
        rows = s.exec(select(Goal).order_by(Goal.id)).all()  # type: ignore[arg-type]
        return [(g.period, g.metric, g.target) for g in rows]


@pytest.fixture
def logged(team: Run) -> Run:
    """alice's deal #1, $12,500 Acme, and a November goal #1 for her."""
    assert team("UALICE", "/deal", "12,500 Acme").ok
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-11").ok
    return team


# --- amounts ---------------------------------------------------------------------------------

NEGATIVE = [
    ("UALICE", "/deal", "-300 Initech"),
    ("UALICE", "/deal", "edit 1 -300"),
    ("UALICE", "/deal", "edit 1 amount:-300"),
    ("UALICE", "/deal", "paid 1 -300"),
    ("UMIA", "/goal", "adjust 1 -300 reason:territory"),
    ("UMIA", "/goal", f"set {BOB} -300 2026-Q4"),
    ("UALICE", "/goal", "feedback 1 too high propose:-300"),
    ("UADMIN", "/pacer", "setup threshold East -300"),
]


@pytest.mark.parametrize(("user", "command", "text"), NEGATIVE)
def test_a_negative_amount_is_refused_alike_everywhere(
    logged: Run, engine: Engine, user: str, command: str, text: str
) -> None:
    before = (deals(engine), goals(engine), count(engine, AuditEntry))
    reply = logged(user, command, text)
    assert reply.text == bad_input(command, text, "amount.negative", value="-300")
    assert (deals(engine), goals(engine), count(engine, AuditEntry)) == before


def test_a_negative_amount_is_said_in_chinese(logged: Run) -> None:
    reply = logged("UALICE", "/deal", "edit 1 −5k", locale="zh-CN")
    assert reply.text == bad_input("/deal", "edit", "amount.negative", "zh", value="−5k")
    assert reply.text.startswith("金额不能为负数")


def test_edit_with_a_negative_amount_keeps_the_customer(logged: Run, engine: Engine) -> None:
    assert not logged("UALICE", "/deal", "edit 1 -100").ok
    assert [(d.amount_minor, d.customer) for d in deals(engine)] == [(1_250_000, "Acme")]


def test_a_multiplier_typed_apart_reads_alike_in_every_command(logged: Run, engine: Engine) -> None:
    assert logged("UMIA", "/goal", f"set {BOB} 8 万 2026-Q4").ok
    assert logged("UMIA", "/goal", "adjust 2 95 k reason:territory").ok
    assert logged("UALICE", "/deal", "edit 1 13 k").ok
    assert logged("UALICE", "/deal", "paid 1 1.5 k").ok
    # 8 万 = 80,000 then adjusted to 95,000 dollars (minor units: cents)
    assert goals(engine)[1] == ("2026-Q4", "revenue", 9_500_000)
    assert deals(engine)[0].amount_minor == 1_300_000


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["lastmonth", "last month", "last-month", "previous month", "上个月"]
)
def test_progress_of_last_month_however_it_is_typed(logged: Run, typed: str) -> None:
    reply = logged("UALICE", "/progress", typed)
    assert reply.ok, reply.text
    assert reply.text == logged("UALICE", "/progress", "2026-10").text


def test_relative_periods_set_and_copy_goals(logged: Run, engine: Engine) -> None:
    assert logged("UMIA", "/goal", f"set {BOB} 50000 last quarter").ok
    assert logged("UMIA", "/goal", f"set {BOB} 4 previous week deals").ok
    assert logged("UMIA", "/goal", "copy this month to next month").ok
    assert goals(engine) == [
        ("2026-11", "revenue", 12_000_000),
        ("2026-Q3", "revenue", 5_000_000),
        ("2026-W47", "deals", 4),
        ("2026-12", "revenue", 12_000_000),
    ]


def test_goal_set_without_a_period_says_the_period_is_missing(logged: Run) -> None:
    text = f"set {BOB} 5000"
    reply = logged("UMIA", "/goal", text)
    assert reply.text == bad_input("/goal", text, "error.missing_arg", what="PERIOD")
    # With as many words as arguments, the last word is read as the period, and named.
    year_text = f"set {BOB} 1000 5000"
    assert logged("UMIA", "/goal", year_text).text == bad_input(
        "/goal", year_text, "error.bad_period", value="5000"
    )


def test_goal_set_without_an_amount_says_the_amount_is_missing(logged: Run) -> None:
    text = f"set {BOB} 2026-Q4"
    reply = logged("UMIA", "/goal", text)
    assert reply.text == bad_input("/goal", text, "error.missing_arg", what="AMOUNT")


def test_a_bad_period_is_named(logged: Run) -> None:
    reply = logged("UALICE", "/progress", "2026-Q5")
    assert reply.text == bad_input("/progress", "", "error.bad_period", value="2026-Q5")


# --- stages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stage"),
    [
        ("赢单", "won"),
        ("成交", "won"),
        ("输单", "lost"),
        ("线索", "lead"),
        ("Proposal", "proposal"),
    ],
)
def test_stages_are_read_in_both_languages(
    logged: Run, engine: Engine, typed: str, stage: str
) -> None:
    assert logged("UALICE", "/deal", "edit 1 stage:negotiation").ok
    assert logged("UALICE", "/deal", f"stage 1 {typed}").ok
    assert deals(engine)[0].stage == stage
    assert logged("UALICE", "/deal", f"3,000 Initech stage:{typed}").ok
    assert deals(engine)[1].stage == stage


def test_a_bad_stage_is_refused_alike_in_both_places(logged: Run) -> None:
    stages = "lead, qualified, proposal, negotiation, won, lost"
    for text in ("stage 1 maybe", "edit 1 stage:maybe"):
        reply = logged("UALICE", "/deal", text, locale="zh-CN")
        expected = bad_input("/deal", text, "error.bad_stage", "zh", value="maybe", choices=stages)
        assert reply.text == expected


# --- options ---------------------------------------------------------------------------------


def test_an_option_value_ends_where_the_next_key_begins(logged: Run, engine: Engine) -> None:
    # `close:` is the deal's close date (date:), as sales people say it.
    reply = logged("UALICE", "/deal", "edit 1 stage:proposal close:2026-12-20")
    assert reply.ok, reply.text
    row = deals(engine)[0]
    assert (row.stage, row.close_date, row.customer) == ("proposal", date(2026, 12, 20), "Acme")


def test_an_unknown_option_is_refused_by_name_with_the_options_of_the_command(
    logged: Run, engine: Engine
) -> None:
    choices = ", ".join(f"`{k}:`" for k in sorted(deal_cmd.KEYS))
    text = "5,000 Globex owner:bob region:West"
    reply = logged("UALICE", "/deal", text)
    assert reply.text == bad_input(
        "/deal", text, "grammar.unknown_option", word="owner:", choices=choices
    )
    adjust = "adjust 1 110000 reason:territory because:moved"
    assert logged("UMIA", "/goal", adjust).text == bad_input(
        "/goal", adjust, "grammar.unknown_option", word="because:", choices="`reason:`"
    )
    assert [d.customer for d in deals(engine)] == ["Acme"]


def test_urls_and_a_colon_before_a_space_stay_text(logged: Run, engine: Engine) -> None:
    text = "3,000 Initech note:see https://crm.example/d/7 re: pricing stage:lead 客户：阿里巴巴"
    assert logged("UALICE", "/deal", text).ok
    row = deals(engine)[1]
    assert (row.note, row.stage, row.customer) == (
        "see https://crm.example/d/7 re: pricing",
        "lead",
        "阿里巴巴",
    )


def test_a_chinese_word_before_a_colon_is_prose(logged: Run, engine: Engine) -> None:
    text = "8,000 星辰科技 备注：客户说：太贵 原因：预算 阶段:方案报价"
    assert logged("UALICE", "/deal", text, locale="zh-CN").ok
    row = deals(engine)[1]
    assert (row.customer, row.note, row.stage) == (
        "星辰科技",
        "客户说：太贵 原因：预算",
        "proposal",
    )


def test_times_in_a_value_are_no_option(team: Run) -> None:
    reply = team("UADMIN", "/pacer", "setup team set East hour:08:30")
    assert reply.ok, reply.text


# --- dates -----------------------------------------------------------------------------------


def test_a_late_entry_is_logged_and_said_in_chinese(logged: Run, engine: Engine) -> None:
    reply = logged("UALICE", "/deal", "3,000 Initech date:2020-01-15", locale="zh-CN")
    assert reply.text.splitlines()[1] == t("zh", "grammar.closed_period", period="2020-01")
    assert deals(engine)[1].close_date == date(2020, 1, 15)


def test_a_won_deal_in_the_future_is_still_refused(logged: Run, engine: Engine) -> None:
    text = "3,000 Initech close:2027-01-05"
    reply = logged("UALICE", "/deal", text)
    assert reply.text == bad_input("/deal", text, "error.future_date", date="2027-01-05")
    assert len(deals(engine)) == 1


def test_a_late_payment_is_recorded_and_said(logged: Run) -> None:
    reply = logged("UALICE", "/deal", "paid 1 2,000 date:2026-10-30")
    assert reply.text.splitlines() == [
        "💰 Payment of $2,000 recorded on deal `#1` (Acme), paid 2026-10-30.",
        "Collected $2,000 of $12,500; $10,500 outstanding.",
        en("grammar.closed_period", period="2026-10"),
    ]


@pytest.mark.parametrize(
    "typed", ["2026-11-20", "2026/11/20", "2026年11月20日", "11月20日", "11-20"]
)
def test_a_date_reads_alike_however_it_is_written(logged: Run, engine: Engine, typed: str) -> None:
    assert logged("UALICE", "/deal", f"edit 1 date:{typed}").ok
    assert deals(engine)[0].close_date == date(2026, 11, 20)


def test_what_is_missing_is_named_in_chinese(logged: Run) -> None:
    text = f"set {BOB} 5000"
    reply = logged("UMIA", "/goal", text, locale="zh-CN")
    what = t("zh", "grammar.what_period")
    assert reply.text == bad_input("/goal", text, "error.missing_arg", "zh", what=what)
    assert reply.text.startswith("缺少 周期 `PERIOD` ，")


@pytest.mark.parametrize(
    ("user", "command", "text", "word", "choices"),
    [
        (
            "UADMIN",
            "/pacer",
            "setup team create West timezone:UTC",
            "timezone:",
            "`channel:`, `currency:`, `hour:`, `tz:`",
        ),
        ("UADMIN", "/pacer", "setup holidays add 2026-12-25 teams:East", "teams:", "`team:`"),
        ("UADMIN", "/pacer", f"setup team add East {BOB} role:manager", "role:", "`as:`"),
        ("UALICE", "/deal", "paid 1 when:2026-11-20", "when:", "`date:`"),
        ("UALICE", "/goal", "feedback 1 too high target:100000", "target:", "`propose:`"),
    ],
)
def test_every_command_with_options_refuses_an_unknown_one_alike(
    logged: Run, user: str, command: str, text: str, word: str, choices: str
) -> None:
    reply = logged(user, command, text)
    assert reply.text == bad_input(
        command, text, "grammar.unknown_option", word=word, choices=choices
    )
