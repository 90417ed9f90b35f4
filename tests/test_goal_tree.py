"""/goal split, /goal tree, /goal copy, workspace goals and roll-up flags.

Team East (USD, America/New_York), reps alice and bob, manager mia; NOW is Wed 25 Nov 2026.
Working days by hand (no holidays): Apr 2026 22, May 21, Jun 22, Jul 23, Aug 21, Sep 22,
Oct 22, Nov 21, Dec 23, Jan 2027 21, Feb 20, Mar 23.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy import text as sql
from sqlmodel import Session, col, select

from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import AuditEntry, Goal
from tests.conftest import ADMIN, Run
from tests.messages import usage_line

ALICE = "<@UALICE|alice>"
BOB = "<@UBOB|bob>"


def live(engine: Engine) -> list[Goal]:
    with Session(engine) as s:
        rows = s.exec(select(Goal).where(col(Goal.deleted_at).is_(None)).order_by(col(Goal.id)))
        return list(rows.all())


def one(engine: Engine, period: str, scope: str = "team") -> Goal:
    [goal] = [g for g in live(engine) if g.period == period and g.scope == scope]
    return goal


def parts(engine: Engine, parent: Goal) -> list[tuple[str, date, date, int]]:
    return [
        (g.period, g.starts_on, g.ends_on, g.target)
        for g in live(engine)
        if g.parent_id == parent.id
    ]


def team_goal(run: Run, engine: Engine, amount: str, period: str) -> Goal:
    assert run("UMIA", "/goal", f"set team East {amount} {period}").ok
    return one(engine, period)


# --- splitting over time -------------------------------------------------------------------------


def test_april_fiscal_year_splits_into_quarters_by_working_days(team: Run, engine: Engine) -> None:
    assert team(ADMIN, "/pacer", "setup fiscal-start 4").ok
    year = team_goal(team, engine, "1.2m", "FY2026")
    assert (year.starts_on, year.ends_on) == (date(2026, 4, 1), date(2027, 3, 31))
    reply = team("UMIA", "/goal", f"split {year.id} quarters include:past")
    assert reply.ok
    # 65, 66, 66 and 64 of 261 working days, in whole dollars: 1,200,000 x 65/261 =
    # 298,850.57, x 66/261 = 303,448.28 (twice), x 64/261 = 294,252.87. Floors sum to
    # 1,199,998; the two dollars left go to the largest remainders (.87, .57).
    assert parts(engine, year) == [
        ("FY2026-Q1", date(2026, 4, 1), date(2026, 6, 30), 29_885_100),
        ("FY2026-Q2", date(2026, 7, 1), date(2026, 9, 30), 30_344_800),
        ("FY2026-Q3", date(2026, 10, 1), date(2026, 12, 31), 30_344_800),
        ("FY2026-Q4", date(2027, 1, 1), date(2027, 3, 31), 29_425_300),
    ]
    q1, q2, q3, q4 = [g.id for g in live(engine)[1:]]
    assert reply.text.splitlines() == [
        f"✂️ Goal `#{year.id}` (team East, FY2026, $1,200,000) split by working days into 4 "
        "quarters:",
        f"• `#{q1}` *FY2026-Q1* team East: $298,851",
        f"• `#{q2}` *FY2026-Q2* team East: $303,448",
        f"• `#{q3}` *FY2026-Q3* team East: $303,448",
        f"• `#{q4}` *FY2026-Q4* team East: $294,253",
    ]


def test_april_fiscal_year_splits_evenly_into_twelve_months(team: Run, engine: Engine) -> None:
    team(ADMIN, "/pacer", "setup fiscal-start 4")
    year = team_goal(team, engine, "1.2m", "FY2026")
    assert team("UMIA", "/goal", f"split {year.id} months even include:past").ok
    months = parts(engine, year)
    assert [m[0] for m in months] == [
        "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09",
        "2026-10", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03",
    ]  # fmt: skip
    assert {m[3] for m in months} == {10_000_000}
    assert (months[0][1], months[-1][2]) == (date(2026, 4, 1), date(2027, 3, 31))


def test_a_month_with_team_holidays_splits_by_working_days(team: Run, engine: Engine) -> None:
    assert team(ADMIN, "/pacer", "setup holidays add 2026-12-24 2026-12-25 team:East").ok
    q4 = team_goal(team, engine, "64000", "2026-Q4")
    assert team("UMIA", "/goal", f"split {q4.id} months workdays include:past").ok
    # October 22, November 21, December 23 - 2 holidays = 21: 64 days, $1,000 a day.
    assert [(p[0], p[3]) for p in parts(engine, q4)] == [
        ("2026-10", 2_200_000),
        ("2026-11", 2_100_000),
        ("2026-12", 2_100_000),
    ]
    december = one(engine, "2026-12")
    reply = team("UMIA", "/goal", f"split {december.id} weeks")
    # Tue 1 - Sun 6 Dec: 4 days; W50, W51: 5 each; W52 loses Thu 24 and Fri 25: 3;
    # Mon 28 - Thu 31 Dec (W53 runs on into January): 4.
    lines = reply.text.splitlines()
    assert lines[0] == (
        f"✂️ Goal `#{december.id}` (team East, 2026-12, $21,000) split by working days into 5 weeks:"
    )
    assert [line.split("*", 1)[1] for line in lines[1:]] == [
        "2026-W49 (12-01–12-06)* team East: $4,000",
        "2026-W50* team East: $5,000",
        "2026-W51* team East: $5,000",
        "2026-W52* team East: $3,000",
        "2026-W53 (12-28–12-31)* team East: $4,000",
    ]
    w53 = next(g for g in live(engine) if g.period == "2026-W53")
    assert (w53.starts_on, w53.ends_on) == (date(2026, 12, 28), date(2026, 12, 31))


def test_weeks_of_november_leave_out_the_sunday_scrap(team: Run, engine: Engine) -> None:
    november = team_goal(team, engine, "100000", "2026-11")
    reply = team("UMIA", "/goal", f"split {november.id} weeks include:past")
    # Sun 1 Nov (W44) has no working day; W45-W48 have 5, Mon 30 Nov (W49) 1: 21 days.
    # $100,000 x 5/21 = 23,809.52; x 1/21 = 4,761.90; the 3 spare dollars go to the
    # largest remainders: W49 (.90), then W45 and W46 (.52, the earlier first).
    assert [(p[0], p[3]) for p in parts(engine, november)] == [
        ("2026-W45", 2_381_000),
        ("2026-W46", 2_381_000),
        ("2026-W47", 2_380_900),
        ("2026-W48", 2_380_900),
        ("2026-W49", 476_200),
    ]
    assert "*2026-W49 (11-30)* team East: $4,762" in reply.text


def test_a_whole_goal_splits_into_whole_dollars_that_add_up(team: Run, engine: Engine) -> None:
    q1 = team_goal(team, engine, "100000", "2027-Q1")
    reply = team("UMIA", "/goal", f"split {q1.id} months even")
    # $100,000 / 3 = 33,333.33: whole dollars, the spare dollar to the first month.
    assert [p[3] for p in parts(engine, q1)] == [3_333_400, 3_333_300, 3_333_300]
    assert sum(p[3] for p in parts(engine, q1)) == q1.target == 10_000_000
    assert "2027-01* team East: $33,334\n" in reply.text
    assert reply.text.endswith("2027-03* team East: $33,333")
    assert "⚠️" not in team("UMIA", "/goal", "tree 2027-Q1").text  # nothing to flag


def test_only_a_goal_with_cents_splits_into_cents(team: Run, engine: Engine) -> None:
    q1 = team_goal(team, engine, "90000.02", "2027-Q1")
    reply = team("UMIA", "/goal", f"split {q1.id} months even")
    # 9,000,002 cents / 3 = 3,000,000.67: the two spare cents to the first two months.
    assert [p[3] for p in parts(engine, q1)] == [3_000_001, 3_000_001, 3_000_000]
    assert "2027-01* team East: $30,000.01" in reply.text
    assert reply.text.endswith("2027-03* team East: $30,000")


def test_a_count_goal_splits_into_whole_counts(team: Run, engine: Engine) -> None:
    assert team("UMIA", "/goal", "set team East 10 2027-Q1 deals").ok
    q1 = one(engine, "2027-Q1")
    assert team("UMIA", "/goal", f"split {q1.id} months even").ok
    assert [p[3] for p in parts(engine, q1)] == [4, 3, 3]


def test_seasonal_split_follows_last_years_actuals(team: Run, engine: Engine) -> None:
    for text in (
        "20000 Acme date:2025-10-15",
        "30000 Beta date:2025-11-10",
        "50000 Cy date:2025-12-05",
    ):
        assert team("UALICE", "/deal", text).ok
    assert team("UALICE", "/deal", "99000 Lost date:2025-10-20 stage:lost").ok  # not won
    q4 = team_goal(team, engine, "200000", "2026-Q4")
    reply = team("UMIA", "/goal", f"split {q4.id} months seasonal include:past")
    # Last year: 20% in October, 30% in November, 50% in December.
    assert [p[3] for p in parts(engine, q4)] == [4_000_000, 6_000_000, 10_000_000]
    assert reply.text.splitlines()[0].endswith("split by last year's actuals into 3 months:")
    assert "instead" not in reply.text


def test_seasonal_split_without_history_falls_back_to_working_days(
    team: Run, engine: Engine
) -> None:
    q4 = team_goal(team, engine, "66000", "2026-Q4")
    reply = team("UMIA", "/goal", f"split {q4.id} months seasonal include:past")
    # October 22, November 21, December 23 working days: $1,000 a day.
    assert [p[3] for p in parts(engine, q4)] == [2_200_000, 2_100_000, 2_300_000]
    assert reply.text.splitlines()[:2] == [
        f"✂️ Goal `#{q4.id}` (team East, 2026-Q4, $66,000) split by working days into 3 months:",
        "No actuals a year before 2026-10, 2026-11, 2026-12 to go by, "
        "so this split is by working days instead.",
    ]


def test_seasonal_split_with_partial_history_says_which_parts_lack_it(
    team: Run, engine: Engine
) -> None:
    team("UALICE", "/deal", "20000 Acme date:2025-10-15")
    q4 = team_goal(team, engine, "66000", "2026-Q4")
    reply = team("UMIA", "/goal", f"split {q4.id} months seasonal include:past")
    assert [p[3] for p in parts(engine, q4)] == [2_200_000, 2_100_000, 2_300_000]
    assert "No actuals a year before 2026-11, 2026-12 to go by" in reply.text


# --- splitting between reps ----------------------------------------------------------------------


def test_a_team_goal_splits_between_its_reps_by_weights(team: Run, engine: Engine) -> None:
    q4 = team_goal(team, engine, "500000", "2026-Q4")
    reply = team("UMIA", "/goal", f"split {q4.id} reps weights:60,40")
    assert reply.ok
    reps = [g for g in live(engine) if g.scope == "rep"]
    assert [(g.member_id is not None, g.target, g.parent_id, g.period) for g in reps] == [
        (True, 30_000_000, q4.id, "2026-Q4"),
        (True, 20_000_000, q4.id, "2026-Q4"),
    ]
    assert reply.text.splitlines()[1:] == [
        f"• `#{reps[0].id}` *2026-Q4* alice: $300,000",
        f"• `#{reps[1].id}` *2026-Q4* bob: $200,000",
    ]


def test_a_rep_goal_set_directly_is_kept_and_the_rest_split(team: Run, engine: Engine) -> None:
    team("UMIA", "/goal", f"set {ALICE} 100000 2026-Q4")
    alice = one(engine, "2026-Q4", "rep")
    q4 = team_goal(team, engine, "500000", "2026-Q4")
    reply = team("UMIA", "/goal", f"split {q4.id} reps")
    reps = [g for g in live(engine) if g.scope == "rep"]
    # Alice keeps her $100,000; bob gets the other $400,000 (all of it: one part left).
    assert [(g.id, g.target, g.parent_id, g.origin) for g in reps] == [
        (alice.id, 10_000_000, None, "set"),
        (reps[1].id, 40_000_000, q4.id, "split"),
    ]
    assert reply.text.splitlines() == [
        f"✂️ Goal `#{q4.id}` (team East, 2026-Q4, $500,000) split evenly into 2 reps:",
        f"• `#{alice.id}` *2026-Q4* alice: $100,000, kept: set directly",
        f"• `#{reps[1].id}` *2026-Q4* bob: $400,000",
        "Kept $100,000 of goals this split did not make or may not change; "
        "split the remaining $400,000 among the other parts.",
    ]
    history = team("UMIA", "/goal", f"history {alice.id}").text.splitlines()
    assert history[-1].endswith(
        f"<@UMIA> kept it at $100,000 — kept as it was by a split of goal #{q4.id}"
    )


def test_goals_set_directly_that_take_the_whole_target_refuse_the_split(
    team: Run, engine: Engine
) -> None:
    q1 = team_goal(team, engine, "50000", "2027-Q1")
    team("UMIA", "/goal", f"set {ALICE} 30000 2027-Q1")
    team("UMIA", "/goal", f"set {BOB} 25000 2027-Q1")
    alice, bob = [g for g in live(engine) if g.scope == "rep"]
    with Session(engine) as s:
        audits = len(s.exec(select(AuditEntry)).all())
    reply = team("UMIA", "/goal", f"split {q1.id} reps weights:1,1")
    assert (reply.ok, reply.text) == (
        False,
        f"Goals this split may not change already take $55,000 of the $50,000 of goal "
        f"`#{q1.id}`, leaving nothing for the other parts: "
        f"alice's `#{alice.id}` (2027-Q1, $30,000, set directly); "
        f"bob's `#{bob.id}` (2027-Q1, $25,000, set directly). "
        f"Change those goals or goal `#{q1.id}`, then split again. Nothing was changed.",
    )
    assert [(g.id, g.target) for g in live(engine)] == [
        (q1.id, 5_000_000),
        (alice.id, 3_000_000),
        (bob.id, 2_500_000),
    ]
    with Session(engine) as s:
        assert len(s.exec(select(AuditEntry)).all()) == audits


def test_a_goal_set_directly_that_takes_the_whole_target_leaves_no_zero_parts(
    team: Run, engine: Engine
) -> None:
    q1 = team_goal(team, engine, "50000", "2027-Q1")
    team("UMIA", "/goal", f"set {ALICE} 50000 2027-Q1")
    alice = one(engine, "2027-Q1", "rep")
    reply = team("UMIA", "/goal", f"split {q1.id} reps")
    assert not reply.ok
    assert reply.text.startswith(
        f"Goals this split may not change already take $50,000 of the $50,000 of goal "
        f"`#{q1.id}`, leaving nothing for the other parts: "
        f"alice's `#{alice.id}` (2027-Q1, $50,000, set directly)."
    )
    assert len(live(engine)) == 2  # no $0 goal for bob


def test_a_year_split_keeps_a_live_quarter_goal_and_skips_closed_quarters(
    team: Run, engine: Engine
) -> None:
    year = team_goal(team, engine, "1m", "2026")
    q4 = team_goal(team, engine, "300000", "2026-Q4")
    reply = team("UMIA", "/goal", f"split {year.id} quarters even")
    # Q4 keeps its $300,000; the other $700,000 splits evenly over Q1-Q3 (233,334 +
    # 233,333 + 233,333), but those quarters are over (NOW is 25 Nov): none is created.
    assert [(g.id, g.period, g.target) for g in live(engine)] == [
        (year.id, "2026", 100_000_000),
        (q4.id, "2026-Q4", 30_000_000),
    ]
    assert reply.text.splitlines() == [
        f"✂️ Goal `#{year.id}` (team East, 2026, $1,000,000) split evenly into 4 quarters:",
        f"• `#{q4.id}` *2026-Q4* team East: $300,000, kept: set directly",
        "Kept $300,000 of goals this split did not make or may not change; "
        "split the remaining $700,000 among the other parts.",
        "Skipped 2026-Q1, 2026-Q2, 2026-Q3: already over, so no goals were set for them; "
        "$700,000 of the target is left unassigned for them. "
        "Add `include:past` to split into them too.",
    ]


def test_weeks_already_over_are_skipped_unless_asked_for(team: Run, engine: Engine) -> None:
    november = team_goal(team, engine, "42000", "2026-11")
    reply = team("UMIA", "/goal", f"split {november.id} weeks")
    # 21 working days, $2,000 each: W45-W47 $10,000 each are over (NOW is Wed 25 Nov);
    # W48 (23-29 Nov) $10,000 and W49 (Mon 30 Nov) $2,000 are open.
    assert [(p[0], p[3]) for p in parts(engine, november)] == [
        ("2026-W48", 1_000_000),
        ("2026-W49", 200_000),
    ]
    w48, w49 = [g.id for g in live(engine)[1:]]
    assert reply.text.splitlines()[1:] == [
        f"• `#{w48}` *2026-W48* team East: $10,000",
        f"• `#{w49}` *2026-W49 (11-30)* team East: $2,000",
        "Skipped 2026-W45, 2026-W46, 2026-W47: already over, so no goals were set for them; "
        "$30,000 of the target is left unassigned for them. "
        "Add `include:past` to split into them too.",
    ]
    again = team("UMIA", "/goal", f"split {november.id} weeks include:past")
    assert [(p[0], p[3]) for p in parts(engine, november)] == [
        ("2026-W48", 1_000_000),
        ("2026-W49", 200_000),
        ("2026-W45", 1_000_000),
        ("2026-W46", 1_000_000),
        ("2026-W47", 1_000_000),
    ]
    assert [g.id for g in live(engine)][1:3] == [w48, w49]  # the open weeks keep their IDs
    assert "Skipped" not in again.text
    bad = team("UMIA", "/goal", f"split {november.id} weeks include:future")
    assert bad.text.splitlines()[0] == (
        "`include:future` is not an option of a split: "
        "`include:past` also splits into periods already over."
    )


def test_an_earlier_part_of_a_closed_period_keeps_its_target(team: Run, engine: Engine) -> None:
    november = team_goal(team, engine, "42000", "2026-11")
    team("UMIA", "/goal", f"split {november.id} weeks include:past")
    ids = [g.id for g in live(engine)]
    reply = team("UMIA", "/goal", f"split {november.id} weeks weights:1,1,1,1,2")
    # W45-W47 are over and keep $10,000 each; the other $12,000 splits 1:2 over W48, W49.
    assert [(p[0], p[3]) for p in parts(engine, november)] == [
        ("2026-W45", 1_000_000),
        ("2026-W46", 1_000_000),
        ("2026-W47", 1_000_000),
        ("2026-W48", 400_000),
        ("2026-W49", 800_000),
    ]
    assert [g.id for g in live(engine)] == ids
    assert f"• `#{ids[1]}` *2026-W45* team East: $10,000, kept: its period is over" in reply.text


def test_bad_weights_and_wrong_counts_are_explained_and_write_nothing(
    team: Run, engine: Engine
) -> None:
    q4 = team_goal(team, engine, "500000", "2026-Q4")
    wrong = team("UMIA", "/goal", f"split {q4.id} reps weights:50,30,20")
    assert not wrong.ok
    split_usage = usage_line("/goal", "split")
    assert wrong.text == (
        "3 weights for 2 parts. Give one weight per part, in this order: alice, bob.\n"
        + split_usage
    )
    months = team("UMIA", "/goal", f"split {q4.id} months weights:1,2")
    assert months.text == (
        "2 weights for 3 parts. Give one weight per part, in this order: 2026-10, 2026-11, 2026-12."
        "\n" + split_usage
    )
    bad = team("UMIA", "/goal", f"split {q4.id} months weights:a,b,c")
    assert bad.text.startswith("“a,b,c” are not weights.")
    assert not team("UMIA", "/goal", f"split {q4.id} reps workdays").ok
    assert not team("UMIA", "/goal", f"split {q4.id} months lunar").ok
    assert len(live(engine)) == 1


def test_only_fitting_units_split(team: Run, engine: Engine) -> None:
    november = team_goal(team, engine, "100000", "2026-11")
    reply = team("UMIA", "/goal", f"split {november.id} quarters")
    assert not reply.ok
    assert reply.text.startswith("The 2026-11 goal can't split that way; it splits into: weeks.")
    team("UMIA", "/goal", f"set {ALICE} 100000 2026-Q4")
    alice = one(engine, "2026-Q4", "rep")
    reps = team("UMIA", "/goal", f"split {alice.id} reps")
    assert reps.text == (
        f"Only a team goal splits into its reps, and goal `#{alice.id}` is not a team goal."
    )
    missing = team("UMIA", "/goal", "split 999 months")
    assert missing.text == "There is no goal `#999`. See goals with `/goal` or `/goal tree`."
    assert not team("UMIA", "/goal", "split").ok
    assert len(live(engine)) == 2


# --- splitting again -----------------------------------------------------------------------------


def test_splitting_again_replaces_the_earlier_parts(team: Run, engine: Engine) -> None:
    year = team_goal(team, engine, "1.2m", "2027")
    team("UMIA", "/goal", f"split {year.id} quarters even")
    q1 = one(engine, "2027-Q1")
    team("UMIA", "/goal", f"split {q1.id} reps")
    old = [g.id for g in live(engine) if g.id != year.id]
    assert len(old) == 6  # four quarters, two reps' Q1 goals
    reply = team("UMIA", "/goal", f"split {year.id} months even")
    assert reply.text.splitlines()[-1] == (
        "Replaced 6 earlier parts of this goal (soft-deleted; `/goal history ID` still shows them)."
    )
    months = live(engine)[1:]
    assert [g.period for g in months][:3] == ["2027-01", "2027-02", "2027-03"]
    assert len(months) == 12
    with Session(engine) as s:
        deleted = s.exec(select(AuditEntry).where(AuditEntry.action == "delete")).all()
    assert sorted(e.entity_id for e in deleted) == sorted(old)
    jan, feb, mar = (f"#{g.number}" for g in months[:3])
    reasons = {e.entity_id: e.reason for e in deleted}
    assert reasons[q1.id] == f"replaced by a new split of goal #{year.id}: now {jan}, {feb}, {mar}"
    assert reasons[old[-1]] == f"replaced by a new split of goal #{year.id}"  # bob's Q1 goal
    # The replaced quarter's history is still there, with who deleted it and why.
    history = team("UALICE", "/goal", f"history {q1.id}").text.splitlines()
    assert history[0] == f"*History of goal `#{q1.id}`* (2027-Q1, revenue)"
    assert history[1].endswith(f"<@UMIA> set $300,000 — split of goal #{year.id}")
    assert history[-1].endswith(
        f"<@UMIA> deleted it — replaced by a new split of goal #{year.id}: now {jan}, {feb}, {mar}"
    )


def test_splitting_over_time_leaves_the_split_between_reps(team: Run, engine: Engine) -> None:
    # The case: a rep's goal set directly, the team goal split into reps, then
    # into months. The months split must not touch the reps' goals.
    q1 = team_goal(team, engine, "90000", "2027-Q1")
    team("UMIA", "/goal", f"set {BOB} 30000 2027-Q1")
    bob = one(engine, "2027-Q1", "rep")
    team("UMIA", "/goal", f"split {q1.id} reps")
    alice = next(g for g in live(engine) if g.scope == "rep" and g.id != bob.id)
    assert (alice.target, bob.target) == (6_000_000, 3_000_000)
    reply = team("UMIA", "/goal", f"split {q1.id} months even")
    assert "Replaced" not in reply.text
    reps = [(g.id, g.target) for g in live(engine) if g.scope == "rep"]
    assert reps == [(bob.id, 3_000_000), (alice.id, 6_000_000)]
    assert [p[3] for p in parts(engine, q1) if p[0] != "2027-Q1"] == [3_000_000] * 3
    with Session(engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "delete")).all() == []
    assert team("UMIA", "/goal", f"history {bob.id}").ok


def test_a_part_set_by_hand_after_a_split_is_kept_by_the_next_one(
    team: Run, engine: Engine
) -> None:
    q1 = team_goal(team, engine, "80000", "2027-Q1")
    team("UMIA", "/goal", f"split {q1.id} reps")
    alice, bob = [g.id for g in live(engine) if g.scope == "rep"]
    assert team("UMIA", "/goal", f"set {ALICE} 50000 2027-Q1").ok
    reply = team("UMIA", "/goal", f"split {q1.id} reps weights:1,3")
    assert [(g.id, g.target) for g in live(engine) if g.scope == "rep"] == [
        (alice, 5_000_000),
        (bob, 3_000_000),
    ]
    assert f"• `#{alice}` *2027-Q1* alice: $50,000, kept: set directly" in reply.text


def test_a_part_adjusted_after_a_split_is_kept_by_the_next_one(team: Run, engine: Engine) -> None:
    q1 = team_goal(team, engine, "80000", "2027-Q1")
    team("UMIA", "/goal", f"split {q1.id} months even")
    jan = one(engine, "2027-01")
    assert team("UMIA", "/goal", f"adjust {jan.id} 20000 reason:January is short").ok
    reply = team("UMIA", "/goal", f"split {q1.id} months even")
    # January keeps $20,000; February and March share the other $60,000.
    assert [p[3] for p in parts(engine, q1)] == [2_000_000, 3_000_000, 3_000_000]
    assert f"• `#{jan.id}` *2027-01* team East: $20,000, kept: set directly" in reply.text


def test_splitting_again_the_same_way_keeps_the_parts_ids(team: Run, engine: Engine) -> None:
    q1 = team_goal(team, engine, "90000", "2027-Q1")
    team("UMIA", "/goal", f"split {q1.id} months even")
    before = [g.id for g in live(engine)]
    reply = team("UMIA", "/goal", f"split {q1.id} months weights:1,1,4")
    assert [g.id for g in live(engine)] == before
    assert [p[3] for p in parts(engine, q1)] == [1_500_000, 1_500_000, 6_000_000]
    assert "Replaced" not in reply.text


# --- roll-up and the tree ------------------------------------------------------------------------


def test_rep_goals_short_of_the_team_goal_are_flagged(team: Run, engine: Engine) -> None:
    team_goal(team, engine, "500000", "2026-Q4")
    team("UMIA", "/goal", f"set {ALICE} 300000 2026-Q4")
    team("UMIA", "/goal", f"set {BOB} 180000 2026-Q4")
    mine = team("UALICE", "/goal").text
    assert "⚠️ 2026-Q4 reps add up to $480,000, team goal is $500,000: $20,000 unassigned" in mine
    team("UMIA", "/goal", f"set {BOB} 250000 2026-Q4")
    tree = team("UMIA", "/goal", "tree 2026-Q4").text
    assert "2026-Q4 reps add up to $550,000, team goal is $500,000: $50,000 over-assigned" in tree


def test_the_tree_shows_targets_actuals_and_attainment_at_each_level(
    team: Run, engine: Engine
) -> None:
    year = team_goal(team, engine, "1.2m", "2026")
    team("UMIA", "/goal", f"split {year.id} quarters even include:past")
    q4 = one(engine, "2026-Q4")
    team("UMIA", "/goal", f"split {q4.id} reps")
    team("UALICE", "/deal", "80000 Acme")
    team("UMIA", "/goal", f"set {BOB} 100000 2026-Q4")
    ids = [g.id for g in live(engine)]
    em = "\u2003"
    assert team("UBOB", "/goal", "tree").text.splitlines() == [
        "🌳 *Goals of East · 2026*",
        # 80,000 / 1,200,000 = 6.7%; / 300,000 = 26.7%; / 150,000 = 53.3%
        f"`#{ids[0]}` *2026* team East · revenue: $80,000 of $1,200,000 · *7%*",
        f"{em}`#{ids[1]}` *2026-Q1* team East · revenue: $0 of $300,000 · *0%*",
        f"{em}`#{ids[2]}` *2026-Q2* team East · revenue: $0 of $300,000 · *0%*",
        f"{em}`#{ids[3]}` *2026-Q3* team East · revenue: $0 of $300,000 · *0%*",
        f"{em}`#{ids[4]}` *2026-Q4* team East · revenue: $80,000 of $300,000 · *27%*",
        f"{em * 2}⚠️ 2026-Q4 reps add up to $250,000, team goal is $300,000: $50,000 unassigned",
        f"{em * 2}`#{ids[5]}` *2026-Q4* alice · revenue: $80,000 of $150,000 · *53%*",
        f"{em * 2}`#{ids[6]}` *2026-Q4* bob · revenue: $0 of $100,000 · *0%*",
    ]


def test_the_tree_of_a_named_team_and_period(team: Run, engine: Engine) -> None:
    team(ADMIN, "/pacer", "setup team create West")
    empty = team("UMIA", "/goal", "tree team West 2026-Q4")
    assert empty.text == (
        "No goals for West in 2026-Q4. Set one with `/goal set team West 500000 2026-Q4`."
    )
    assert not team("UMIA", "/goal", "tree sideways").ok


def test_workspace_goals_head_the_tree_and_flag_their_teams(team: Run, engine: Engine) -> None:
    reply = team(ADMIN, "/goal", "set workspace 5m 2026")
    ws = one(engine, "2026", "workspace")
    assert reply.text == f"🎯 Goal `#{ws.id}` set: the workspace, $5,000,000 for 2026."
    team_goal(team, engine, "1.2m", "2026")
    lines = team(ADMIN, "/goal", "tree team East").text.splitlines()
    assert lines[1] == f"`#{ws.id}` *2026* the workspace · revenue: $0 of $5,000,000 · *0%*"
    assert lines[2] == (
        "\u2003⚠️ 2026 teams add up to $1,200,000, workspace goal is $5,000,000: "
        "$3,800,000 unassigned"
    )


def test_new_metrics_can_be_set(team: Run, engine: Engine) -> None:
    assert team("UMIA", "/goal", f"set {ALICE} 5 2026-11 new_customers").ok
    assert team("UMIA", "/goal", f"set {ALICE} 30000 2026-11 collected").ok
    assert [(g.metric, g.target) for g in live(engine)] == [
        ("new_customers", 5),
        ("collected", 3_000_000),
    ]


# --- copy ----------------------------------------------------------------------------------------


def test_copy_repeats_a_periods_goals_and_skips_existing_ones(team: Run, engine: Engine) -> None:
    october = team_goal(team, engine, "250000", "2026-10")
    team("UMIA", "/goal", f"split {october.id} reps weights:2,3 include:past")
    team("UMIA", "/goal", f"set {ALICE} 70000 2026-11")
    alice_nov = one(engine, "2026-11", "rep")
    reply = team("UMIA", "/goal", "copy 2026-10 to 2026-11")
    november = [g for g in live(engine) if g.period == "2026-11"]
    team_nov = next(g for g in november if g.scope == "team")
    bob_nov = next(g for g in november if g.scope == "rep" and g.id != alice_nov.id)
    assert reply.text.splitlines() == [
        "📋 Copied 2 goals from 2026-10 to 2026-11:",
        f"• `#{team_nov.id}` *2026-11* team East: $250,000",
        f"• `#{bob_nov.id}` *2026-11* bob: $150,000",
        f"Skipped, already set for 2026-11: alice (`#{alice_nov.id}`).",
    ]
    assert (team_nov.starts_on, team_nov.ends_on) == (date(2026, 11, 1), date(2026, 11, 30))
    assert bob_nov.parent_id == team_nov.id  # the copy keeps the split's shape
    assert alice_nov.target == 7_000_000
    again = team("UMIA", "/goal", "copy 2026-10 to 2026-11")
    assert again.text.startswith("Skipped, already set for 2026-11: team East")


def test_copy_needs_periods_of_one_kind_and_something_to_copy(team: Run, engine: Engine) -> None:
    kinds = team("UMIA", "/goal", "copy 2026-10 to 2026-Q4")
    assert not kinds.ok and "(2026-10 to 2026-Q4 won't do)" in kinds.text
    assert team("UMIA", "/goal", "copy 2026-10 to 2026-11").text == (
        "There are no goals for 2026-10 to copy."
    )
    assert not team("UMIA", "/goal", "copy 2026-10 2026-11").ok


def test_admins_copy_workspace_goals(team: Run, engine: Engine) -> None:
    team(ADMIN, "/goal", "set workspace 5m 2026")
    reply = team(ADMIN, "/goal", "copy 2026 to 2027")
    assert reply.ok and reply.text.startswith("📋 Copied 1 goals from 2026 to 2027:")
    ws = one(engine, "2027", "workspace")
    assert (ws.target, ws.starts_on) == (500_000_000, date(2027, 1, 1))


# --- refusals ------------------------------------------------------------------------------------

NOT_MANAGER = "Only managers of East and admins can do that. Nothing was changed."
ADMINS_ONLY = "Only Pacer admins set and split workspace goals. Nothing was changed."


def test_a_rep_cannot_split(team: Run, engine: Engine) -> None:
    q4 = team_goal(team, engine, "500000", "2026-Q4")
    reply = team("UALICE", "/goal", f"split {q4.id} reps")
    assert (reply.ok, reply.text) == (False, NOT_MANAGER)
    assert len(live(engine)) == 1


def test_a_manager_of_another_team_cannot_split(team: Run, engine: Engine) -> None:
    team(ADMIN, "/pacer", "setup team create West")
    team(ADMIN, "/pacer", "setup team add West <@UWES|wes> as:manager")
    q4 = team_goal(team, engine, "500000", "2026-Q4")
    reply = team("UWES", "/goal", f"split {q4.id} months")
    assert (reply.ok, reply.text) == (False, NOT_MANAGER)
    assert len(live(engine)) == 1


def test_a_rep_cannot_copy(team: Run, engine: Engine) -> None:
    team_goal(team, engine, "250000", "2026-10")
    reply = team("UALICE", "/goal", "copy 2026-10 to 2026-11")
    assert (reply.ok, reply.text) == (False, NOT_MANAGER)
    assert len(live(engine)) == 1


def test_only_admins_set_or_split_workspace_goals(team: Run, engine: Engine) -> None:
    for user in ("UMIA", "UALICE"):
        reply = team(user, "/goal", "set workspace 5m 2026")
        assert (reply.ok, reply.text) == (False, ADMINS_ONLY)
    assert live(engine) == []
    team(ADMIN, "/goal", "set workspace 5m 2026")
    ws = one(engine, "2026", "workspace")
    reply = team("UMIA", "/goal", f"split {ws.id} quarters")
    assert (reply.ok, reply.text) == (False, ADMINS_ONLY)
    assert len(live(engine)) == 1
    assert team(ADMIN, "/goal", f"split {ws.id} quarters include:past").ok
    assert len(live(engine)) == 5


def test_a_lone_quarter_goal_is_not_a_split_of_the_year(team: Run) -> None:
    # Alice has a 2026 goal and a Q4 goal: Q4 alone is a goal of its own, not three missing
    # quarters. With all four quarters set they tile the year and must add up to it.
    team("UMIA", "/goal", f"set {ALICE} 960000 2026")
    team("UMIA", "/goal", f"set {ALICE} 240000 2026-Q4")
    assert "⚠️" not in team("UALICE", "/goal").text
    for q in ("Q1", "Q2", "Q3"):
        team("UMIA", "/goal", f"set {ALICE} 200000 2026-{q}")
    text = team("UALICE", "/goal").text
    # 3 x 200,000 + 240,000 = 840,000 against 960,000: 120,000 unassigned.
    assert "$840,000" in text and "$120,000" in text and "unassigned" in text


# --- migration ----------------------------------------------------------------------------------


def test_the_migration_tells_split_parts_from_goals_set_directly(tmp_path: Path) -> None:
    # Before 0010 a split also adopted a goal set directly as its part (a parent, but a
    # creation without a reason): that goal counts as set directly, a split's own part not.
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0008")
    goal = (
        "INSERT INTO goal (id, workspace_id, number, scope, team_id, metric, period, starts_on,"
        " ends_on, target, parent_id, created_by, created_at, updated_at) VALUES ({id}, 'T1',"
        " {id}, 'team', 1, 'revenue', '{period}', '{start}', '{end}', 100, {parent}, 'U1',"
        " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    created = (
        "INSERT INTO auditentry (workspace_id, entity, entity_id, action, actor, at, reason)"
        " VALUES ('T1', 'goal', {id}, 'create', 'U1', '2026-01-01 00:00:00', {reason})"
    )
    rows = [
        "INSERT INTO workspace (id, name, fiscal_start_month, created_at)"
        " VALUES ('T1', '', 1, '2026-01-01 00:00:00')",
        "INSERT INTO team (id, workspace_id, name, tz, currency, report_hour, behind_pct,"
        " created_at) VALUES (1, 'T1', 'East', 'UTC', 'USD', '09:00', 90, '2026-01-01 00:00:00')",
        goal.format(id=1, period="2026", start="2026-01-01", end="2026-12-31", parent="NULL"),
        goal.format(id=2, period="2026-Q1", start="2026-01-01", end="2026-03-31", parent=1),
        goal.format(id=3, period="2026-Q2", start="2026-04-01", end="2026-06-30", parent=1),
        created.format(id=1, reason="NULL"),
        created.format(id=2, reason="'split of goal #1'"),
        created.format(id=3, reason="NULL"),  # set directly, adopted by the split later
    ]
    with engine.begin() as conn:
        for statement in rows:
            conn.execute(sql(statement))
    upgrade(engine)
    with engine.connect() as conn:
        origins = conn.execute(sql("SELECT id, origin FROM goal ORDER BY id")).all()
    assert [tuple(r) for r in origins] == [(1, "set"), (2, "split"), (3, "set")]
    engine.dispose()


def test_the_split_speaks_chinese(team: Run, engine: Engine) -> None:
    year = team_goal(team, engine, "1m", "2026")
    q4 = team_goal(team, engine, "300000", "2026-Q4")
    reply = team("UMIA", "/goal", f"split {year.id} quarters even", locale="zh-CN")
    assert reply.text.splitlines()[1:] == [
        f"• `#{q4.id}` *2026-Q4* East 团队：$300,000，保留：直接设置的目标",
        "保留了不是本次拆分产生或不能修改的目标共 $300,000；其余 $700,000 拆分给其他部分。",
        "已跳过 2026-Q1, 2026-Q2, 2026-Q3：这些周期已结束，没有为它们设置目标；"
        "其中 $700,000 的目标额未分配。加上 `include:past` 即可一并拆分。",
    ]
