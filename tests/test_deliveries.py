"""Each Slack delivery runs once: a retry or replay of it (same trigger, view or button
press) writes nothing more and is answered with the first reply; concurrent first writes
(the same goal, a new user's first commands, one team name) write one row."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, get_args

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel, col, select

from bot.listeners import action_key
from bot.outbox import Asker, Outbox, Sent
from charts.specs import (
    ChartSpec,
    FunnelChart,
    LeaderboardChart,
    MixChart,
    ProgressChart,
    TrendChart,
    WhyChart,
)
from commands import router
from commands.codec import decode_reply, encode_reply
from commands.i18n import t
from commands.types import Notice, Reply, Request, Retract, Update
from storage.engine import make_engine, session_scope
from storage.migrate import downgrade, upgrade
from storage.models import Delivery, Goal, Member, Payment, Team
from tests.conftest import ADMIN, NOW, Run, _drop, _postgres_engine

ALICE, BOB, CAROL = "<@UALICE|alice>", "<@UBOB|bob>", "<@UCAROL|carol>"


def request(user: str, key: str | None, text: str = "", workspace: str = "T1") -> Request:
    return Request(
        workspace_id=workspace,
        user_id=user,
        text=text,
        now=NOW,
        locale="en-US",
        channel_id="DXYZ",
        request_key=key,
        admin_ids=frozenset({ADMIN}),
    )


@pytest.fixture
def world(team: Run) -> Run:
    """East's goals (alice's #1, the team's #2), alice's deal #1 and deleted deal #2, and
    alice's open feedback #1 on her goal."""
    for user, command, words in [
        ("UMIA", "/goal", f"set {ALICE} 100000 month"),
        ("UMIA", "/goal", "set team East 300000 month"),
        ("UALICE", "/deal", "10000 Acme"),
        ("UALICE", "/deal", "2000 Initech"),
        ("UALICE", "/deal", "delete 2"),
        ("UALICE", "/goal", "feedback 1 Too high propose:80000"),
    ]:
        assert team(user, command, words).ok, words
    return team


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the deliveries themselves."""
    with engine.connect() as conn:
        return {
            table.name: sorted(conn.execute(table.select()).all(), key=repr)
            for table in SQLModel.metadata.sorted_tables
            if table.name != "delivery"
        }


Deliver = Callable[[Engine, str], Reply]


def slash(user: str, command: str, words: str) -> Deliver:
    def deliver(engine: Engine, key: str) -> Reply:
        with session_scope(engine) as s:
            return router.dispatch(command, request(user, key, words), s)

    return deliver


def press(user: str, action_id: str, value: str) -> Deliver:
    def deliver(engine: Engine, key: str) -> Reply:
        with session_scope(engine) as s:
            return router.action(action_id, value, request(user, f"action:{key}"), s)

    return deliver


def form(user: str, callback_id: str, values: dict[str, str]) -> Deliver:
    def deliver(engine: Engine, key: str) -> Reply:
        with session_scope(engine) as s:
            result = router.submit(callback_id, dict(values), {}, request(user, f"view:{key}"), s)
        assert result.errors == {} and result.reply is not None
        return result.reply

    return deliver


WRITES = {
    "deal": slash("UALICE", "/deal", "5000 Globex"),
    "deal edit": slash("UALICE", "/deal", "edit 1 13,000"),
    "deal delete": slash("UALICE", "/deal", "delete 1"),
    "deal restore": slash("UALICE", "/deal", "restore 2"),
    "deal stage": slash("UALICE", "/deal", "stage 1 proposal"),
    "deal for": slash("UMIA", "/deal", f"for {BOB} 7000 Hooli"),
    "deal paid": slash("UALICE", "/deal", "paid 1 5,000"),
    "goal set": slash("UMIA", "/goal", f"set {BOB} 90000 month"),
    "goal split": slash("UMIA", "/goal", "split 2 reps"),
    "goal copy": slash("UMIA", "/goal", "copy 2026-11 to 2026-12"),
    "goal adjust": slash("UMIA", "/goal", "adjust 1 110000 reason:territory"),
    "goal feedback": slash("UALICE", "/goal", "feedback 1 Still too high"),
    "team create": slash(ADMIN, "/pacer", "setup team create West"),
    "team add": slash(ADMIN, "/pacer", f"setup team add East {CAROL}"),
    "team remove": slash(ADMIN, "/pacer", f"setup team remove East {BOB}"),
    "team set": slash(ADMIN, "/pacer", "setup team set East hour:08:30"),
    "holidays add": slash(ADMIN, "/pacer", "setup holidays add 2026-12-24 team:East"),
    "threshold": slash(ADMIN, "/pacer", "setup threshold East 50000"),
    "celebrations": slash(ADMIN, "/pacer", "setup celebrations East 5"),
    "fiscal-start": slash(ADMIN, "/pacer", "setup fiscal-start 4"),
    "admin add": slash(ADMIN, "/pacer", f"setup admin add {CAROL}"),
    "notify": slash("UALICE", "/pacer", "notify off"),
    "delete button": press("UALICE", "deal_delete", "1"),
    "undo button": press("UALICE", "deal_restore", "2"),
    "accept button": press("UMIA", "feedback_accept", "1"),
    "adjust form": form("UMIA", "feedback_adjust", {"_metadata": "DXYZ|1", "amount": "90k"}),
    "decline form": form("UMIA", "feedback_decline", {"_metadata": "DXYZ|1", "reason": "No"}),
    "feedback form": form("UALICE", "feedback_new", {"goal": "1", "text": "Too high"}),
    "deal form": form("UALICE", "deal_new", {"amount": "12.5k", "customer": "Acme Corp"}),
    "setup form": form(
        ADMIN, "pacer_setup", {"team": "North", "tz": "UTC", "currency": "USD", "hour": "09:00"}
    ),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_three_deliveries_write_once_and_answer_the_same(
    world: Run, engine: Engine, name: str
) -> None:
    deliver = WRITES[name]
    before = dump(engine)
    first = deliver(engine, "K1")
    assert first.ok, first.text
    written = dump(engine)
    assert written != before  # it does write
    assert [deliver(engine, "K1"), deliver(engine, "K1")] == [first, first]
    assert dump(engine) == written


def test_a_new_delivery_of_the_same_words_runs_again(world: Run, engine: Engine) -> None:
    paid = WRITES["deal paid"]
    assert paid(engine, "K1").ok and paid(engine, "K1").ok and paid(engine, "K2").ok
    assert count(engine, Payment) == 2


def test_a_refused_delivery_is_not_recorded_and_may_run_once_fixed(
    world: Run, engine: Engine
) -> None:
    # A refusal writes nothing, its key neither: a later delivery of it runs for real.
    refused = slash("UBOB", "/goal", f"set {ALICE} 1 month")(engine, "K1")
    assert not refused.ok
    assert count(engine, Delivery) == 0
    bad = form("UMIA", "feedback_adjust", {"_metadata": "DXYZ|1", "amount": "ninety"})
    with pytest.raises(AssertionError):
        bad(engine, "V1")  # field errors keep the form open; the same view comes back
    assert form("UMIA", "feedback_adjust", {"_metadata": "DXYZ|1", "amount": "90k"})(
        engine, "V1"
    ).ok


def test_a_form_opened_is_not_recorded(world: Run, engine: Engine) -> None:
    opened = slash("UALICE", "/deal", "")(engine, "K1")
    assert opened.form is not None
    assert count(engine, Delivery) == 0


def test_reads_answer_the_same_each_time(world: Run, engine: Engine) -> None:
    progress = slash("UALICE", "/progress", "")
    first = progress(engine, "K1")
    assert first.chart is not None
    assert progress(engine, "K1") == first


@dataclass
class Recorder:
    """A transport that keeps what it would have sent."""

    posts: list[Notice] = field(default_factory=list)

    def reply(self, reply: Reply, asker: Asker) -> None:
        pass

    def post(self, notice: Notice) -> Sent:
        self.posts.append(notice)
        return Sent("D1", f"{len(self.posts)}.0")

    def update(self, sent: Sent, update: Update) -> None:
        pass

    def delete(self, sent: Sent, retract: Retract) -> None:
        pass


def test_the_notices_of_a_retried_delivery_go_out_once(world: Run, engine: Engine) -> None:
    recorder = Recorder()
    outbox = Outbox(engine, recorder)
    for _ in range(3):
        reply = WRITES["goal feedback"](engine, "K1")
        outbox.answer(reply, Asker("T1", "UALICE"))
    assert [n.user_id for n in recorder.posts] == ["UMIA"]  # mia, East's one manager


def test_a_reply_survives_its_json() -> None:
    reply = Reply(
        text="hi",
        notices=[Notice(key="k", text="n", user_id="U1")],
        updates=[Update(key="u", text="x")],
        retracts=[Retract(key="r")],
        ok=True,
    )
    assert decode_reply(encode_reply(reply)) == reply


def test_a_button_press_is_keyed_by_its_trigger_else_its_timestamps() -> None:
    act = {"action_id": "deal_delete", "value": "3", "action_ts": "1700.5"}
    body: dict[str, Any] = {"trigger_id": "T.1", "user": {"id": "U1"}, "actions": [act]}
    assert action_key(body) == "action:T.1:U1:deal_delete:3"
    del body["trigger_id"]
    body["container"] = {"message_ts": "1699.1"}
    assert action_key(body) == "action:1699.1:1700.5:U1:deal_delete:3"
    assert action_key({"user": {"id": "U1"}, "actions": [{"action_id": "x"}]}) is None


def count(engine: Engine, model: type[SQLModel]) -> int:
    with Session(engine) as s:
        return len(s.exec(select(model)).all())


# --- at once, in separate sessions ---------------------------------------------------------------


@pytest.fixture(params=["sqlite-file", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine several threads really share, with East (alice, bob; mia and max manage)."""
    if request.param == "sqlite-file":
        eng = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
        upgrade(eng)
        schema = None
    else:
        eng, schema = _postgres_engine()
        upgrade(eng)
    for words in ("team create East", f"team add East {ALICE} {BOB}"):
        assert slash(ADMIN, "/pacer", f"setup {words}")(eng, words).ok
    assert slash(ADMIN, "/pacer", "setup team add East <@UMIA> <@UMAX> as:manager")(eng, "m").ok
    yield eng
    if schema is None:
        eng.dispose()
    else:
        _drop(eng, schema)


def at_once(*calls: Callable[[], Reply]) -> list[Reply]:
    """Run the calls in threads released together; their replies in order."""
    start = threading.Barrier(len(calls))
    replies: list[Reply | None] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        replies[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in replies)
    return [r for r in replies if r is not None]


def test_one_delivery_arriving_three_times_at_once_writes_once(shared: Engine) -> None:
    assert slash("UALICE", "/deal", "10000 Acme")(shared, "d1").ok
    paid = WRITES["deal paid"]
    replies = at_once(*[lambda: paid(shared, "K1")] * 3)
    assert all(r.ok for r in replies)
    assert len({r.text for r in replies}) == 1
    assert count(shared, Payment) == 1


def test_two_managers_setting_one_goal_at_once_write_one(shared: Engine) -> None:
    replies = at_once(
        lambda: slash("UMIA", "/goal", f"set {ALICE} 100000 month")(shared, "K1"),
        lambda: slash("UMAX", "/goal", f"set {ALICE} 120000 month")(shared, "K2"),
    )
    assert all(r.ok for r in replies), [r.text for r in replies]
    with Session(shared) as s:
        live = s.exec(select(Goal).where(col(Goal.deleted_at).is_(None))).all()
    assert [g.target in (10_000_000, 12_000_000) for g in live] == [True]


def test_a_new_users_first_commands_at_once_make_one_member(shared: Engine) -> None:
    first = slash("UNEW", "/deal", "list")
    calls = [partial(first, shared, f"K{i}") for i in range(5)]
    replies = at_once(*calls)
    assert all(r.ok for r in replies), [r.text for r in replies]
    with Session(shared) as s:
        new = s.exec(select(Member).where(Member.user_id == "UNEW")).all()
    assert len(new) == 1


def test_admins_creating_one_team_at_once_are_told_it_exists(shared: Engine) -> None:
    for name in ("West", "North", "South"):
        create = slash(ADMIN, "/pacer", f"setup team create {name}")
        replies = at_once(*[partial(create, shared, f"{name}{i}") for i in range(4)])
        assert sorted(r.ok for r in replies) == [False, False, False, True]
        refused = {r.text for r in replies if not r.ok}
        assert refused == {t("en-US", "error.team_exists", name=name)}
    assert count(shared, Team) == 4


# --- migration 0006 -------------------------------------------------------------------------------


def test_0006_keeps_the_first_of_duplicate_live_goals_and_downgrades(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(eng, "0005")
    goal = (
        "INSERT INTO goal (workspace_id, scope, team_id, member_id, metric, period, starts_on,"
        " ends_on, target, created_by, created_at, updated_at)"
        " VALUES ('T1', 'team', 1, NULL, 'revenue', '2026-11', '2026-11-01', '2026-11-30',"
        " :target, 'U', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
    )
    with eng.begin() as conn:
        conn.execute(text("INSERT INTO workspace VALUES ('T1', '', 1, '2026-01-01 00:00:00')"))
        conn.execute(
            text(
                "INSERT INTO team (id, workspace_id, name, tz, currency,"
                " report_hour, behind_pct, celebrations_per_day, created_at)"
                " VALUES (1, 'T1', 'East', 'UTC', 'USD', '09:00', 90, 3,"
                " '2026-01-01 00:00:00')"
            )
        )
        for target in (1, 2, 3):
            conn.execute(text(goal), {"target": target})
    upgrade(eng)
    with eng.connect() as conn:
        live = conn.execute(text("SELECT target FROM goal WHERE deleted_at IS NULL")).all()
        assert [row[0] for row in live] == [1]
        with pytest.raises(Exception, match="UNIQUE"):
            conn.execute(text(goal), {"target": 4})
    downgrade(eng, "0005")
    with eng.begin() as conn:
        conn.execute(text(goal), {"target": 4})  # no index any more
        assert "delivery" not in str(conn.execute(text("SELECT name FROM sqlite_master")).all())
    upgrade(eng)
    eng.dispose()


@pytest.mark.postgres
def test_0006_downgrades_and_upgrades_on_postgresql() -> None:
    eng, schema = _postgres_engine()
    try:
        upgrade(eng)
        downgrade(eng, "0005")
        with eng.connect() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
            )
            assert "delivery" not in set(tables.scalars())
        upgrade(eng)
        with eng.connect() as conn:
            names = conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE schemaname = :s"), {"s": schema}
            )
            assert {"ux_goal_live_rep", "ux_goal_live_team", "ux_goal_live_workspace"} <= set(
                names.scalars()
            )
    finally:
        _drop(eng, schema)


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/pacer", "funnel"),
        ("/pacer", "trend months 3"),
        ("/pacer", "mix by customer"),
        ("/progress", "why"),
    ],
    ids=["funnel", "trend", "mix", "why"],
)
def test_a_retried_analysis_answers_with_its_chart(
    world: Run, engine: Engine, command: str, text: str
) -> None:
    assert world("UALICE", "/deal", "5,000 Acme product:CRM").ok
    ask = slash("UALICE", command, text)
    first = ask(engine, "K-analysis")
    assert first.chart is not None
    assert ask(engine, "K-analysis") == first  # the recorded reply, its chart decoded


def test_every_kind_of_chart_survives_its_json() -> None:
    specs = [
        FunnelChart("f", ["lead", "won"], [2.0, 1.0], ["2", "1"], bottleneck=0),
        TrendChart("t", ["2026-10", "2026-11"], [1.0, 2.0], [None, 3.0], "$", ["", "+100%"]),
        MixChart("m", ["CRM"], [5000.0], ["$5k · 100%"], "$"),
        LeaderboardChart("l", ["a"], [50.0], highlight=frozenset({"a"})),
        ProgressChart("p", ["11-02"], [1.0], [1.0], 2.0),
        WhyChart("w", ["Counted", "Not won"], [2.0, 1.0], ["2 deals · $5,000", "1 deal · €80"]),
    ]
    assert {type(s) for s in specs} == set(get_args(ChartSpec))  # none left out
    for spec in specs:
        assert decode_reply(encode_reply(Reply(text="x", chart=spec))).chart == spec
