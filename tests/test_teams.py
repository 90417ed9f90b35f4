"""Teams and roles as they are: several teams per member with a home team, deals credited
to one team, moves from a date, managers who sell, archived teams, holidays and admins.

The `team` fixture: East (USD, New York, channel CEAST) with reps alice and bob and manager
mia. NOW is Wed 25 Nov 2026, 10:00 in New York. Below, West is a CNY team (Shanghai).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from commands import jobs, router
from commands.i18n import t
from commands.types import Reply, Request
from storage import queries
from storage.engine import session_scope
from storage.models import AuditEntry, Deal, Member, Membership, Team
from tests.conftest import ADMIN, Run

ALICE = "<@UALICE|alice>"
BOB = "<@UBOB|bob>"
MIA = "<@UMIA|mia>"
DEC_1 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tue 1 Dec, 10:00 in New York


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def deals_n(n: int) -> str:
    return en("metric.count.deals_one" if n == 1 else "metric.count.deals_other", n=str(n))


def deal_number(reply: Reply) -> int:
    assert reply.ok, reply.text
    return int(reply.buttons[0].value)


def team_of(engine: Engine, user: str) -> str:
    """The name of the team a deal of `user` would count for by default (the home team)."""
    with Session(engine) as s:
        member = s.exec(select(Member).where(Member.user_id == user)).one()
        home = queries.team_of(s, member_id=member.id or 0)
        return home.name if home else ""


def deal_teams(engine: Engine) -> dict[int, tuple[str, str]]:
    """Deal number -> (team name, currency)."""
    with Session(engine) as s:
        rows = s.exec(select(Deal.number, Team.name, Deal.currency).join(Team)).all()
    return {n: (name, cur) for n, name, cur in rows}


@pytest.fixture
def two(team: Run) -> Run:
    """East and West (CNY); alice is on both, East her home team; carol manages West."""
    team(ADMIN, "/pacer", "setup team create West tz:Asia/Shanghai currency:CNY")
    team(ADMIN, "/pacer", "setup team add West <@UCAROL|carol> as:manager")
    team(ADMIN, "/pacer", f"setup team add West {ALICE}")
    return team


# --- several teams, one home --------------------------------------------------------------------


def test_a_deal_counts_for_the_home_team_or_the_one_named(two: Run, engine: Engine) -> None:
    """Once: the second team took alice over, and her next deal showed East's goal with
    West's currency symbol. Now East stays home, and `team:West` credits West in CNY."""
    assert team_of(engine, "UALICE") == "East"
    home = two("UALICE", "/deal", "1,200 Acme")
    west = two("UALICE", "/deal", "8,000 Hooli team:west")
    assert deal_teams(engine) == {
        deal_number(home): ("East", "USD"),
        deal_number(west): ("West", "CNY"),
    }
    credited_east = en("teams.credited", team="East", rep="alice", others="West")
    credited_west = en("teams.credited", team="West", rep="alice", others="East")
    assert home.text.splitlines()[1] == credited_east
    assert west.text.splitlines()[1] == credited_west
    assert "¥8,000" in west.text.splitlines()[0]
    # bob is on East alone: his reply names no team.
    bob = two("UBOB", "/deal", "500 Initech")
    assert not any("Counted for team" in line for line in bob.text.splitlines())


def test_the_standing_line_shows_the_goal_of_the_team_credited(two: Run) -> None:
    """alice has an East goal of $10,000 for November and none on West: a West deal shows
    what she has won for West this month in yuan, never her East goal."""
    assert two("UMIA", "/goal", f"set {ALICE} 10000 2026-11").ok
    east = two("UALICE", "/deal", "1,200 Acme")
    west = two("UALICE", "/deal", "8,000 Hooli team:West")
    assert "$1,200 of $10,000 (12%)" in east.text.splitlines()[-1]
    assert "$10,000" not in west.text
    assert "¥8,000" in west.text.splitlines()[-1]


def test_a_team_target_summed_from_rep_goals_counts_only_that_teams_goals(two: Run) -> None:
    """Without a team goal, West's target is its reps' West goals: alice's East goal of
    $10,000 is not added to her West goal of ¥50,000."""
    assert two("UMIA", "/goal", f"set {ALICE} 10000 2026-11").ok
    assert two("UCAROL", "/goal", f"set {ALICE} 50000 2026-11 team:West").ok
    # carol manages West, not East: alice's home-team goal is not hers to set.
    assert not two("UCAROL", "/goal", f"set {ALICE} 50000 2026-11").ok
    west = two("UCAROL", "/progress", "team West").text
    assert "¥50,000" in west and "¥60,000" not in west


def test_a_deal_for_a_team_the_rep_is_not_on_is_refused(two: Run, engine: Engine) -> None:
    reply = two("UBOB", "/deal", "500 Initech team:West")
    assert (reply.ok, reply.text) == (
        False,
        en("teams.not_on_team", rep="bob", team="West", teams="East"),
    )
    # A manager logging for a rep: the team named must be the rep's and the manager's.
    refused = two("UMIA", "/deal", f"for {ALICE} 700 Acme team:West")
    assert (refused.ok, refused.text) == (False, en("error.not_manager_of", team="West"))
    done = two("UCAROL", "/deal", f"for {ALICE} 700 Acme team:West")
    assert deal_teams(engine)[deal_number(done)] == ("West", "CNY")
    assert count_deals(engine) == 1


def count_deals(engine: Engine) -> int:
    with Session(engine) as s:
        return len(s.exec(select(Deal)).all())


def test_adding_again_says_what_changed(two: Run, engine: Engine) -> None:
    same = two(ADMIN, "/pacer", f"setup team add West {ALICE}")
    assert same.text == en("teams.already_member", names="alice", team="West", role="rep")
    promoted = two(ADMIN, "/pacer", f"setup team add West {ALICE} as:manager")
    assert promoted.text == en(
        "teams.role_changed", name="alice", team="West", before="rep", after="manager"
    )
    # Taking carol's and alice's manager roles away leaves West without one: said.
    two(ADMIN, "/pacer", "setup team remove West <@UCAROL|carol>")
    demoted = two(ADMIN, "/pacer", f"setup team add West {ALICE} as:rep")
    assert demoted.text == "\n".join(
        [
            en("teams.role_changed", name="alice", team="West", before="manager", after="rep"),
            en("setup.no_manager_left", team="West"),
        ]
    )


def test_adding_without_a_role_adds_a_rep_and_warns_of_no_manager(run: Run) -> None:
    """Once: `team add` of a would-be manager without `as:` made them a rep, silently."""
    run(ADMIN, "/pacer", "setup team create North")
    reply = run(ADMIN, "/pacer", "setup team add North <@UZOE|zoe>")
    assert reply.text == "\n".join(
        [
            en("setup.members_added", names="zoe", team="North", role="rep"),
            en("setup.no_manager_left", team="North"),
        ]
    )
    fixed = run(ADMIN, "/pacer", "setup team add North <@UZOE|zoe> as:manager")
    assert fixed.text == en(
        "teams.role_changed", name="zoe", team="North", before="rep", after="manager"
    )


def test_leaving_the_home_team_makes_another_home(two: Run, engine: Engine) -> None:
    """Once: removed from her second team, alice was on no team at all."""
    reply = two(ADMIN, "/pacer", f"setup team remove West {ALICE}")
    assert reply.text == en("setup.members_removed", names="alice", team="West")
    assert team_of(engine, "UALICE") == "East"
    two(ADMIN, "/pacer", f"setup team add West {ALICE}")
    home_gone = two(ADMIN, "/pacer", f"setup team remove East {ALICE}")
    assert home_gone.text == "\n".join(
        [
            en("setup.members_removed", names="alice", team="East"),
            en("teams.home_now", name="alice", team="West"),
        ]
    )
    assert team_of(engine, "UALICE") == "West"


def test_setup_show_marks_home_teams(two: Run) -> None:
    lines = two("UALICE", "/pacer", "setup show").text.splitlines()
    # East: managers mia; reps alice (home here), bob. West: managers carol; reps alice.
    assert lines[3] == f"    {en('role.reps')}: {en('teams.home_mark', name='alice')}, bob"
    west_reps = en("teams.home_elsewhere", name="alice", team="East")
    assert lines[6] == f"    {en('role.reps')}: {west_reps}"


# --- managers who sell, and the team total -------------------------------------------------------


def board_lines(run: Run, text: str = "team East 2026-11 by revenue", **kw: object) -> list[str]:
    return run("UMIA", "/leaderboard", text, **kw).text.splitlines()


def line(badge: str, name: str, revenue: str, n: int) -> str:
    return en(
        "leaderboard.line_no_target", badge=badge, name=name, revenue=revenue, deals=deals_n(n)
    )


def team_actual(run: Run, **kw: object) -> str:
    """The actual of East's November goal as /progress shows it (its second line)."""
    return run("UMIA", "/progress", "team East 2026-11", **kw).text.splitlines()[1]


def test_a_manager_who_sells_is_on_the_leaderboard_and_the_total_adds_up(
    team: Run, engine: Engine
) -> None:
    """Once: mia's own deals counted in East's total but she was not on its leaderboard,
    and promoting a rep to manager took her off it."""
    team("UMIA", "/goal", "set team East 100k 2026-11")
    team("UALICE", "/deal", "3,000 Acme date:2026-11-10")
    team("UBOB", "/deal", "2,500 Initech date:2026-11-12")
    team("UMIA", "/deal", "4,000 Hooli date:2026-11-13")
    team(ADMIN, "/pacer", "setup team add East <@UBOB|bob> as:manager")
    # 3,000 + 2,500 + 4,000 = 9,500 in 3 deals; bob, now a manager, stays on with his deal.
    assert board_lines(team)[1:] == [
        line("🥇", "mia", "$4,000", 1),
        line("🥈", "alice", "$3,000", 1),
        line("🥉", "bob", "$2,500", 1),
        en("teams.total", revenue="$9,500", deals=deals_n(3)),
    ]
    # 9,500 / 100,000 = 9.5%, shown as 10%.
    assert team_actual(team) == en(
        "progress.attainment", actual="$9,500", target="$100,000", attainment="10%"
    )


def test_deals_of_people_no_longer_on_the_team_make_their_own_line(
    team: Run, engine: Engine
) -> None:
    """bob left East on 25 Nov; his deal was then moved to 1 Dec (after he left): December's
    board shows it on the former members' line, and the total still equals /progress."""
    team("UMIA", "/goal", "set team East 50k 2026-12")
    number = deal_number(team("UBOB", "/deal", "1,500 Initech date:2026-11-20"))
    team(ADMIN, "/pacer", f"setup team remove East {BOB}")
    assert team(ADMIN, "/deal", f"edit {number} date:2026-12-01", now=DEC_1).ok
    team("UALICE", "/deal", "2,000 Acme", now=DEC_1)
    lines = board_lines(team, "team East 2026-12 by revenue", now=DEC_1)
    assert lines[1:] == [
        line("🥇", "alice", "$2,000", 1),
        en("teams.former", revenue="$1,500", deals=deals_n(1)),
        en("teams.total", revenue="$3,500", deals=deals_n(2)),
    ]
    # 3,500 / 50,000 = 7%.
    progress = team("UMIA", "/progress", "team East 2026-12", now=DEC_1).text.splitlines()[1]
    assert progress == en("progress.attainment", actual="$3,500", target="$50,000", attainment="7%")


# --- moves --------------------------------------------------------------------------------------


def test_a_move_from_a_date_takes_later_deals_along_and_leaves_earlier_ones(
    two: Run, engine: Engine
) -> None:
    october = deal_number(two("UALICE", "/deal", "1,000 Acme date:2026-10-15"))
    early = deal_number(two("UALICE", "/deal", "2,000 Hooli date:2026-11-10"))
    late = deal_number(two("UALICE", "/deal", "3,000 Initech date:2026-11-20"))
    board_before = board_lines(two, "team East 2026-10 by revenue")
    # West counts in dollars too: a deal in another currency would stay with East
    # (test_issue9_review).
    assert two(ADMIN, "/pacer", "setup team set West currency:USD").ok
    reply = two(ADMIN, "/pacer", f"setup team move {ALICE} to West from 2026-11-16")
    assert reply.text == "\n".join(
        [
            en("teams.moved", name="alice", old="East", new="West", date="2026-11-16"),
            en(
                "teams.moved_deals",
                name="alice",
                old="East",
                new="West",
                date="2026-11-16",
                deals=deals_n(1),
            ),
        ]
    )
    teams = deal_teams(engine)
    assert (teams[october][0], teams[early][0], teams[late][0]) == ("East", "East", "West")
    assert team_of(engine, "UALICE") == "West"
    assert board_lines(two, "team East 2026-10 by revenue") == board_before
    # November: alice was on East until the 16th, on West since.
    assert board_lines(two)[1] == line("🥇", "alice", "$2,000", 1)
    # The re-credit is in the deal's audit trail, reversible from its `before`.
    with Session(engine) as s:
        deal = s.exec(select(Deal).where(Deal.number == late)).one()
        entry = s.exec(
            select(AuditEntry).where(AuditEntry.entity == "deal", AuditEntry.entity_id == deal.id)
        ).all()[-1]
        east = s.exec(select(Team).where(Team.name == "East")).one()
        assert json.loads(entry.before or "{}")["team_id"] == east.id
        assert json.loads(entry.after or "{}")["team_id"] == deal.team_id != east.id
        assert entry.reason == "moved from East to West from 2026-11-16"


def test_a_move_today_leaves_last_month_and_its_champion_as_they_were(
    team: Run, engine: Engine
) -> None:
    team(ADMIN, "/pacer", "setup team create West")
    team("UMIA", "/goal", f"set {ALICE} 10k 2026-11")
    team("UMIA", "/goal", f"set {BOB} 10k 2026-11")
    team("UALICE", "/deal", "9,000 Acme date:2026-11-20")
    team("UBOB", "/deal", "4,000 Initech date:2026-11-20")

    def month_end() -> str:
        with session_scope(engine) as s:
            east = s.exec(select(Team).where(Team.name == "East")).one()
            # The channel's review first; then mia's report.
            notice, *_reports = jobs.notices_for(s, east, "month-end", date(2026, 12, 1))
            return notice.text

    board = board_lines(team, "team East 2026-11", now=DEC_1)
    champion = month_end()
    assert "alice" in champion.splitlines()[1]
    moved = team(ADMIN, "/pacer", f"setup team move {ALICE} to West", now=DEC_1)
    assert moved.text.splitlines() == [
        en("teams.moved", name="alice", old="East", new="West", date="2026-12-01"),
        en("teams.moved_no_deals", name="alice", old="East", new="West", date="2026-12-01"),
    ]
    assert board_lines(team, "team East 2026-11", now=DEC_1) == board
    assert month_end() == champion
    # From today her deals count for West.
    later = deal_number(team("UALICE", "/deal", "100 Umbrella", now=DEC_1))
    assert deal_teams(engine)[later] == ("West", "USD")


def test_moves_that_make_no_sense_are_refused(two: Run, engine: Engine) -> None:
    cases = [
        (f"setup team move {BOB} to East", en("teams.move_same", name="bob", team="East")),
        (
            f"setup team move {BOB} to West from 2026-11-30",
            en("teams.move_future", date="2026-11-30"),
        ),
        (  # the date as an option, as PRODUCT.md writes it
            f"setup team move {BOB} to West date:2026-11-30",
            en("teams.move_future", date="2026-11-30"),
        ),
        (
            "setup team move <@UZED|zed> to West",
            en("error.rep_no_team", rep="zed"),
        ),
    ]
    for text, message in cases:
        reply = two(ADMIN, "/pacer", text)
        assert (reply.ok, reply.text) == (False, message), text
    assert team_of(engine, "UBOB") == "East"


# --- archive, rename ----------------------------------------------------------------------------


def test_an_archived_team_keeps_its_figures_and_takes_no_deals_or_messages(
    team: Run, engine: Engine
) -> None:
    team("UALICE", "/deal", "1,000 Acme date:2026-11-20")
    board = board_lines(team)
    reply = team(ADMIN, "/pacer", "setup team archive east")
    assert reply.text == en("teams.archived_done", team="East")
    refused = team("UALICE", "/deal", "500 Hooli")
    assert (refused.ok, refused.text) == (False, en("teams.archived", team="East"))
    assert board_lines(team) == board
    show = team("UALICE", "/pacer", "setup show").text.splitlines()
    assert show[1].endswith(en("teams.archived_mark"))
    with session_scope(engine) as s:
        assert queries.all_teams(s) == []
        east = s.exec(select(Team)).one()
        assert jobs.notices_for(s, east, "weekly-leaderboard", date(2026, 11, 30)) == []
    form = {"team": "East", "tz": "UTC", "currency": "USD", "hour": "09:00"}
    req = Request(
        workspace_id="T1", user_id=ADMIN, text="", now=DEC_1, admin_ids=frozenset({ADMIN})
    )
    with session_scope(engine) as s:
        result = router.submit("pacer_setup", form, {"reps": ["UZED"]}, req, s)
    assert result.errors == {"team": en("teams.archived", team="East")}
    again = team(ADMIN, "/pacer", "setup team archive East")
    assert again.text == en("teams.already_archived", team="East")
    back = team(ADMIN, "/pacer", "setup team unarchive East")
    assert back.text == en("teams.unarchived", team="East")
    assert team("UALICE", "/deal", "500 Hooli").ok


def test_rename_keeps_names_unique_in_any_case(two: Run, engine: Engine) -> None:
    taken = two(ADMIN, "/pacer", "setup team rename East to west")
    assert (taken.ok, taken.text) == (False, en("error.team_exists", name="west"))
    reply = two(ADMIN, "/pacer", "setup team rename East to Back to School")
    assert reply.text == en("teams.renamed", old="East", new="Back to School")
    # The words before one `to` name the team, so a name may hold "to" itself.
    again = two(ADMIN, "/pacer", "setup team rename back to school to BACK TO SCHOOL")
    assert again.text == en("teams.renamed", old="Back to School", new="BACK TO SCHOOL")
    assert team_of(engine, "UBOB") == "BACK TO SCHOOL"
    usage = two(ADMIN, "/pacer", "setup team rename East")
    assert not usage.ok and en("teams.rename_usage") in usage.text


# --- holidays and admins ------------------------------------------------------------------------


def test_holidays_are_listed_and_removed(two: Run) -> None:
    two(ADMIN, "/pacer", "setup holidays add 2026-12-25")
    two(ADMIN, "/pacer", "setup holidays add 2026-12-24 team:East")
    again = two(ADMIN, "/pacer", "setup holidays add 2026-12-24 2026-12-31 team:East")
    assert again.text.splitlines() == [
        en("setup.holidays_added", days="2026-12-31", scope="East"),
        en("teams.holidays_already", days="2026-12-24", scope="East"),
    ]
    every = en("setup.all_teams")
    assert two(ADMIN, "/pacer", "setup holidays list team:East").text.splitlines() == [
        en("teams.holidays_title", scope="East"),
        en("teams.holiday_line", day="2026-12-24", scope="East"),
        en("teams.holiday_line", day="2026-12-25", scope=every),
        en("teams.holiday_line", day="2026-12-31", scope="East"),
    ]
    assert two(ADMIN, "/pacer", "setup holidays list").text.splitlines()[0] == en(
        "teams.holidays_title_all"
    )
    removed = two(
        ADMIN, "/pacer", "setup holidays remove 2026-12-24 2026-12-25 2027-01-04 team:East"
    )
    assert removed.text.splitlines() == [
        en("teams.holidays_removed", days="2026-12-24", scope="East"),
        en("teams.not_holidays", days="2027-01-04", scope="East"),
        en("teams.holiday_of_every_team", days="2026-12-25", scope="East"),
    ]
    two(ADMIN, "/pacer", "setup holidays remove 2026-12-25")
    assert two(ADMIN, "/pacer", "setup holidays list team:West").text == en(
        "teams.no_holidays", scope="West"
    )


def test_admins_are_listed_and_removed_but_never_the_last(team: Run, engine: Engine) -> None:
    team(ADMIN, "/pacer", f"setup admin add {MIA}")
    already = team(ADMIN, "/pacer", f"setup admin add {MIA}")
    assert already.text == en("teams.already_admins", names="mia")
    listed = team("UMIA", "/pacer", "setup admin list").text
    assert listed == en("teams.admins_title", names=f"{en('teams.env_mark', name='UADMIN')}, mia")
    fixed = team("UMIA", "/pacer", "setup admin remove <@UADMIN|boss>")
    assert fixed.text == en("teams.env_admins", names="boss")  # the name the mention gave
    removed = team(ADMIN, "/pacer", f"setup admin remove {MIA} {BOB}")
    assert removed.text.splitlines() == [
        en("teams.admins_removed", names="mia"),
        en("teams.not_admins", names="bob"),
    ]
    assert not team("UMIA", "/pacer", "setup admin list").ok  # no longer an admin


def test_the_last_admin_cannot_be_removed(engine: Engine) -> None:
    """An admin not named by PACER_ADMINS (an installing user, say) is the only one."""
    req = Request(
        workspace_id="T1", user_id="UOWNER", text="setup admin remove <@UOWNER|o>", now=DEC_1
    )
    with session_scope(engine) as s:
        queries.ensure_member(s, workspace_id="T1", user_id="UOWNER", admin=True)
    with session_scope(engine) as s:
        reply = router.dispatch("/pacer", req, s)
    assert (reply.ok, reply.text) == (False, en("teams.last_admin", names="o"))


# --- the deal form ------------------------------------------------------------------------------


def test_the_deal_form_offers_the_teams_of_a_member_on_several(two: Run, engine: Engine) -> None:
    form = two("UALICE", "/deal").form
    assert form is not None
    field = next(f for f in form.fields if f.name == "team")
    with Session(engine) as s:
        ids = {tm.name: str(tm.id) for tm in s.exec(select(Team)).all()}
    assert field.options == [(ids["East"], "East"), (ids["West"], "West")]
    assert field.initial == ids["East"]
    bob_form = two("UBOB", "/deal").form
    assert bob_form is not None and "team" not in [f.name for f in bob_form.fields]
    values = {"amount": "6,000", "customer": "Hooli", "team": ids["West"], "date": "2026-11-24"}
    req = Request(
        workspace_id="T1", user_id="UALICE", text="", now=datetime(2026, 11, 25, 15, tzinfo=UTC)
    )
    with session_scope(engine) as s:
        result = router.submit("deal_new", values, {}, req, s)
    assert result.errors == {} and result.reply is not None
    assert list(deal_teams(engine).values()) == [("West", "CNY")]


# --- the migration ------------------------------------------------------------------------------


def test_the_migration_makes_the_team_deals_went_to_home(tmp_path: Path) -> None:
    """Before 0009 a member's deals went to their first team as rep, else their first."""
    from sqlalchemy import text as sql

    from storage.engine import make_engine
    from storage.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0008")
    rows = [
        "INSERT INTO workspace (id, name, fiscal_start_month, created_at)"
        " VALUES ('T1', '', 1, '2026-01-01 00:00:00')",
        *(
            "INSERT INTO member (id, workspace_id, user_id, name, is_admin, active, notify,"
            f" created_at) VALUES ({i}, 'T1', 'U{i}', 'm{i}', 0, 1, 1, '2026-01-01 00:00:00')"
            for i in (1, 2)
        ),
        *(
            "INSERT INTO team (id, workspace_id, name, tz, currency, report_hour, behind_pct,"
            f" celebrations_per_day, created_at) VALUES ({i}, 'T1', 'T{i}', 'UTC', 'USD',"
            " '09:00', 90, 3, '2026-01-01 00:00:00')"
            for i in (1, 2)
        ),
        # member 1 manages team 1 and sells for team 2; member 2 manages both.
        "INSERT INTO membership (team_id, member_id, role) VALUES (1, 1, 'manager')",
        "INSERT INTO membership (team_id, member_id, role) VALUES (2, 1, 'rep')",
        "INSERT INTO membership (team_id, member_id, role) VALUES (1, 2, 'manager')",
        "INSERT INTO membership (team_id, member_id, role) VALUES (2, 2, 'manager')",
    ]
    with engine.begin() as conn:
        for statement in rows:
            conn.execute(sql(statement))
    upgrade(engine)
    with Session(engine) as s:
        homes = s.exec(
            select(Membership.member_id, Membership.team_id).where(Membership.home)
        ).all()
    engine.dispose()
    assert sorted(homes) == [(1, 2), (2, 1)]


# --- any sequence of team changes ---------------------------------------------------------------

PEOPLE = ("UANN|ann", "UBEN|ben", "UCEE|cee")
TEAMS = ("North", "South")
Op = tuple[str, int, int, int]  # kind, person, team, number (role, day or amount)
OPS = st.tuples(
    st.sampled_from(("add", "remove", "move", "deal")),
    st.integers(0, len(PEOPLE) - 1),
    st.integers(0, len(TEAMS) - 1),
    st.integers(1, 24),
)


def _apply(run: Run, ws: str, op: Op) -> None:
    kind, person, team_index, number = op
    who, team = f"<@{PEOPLE[person]}>", TEAMS[team_index]
    user = PEOPLE[person].split("|")[0]
    if kind == "add":
        role = "manager" if number % 3 == 0 else "rep"
        run(ADMIN, "/pacer", f"setup team add {team} {who} as:{role}", workspace=ws)
    elif kind == "remove":
        run(ADMIN, "/pacer", f"setup team remove {team} {who}", workspace=ws)
    elif kind == "move":
        since = f"2026-11-{number:02d}"
        run(ADMIN, "/pacer", f"setup team move {who} to {team} from {since}", workspace=ws)
    else:
        named = f" team:{team}" if number % 2 else ""
        run(user, "/deal", f"{number * 100} Acme date:2026-11-{number:02d}{named}", workspace=ws)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, max_size=12))
def test_any_changes_keep_one_home_and_totals_that_add_up(
    run: Run, engine: Engine, ops: list[Op]
) -> None:
    """Whatever admins and reps do, in any order: each member on a team has exactly one
    home team, and each team's leaderboard total is every won deal credited to it."""
    ws = f"TP{uuid.uuid4().hex[:10]}"  # a workspace of its own for each example
    for name in TEAMS:
        run(ADMIN, "/pacer", f"setup team create {name}", workspace=ws)
    for op in ops:
        _apply(run, ws, op)
    with Session(engine) as s:
        members = s.exec(select(Member).where(Member.workspace_id == ws)).all()
        for member in members:
            current = [
                m
                for m in s.exec(select(Membership).where(Membership.member_id == member.id))
                if m.left_on is None
            ]
            assert not current or sum(m.home for m in current) == 1, member.name
        sums = {name: (0, 0) for name in TEAMS}
        for deal, team in s.exec(select(Deal, Team).join(Team).where(Deal.workspace_id == ws)):
            total, n = sums[team.name]
            sums[team.name] = (total + deal.amount_minor, n + 1)
    for name, (minor, n) in sums.items():
        reply = run(ADMIN, "/leaderboard", f"team {name} 2026-11", workspace=ws)
        if n == 0 and not reply.text.startswith("🏆"):
            continue  # no reps and no deals: "no reps yet"
        total = en("teams.total", revenue=f"${minor // 100:,}", deals=deals_n(n))
        lines = reply.text.splitlines()
        assert total in lines, (name, reply.text)
