"""/deal paid ID [AMOUNT] [date:YYYY-MM-DD]: money collected on a won deal.

The amount defaults to what is still outstanding and can never exceed it. Who may record
a payment is who may edit the deal: the same check as /deal edit, so the two never drift.
"""

from __future__ import annotations

import dataclasses

from commands import markup
from commands.context import Ctx
from commands.deal import closed_note, editable
from commands.parsing import Refused, UsageError, parse_date
from commands.types import Reply
from domain import money
from storage import queries
from storage.models import Deal, Payment, Team


def paid(ctx: Ctx, deal_id: int, amount_text: str | None, options: dict[str, str]) -> Reply:
    deal = editable(ctx, deal_id)
    assert deal.id is not None
    if deal.stage != "won":
        raise Refused("payment.not_won", id=deal.number, stage=ctx.t(f"stage.{deal.stage}"))
    outstanding = deal.amount_minor - queries.paid_on_deal(ctx.session, deal_id=deal.id)
    if outstanding <= 0:
        raise Refused("payment.fully_paid", id=deal.number)
    amount = _amount(amount_text, deal.currency) or outstanding
    if amount > outstanding:
        raise UsageError(
            "payment.too_much",
            id=str(deal.number),
            amount=ctx.fmt.money(amount, deal.currency),
            outstanding=ctx.fmt.money(outstanding, deal.currency),
        )
    team = ctx.session.get(Team, deal.team_id)
    today = ctx.today(team)
    day = parse_date(options["date"], today) if "date" in options else today
    if day > today:
        raise UsageError("payment.future_date", date=day.isoformat())
    payment = Payment(
        workspace_id=ctx.ws,
        deal_id=deal.id,
        team_id=deal.team_id,
        owner_id=deal.owner_id,
        amount_minor=amount,
        paid_on=day,
        logged_by=ctx.my_id,
    )
    queries.add_payment(ctx.session, payment=payment, actor=ctx.req.user_id)
    reply = _recorded(ctx, deal, payment, outstanding - amount)
    note = closed_note(ctx, day, today)  # a payment entered late, into a closed month
    return dataclasses.replace(reply, text=f"{reply.text}\n{note}") if note else reply


def _amount(text: str | None, currency: str) -> int | None:
    """`5000`, `5,000`, `5k` or `5 k`; None when no amount was given."""
    if not text:
        return None
    return money.to_minor(money.parse_amount(text, currency), currency)


def _recorded(ctx: Ctx, deal: Deal, payment: Payment, left: int) -> Reply:
    cur = deal.currency
    lines = [
        ctx.t(
            "payment.recorded",
            amount=ctx.fmt.money(payment.amount_minor, cur),
            id=deal.number,
            customer=markup.escape(deal.customer),
            date=payment.paid_on.isoformat(),
        ),
        ctx.t(
            "payment.balance" if left else "payment.settled",
            paid=ctx.fmt.money(deal.amount_minor - left, cur),
            total=ctx.fmt.money(deal.amount_minor, cur),
            left=ctx.fmt.money(left, cur),
        ),
    ]
    return Reply(text="\n".join(lines))
