"""/goal: managers and admins set targets, reps may not; updates are audited.

Team East (USD, America/New_York); NOW is Wed 25 Nov 2026, 10:00 in New York.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from commands.i18n import t
from storage.models import AuditEntry, Goal, Member
from tests.conftest import ADMIN, Run
from tests.messages import bad_input

ALICE = "<@UALICE|alice>"
BOB = "<@UBOB|bob>"


def en(key: str, **values: object) -> str:
    """The English catalog text a user sees, filled with values computed by hand."""
    return t("en", key, **values)


def created(goal_id: int | None, who: str, target: str, period: str) -> str:
    return en("goal.created", id=goal_id, who=who, target=target, period=period)


def count(engine: Engine, model: type[SQLModel]) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def goals(engine: Engine) -> list[Goal]:
    with Session(engine) as s:
        return list(s.exec(select(Goal).order_by(Goal.id)).all())  # type: ignore[arg-type]


def member_id(engine: Engine, user_id: str) -> int | None:
    with Session(engine) as s:
        return s.exec(select(Member.id).where(Member.user_id == user_id)).one()


def test_manager_sets_a_rep_goal(team: Run, engine: Engine) -> None:
    reply = team("UMIA", "/goal", f"set {ALICE} 120000 2026-Q4")
    [goal] = goals(engine)
    assert reply.ok
    assert reply.text == created(goal.id, "alice", "$120,000", "2026-Q4")
    assert (goal.scope, goal.member_id, goal.metric) == (
        "rep",
        member_id(engine, "UALICE"),
        "revenue",
    )
    assert (goal.period, goal.starts_on, goal.ends_on) == (
        "2026-Q4",
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    assert (goal.target, goal.created_by, goal.workspace_id) == (12000000, "UMIA", "T1")
    with Session(engine) as s:
        [entry] = s.exec(select(AuditEntry).where(AuditEntry.entity == "goal")).all()
    assert (entry.action, entry.actor, entry.entity_id, entry.before) == (
        "create",
        "UMIA",
        goal.id,
        None,
    )
    assert entry.after is not None and json.loads(entry.after)["target"] == 12000000


def test_amount_forms_and_deal_count_goals(team: Run, engine: Engine) -> None:
    team("UMIA", "/goal", f"set {ALICE} 1.2m 2026")
    reply = team("UMIA", "/goal", f"set {BOB} 12 2026-11 deals")
    year, deals = goals(engine)
    assert (year.target, year.starts_on, year.ends_on) == (
        120000000,
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    assert reply.text == created(deals.id, "bob", en("metric.count.deals_other", n="12"), "2026-11")
    assert (deals.metric, deals.target) == ("deals", 12)  # a count, not minor units


def test_admin_sets_a_team_goal(team: Run, engine: Engine) -> None:
    reply = team(ADMIN, "/goal", "set team East 500k 2026-Q4")
    [goal] = goals(engine)
    assert reply.ok
    assert reply.text == created(goal.id, en("goal.team_who", team="East"), "$500,000", "2026-Q4")
    assert (goal.scope, goal.member_id, goal.target) == ("team", None, 50000000)


def test_rep_cannot_set_goals(team: Run, engine: Engine) -> None:
    before = (count(engine, Goal), count(engine, AuditEntry), count(engine, Member))
    for text in (f"set {BOB} 1 2026-11", f"set {ALICE} 999999 2026-11", "set team East 1 2026"):
        reply = team("UALICE", "/goal", text)
        assert not reply.ok, text
        assert reply.text == en("error.not_manager_of", team="East")
    assert (count(engine, Goal), count(engine, AuditEntry), count(engine, Member)) == before


def test_update_writes_an_audit_entry_with_before_and_after(team: Run, engine: Engine) -> None:
    team("UMIA", "/goal", f"set {ALICE} 120000 2026-11")
    reply = team("UMIA", "/goal", f"set {ALICE} 110,000 2026-11")
    [goal] = goals(engine)  # updated in place, not a second goal
    assert reply.text == en(
        "goal.updated", id=goal.id, who="alice", target="$110,000", period="2026-11"
    )
    assert goal.target == 11000000
    with Session(engine) as s:
        trail = s.exec(
            select(AuditEntry)
            .where(AuditEntry.entity == "goal", AuditEntry.entity_id == goal.id)
            .order_by(AuditEntry.id)  # type: ignore[arg-type]
        ).all()
    assert [e.action for e in trail] == ["create", "update"]
    update = trail[1]
    assert update.before is not None and update.after is not None
    assert json.loads(update.before)["target"] == 12000000
    assert json.loads(update.after)["target"] == 11000000
    assert update.actor == "UMIA"


def test_a_different_metric_is_a_different_goal(team: Run, engine: Engine) -> None:
    team("UMIA", "/goal", f"set {ALICE} 120000 2026-11")
    team("UMIA", "/goal", f"set {ALICE} 10 2026-11 deals")
    assert [(g.metric, g.target) for g in goals(engine)] == [("revenue", 12000000), ("deals", 10)]


GOAL_SUBCOMMANDS = ", ".join(
    f"`/goal {name}`"
    for name in ("set", "split", "tree", "copy", "adjust", "history", "feedback", "review")
)
# What a manager types, the catalog message expected, and the values it names.
BAD_INPUTS: list[tuple[str, str, dict[str, str]]] = [
    ("set", "error.missing_arg", {"what": "PERIOD"}),
    ("set alice 120000 2026-11", "error.bad_mention", {"value": "alice"}),
    (f"set {ALICE} 120000 2026-13", "error.bad_period", {"value": "2026-13"}),
    (f"set {ALICE} abc 2026-11", "amount.invalid", {"value": "abc"}),
    (f"set {ALICE} 0 2026-11", "amount.not_positive", {"value": "0"}),
    (f"set {ALICE} 1.5 2026-11 deals", "error.bad_count", {"value": "1.5"}),
    ("set team West 1000 2026-11", "error.no_such_team", {"name": "West", "teams": "East"}),
    (
        "frobnicate",
        "error.unknown_subcommand",
        {"word": "frobnicate", "path": "/goal", "choices": GOAL_SUBCOMMANDS},
    ),
    ("splt 7 months", "error.did_you_mean", {"command": "/goal split"}),
]
WITHOUT_USAGE = {"error.unknown_subcommand", "error.did_you_mean"}


def test_bad_input_writes_nothing(team: Run, engine: Engine) -> None:
    before = (count(engine, Goal), count(engine, AuditEntry), count(engine, Member))
    for text, key, values in BAD_INPUTS:
        if key == "error.unknown_subcommand":
            values = {**values, "choices": GOAL_SUBCOMMANDS}
        reply = team("UMIA", "/goal", text)
        assert not reply.ok, text
        if key in WITHOUT_USAGE:
            assert reply.text == en(key, **values), text
        else:
            assert reply.text == bad_input("/goal", text, key, **values), text
        # Every answer shows a correct example, or the valid choices (the team names).
        assert "`" in reply.text or "Teams: East" in reply.text, text
    assert (count(engine, Goal), count(engine, AuditEntry), count(engine, Member)) == before


def test_year_zero_is_a_bad_period(team: Run, engine: Engine) -> None:
    # Was "Something went wrong on our side": periods.parse raised a bare ValueError.
    reply = team("UMIA", "/goal", f"set {ALICE} 1000 0000")
    expected = bad_input("/goal", "set", "error.bad_period", value="0000")
    assert (reply.ok, reply.text) == (False, expected)
    assert count(engine, Goal) == 0


def test_my_goals_lists_current_rep_and_team_goals(team: Run, engine: Engine) -> None:
    team("UMIA", "/goal", f"set {ALICE} 120000 2026-11")
    team("UMIA", "/goal", f"set {ALICE} 50000 2026-10")  # over: not listed
    team(ADMIN, "/goal", "set team East 500k 2026-Q4")
    team("UALICE", "/deal", "25,000 Acme Corp")
    nov, _, q4 = goals(engine)
    reply = team("UALICE", "/goal")
    # 25000 / 120000 = 20.8% -> 21%; 25000 / 500000 = 5%
    revenue = en("metric.revenue")
    assert reply.text.splitlines() == [
        en("goal.title"),
        en(
            "goal.line",
            id=nov.id,
            period="2026-11",
            metric=revenue,
            who="",
            actual="$25,000",
            target="$120,000",
            attainment="21%",
        ),
        en(
            "goal.line",
            id=q4.id,
            period="2026-Q4",
            metric=revenue,
            who=en("goal.scope_team", team="East"),
            actual="$25,000",
            target="$500,000",
            attainment="5%",
        ),
    ]


def test_no_goals(team: Run) -> None:
    reply = team("UBOB", "/goal")
    assert reply.text == en("goal.none")


def test_month_means_the_reps_team_month_not_the_setters(run: Run, engine: Engine) -> None:
    # 2026-11-30 17:00 UTC is already 1 Dec 01:00 in Shanghai. The admin has no team (UTC),
    # yet "month" for a Shanghai rep must be 2026-12, the month the rep's /progress reads.
    from datetime import UTC, datetime

    late = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    run(ADMIN, "/pacer", "setup team create Shanghai tz:Asia/Shanghai currency:CNY")
    run(ADMIN, "/pacer", "setup team add Shanghai <@UWANG|wang>")
    reply = run(ADMIN, "/goal", "set <@UWANG|wang> 100000 month", now=late)
    assert reply.ok and "2026-12" in reply.text
    [goal] = goals(engine)
    assert (goal.starts_on, goal.ends_on) == (date(2026, 12, 1), date(2026, 12, 31))
    assert "no goal" not in run("UWANG", "/progress", now=late).text.lower()


def test_a_rep_who_changes_teams_counts_only_that_teams_deals(run: Run) -> None:
    # Ken sells ¥15,000 for Tokyo (JPY), then moves to East (USD) with a $1,000 goal:
    # the yen deal must not count as dollars there.
    run(ADMIN, "/pacer", "setup team create Tokyo tz:Asia/Tokyo currency:JPY")
    run(ADMIN, "/pacer", "setup team create East tz:America/New_York currency:USD")
    run(ADMIN, "/pacer", "setup team add Tokyo <@UKEN|ken>")
    assert run("UKEN", "/deal", "15000 Sony date:2026-11-02").ok
    run(ADMIN, "/pacer", "setup team move <@UKEN|ken> to East")  # adding him would not move him
    run(ADMIN, "/goal", "set <@UKEN|ken> 1000 month")
    mine = run("UKEN", "/goal").text
    assert "$0 of $1,000 (0%)" in mine, mine
