"""/deal paid ID [AMOUNT] [date:...] and the `collected` metric.

Team East (USD, America/New_York); NOW is Wed 25 Nov 2026.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from storage.models import AuditEntry, Payment
from tests.conftest import Run
from tests.messages import usage_line

ALICE = "<@UALICE|alice>"


def payments(engine: Engine) -> list[tuple[int, date, int]]:
    with Session(engine) as s:
        rows = s.exec(select(Payment).order_by(col(Payment.id))).all()
        return [(p.amount_minor, p.paid_on, p.deal_id) for p in rows]


def won_deal(run: Run, text: str = "20,000 Acme", user: str = "UALICE") -> int:
    reply = run(user, "/deal", text)
    assert reply.ok
    return int(reply.text.split("`#")[1].split("`")[0])


def test_a_part_payment_then_the_rest(team: Run, engine: Engine) -> None:
    deal = won_deal(team)
    first = team("UALICE", "/deal", f"paid {deal} 5,000 date:2026-11-20")
    assert first.ok
    assert first.text.splitlines() == [
        f"💰 Payment of $5,000 recorded on deal `#{deal}` (Acme), paid 2026-11-20.",
        "Collected $5,000 of $20,000; $15,000 outstanding.",
    ]
    rest = team("UALICE", "/deal", f"paid {deal}")  # defaults to the $15,000 outstanding
    assert rest.text.splitlines()[1] == "Collected $20,000 of $20,000: fully paid ✅"
    assert payments(engine) == [
        (500_000, date(2026, 11, 20), deal),
        (1_500_000, date(2026, 11, 25), deal),
    ]
    with Session(engine) as s:
        entries = s.exec(select(AuditEntry).where(AuditEntry.entity == "payment")).all()
    assert [(e.action, e.actor) for e in entries] == [("create", "UALICE")] * 2
    assert entries[0].after is not None and json.loads(entries[0].after)["amount_minor"] == 500_000


def test_payments_cannot_exceed_the_outstanding_balance(team: Run, engine: Engine) -> None:
    deal = won_deal(team)
    team("UALICE", "/deal", f"paid {deal} 15k")
    over = team("UALICE", "/deal", f"paid {deal} 6,000")
    assert (over.ok, over.text) == (
        False,
        f"$6,000 is more than the $5,000 still outstanding on deal `#{deal}`. "
        "Nothing was recorded.\n" + usage_line("/deal", "paid"),
    )
    team("UALICE", "/deal", f"paid {deal}")
    done = team("UALICE", "/deal", f"paid {deal}")
    assert (done.ok, done.text) == (
        False,
        f"Deal `#{deal}` is already fully paid. Nothing was recorded.",
    )
    assert sum(p[0] for p in payments(engine)) == 2_000_000


def test_only_won_deals_take_payments(team: Run, engine: Engine) -> None:
    deal = won_deal(team, "20,000 Acme stage:proposal date:2026-12-10")
    reply = team("UALICE", "/deal", f"paid {deal}")
    assert (reply.ok, reply.text) == (
        False,
        f"Deal `#{deal}` is at stage proposal, not won: payments are recorded on won deals "
        f"only. Mark it won first with `/deal stage {deal} won`.",
    )
    assert payments(engine) == []


def test_bad_payment_input_writes_nothing(team: Run, engine: Engine) -> None:
    deal = won_deal(team)
    future = team("UALICE", "/deal", f"paid {deal} date:2026-11-26")
    assert not future.ok and "(2026-11-26)" in future.text
    assert not team("UALICE", "/deal", "paid").ok
    assert not team("UALICE", "/deal", f"paid {deal} lots").ok
    assert team("UALICE", "/deal", "paid 999").text.startswith("There is no deal `#999`.")
    assert payments(engine) == []


def test_only_those_who_may_edit_the_deal_record_payments(team: Run, engine: Engine) -> None:
    deal = won_deal(team)
    refused = team("UBOB", "/deal", f"paid {deal} 1,000")
    assert (refused.ok, refused.text) == (
        False,
        f"Deal `#{deal}` isn't yours: only its rep, the rep's manager or an admin can change it.",
    )
    assert payments(engine) == []
    assert team("UMIA", "/deal", f"paid {deal} 1,000").ok  # the rep's manager may
    assert len(payments(engine)) == 1


def test_the_collected_metric_sums_payments_by_payment_date(team: Run, engine: Engine) -> None:
    assert team("UMIA", "/goal", f"set {ALICE} 30000 2026-11 collected").ok
    october = won_deal(team, "40,000 Acme date:2026-10-05")
    november = won_deal(team, "10,000 Beta")
    team("UALICE", "/deal", f"paid {october} 8,000 date:2026-10-30")  # October: not counted
    team("UALICE", "/deal", f"paid {october} 12,000 date:2026-11-03")
    team("UALICE", "/deal", f"paid {november} 6,000")
    # November: 12,000 + 6,000 = 18,000 of 30,000 = 60%.
    mine = team("UALICE", "/goal").text
    assert "*2026-11* collected: $18,000 of $30,000 (60%)" in mine
    team("UALICE", "/deal", f"delete {november}")  # a deleted deal's payments stop counting
    assert "*2026-11* collected: $12,000 of $30,000 (40%)" in team("UALICE", "/goal").text
