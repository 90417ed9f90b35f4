"""Adjusting targets in chat and reps' feedback answered by managers, through the router.

Team East (USD, America/New_York): reps alice and bob, managers mia and max. Team West:
rep wendy, manager wes. NOW is Wed 25 Nov 2026, 10:00 in New York: November has 21
working days, 18 of them elapsed today included.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.console import Console
from commands import router
from commands.i18n import t
from commands.types import Button, FormResult, Reply, Request
from storage import queries
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import AuditEntry, Feedback, Goal
from tests.conftest import ADMIN, NOW, Run, _drop, _postgres_engine
from tests.messages import bad_input, usage_line

ALICE = "<@UALICE|alice>"


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


@pytest.fixture
def east(team: Run) -> Run:
    """East plus a second manager (max); West with rep wendy and manager wes."""
    assert team(ADMIN, "/pacer", "setup team add East <@UMAX|max> as:manager").ok
    assert team(ADMIN, "/pacer", "setup team create West <#CWEST|sales-west>").ok
    assert team(ADMIN, "/pacer", "setup team add West <@UWENDY|wendy>").ok
    assert team(ADMIN, "/pacer", "setup team add West <@UWES|wes> as:manager").ok
    return team


def set_goal(run: Run, text: str = f"set {ALICE} 100000 month") -> int:
    reply = run("UMIA", "/goal", text)
    assert reply.ok, reply.text
    found = re.search(r"#(\d+)", reply.text)
    assert found
    return int(found[1])


def request(user: str, channel: str | None = None, locale: str = "en-US") -> Request:
    return Request(
        workspace_id="T1",
        user_id=user,
        text="",
        now=NOW,
        locale=locale,
        channel_id=channel,
        admin_ids=frozenset({ADMIN}),
    )


def press(engine: Engine, user: str, action_id: str, value: str) -> Reply:
    with session_scope(engine) as s:
        return router.action(action_id, value, request(user, "DXYZ"), s)


def submit(engine: Engine, user: str, callback_id: str, values: dict[str, str]) -> FormResult:
    with session_scope(engine) as s:
        return router.submit(callback_id, values, {}, request(user), s)


def goal(engine: Engine, goal_id: int) -> Goal:
    with Session(engine) as s:
        found = s.get(Goal, goal_id)
        assert found is not None
        return found


def audits(engine: Engine, goal_id: int) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(queries.audit_trail(s, workspace_id="T1", entity="goal", entity_id=goal_id))


def feedback_rows(engine: Engine) -> list[Feedback]:
    with Session(engine) as s:
        return list(s.exec(select(Feedback).order_by(col(Feedback.id))).all())


def labels(buttons: list[Button]) -> list[tuple[str, str, str]]:
    return [(b.action_id, b.label, b.value) for b in buttons]


# --- /goal adjust ----------------------------------------------------------------------------


def test_a_manager_adjusts_a_target_the_rep_is_told_and_it_is_audited(
    east: Run, engine: Engine
) -> None:
    gid = set_goal(east)

    reply = east("UMIA", "/goal", f"adjust {gid} 110k reason:two new accounts")

    assert reply.ok
    assert reply.text == en(
        "feedback.adjusted", id=gid, old="$100,000", new="$110,000", reason="two new accounts"
    )
    assert goal(engine, gid).target == 11_000_000
    _created, changed = audits(engine, gid)
    assert json.loads(changed.before or "")["target"] == 10_000_000
    assert json.loads(changed.after or "")["target"] == 11_000_000
    assert (changed.actor, changed.reason) == ("UMIA", "two new accounts")
    [notice] = reply.notices
    assert (notice.user_id, notice.key) == ("UALICE", f"adjust:{changed.id}")
    assert notice.text == (
        f"✏️ <@UMIA> changed your goal `#{gid}` (2026-11, revenue) from $100,000 to $110,000. "
        "Reason: two new accounts"
    )


def test_an_admin_may_adjust_and_the_dm_speaks_the_reps_language(east: Run, engine: Engine) -> None:
    gid = set_goal(east)
    with session_scope(engine) as s:
        alice = queries.get_member(s, workspace_id="T1", user_id="UALICE")
        assert alice is not None
        alice.locale = "zh-CN"

    reply = east(ADMIN, "/goal", f"adjust #{gid} 90,000 reason:重新划分区域")

    assert reply.ok and goal(engine, gid).target == 9_000_000
    assert reply.notices[0].text == (
        f"✏️ <@{ADMIN}> 将你的目标 `#{gid}` （2026-11，销售额）从 $100,000 改为 $90,000。"
        "原因：重新划分区域"
    )


def test_a_rep_who_tries_to_adjust_is_refused_and_nothing_changes(
    east: Run, engine: Engine
) -> None:
    gid = set_goal(east)

    reply = east("UALICE", "/goal", f"adjust {gid} 50000 reason:too high")

    assert not reply.ok
    assert reply.text == en("error.not_manager_of", team="East")
    assert reply.notices == []
    assert goal(engine, gid).target == 10_000_000
    assert len(audits(engine, gid)) == 1


def test_a_manager_of_another_team_may_not_adjust(east: Run, engine: Engine) -> None:
    gid = set_goal(east)

    reply = east("UWES", "/goal", f"adjust {gid} 50000 reason:mine now")

    assert reply.text == en("error.not_manager_of", team="East")
    assert goal(engine, gid).target == 10_000_000


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("adjust {gid} 110000", "feedback.reason_needed"),  # no reason
        ("adjust {gid} reason:more", "error.missing_arg"),  # no amount
        ("adjust 999 110000 reason:more", "feedback.no_goal"),
        ("adjust {gid} 100000 reason:same", "feedback.same_target"),
    ],
)
def test_adjust_mistakes_change_nothing(east: Run, engine: Engine, text: str, key: str) -> None:
    gid = set_goal(east)

    reply = east("UMIA", "/goal", text.format(gid=gid))

    assert not reply.ok
    problem = en(key, id=999 if "999" in text else gid, target="$100,000", what="AMOUNT")
    if key in ("feedback.reason_needed", "error.missing_arg"):  # mistyped: how to type it
        problem += "\n" + usage_line("/goal", "adjust")
    assert reply.text == problem
    assert len(audits(engine, gid)) == 1


def test_a_bad_amount_is_explained(east: Run, engine: Engine) -> None:
    gid = set_goal(east)
    reply = east("UMIA", "/goal", f"adjust {gid} lots reason:more")
    # The example is of the command typed (it was a /deal example for any amount).
    assert reply.text == bad_input("/goal", "adjust", "amount.invalid", value="lots")
    assert "`/goal adjust 7 110000 reason:territory change`" in reply.text
    assert goal(engine, gid).target == 10_000_000


# --- /goal history ---------------------------------------------------------------------------


def test_history_lists_every_change_with_who_and_why(east: Run, engine: Engine) -> None:
    gid = set_goal(east)
    east("UMIA", "/goal", f"adjust {gid} 110000 reason:two new accounts")
    east(ADMIN, "/goal", f"adjust {gid} 105000 reason:one account lost")

    reply = east("UALICE", "/goal", f"history {gid}")

    # Audit entries carry the wall clock; the history tells it in the team's time zone.
    when = [e.at.astimezone(ZoneInfo("America/New_York")) for e in audits(engine, gid)]
    stamps = [w.strftime("%Y-%m-%d %H:%M") for w in when]
    assert reply.ok
    assert reply.text.splitlines() == [
        f"*History of goal `#{gid}`* (2026-11, revenue)",
        f"• {stamps[0]} — <@UMIA> set $100,000",
        f"• {stamps[1]} — <@UMIA>: $100,000 → $110,000 — two new accounts",
        f"• {stamps[2]} — <@UADMIN>: $110,000 → $105,000 — one account lost",
    ]


def test_another_rep_may_not_read_a_reps_goal_history(east: Run) -> None:
    gid = set_goal(east)
    reply = east("UBOB", "/goal", f"history {gid}")
    assert not reply.ok
    assert reply.text == en("feedback.history_refused", id=gid)


# --- /goal feedback --------------------------------------------------------------------------


def give_feedback(run: Run, text: str = "Too high after the reorg propose:80000") -> Reply:
    reply = run("UALICE", "/goal", f"feedback {text}")
    assert reply.ok, reply.text
    return reply


def test_feedback_goes_to_each_manager_with_attainment_pace_and_buttons(
    east: Run, engine: Engine
) -> None:
    gid = set_goal(east)
    assert east("UALICE", "/deal", "40,000 Acme").ok

    reply = give_feedback(east)  # no ID: alice's shortest current goal

    [row] = feedback_rows(engine)
    assert (row.goal_id, row.text, row.proposed, row.status) == (
        gid,
        "Too high after the reorg",
        8_000_000,
        "open",
    )
    assert reply.text == en("feedback.sent", id=row.id, goal=gid, who="<@UMAX>, <@UMIA>")
    assert [(n.user_id, n.key) for n in reply.notices] == [
        ("UMAX", f"feedback:{row.id}:UMAX"),
        ("UMIA", f"feedback:{row.id}:UMIA"),
    ]
    # expected 100,000 x 18/21 = 85,714.29; pace 40,000 / 85,714.29 = 46.7%
    assert reply.notices[1].text.splitlines() == [
        f"📝 *Feedback `#{row.id}`* from <@UALICE> on goal `#{gid}` (2026-11, revenue), "
        "target $100,000:",
        "> Too high after the reorg",
        "Proposes a target of *$80,000*.",
        "So far $40,000 — *40%* attained · pace 47% ⚠️ behind pace",
    ]
    assert labels(reply.notices[0].buttons) == [
        ("feedback_accept", "Accept", str(row.id)),
        ("feedback_adjust_open", "Adjust", str(row.id)),
        ("feedback_decline_open", "Decline", str(row.id)),
    ]


def test_feedback_on_a_named_goal_without_a_proposal_has_no_accept(
    east: Run, engine: Engine
) -> None:
    set_goal(east)
    quarter = set_goal(east, f"set {ALICE} 300000 2026-Q4")

    reply = give_feedback(east, f"#{quarter} Q4 ignores the holidays")

    [row] = feedback_rows(engine)
    assert (row.goal_id, row.proposed) == (quarter, None)
    assert [b.action_id for b in reply.notices[0].buttons] == [
        "feedback_adjust_open",
        "feedback_decline_open",
    ]


@pytest.mark.parametrize(
    ("user", "text", "key"),
    [
        ("UALICE", "feedback", "feedback.list_none"),  # no text: the list (empty)
        ("UALICE", "feedback 1", "feedback.text_missing"),  # an ID and nothing to say
        ("UBOB", "feedback 1 not mine", "feedback.not_your_goal"),
        ("UBOB", "feedback looks wrong", "feedback.no_current_goal"),
        ("UALICE", "feedback 1 fine propose:lots", "amount.invalid"),
    ],
)
def test_feedback_mistakes_write_nothing(
    east: Run, engine: Engine, user: str, text: str, key: str
) -> None:
    set_goal(east)
    reply = east(user, "/goal", text)
    problem = en(key, id=1, value="lots")
    if key in ("feedback.text_missing", "amount.invalid"):  # mistyped: how to type it
        problem += "\n" + usage_line("/goal", "feedback")
    assert reply.text == problem
    assert reply.notices == []
    assert feedback_rows(engine) == []


# --- answering -------------------------------------------------------------------------------


def test_accept_sets_the_proposed_target_tells_the_rep_and_updates_every_manager(
    east: Run, engine: Engine
) -> None:
    gid = set_goal(east)
    fid = feedback_rows_after(east, engine)

    reply = press(engine, "UMIA", "feedback_accept", str(fid))

    assert reply.ok
    settled = (
        f"✅ Feedback `#{fid}` from <@UALICE> on goal `#{gid}`: accepted by <@UMIA>. "
        "Target $100,000 → $80,000."
    )
    assert reply.text == settled
    assert goal(engine, gid).target == 8_000_000
    [row] = feedback_rows(engine)
    assert (row.status, row.answered_by, row.new_target) == ("accepted", "UMIA", 8_000_000)
    assert audits(engine, gid)[-1].reason == f"feedback #{fid}: "
    [notice] = reply.notices
    assert (notice.user_id, notice.key) == ("UALICE", f"feedback:{fid}:outcome")
    assert notice.text == (
        f"✅ <@UMIA> accepted your feedback `#{fid}`: goal `#{gid}` is now $80,000 (was $100,000)."
    )
    assert [(u.key, u.text, u.buttons) for u in reply.updates] == [
        (f"feedback:{fid}:UMAX", settled, []),
        (f"feedback:{fid}:UMIA", settled, []),
    ]


def feedback_rows_after(run: Run, engine: Engine, text: str = "Too high propose:80000") -> int:
    give_feedback(run, text)
    row_id = feedback_rows(engine)[-1].id
    assert row_id is not None
    return row_id


def test_the_second_manager_to_answer_is_told_who_did_and_nothing_changes(
    east: Run, engine: Engine
) -> None:
    gid = set_goal(east)
    fid = feedback_rows_after(east, engine)
    assert press(engine, "UMIA", "feedback_accept", str(fid)).ok

    late = press(engine, "UMAX", "feedback_decline_open", str(fid))
    later = press(engine, "UMAX", "feedback_accept", str(fid))

    for reply in (late, later):
        assert not reply.ok and reply.form is None
        assert reply.text == en(
            "feedback.already_answered", id=fid, by="<@UMIA>", status="accepted"
        )
    assert goal(engine, gid).target == 8_000_000
    assert len(audits(engine, gid)) == 2


def test_adjust_opens_a_form_that_checks_the_amount_then_sets_it(east: Run, engine: Engine) -> None:
    gid = set_goal(east)
    fid = feedback_rows_after(east, engine)

    opened = press(engine, "UMAX", "feedback_adjust_open", str(fid))

    assert opened.ok and opened.form is not None
    form = opened.form
    assert (form.callback_id, form.metadata) == ("feedback_adjust", f"DXYZ|{fid}")
    assert [(f.name, f.required, f.initial) for f in form.fields] == [
        ("amount", True, "80000"),
        ("note", False, None),
    ]
    meta = {"_metadata": form.metadata}
    bad = submit(engine, "UMAX", "feedback_adjust", {**meta, "amount": "ninety", "note": ""})
    assert bad.errors == {"amount": en("amount.invalid", value="ninety")}
    assert goal(engine, gid).target == 10_000_000 and feedback_rows(engine)[0].status == "open"

    done = submit(engine, "UMAX", "feedback_adjust", {**meta, "amount": "90k", "note": "meet"})

    assert done.errors == {} and done.reply is not None and done.reply.ok
    assert goal(engine, gid).target == 9_000_000
    assert done.reply.notices[0].text == (
        f"✏️ <@UMAX> answered your feedback `#{fid}`: goal `#{gid}` is now $90,000 "
        "(was $100,000). Note: meet"
    )
    assert audits(engine, gid)[-1].reason == f"feedback #{fid}: meet"


def test_decline_needs_a_reason_keeps_the_target_and_tells_the_rep(
    east: Run, engine: Engine
) -> None:
    gid = set_goal(east)
    fid = feedback_rows_after(east, engine)
    opened = press(engine, "UMIA", "feedback_decline_open", str(fid))
    assert opened.form is not None
    meta = {"_metadata": opened.form.metadata}

    empty = submit(engine, "UMIA", "feedback_decline", {**meta, "reason": "  "})
    assert empty.errors == {"reason": en("feedback.reason_required")}

    done = submit(engine, "UMIA", "feedback_decline", {**meta, "reason": "Company-wide target"})

    assert done.reply is not None and done.reply.ok
    assert goal(engine, gid).target == 10_000_000
    assert len(audits(engine, gid)) == 1
    [row] = feedback_rows(engine)
    assert (row.status, row.answer, row.new_target) == ("declined", "Company-wide target", None)
    assert done.reply.notices[0].text == (
        f"❌ <@UMIA> declined your feedback `#{fid}`: goal `#{gid}` stays $100,000. "
        "Reason: Company-wide target"
    )


def test_accept_without_a_proposal_is_refused(east: Run, engine: Engine) -> None:
    set_goal(east)
    fid = feedback_rows_after(east, engine, "Too high")
    reply = press(engine, "UMIA", "feedback_accept", str(fid))
    assert reply.text == en("feedback.nothing_proposed", id=fid)
    assert feedback_rows(engine)[0].status == "open"


@pytest.mark.parametrize("user", ["UWES", "UBOB", "UALICE"])
@pytest.mark.parametrize("action", ["feedback_accept", "feedback_adjust_open"])
def test_only_the_teams_managers_and_admins_answer(
    east: Run, engine: Engine, user: str, action: str
) -> None:
    gid = set_goal(east)
    fid = feedback_rows_after(east, engine)

    reply = press(engine, user, action, str(fid))

    assert not reply.ok and reply.form is None and reply.notices == []
    assert reply.text == en("error.not_manager_of", team="East")
    assert goal(engine, gid).target == 10_000_000
    assert feedback_rows(engine)[0].status == "open"


def test_a_form_submitted_by_a_manager_of_another_team_is_refused(
    east: Run, engine: Engine
) -> None:
    gid = set_goal(east)
    fid = feedback_rows_after(east, engine)
    meta = {"_metadata": f"|{fid}"}
    result = submit(engine, "UWES", "feedback_adjust", {**meta, "amount": "1", "note": ""})
    assert result.reply is not None and not result.reply.ok
    assert goal(engine, gid).target == 10_000_000


# --- seeing feedback -------------------------------------------------------------------------


def test_review_lists_open_feedback_for_the_managers_teams(east: Run, engine: Engine) -> None:
    gid = set_goal(east)
    fid = feedback_rows_after(east, engine)

    mia = east("UMIA", "/goal", "review")
    wes = east("UWES", "/goal", "review")
    admin = east(ADMIN, "/goal", "review")

    assert mia.text.startswith("*Open target feedback* (1)\n\n📝 *Feedback")
    assert f"on goal `#{gid}`" in mia.text
    assert labels(mia.buttons) == [
        ("feedback_accept", f"Accept #{fid}", str(fid)),
        ("feedback_adjust_open", f"Adjust #{fid}", str(fid)),
        ("feedback_decline_open", f"Decline #{fid}", str(fid)),
    ]
    assert wes.text == en("feedback.review_none")
    assert admin.text == mia.text
    press(engine, "UMIA", "feedback_accept", str(fid))
    assert east("UMIA", "/goal", "review").text == en("feedback.review_none")


def test_a_rep_may_not_review(east: Run) -> None:
    set_goal(east)
    reply = east("UALICE", "/goal", "review")
    assert not reply.ok
    assert reply.text == en("feedback.review_refused")


def test_reps_see_only_their_own_feedback_managers_their_teams(east: Run, engine: Engine) -> None:
    set_goal(east)
    fid = feedback_rows_after(east, engine, "Too high")
    line = f"• `#{fid}` <@UALICE> on goal `#1` — open: Too high"

    assert east("UALICE", "/goal", "feedback").text.splitlines() == ["*Target feedback*", line]
    assert east("UMIA", "/goal", "feedback").text.splitlines() == ["*Target feedback*", line]
    assert east("UBOB", "/goal", "feedback").text == en("feedback.list_none")
    assert east("UWES", "/goal", "feedback").text == en("feedback.list_none")
    assert east("UALICE", "/goal", f"feedback show {fid}").ok
    refused = east("UBOB", "/goal", f"feedback show {fid}")
    assert not refused.ok
    assert refused.text == en("feedback.not_yours", id=fid)
    assert not east("UWES", "/goal", f"feedback show {fid}").ok


# --- the button under /progress and its form ---------------------------------------------------


def test_progress_shows_the_feedback_button_only_on_the_reps_own_goal(east: Run) -> None:
    gid = set_goal(east)
    own = east("UALICE", "/progress")
    assert labels(own.buttons) == [("feedback_open", "Feedback on this target", str(gid))]
    assert east("UMIA", "/progress", ALICE).buttons == []
    assert east("UBOB", "/progress", ALICE).buttons == []


def test_the_feedback_form_validates_inline_then_files_the_feedback(
    east: Run, engine: Engine
) -> None:
    gid = set_goal(east)
    opened = press(engine, "UALICE", "feedback_open", str(gid))
    assert opened.form is not None
    form = opened.form
    assert form.callback_id == "feedback_new"
    assert [(f.name, f.kind, f.required) for f in form.fields] == [
        ("goal", "select", True),
        ("text", "long_text", True),
        ("proposed", "text", False),
    ]
    assert form.fields[0].initial == str(gid)
    assert form.fields[0].options == [(str(gid), f"#{gid} 2026-11 revenue: $100,000")]

    bad = submit(engine, "UALICE", "feedback_new", {"goal": str(gid), "text": "", "proposed": "x"})
    assert bad.errors == {
        "text": en("feedback.text_required"),
        "proposed": en("amount.invalid", value="x"),
    }
    assert feedback_rows(engine) == []

    good = submit(
        engine, "UALICE", "feedback_new", {"goal": str(gid), "text": "Too high", "proposed": "85k"}
    )
    assert good.reply is not None and good.reply.ok
    assert [n.user_id for n in good.reply.notices] == ["UMAX", "UMIA"]
    assert feedback_rows(engine)[0].proposed == 8_500_000


def test_the_feedback_form_is_refused_for_someone_elses_goal(east: Run, engine: Engine) -> None:
    gid = set_goal(east)
    assert press(engine, "UBOB", "feedback_open", str(gid)).text == en(
        "feedback.not_your_goal", id=gid
    )
    result = submit(engine, "UBOB", "feedback_new", {"goal": str(gid), "text": "x"})
    assert result.errors == {"goal": en("feedback.pick_goal")}


# --- two managers at once ----------------------------------------------------------------------


@pytest.fixture(params=["sqlite-file", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine that several threads may really share (not one in-memory connection)."""
    if request.param == "sqlite-file":
        eng = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    eng, schema = _postgres_engine()
    upgrade(eng)
    yield eng
    _drop(eng, schema)


def test_two_managers_answering_at_once_settle_it_once(shared_engine: Engine) -> None:
    def run(user: str, command: str, text: str) -> Reply:
        with session_scope(shared_engine) as s:
            return router.dispatch(command, replace_text(request(user), text), s)

    for user, text in [
        (ADMIN, "setup team create East"),
        (ADMIN, "setup team add East <@UALICE|alice>"),
        (ADMIN, "setup team add East <@UMIA|mia> <@UMAX|max> as:manager"),
    ]:
        assert run(user, "/pacer", text).ok
    gid = set_goal(lambda u, c, x: run(u, c, x))
    assert run("UALICE", "/goal", "feedback Too high propose:80000").ok
    [row] = feedback_rows(shared_engine)
    start = threading.Barrier(2)
    replies: dict[str, Reply] = {}

    def answer(user: str) -> None:
        start.wait()
        replies[user] = press(shared_engine, user, "feedback_accept", str(row.id))

    threads = [threading.Thread(target=answer, args=(u,)) for u in ("UMIA", "UMAX")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [u for u, r in replies.items() if r.ok]
    assert len(winners) == 1
    [loser] = [r for r in replies.values() if not r.ok]
    assert loser.text == en(
        "feedback.already_answered", id=row.id, by=f"<@{winners[0]}>", status="accepted"
    )
    assert goal(shared_engine, gid).target == 8_000_000
    assert len(audits(shared_engine, gid)) == 2  # set, then the one accepted change
    assert feedback_rows(shared_engine)[0].answered_by == winners[0]


def replace_text(req: Request, text: str) -> Request:
    return replace(req, text=text)


def test_settle_is_a_conditional_update_that_only_one_caller_wins(
    east: Run, engine: Engine
) -> None:
    set_goal(east)
    fid = feedback_rows_after(east, engine)
    kwargs = {"workspace_id": "T1", "feedback_id": fid, "answer": None, "new_target": None}
    with session_scope(engine) as s:
        first = queries.settle_feedback(s, status="declined", answered_by="UMIA", **kwargs)
    with session_scope(engine) as s:
        second = queries.settle_feedback(s, status="accepted", answered_by="UMAX", **kwargs)
        other = queries.settle_feedback(
            s, status="declined", answered_by="UMIA", **{**kwargs, "workspace_id": "T2"}
        )
    assert (first, second, other) == (True, False, False)
    assert feedback_rows(engine)[0].answered_by == "UMIA"


# --- the console prints what would be sent -------------------------------------------------------


def test_the_console_prints_each_notice_as_a_line(east: Run, engine: Engine) -> None:
    set_goal(east)
    reply = give_feedback(east, "Too high after the reorg")
    out = StringIO()
    console = Console(engine=engine, out=out, now=lambda: NOW, admins=frozenset({ADMIN}))

    console.show(reply, "/goal", {"UMIA": "mia", "UMAX": "max", "UALICE": "alice"})

    dms = [line for line in out.getvalue().splitlines() if line.startswith("→")]
    assert [line.split(":", 1)[0] for line in dms] == ["→ DM to @max", "→ DM to @mia"]
    assert "from @alice on goal `#1`" in dms[1]
    assert ": / > Too high after the reorg / So far $0" in dms[1]  # one line per DM
