"""/progress team NAME: each rep's part of the team's goal, and who accounts for its gap.

NOW is Wed 25 Nov 2026 in New York: 18 of November's 21 working days have elapsed.
"""

from __future__ import annotations

from sqlalchemy import Engine

from commands import progress, router
from commands.i18n import t
from commands.types import Reply, Request
from storage.engine import session_scope
from tests.conftest import ADMIN, NOW, Run

ALICE, BOB, CAROL = "<@UALICE|alice>", "<@UBOB|bob>", "<@UCAROL|carol>"


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


def rep(name: str, actual: str, target: str, att: str, pace: str, gap: str, behind: bool) -> str:
    return en(
        "progress.rep_line",
        name=name,
        actual=actual,
        target=target,
        attainment=att,
        pace=pace,
        status=en("pace.behind") if behind else en("pace.on_track"),
        gap=gap,
        gap_word=en("progress.gap_behind") if gap and behind else en("progress.gap_ahead"),
    )


def by_rep(text: str) -> list[str]:
    lines = text.splitlines()
    return lines[lines.index(en("progress.by_rep")) :]


def test_each_rep_under_the_team_most_behind_first(team: Run) -> None:
    assert team(ADMIN, "/pacer", f"setup team add East {CAROL}").ok
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-11").ok
    assert team("UMIA", "/goal", f"set {BOB} 100000 2026-11").ok
    assert team("UALICE", "/deal", "25,000 Acme").ok
    assert team("UBOB", "/deal", "10,000 Globex").ok
    # alice: expected 120,000 x 18/21 = 102,857.14, short 77,857.14; 21% attained, pace 24%.
    # bob: expected 100,000 x 18/21 = 85,714.29, short 75,714.29; 10%, pace 11.7% -> 12%.
    # The team (the reps' goals summed): 220,000 x 18/21 = 188,571.43 expected, 35,000
    # won: 153,571.43 short, alice's 77,857.14 the largest part. carol has no goal.
    assert by_rep(team("UMIA", "/progress", "team East").text) == [
        en("progress.by_rep"),
        rep("alice", "$25,000", "$120,000", "21%", "24%", "$77,857.14", True),
        rep("bob", "$10,000", "$100,000", "10%", "12%", "$75,714.29", True),
        en("progress.rep_no_goal", name="carol", actual="$0"),
        en(
            "progress.gap_owner",
            team="East",
            gap="$153,571.43",
            rep="alice",
            part="$77,857.14",
        ),
    ]


def test_a_team_ahead_names_nobody_and_a_rep_ahead_says_so(team: Run) -> None:
    assert team("UMIA", "/goal", "set team East 21000 2026-11").ok
    assert team("UMIA", "/goal", f"set {ALICE} 10500 2026-11").ok
    assert team("UMIA", "/goal", f"set {BOB} 10500 2026-11").ok
    assert team("UALICE", "/deal", "20,000 Acme").ok
    assert team("UBOB", "/deal", "6,000 Globex").ok
    # Team: 21,000 x 18/21 = 18,000 expected, 26,000 won: ahead. alice: 9,000 expected,
    # 11,000 ahead (190%, pace 222%). bob: 9,000 expected, 3,000 short (57%, pace 67%).
    assert by_rep(team("UMIA", "/progress", "team East").text) == [
        en("progress.by_rep"),
        rep("bob", "$6,000", "$10,500", "57%", "67%", "$3,000", True),
        rep("alice", "$20,000", "$10,500", "190%", "222%", "$11,000", False),
    ]


def test_a_rep_asking_for_themselves_sees_no_team_list(team: Run) -> None:
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-11").ok
    assert en("progress.by_rep") not in team("UALICE", "/progress").text


def test_an_admin_sees_every_team_most_behind_first(team: Run) -> None:
    assert team(
        ADMIN, "/pacer", "setup team create West <#CWEST|sales-west> tz:America/New_York"
    ).ok
    assert team(ADMIN, "/pacer", "setup team add West <@UCARL|carl>").ok
    assert team(ADMIN, "/pacer", "setup team create North <#CNORTH|north>").ok
    assert team("UMIA", "/goal", "set team East 42000 2026-11").ok
    assert team(ADMIN, "/goal", "set team West 21000 2026-11").ok
    assert team("UALICE", "/deal", "30,000 Acme").ok
    assert team("UCARL", "/deal", "6,000 Globex").ok
    # East: 42,000 x 18/21 = 36,000 expected, 30,000 won: 6,000 short (71%, pace 83%).
    # West: 18,000 expected, 6,000 won: 12,000 short (29%, pace 33%): first.
    # Together 18,000 short; West's 12,000 of it. North has no goal.
    lines = team(ADMIN, "/progress", "all").text.splitlines()
    assert lines == [
        en("progress.all_title", period="2026-11"),
        rep("West", "$6,000", "$21,000", "29%", "33%", "$12,000", True),
        rep("East", "$30,000", "$42,000", "71%", "83%", "$6,000", True),
        en("progress.team_no_goal", name="North"),
        en("progress.all_gap_owner", gap="$18,000", team="West", part="$12,000"),
    ]
    refused = team("UALICE", "/progress", "all")
    assert not refused.ok and "West" not in refused.text


def press(engine: Engine, user: str, value: str) -> Reply:
    req = Request(workspace_id="T1", user_id=user, text="", now=NOW, admin_ids=frozenset({ADMIN}))
    with session_scope(engine) as s:
        return router.action(progress.PAGE_ACTION, value, req, s)


def test_a_long_team_is_paged_not_cut(team: Run, engine: Engine) -> None:
    many = " ".join(f"<@UREP{n:02d}|rep{n:02d}>" for n in range(28))
    assert team(ADMIN, "/pacer", f"setup team add East {many}").ok
    assert team("UMIA", "/goal", f"set {ALICE} 120000 2026-11").ok
    first = team("UMIA", "/progress", "team East")
    # 30 reps (alice, bob and 28 more): 25 on the first page, then 5.
    rows = [line for line in first.text.splitlines() if line.startswith("• ")]
    assert len(rows) == progress.PAGE_ROWS
    assert en("progress.by_rep") + " " + en("progress.page_span", first=1, last=25, total=30) in (
        first.text
    )
    [more] = first.buttons
    assert (more.action_id, more.label) == (progress.PAGE_ACTION, en("progress.page_next"))
    second = press(engine, "UMIA", more.value)
    assert second.ok and second.chart is None  # the chart came with the first page
    rest = [line for line in second.text.splitlines() if line.startswith("• ")]
    assert len(rest) == 5
    names = {line.split("*")[1] for line in rows + rest}
    assert len(names) == 30 and {"alice", "bob", "rep00", "rep27"} <= names
    [back] = second.buttons
    assert back.label == en("progress.page_previous")
    assert press(engine, "UMIA", back.value).text == first.text
    # A value naming another workspace's team, or made up, shows nothing.
    assert not press(engine, "UMIA", "team:999:2026-11:2").ok
    assert not press(engine, "UMIA", "nonsense").ok
    assert not press(engine, "UALICE", "all:0:2026-11:1").ok  # every team: admins only


def deal_number(reply: Reply) -> int:
    return int(reply.text.split("`#", 1)[1].split("`", 1)[0])


def test_collected_and_new_customers_split_by_rep_in_one_read_each(team: Run) -> None:
    assert team("UMIA", "/goal", "set team East 30000 2026-11 collected").ok
    assert team("UMIA", "/goal", f"set {ALICE} 21000 2026-11 collected").ok
    assert team("UMIA", "/goal", f"set {BOB} 7000 2026-11 collected").ok
    acme = deal_number(team("UALICE", "/deal", "40,000 Acme date:2026-10-05"))
    beta = deal_number(team("UBOB", "/deal", "10,000 Beta"))
    assert team("UALICE", "/deal", f"paid {acme} 8,000 date:2026-10-30").ok  # October
    assert team("UALICE", "/deal", f"paid {acme} 12,000 date:2026-11-03").ok
    assert team("UBOB", "/deal", f"paid {beta} 6,000").ok
    # alice: 12,000 of 21,000 (57%); expected 18,000, short 6,000, pace 67%.
    # bob: 6,000 of 7,000 (86%); expected 6,000: on pace (100%), 0 short.
    # Team: 30,000 x 18/21 = 25,714.29 expected, 18,000 collected: 7,714.29 short.
    assert by_rep(team("UMIA", "/progress", "team East").text) == [
        en("progress.by_rep"),
        rep("alice", "$12,000", "$21,000", "57%", "67%", "$6,000", True),
        rep("bob", "$6,000", "$7,000", "86%", "100%", "$0", False),
        en("progress.gap_owner", team="East", gap="$7,714.29", rep="alice", part="$6,000"),
    ]
    # New customers this week (23-29 Nov): Acme was first won in October, Beta today.
    assert team("UMIA", "/goal", "set team East 4 2026-W48 new_customers").ok
    assert team("UALICE", "/deal", "1,000 Cyan").ok
    assert team("UALICE", "/deal", "1,000 Dune").ok
    assert team("UBOB", "/deal", "1,000 Acme").ok  # Acme is not new in November
    lines = by_rep(team("UMIA", "/progress", "team East week").text)
    assert [line.split(" · ")[0] for line in lines[1:3]] == [
        en("progress.rep_no_goal", name="alice", actual="2 new customers"),
        en("progress.rep_no_goal", name="bob", actual="1 new customer"),
    ]
