"""/pacer setup: typed admin commands, the setup form, validation and refusals.

Team East (USD, America/New_York) with reps alice and bob and manager mia comes from the
`team` fixture. NOW is Wed 25 Nov 2026, 10:00 in New York; November 2026 has 21 working
days, 18 elapsed on the 25th.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from commands import router
from commands.i18n import t
from commands.types import FormResult, Request
from storage.engine import session_scope
from storage.models import Goal, Holiday, Member, Membership, Team, Workspace
from tests.conftest import ADMIN, NOW, Run
from tests.messages import bad_input

ALICE = "<@UALICE|alice>"


def en(key: str, **values: object) -> str:
    """The English catalog text a user sees, filled with values computed by hand."""
    return t("en", key, **values)


def team_line(name: str, channel: str, tz: str, currency: str, hour: str) -> str:
    return en("setup.team_line", name=name, channel=channel, tz=tz, currency=currency, hour=hour)


def count(engine: Engine, model: type[SQLModel]) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def snapshot(engine: Engine) -> tuple[int, ...]:
    """Row counts of everything setup can write, plus the fiscal start month."""
    with Session(engine) as s:
        ws = s.get(Workspace, "T1")
        fiscal = ws.fiscal_start_month if ws else 0
    models: list[type[SQLModel]] = [Team, Member, Membership, Holiday, Workspace]
    return (*[count(engine, m) for m in models], fiscal)


def get_team(engine: Engine, name: str) -> Team:
    with Session(engine) as s:
        return s.exec(select(Team).where(Team.name == name)).one()


def roles(engine: Engine, team: str) -> dict[str, str]:
    with Session(engine) as s:
        rows = s.exec(
            select(Member.name, Membership.role)
            .join(Membership, Membership.member_id == Member.id)  # type: ignore[arg-type]
            .join(Team, Team.id == Membership.team_id)  # type: ignore[arg-type]
            .where(Team.name == team, Membership.left_on == None)  # noqa: E711 (current ones)
        ).all()
    return dict(rows)


def expected_line(run: Run) -> str:
    """The progress line with expected to date, for alice's $120,000 November goal."""
    return run("UALICE", "/progress").text.splitlines()[2]


def pace_text(expected: str) -> str:
    return en(
        "progress.pace",
        expected=expected,
        pace="0%",
        status=en("pace.behind"),
        gap=expected,
        gap_word=en("progress.gap_behind"),
    )


def test_team_create_with_every_option(run: Run, engine: Engine) -> None:
    reply = run(
        ADMIN,
        "/pacer",
        "setup team create West <#CWEST|sales-west> tz:Asia/Shanghai currency:cny hour:8:30",
    )
    line = team_line("West", "<#CWEST>", "Asia/Shanghai", "CNY", "08:30")
    assert reply.ok
    assert reply.text == en("setup.team_created", team=line)
    west = get_team(engine, "West")
    assert (west.channel_id, west.tz, west.currency, west.report_hour) == (
        "CWEST",
        "Asia/Shanghai",
        "CNY",
        "08:30",
    )
    assert west.workspace_id == "T1"


def test_team_create_defaults_and_duplicates(run: Run, engine: Engine) -> None:
    reply = run(ADMIN, "/pacer", "setup team create North")
    line = team_line("North", en("setup.no_channel"), "UTC", "USD", "09:00")
    assert reply.text == en("setup.team_created", team=line)
    again = run(ADMIN, "/pacer", "setup team create north")  # names match case-insensitively
    assert (again.ok, again.text) == (False, en("error.team_exists", name="north"))
    assert count(engine, Team) == 1


def test_add_and_remove_members(team: Run, engine: Engine) -> None:
    assert roles(engine, "East") == {"alice": "rep", "bob": "rep", "mia": "manager"}
    reply = team(ADMIN, "/pacer", "setup team add East <@UBOB|bob> as:manager")
    rep, manager = en("role.rep"), en("role.manager")
    changed = en("teams.role_changed", name="bob", team="East", before=rep, after=manager)
    assert reply.text == changed
    assert roles(engine, "East")["bob"] == "manager"
    removed = team(ADMIN, "/pacer", "setup team remove East <@UBOB|bob>")
    assert removed.text == "\n".join(
        [
            en("setup.members_removed", names="bob", team="East"),
            en("teams.on_no_team", name="bob"),
        ]
    )
    assert "bob" not in roles(engine, "East")
    assert team("UBOB", "/deal", "1,000 Acme").text == en("error.no_team")


def test_removing_says_who_was_not_a_member_and_warns_of_a_team_left_without_manager(
    team: Run, engine: Engine
) -> None:
    """Once: "Removed —" for someone not on the team, and nothing said when the last manager
    left. The reply names each outcome."""
    team(ADMIN, "/pacer", "setup team create West")
    reply = team(ADMIN, "/pacer", "setup team remove East <@UZOE|zoe>")
    assert reply.text == en("setup.not_members", names="zoe", team="East")

    both = team(ADMIN, "/pacer", "setup team remove East <@UBOB|bob> <@UZOE|zoe>")
    assert both.text == "\n".join(
        [
            en("setup.members_removed", names="bob", team="East"),
            en("setup.not_members", names="zoe", team="East"),
            en("teams.on_no_team", name="bob"),
        ]
    )
    last = team(ADMIN, "/pacer", "setup team remove East <@UMIA|mia>")
    assert last.text == "\n".join(
        [
            en("setup.members_removed", names="mia", team="East"),
            en("teams.on_no_team", name="mia"),
            en("setup.no_manager_left", team="East"),
        ]
    )
    assert roles(engine, "East") == {"alice": "rep"}


def test_adding_a_rep_to_a_second_team_moves_nobody(team: Run, engine: Engine) -> None:
    """Once: adding alice to West took her off East, silently."""
    team(ADMIN, "/pacer", "setup team create West")
    reply = team(ADMIN, "/pacer", f"setup team add West {ALICE}")
    assert reply.text == "\n".join(
        [
            en("setup.members_added", names="alice", team="West", role=en("role.rep")),
            en("teams.home_stays", name="alice", home="East", team="West"),
            en("setup.no_manager_left", team="West"),
        ]
    )
    assert roles(engine, "East")["alice"] == "rep"
    assert roles(engine, "West") == {"alice": "rep"}


def test_holidays_change_working_days_in_progress(team: Run) -> None:
    team("UMIA", "/goal", f"set {ALICE} 120000 2026-11")
    # 21 working days, 18 elapsed: expected = 120000 x 18 / 21 = 102857.14
    assert expected_line(team) == pace_text("$102,857.14")
    reply = team(ADMIN, "/pacer", "setup holidays add 2026-11-26 2026-11-27 2026-11-28")
    days = "2026-11-26, 2026-11-27, 2026-11-28"
    assert reply.text == en("setup.holidays_added", days=days, scope=en("setup.all_teams"))
    # Thanksgiving and the Friday: 19 days (Sat 28 was no working day anyway), 18 elapsed:
    # expected = 120000 x 18 / 19 = 113684.21
    assert expected_line(team) == pace_text("$113,684.21")
    # A holiday for East only on Wed 11 Nov: 18 days, 17 elapsed: 120000 x 17 / 18 = 113333.33
    team(ADMIN, "/pacer", "setup holidays add 2026-11-11 team:East")
    assert expected_line(team) == pace_text("$113,333.33")
    # Another team's holiday changes nothing for East.
    team(ADMIN, "/pacer", "setup team create West")
    team(ADMIN, "/pacer", "setup holidays add 2026-11-02 team:West")
    assert expected_line(team) == pace_text("$113,333.33")
    days_left = team("UALICE", "/progress").text.splitlines()[3]
    assert days_left == en("progress.run_rate", run_rate="$120,000", days=1, remaining="$120,000")


def test_threshold(team: Run, engine: Engine) -> None:
    reply = team(ADMIN, "/pacer", "setup threshold East 50k")
    assert reply.text == en("setup.threshold_set", team="East", amount="$50,000")
    assert get_team(engine, "East").big_deal_minor == 5000000  # 50,000.00 in cents
    bad = team(ADMIN, "/pacer", "setup threshold East abc")
    expected = bad_input("/pacer", "setup threshold", "amount.invalid", value="abc")
    assert (bad.ok, bad.text) == (False, expected)
    missing = bad_input("/pacer", "setup threshold", "error.missing_arg", what="AMOUNT")
    assert team(ADMIN, "/pacer", "setup threshold").text == missing
    assert get_team(engine, "East").big_deal_minor == 5000000


def test_fiscal_start_changes_what_quarters_mean(team: Run, engine: Engine) -> None:
    team("UMIA", "/goal", f"set {ALICE} 1 2026-Q1")
    reply = team(ADMIN, "/pacer", "setup fiscal-start 4")
    # On 25 Nov 2026 with an April start: FY2026 = Apr 2026 - Mar 2027, Q3 = Oct - Dec.
    assert reply.text.splitlines() == [
        en("setup.fiscal_start_set", month=en("month.4")),
        en(
            "figures.fiscal_start_now",
            year="FY2026 · Apr 2026–Mar 2027",
            quarter="FY2026-Q3 · Oct–Dec 2026",
        ),
        en("figures.fiscal_start_typed", typed="2026-Q3", name="FY2026-Q3"),
        # alice's goal #1 keeps January-March: in the April calendar, FY2025-Q4.
        en("figures.fiscal_start_goals", n=1, id=1, period="FY2025-Q4 · Jan–Mar 2026"),
    ]
    team("UMIA", "/goal", "set <@UBOB|bob> 2 2026-Q1")
    team("UMIA", "/goal", "set <@UBOB|bob> 3 year")
    with Session(engine) as s:
        spans = [(g.period, g.starts_on, g.ends_on) for g in s.exec(select(Goal)).all()]
    assert sorted(spans) == [
        # Calendar Q1 before the change, named 2026-Q1; fiscal Q1 = April to June after it.
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("FY2026", date(2026, 4, 1), date(2027, 3, 31)),
        ("FY2026-Q1", date(2026, 4, 1), date(2026, 6, 30)),
    ]
    shown = team("UALICE", "/pacer", "setup show").text.splitlines()[0]
    assert shown == en("setup.title", month=en("month.4"))
    # Back to January: FY labels go, and the fiscal goals keep their dates too.
    back = team(ADMIN, "/pacer", "setup fiscal-start 1").text.splitlines()
    assert back[1:] == [
        en("figures.fiscal_start_now", year="2026", quarter="2026-Q4"),
        en("figures.fiscal_start_goals", n=3, id=1, period="2026-Q1"),
    ]


def test_a_relabelled_period_does_not_keep_stale_dates(team: Run, engine: Engine) -> None:
    # Goals were matched by label: after the change, setting alice's "2026-Q1" updated her
    # calendar Q1 goal (January-March) instead of setting one for April-June.
    team("UMIA", "/goal", f"set {ALICE} 1 2026-Q1")
    team(ADMIN, "/pacer", "setup fiscal-start 4")
    team("UMIA", "/goal", f"set {ALICE} 2 2026-Q1")
    with Session(engine) as s:
        spans = {(g.starts_on, g.ends_on, g.target) for g in s.exec(select(Goal)).all()}
    # Targets in cents: $1 and $2.
    assert spans == {
        (date(2026, 1, 1), date(2026, 3, 31), 100),
        (date(2026, 4, 1), date(2026, 6, 30), 200),
    }


TEAM = "/pacer setup team"
SETUP_WORDS = (
    "show",
    "team",
    "holidays",
    "admin",
    "bonus",
    "threshold",
    "celebrations",
    "fiscal-start",
    "integration",
)


def test_validation_errors_write_nothing(team: Run, engine: Engine) -> None:
    cases = [
        ("setup team create West tz:Mars/Base", "error.bad_tz", {"value": "Mars/Base"}),
        ("setup team create West currency:XYZ", "error.bad_currency", {"value": "XYZ"}),
        ("setup team create West hour:25:00", "error.bad_hour", {"value": "25:00"}),
        ("setup team create West hour:9am", "error.bad_hour", {"value": "9am"}),
        ("setup team create West channel:general", "error.bad_channel", {"value": "general"}),
        ("setup team set East tz:Nowhere", "error.bad_tz", {"value": "Nowhere"}),
        ("setup team add East <@UZED|zed> as:boss", "error.bad_role", {"value": "boss"}),
        ("setup team add East <@UZED|zed> bob", "error.bad_mention", {"value": "bob"}),
        ("setup team add Nowhere <@UZED|zed>", "error.no_such_team", {"name": "Nowhere"}),
        ("setup fiscal-start 13", "error.bad_month", {"value": "13"}),
        ("setup fiscal-start 0", "error.bad_month", {"value": "0"}),
        ("setup fiscal-start April", "error.bad_month", {"value": "April"}),
        ("setup holidays add 2026-02-30", "error.bad_date", {"value": "2026-02-30"}),
        ("setup frobnicate", "error.unknown_subcommand", {"word": "frobnicate"}),
        ("setup tema add East <@UZED|zed>", "error.did_you_mean", {"command": "/pacer setup team"}),
        (
            "setup team ad East <@UZED|zed>",
            "error.did_you_mean",
            {"command": "/pacer setup team add"},
        ),
    ]
    before = snapshot(engine)
    for text, key, values in cases:
        if key == "error.no_such_team":
            values = {**values, "teams": "East"}
        reply = team(ADMIN, "/pacer", text)
        if key == "error.unknown_subcommand":
            choices = ", ".join(f"`/pacer setup {w}`" for w in SETUP_WORDS)
            values = {**values, "path": "/pacer setup", "choices": choices}
        if key in ("error.unknown_subcommand", "error.did_you_mean"):
            assert (reply.ok, reply.text) == (False, en(key, **values)), text
        else:
            assert (reply.ok, reply.text) == (False, bad_input("/pacer", text, key, **values)), text
    assert snapshot(engine) == before
    assert get_team(engine, "East").tz == "America/New_York"


def test_currency_is_locked_once_a_team_has_deals(team: Run, engine: Engine) -> None:
    team("UALICE", "/deal", "1,000 Acme")
    reply = team(ADMIN, "/pacer", "setup team set East currency:CNY")
    assert (reply.ok, reply.text) == (
        False,
        en("error.currency_locked", team="East", currency="USD"),
    )
    assert get_team(engine, "East").currency == "USD"


def test_non_admins_are_refused_and_nothing_is_written(team: Run, engine: Engine) -> None:
    before = snapshot(engine)
    attempts = [
        "setup team create West",
        "setup team add East <@UZED|zed>",
        "setup team remove East <@UBOB|bob>",
        "setup team set East tz:Asia/Shanghai",
        "setup holidays add 2026-11-26",
        "setup threshold East 50k",
        "setup fiscal-start 4",
        "setup admin add <@UALICE|alice>",
        "setup integration create zapier",
    ]
    for user in ("UALICE", "UMIA", "UZED"):
        for text in attempts:
            reply = team(user, "/pacer", text)
            assert (reply.ok, reply.text) == (False, en("error.admins_only")), (user, text)
    assert snapshot(engine) == before  # not even a member row for zed
    assert get_team(engine, "East").big_deal_minor is None


def test_setup_alone_opens_the_form_for_admins_and_shows_others(team: Run) -> None:
    form = team(ADMIN, "/pacer", "setup").form
    assert form is not None and form.callback_id == "pacer_setup"
    names = [f.name for f in form.fields]
    assert names == [
        "team",
        "channel",
        "reps",
        "managers",
        "tz",
        "currency",
        "hour",
        "fiscal_start",
    ]
    shown = team("UALICE", "/pacer", "setup")
    assert shown.form is None
    line = team_line("East", "<#CEAST>", "America/New_York", "USD", "09:00")
    assert shown.text.splitlines()[:2] == [en("setup.title", month=en("month.1")), line]


def submit(
    engine: Engine, user: str, values: dict[str, str], lists: dict[str, list[str]]
) -> FormResult:
    req = Request(workspace_id="T1", user_id=user, text="", now=NOW, admin_ids=frozenset({ADMIN}))
    with session_scope(engine) as s:
        return router.submit("pacer_setup", values, lists, req, s)


FORM = {
    "team": "West",
    "channel": "CWEST",
    "tz": "Asia/Shanghai",
    "currency": "CNY",
    "hour": "08:30",
    "fiscal_start": "4",
}


def test_setup_form_creates_a_team(team: Run, engine: Engine) -> None:
    result = submit(engine, ADMIN, FORM, {"reps": ["UCAROL"], "managers": ["UMIA"]})
    assert result.errors == {}
    assert result.reply is not None
    line = team_line("West", "<#CWEST>", "Asia/Shanghai", "CNY", "08:30")
    assert result.reply.text == "\n".join(
        [
            en("setup.team_saved", team=line),
            en("setup.members_added", names="mia", team="West", role=en("role.manager")),
            en("setup.members_added", names="UCAROL", team="West", role=en("role.rep")),
        ]
    )
    west = get_team(engine, "West")
    assert (west.channel_id, west.tz, west.currency, west.report_hour) == (
        "CWEST",
        "Asia/Shanghai",
        "CNY",
        "08:30",
    )
    assert roles(engine, "West") == {"UCAROL": "rep", "mia": "manager"}
    with Session(engine) as s:
        ws = s.get(Workspace, "T1")
        assert ws is not None and ws.fiscal_start_month == 4
    # mia still manages East too.
    assert roles(engine, "East")["mia"] == "manager"


def test_setup_form_updates_a_team_by_name(team: Run, engine: Engine) -> None:
    values = {**FORM, "team": "East", "currency": "USD", "channel": ""}
    result = submit(engine, ADMIN, values, {"reps": ["UCAROL"]})
    assert result.errors == {}
    east = get_team(engine, "East")
    assert (east.tz, east.report_hour, east.channel_id) == ("Asia/Shanghai", "08:30", "CEAST")
    assert count(engine, Team) == 1
    assert roles(engine, "East")["UCAROL"] == "rep"


def test_setup_form_errors_keep_it_open_and_write_nothing(team: Run, engine: Engine) -> None:
    before = snapshot(engine)
    bad = {**FORM, "team": " ", "tz": "Mars/Base", "currency": "XYZ", "hour": "25:00"}
    result = submit(engine, ADMIN, bad, {"reps": ["UCAROL"]})
    assert result.errors == {
        "team": en("error.team_name_required"),
        "tz": en("error.bad_tz", value="Mars/Base"),
        "currency": en("error.bad_currency", value="XYZ"),
        "hour": en("error.bad_hour", value="25:00"),
    }
    assert result.reply is None
    refused = submit(engine, "UALICE", FORM, {"reps": ["UCAROL"]})
    assert refused.errors == {"team": en("error.admins_only")}
    assert snapshot(engine) == before


def test_setup_form_cannot_change_the_currency_of_a_team_with_deals(
    team: Run, engine: Engine
) -> None:
    # The form used to switch East to CNY although '/pacer setup team set' refuses it.
    team("UALICE", "/deal", "1,000 Acme")
    before = snapshot(engine)
    result = submit(engine, ADMIN, {**FORM, "team": "East", "channel": ""}, {"reps": ["UCAROL"]})
    locked = en("error.currency_locked", team="East", currency="USD")
    assert (result.errors, result.reply) == ({"currency": locked}, None)
    east = get_team(engine, "East")
    assert (east.currency, east.tz) == ("USD", "America/New_York")
    assert snapshot(engine) == before


def test_a_team_name_longer_than_80_characters_is_refused(run: Run) -> None:
    name = "N" * 81
    reply = run(ADMIN, "/pacer", f"setup team create {name}")
    assert not reply.ok
    assert reply.text == bad_input(
        "/pacer", "setup team create", "error.team_name_too_long", limit="80"
    )
    assert "N" * 80 not in run(ADMIN, "/pacer", "setup show").text
