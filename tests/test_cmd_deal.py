"""/deal through the router on SQLite and PostgreSQL: what a rep types and sees, and what is kept.

Team East (USD, America/New_York). NOW is Wed 25 Nov 2026 15:00 UTC = 10:00 in New York.
November 2026 has 21 working days; 18 have elapsed on the 25th (today counts).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from commands import router
from commands.i18n import t
from commands.types import FormResult, Request, Visibility
from storage.engine import session_scope
from storage.models import AuditEntry, Deal, Member
from tests.conftest import ADMIN, NOW, Run
from tests.messages import bad_input

ALICE = "<@UALICE|alice>"


def en(key: str, **values: object) -> str:
    """The English catalog text a user sees, filled with values computed by hand."""
    return t("en", key, **values)


def desc(amount: str, customer: str, day: str, extra: str = "") -> str:
    """How a deal reads in replies: *$12,500* — Acme Corp (CRM, East) on 2026-11-20."""
    return f"*{amount}* — {customer}{extra} {en('deal.on_date', date=day)}"


BEHIND, ON_TRACK = en("pace.behind"), en("pace.on_track")


def count(engine: Engine, model: type[SQLModel]) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def deals(engine: Engine) -> list[Deal]:
    with Session(engine) as s:
        return list(s.exec(select(Deal).order_by(Deal.id)).all())  # type: ignore[arg-type]


def member_id(engine: Engine, user_id: str) -> int:
    with Session(engine) as s:
        member = s.exec(select(Member).where(Member.user_id == user_id)).one()
        assert member.id is not None
        return member.id


def last_id(engine: Engine) -> int:
    deal_id = deals(engine)[-1].id
    assert deal_id is not None
    return deal_id


@pytest.fixture
def goal(team: Run) -> Run:
    """alice has a $120,000 target for November 2026."""
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-11").ok
    return team


def test_log_a_deal_replies_with_amount_customer_and_standing(goal: Run, engine: Engine) -> None:
    reply = goal("UALICE", "/deal", "12,500 Acme Corp product:CRM region:East date:2026-11-20")
    deal_id = last_id(engine)
    # attainment = 12500 / 120000 = 10.4% -> 10%
    # expected = 120000 x 18 / 21 = 102857.14; pace = 12500 / 102857.14 = 12.2% -> 12%
    logged = desc("$12,500", "Acme Corp", "2026-11-20", " (CRM, East)")
    assert reply.text.splitlines() == [
        en("deal.logged", id=deal_id, deal=logged),
        en(
            "deal.standing",
            period="2026-11",
            actual="$12,500",
            target="$120,000",
            attainment="10%",
            pace="12%",
            status=BEHIND,
        ),
    ]
    assert reply.ok and reply.visibility is Visibility.EPHEMERAL
    assert [(b.action_id, b.value) for b in reply.buttons] == [("deal_delete", str(deal_id))]
    [row] = deals(engine)
    alice = member_id(engine, "UALICE")
    assert (row.amount_minor, row.currency, row.customer) == (1250000, "USD", "Acme Corp")
    assert (row.product, row.region, row.stage, row.source) == ("CRM", "East", "won", "slash")
    assert (row.close_date, row.owner_id, row.logged_by) == (date(2026, 11, 20), alice, alice)
    assert row.workspace_id == "T1"


def test_note_and_default_date(goal: Run, engine: Engine) -> None:
    goal("UALICE", "/deal", "12500 Acme Corp note:called twice, signed today")
    [row] = deals(engine)
    assert row.note == "called twice, signed today"
    assert row.close_date == date(2026, 11, 25)  # today in New York


def test_a_second_deal_moves_the_standing(goal: Run) -> None:
    goal("UALICE", "/deal", "90,000 Acme Corp")
    reply = goal("UALICE", "/deal", "6,000 Globex")
    # 96000 / 120000 = 80%; pace = 96000 / 102857.14 = 93.3% -> 93%, on track (>= 90%)
    assert reply.text.splitlines()[-1] == en(
        "deal.standing",
        period="2026-11",
        actual="$96,000",
        target="$120,000",
        attainment="80%",
        pace="93%",
        status=ON_TRACK,
    )


def test_without_a_goal_the_reply_says_so(team: Run) -> None:
    # No goal, but a deal: the standing line shows what bob has won this month.
    reply = team("UBOB", "/deal", "1,000 Acme")
    assert reply.ok
    assert reply.text.splitlines()[-1] == en(
        "figures.deal_no_goal_actuals", period="2026-11", revenue="$1,000", deals="1 deal"
    )


AMOUNT_FORMS = [
    ("12500", 1250000, "$12,500"),
    ("12,500", 1250000, "$12,500"),
    ("12.5k", 1250000, "$12,500"),  # 12.5 x 1,000
    ("1.2m", 120000000, "$1,200,000"),  # 1.2 x 1,000,000
    ("$12,500", 1250000, "$12,500"),
    ("12,500.50", 1250050, "$12,500.50"),
]


def test_each_amount_form(team: Run, engine: Engine) -> None:
    # One team for all forms: a fresh PostgreSQL schema per case would be slow.
    for typed, minor, shown in AMOUNT_FORMS:
        reply = team("UALICE", "/deal", f"{typed} Acme Corp")
        assert reply.ok, reply.text
        deal = deals(engine)[-1]
        first_line = en("deal.logged", id=deal.id, deal=desc(shown, "Acme Corp", "2026-11-25"))
        assert reply.text.splitlines()[0] == first_line, typed
        assert deal.amount_minor == minor, typed
    assert count(engine, Deal) == len(AMOUNT_FORMS)


def test_yuan_amount_on_a_cny_team(run: Run, engine: Engine) -> None:
    run(ADMIN, "/pacer", "setup team create Shanghai tz:Asia/Shanghai currency:CNY")
    run(ADMIN, "/pacer", "setup team add Shanghai <@UCAROL|carol>")
    reply = run("UCAROL", "/deal", "¥8万 阿里巴巴")
    assert reply.ok, reply.text
    # 25 Nov 15:00 UTC is 23:00 in Shanghai: still the 25th.
    logged = desc("¥80,000", "阿里巴巴", "2026-11-25")
    assert reply.text.splitlines()[0] == en("deal.logged", id=last_id(engine), deal=logged)
    [row] = deals(engine)
    assert (row.amount_minor, row.currency) == (8000000, "CNY")  # 80000 yuan in fen
    # A Chinese-speaking rep sees the same amount with the same symbol and grouping.
    assert "*¥80,000* — 阿里巴巴" in run("UCAROL", "/deal", "list", locale="zh-CN").text


def test_deal_alone_opens_the_form(team: Run, engine: Engine) -> None:
    reply = team("UALICE", "/deal")
    assert reply.form is not None
    assert reply.form.callback_id == "deal_new"
    fields = {f.name: f for f in reply.form.fields}
    assert list(fields) == ["amount", "customer", "date", "product", "region", "note"]
    assert fields["amount"].label == "Amount (USD)"
    assert fields["date"].initial == "2026-11-25"
    assert count(engine, Deal) == 0


def _submit(engine: Engine, values: dict[str, str], key: str | None = None) -> FormResult:
    req = Request(
        workspace_id="T1", user_id="UALICE", text="", now=NOW, request_key=key, source="modal"
    )
    with session_scope(engine) as s:
        return router.submit("deal_new", values, {}, req, s)


def test_form_submission_logs_the_deal(goal: Run, engine: Engine) -> None:
    values = {"amount": "12.5k", "customer": "Acme Corp", "date": "2026-11-20", "note": "x"}
    result = _submit(engine, values, key="view-1")
    assert result.errors == {}
    assert result.reply is not None
    logged = desc("$12,500", "Acme Corp", "2026-11-20")
    assert result.reply.text.splitlines()[0] == en("deal.logged", id=last_id(engine), deal=logged)
    again = _submit(engine, values, key="view-1")  # the same view delivered twice
    assert again.reply is not None and again.reply.text == result.reply.text
    [row] = deals(engine)
    assert (row.amount_minor, row.source, row.note) == (1250000, "modal", "x")


def test_form_errors_keep_the_form_open_and_write_nothing(team: Run, engine: Engine) -> None:
    before = count(engine, AuditEntry)
    result = _submit(engine, {"amount": "abc", "customer": " ", "date": "2026-12-01"})
    assert set(result.errors) == {"amount", "customer", "date"}
    assert result.errors["amount"] == en("amount.invalid", value="abc")
    assert result.errors["customer"] == en("error.customer_required")
    assert result.errors["date"] == en("error.future_date", date="2026-12-01")
    assert result.reply is None
    assert (count(engine, Deal), count(engine, AuditEntry)) == (0, before)


def test_list_edit_delete_restore(goal: Run, engine: Engine) -> None:
    goal("UALICE", "/deal", "12,500 Acme Corp date:2026-11-20")
    first = last_id(engine)
    goal("UALICE", "/deal", "3,000 Globex date:2026-11-24")
    second = last_id(engine)
    listed = goal("UALICE", "/deal", "list")
    globex = desc("$3,000", "Globex", "2026-11-24")
    assert listed.text.splitlines() == [
        en("deal.list_title"),
        f"`#{second}` {globex}",  # newest close date first
        f"`#{first}` {desc('$12,500', 'Acme Corp', '2026-11-20')}",
        en("deal.list_hint"),
    ]
    edited = goal("UALICE", "/deal", f"edit {first} 13,000 customer:Acme Ltd")
    assert edited.text == en(
        "deal.edited", id=first, deal=desc("$13,000", "Acme Ltd", "2026-11-20")
    )
    deleted = goal("UALICE", "/deal", f"delete {second}")
    assert deleted.text == en("deal.deleted", id=second, deal=globex)
    assert [(b.action_id, b.value) for b in deleted.buttons] == [("deal_restore", str(second))]
    assert f"#{second}" not in goal("UALICE", "/deal", "list").text
    # Only the $13,000 counts now: 13000 / 120000 = 10.8% -> 11%.
    assert goal("UALICE", "/goal").text.endswith("$13,000 of $120,000 (11%)")
    restored = goal("UALICE", "/deal", f"restore {second}")
    assert restored.text == en("deal.restored", id=second, deal=globex)
    again = goal("UALICE", "/deal", f"restore {second}")
    assert again.text == en("deal.not_deleted", id=second)
    with Session(engine) as s:
        trail = s.exec(
            select(AuditEntry.action)
            .where(AuditEntry.entity == "deal", AuditEntry.entity_id == second)
            .order_by(AuditEntry.id)  # type: ignore[arg-type]
        ).all()
    assert list(trail) == ["create", "delete", "restore"]


def test_undo_button_restores(team: Run, engine: Engine) -> None:
    team("UALICE", "/deal", "3,000 Globex")
    deal_id = last_id(engine)
    team("UALICE", "/deal", f"delete {deal_id}")
    req = Request(workspace_id="T1", user_id="UALICE", text="", now=NOW)
    with session_scope(engine) as s:
        reply = router.action("deal_restore", str(deal_id), req, s)
    assert reply.text == en(
        "deal.restored", id=deal_id, deal=desc("$3,000", "Globex", "2026-11-25")
    )
    assert deals(engine)[0].deleted_at is None


def standing(actual: str, attainment: str, pace: str, status: str = BEHIND) -> str:
    """alice's line under each reply, against her $120,000 November target."""
    return en(
        "deal.standing",
        period="2026-11",
        actual=actual,
        target="$120,000",
        attainment=attainment,
        pace=pace,
        status=status,
    )


def test_pipeline_deal_and_stage(goal: Run, engine: Engine) -> None:
    # An open deal may close in the future and does not count toward revenue.
    logged = goal("UALICE", "/deal", "40,000 Globex stage:proposal date:2026-11-28")
    deal_id = last_id(engine)
    proposal = desc("$40,000", "Globex", "2026-11-28") + f" [{en('stage.proposal')}]"
    assert logged.text.splitlines() == [
        en("deal.logged", id=deal_id, deal=proposal),
        standing("$0", "0%", "0%"),
    ]
    moved = goal("UALICE", "/deal", f"stage {deal_id} negotiation")
    negotiation = desc("$40,000", "Globex", "2026-11-28") + f" [{en('stage.negotiation')}]"
    assert moved.text == en("deal.edited", id=deal_id, deal=negotiation)
    # Won today: the future close date becomes today, 25 Nov.
    won = goal("UALICE", "/deal", f"stage {deal_id} won")
    assert won.text == en("deal.edited", id=deal_id, deal=desc("$40,000", "Globex", "2026-11-25"))
    with Session(engine) as s:
        row = s.get(Deal, deal_id)
        assert row is not None and (row.stage, row.close_date) == ("won", date(2026, 11, 25))
    # With $1 more: 40001 / 120000 = 33.3%; pace = 40001 / 102857.14 = 38.9% -> 39%
    assert goal("UALICE", "/deal", "1 Tiny").text.splitlines()[-1] == standing(
        "$40,001", "33%", "39%"
    )
    bad = goal("UALICE", "/deal", f"stage {deal_id} maybe")
    assert not bad.ok
    stages = "lead, qualified, proposal, negotiation, won, lost"
    assert bad.text == bad_input("/deal", "stage", "error.bad_stage", value="maybe", choices=stages)


def test_manager_logs_for_a_rep(goal: Run, engine: Engine) -> None:
    reply = goal("UMIA", "/deal", f"for {ALICE} 5,000 Initech")
    assert reply.ok
    # alice's standing: 5000 / 120000 = 4.2% -> 4%; pace = 5000 / 102857.14 = 4.9% -> 5%
    assert reply.text.splitlines() == [
        en("deal.logged", id=last_id(engine), deal=desc("$5,000", "Initech", "2026-11-25")),
        en("deal.logged_for", rep="alice"),
        standing("$5,000", "4%", "5%"),
    ]
    [row] = deals(engine)
    assert (row.owner_id, row.logged_by) == (member_id(engine, "UALICE"), member_id(engine, "UMIA"))


def test_rep_cannot_log_for_another_rep(team: Run, engine: Engine) -> None:
    before = (count(engine, Deal), count(engine, AuditEntry), count(engine, Member))
    reply = team("UBOB", "/deal", f"for {ALICE} 5,000 Initech")
    assert not reply.ok
    assert reply.text == en("error.not_manager_of", team="East")
    assert (count(engine, Deal), count(engine, AuditEntry), count(engine, Member)) == before


def test_logging_for_someone_without_a_team(team: Run, engine: Engine) -> None:
    before = count(engine, Member)
    reply = team("UMIA", "/deal", "for <@UZED|zed> 5,000 Initech")
    assert not reply.ok
    assert reply.text == en("error.rep_no_team", rep="zed")
    assert (count(engine, Deal), count(engine, Member)) == (0, before)


def test_a_retried_delivery_creates_one_deal(team: Run, engine: Engine) -> None:
    first = team("UALICE", "/deal", "12,500 Acme Corp", key="trigger-1")
    retry = team("UALICE", "/deal", "12,500 Acme Corp", key="trigger-1")
    assert retry.text == first.text
    assert count(engine, Deal) == 1
    team("UALICE", "/deal", "12,500 Acme Corp", key="trigger-2")  # a new delivery
    assert count(engine, Deal) == 2


STAGE_LIST = "lead, qualified, proposal, negotiation, won, lost"
# What a rep types, the catalog message expected, and the values it names.
BAD_INPUTS: list[tuple[str, str, dict[str, str]]] = [
    ("abc Acme", "amount.invalid", {"value": "abc"}),
    ("12500", "error.no_customer", {"amount": "12500"}),
    ("product:CRM", "error.missing_arg", {"what": "AMOUNT"}),
    ("12,500 Acme date:2026-11-26", "error.future_date", {"date": "2026-11-26"}),
    ("12,500 Acme date:someday", "error.bad_date", {"value": "someday"}),
    ("0 Acme", "amount.not_positive", {"value": "0"}),
    ("12.345 Acme", "amount.too_precise", {"value": "12.345"}),
    ("¥8万 Acme", "amount.wrong_currency", {"value": "¥8万"}),
    ("12,500 Acme stage:maybe", "error.bad_stage", {"value": "maybe", "choices": STAGE_LIST}),
    ("delete 999", "error.no_such_deal", {"id": "999"}),
    ("edit 999 13,000", "error.no_such_deal", {"id": "999"}),
    ("delete abc", "error.bad_id", {"value": "abc"}),
    ("stage 1", "error.missing_arg", {"what": "STAGE"}),
    ("stage 1 maybe", "error.bad_stage", {"value": "maybe", "choices": STAGE_LIST}),
    ("lsit", "error.did_you_mean", {"command": "/deal list"}),
    ("delet 42", "error.did_you_mean", {"command": "/deal delete"}),
]
REFUSALS = {"error.no_such_deal", "error.did_you_mean"}  # no usage line: nothing was mistyped


def test_bad_input_answers_with_an_example_and_writes_nothing(team: Run, engine: Engine) -> None:
    before = (count(engine, Deal), count(engine, AuditEntry), count(engine, Member))
    for text, key, values in BAD_INPUTS:
        reply = team("UALICE", "/deal", text)
        assert not reply.ok, text
        if key in REFUSALS:
            assert reply.text == en(key, **values), text
        else:  # the problem, then the usage and example of the subcommand typed
            assert reply.text == bad_input("/deal", text, key, **values), text
        assert "`" in reply.text, text  # every answer shows a correct example
        assert all(v in reply.text for v in values.values()), text
        assert reply.visibility is Visibility.EPHEMERAL
    assert (count(engine, Deal), count(engine, AuditEntry), count(engine, Member)) == before


def test_someone_elses_deal(team: Run, engine: Engine) -> None:
    team("UALICE", "/deal", "12,500 Acme Corp")
    deal_id = last_id(engine)
    audits = count(engine, AuditEntry)
    for text in (f"delete {deal_id}", f"edit {deal_id} 1", f"stage {deal_id} lost"):
        reply = team("UBOB", "/deal", text)
        assert not reply.ok
        assert reply.text == en("error.not_your_deal", id=str(deal_id))
    [row] = deals(engine)
    assert (row.amount_minor, row.stage, row.deleted_at) == (1250000, "won", None)
    assert count(engine, AuditEntry) == audits
    # Her manager may.
    assert team("UMIA", "/deal", f"delete {deal_id}").ok


def test_no_team_no_deal(run: Run, engine: Engine) -> None:
    reply = run("UZED", "/deal", "12,500 Acme Corp")
    assert not reply.ok
    assert reply.text == en("error.no_team")
    assert (count(engine, Deal), count(engine, Member)) == (0, 0)


def test_absurd_amount_gets_the_too_large_message(team: Run, engine: Engine) -> None:
    # Was "Something went wrong on our side" (decimal.InvalidOperation escaped parse_amount).
    huge = "1" + "0" * 26
    reply = team("UALICE", "/deal", f"{huge} Acme")
    assert (reply.ok, reply.text) == (False, bad_input("/deal", "", "amount.too_large", value=huge))
    assert count(engine, Deal) == 0


def test_edit_cannot_move_a_won_deal_into_the_future(team: Run, engine: Engine) -> None:
    team("UALICE", "/deal", "12,500 Acme Corp")
    deal_id = last_id(engine)
    audits = count(engine, AuditEntry)
    reply = team("UALICE", "/deal", f"edit {deal_id} date:2026-12-15")
    expected = bad_input("/deal", "edit", "error.future_date", date="2026-12-15")
    assert (reply.ok, reply.text) == (False, expected)
    assert deals(engine)[0].close_date == date(2026, 11, 25)
    assert count(engine, AuditEntry) == audits
    # An open deal may still be moved to a future close date.
    team("UALICE", "/deal", f"stage {deal_id} proposal")
    assert team("UALICE", "/deal", f"edit {deal_id} date:2026-12-15").ok
    assert deals(engine)[0].close_date == date(2026, 12, 15)


def test_help(team: Run) -> None:
    assert team("UALICE", "/deal", "help").text == en("deal.help")


def test_a_multiplier_typed_apart_belongs_to_the_amount(team: Run, engine: Engine) -> None:
    # "/deal 8 万 百度" is ¥80,000 from 百度 (here in USD: 80,000), not 8 from "万 百度".
    assert team("UALICE", "/deal", "8 万 百度").ok
    assert team("UALICE", "/deal", "12.5 k Acme").ok
    assert [(d.amount_minor, d.customer) for d in deals(engine)] == [
        (8_000_000, "百度"),
        (1_250_000, "Acme"),
    ]


def test_too_long_text_is_refused_whole_not_cut(team: Run, engine: Engine) -> None:
    note = "x" * 2001
    reply = team("UALICE", "/deal", f"12,500 Acme note:{note}")
    assert not reply.ok
    assert reply.text == bad_input(
        "/deal", "", "error.too_long", field=en("deal.field_note"), limit="2000"
    )
    product = team("UALICE", "/deal", f"12,500 Acme product:{'p' * 121}")
    assert product.text.splitlines()[0] == en(
        "error.too_long", field=en("deal.field_product"), limit="120"
    )
    assert count(engine, Deal) == 0


def test_a_close_date_years_back_is_logged_and_said_to_be_in_a_closed_period(
    team: Run, engine: Engine
) -> None:
    reply = team("UALICE", "/deal", "12,500 Acme date:2020-01-15")
    assert reply.text.splitlines()[:2] == [
        en("deal.logged", id=1, deal=desc("$12,500", "Acme", "2020-01-15")),
        en("grammar.closed_period", period="2020-01"),
    ]
    # Last month is closed too; this month is not (today is 2026-11-25).
    late = team("UALICE", "/deal", "3,000 Initech close:2026-10-31")
    assert late.text.splitlines()[1] == en("grammar.closed_period", period="2026-10")
    now = team("UALICE", "/deal", "1,000 Globex date:2026-11-01")
    assert en("grammar.closed_period", period="2026-11") not in now.text
    assert "closed period" not in now.text
    edited = team("UALICE", "/deal", "edit 3 date:2025-06-30")
    assert edited.text.splitlines()[1] == en("grammar.closed_period", period="2025-06")
    assert [d.close_date for d in deals(engine)] == [
        date(2020, 1, 15),
        date(2026, 10, 31),
        date(2025, 6, 30),
    ]


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "3000-01-01"])
def test_a_close_date_out_of_the_calendar_is_refused(team: Run, engine: Engine, day: str) -> None:
    reply = team("UALICE", "/deal", f"12,500 Acme stage:lead date:{day}")
    assert reply.text == bad_input("/deal", "", "error.bad_date", value=day)
    assert count(engine, Deal) == 0


def test_edit_with_a_mistyped_amount_does_not_rename_the_customer(
    team: Run, engine: Engine
) -> None:
    team("UALICE", "/deal", "12,500 Acme")
    reply = team("UALICE", "/deal", f"edit {last_id(engine)} 13000x")
    assert not reply.ok
    assert reply.text == bad_input("/deal", "edit", "amount.invalid", value="13000x")
    assert [(d.amount_minor, d.customer) for d in deals(engine)] == [(1_250_000, "Acme")]


def test_moving_a_deal_to_its_own_stage_writes_no_audit_entry(team: Run, engine: Engine) -> None:
    team("UALICE", "/deal", "12,500 Acme")
    before = count(engine, AuditEntry)
    assert team("UALICE", "/deal", f"stage {last_id(engine)} won").ok
    assert count(engine, AuditEntry) == before


def test_slack_control_characters_in_user_text_are_escaped(team: Run) -> None:
    # A customer typed as "<!channel> & Co" must not notify the channel when shown.
    reply = team("UALICE", "/deal", "12,500 <!channel> & Co product:<b>")
    assert reply.ok
    assert "&lt;!channel&gt; &amp; Co" in reply.text and "&lt;b&gt;" in reply.text
    assert "<!channel>" not in reply.text
