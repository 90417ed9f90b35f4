"""Big-deal celebrations: a won deal at or above its team's threshold, posted to the channel.

Each deal is announced once, under the key "celebrate:{deal id}" (the edge records the key
before sending, so an edit or a retried request does not repeat it). Deleting the deal, or
editing it below the threshold, retracts the post; restoring it posts it again. At most
`Team.celebrations_per_day` posts per channel per local day: later big deals of that day
are listed in one digest message ("celebrate-more:{team id}:{date}") that is updated as
more come in. The day of a deal is the local day it was logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from commands import markup
from commands.context import Ctx
from commands.types import Notice, Reply, Retract, Update
from storage import queries
from storage.models import Deal, Member, Team

HISTORY_DAYS = 90  # the unset threshold is twice the median won deal of this many days
LEAST_HISTORY = 5  # fewer won deals than this in that window: no automatic threshold


def threshold(ctx: Ctx, team: Team, deal: Deal) -> int | None:
    """The team's big-deal threshold in minor units, or None (no threshold can be judged)."""
    if team.big_deal_minor is not None:
        return team.big_deal_minor
    assert team.id is not None and deal.id is not None
    today = ctx.today(team)
    return queries.twice_median_won(
        ctx.session,
        team_id=team.id,
        start=today - timedelta(days=HISTORY_DAYS - 1),
        end=today,
        exclude_id=deal.id,
        least=LEAST_HISTORY,
        workspace_id=ctx.ws,
        excluded=deal,  # flushed: attach flushes first
    )


def attach(ctx: Ctx, deal: Deal, reply: Reply, *, new: bool = False) -> Reply:
    """The reply with the deal's celebration added, replaced or taken back, as it now stands.
    A `new` deal (just written) has no post of its own yet and is in no digest: only a big
    one needs a word, and no earlier message is looked up."""
    team = ctx.session.get(Team, deal.team_id)
    if team is None or not team.channel_id or deal.id is None:
        return reply
    ctx.session.flush()
    least = threshold(ctx, team, deal)
    big = (
        deal.deleted_at is None
        and deal.stage == "won"
        and least is not None
        and deal.amount_minor >= least
    )
    if new:
        return _announce(ctx, team, deal, least, reply) if big and least is not None else reply
    row = queries.sent_message(ctx.session, workspace_id=ctx.ws, key=_key(deal))
    live = row is not None and row.status in queries.LIVE_NOTICE
    if big and not live and (row is None or row.status == "retracted"):
        assert least is not None
        return _announce(ctx, team, deal, least, reply)
    if not big and live:
        return replace(reply, retracts=[*reply.retracts, Retract(_key(deal))])
    if not big:
        return _refresh_digest(ctx, team, deal, reply)
    return reply


def _announce(ctx: Ctx, team: Team, deal: Deal, least: int, reply: Reply) -> Reply:
    assert team.channel_id is not None
    since, until = _day_bounds(team, _logged_day(team, deal))
    posted = queries.celebrated_between(
        ctx.session, workspace_id=ctx.ws, channel_id=team.channel_id, since=since, until=until
    )
    # A reply carrying several deals (a CRM's webhook call) has posts not recorded yet.
    posted += len(_pending(reply, team.channel_id))
    if posted < team.celebrations_per_day:
        notice = Notice(
            key=_key(deal),
            text=announcement(ctx, team, deal),
            channel_id=team.channel_id,
            locale=ctx.req.locale,
        )
        return replace(reply, notices=[*reply.notices, notice])
    return _digest(ctx, team, _logged_day(team, deal), least, reply)


def _refresh_digest(ctx: Ctx, team: Team, deal: Deal, reply: Reply) -> Reply:
    """A deal that left the day's digest (deleted, or no longer big): rewrite the digest."""
    day = _logged_day(team, deal)
    if queries.sent_message(ctx.session, workspace_id=ctx.ws, key=_digest_key(team, day)) is None:
        return reply
    least = team.big_deal_minor if team.big_deal_minor is not None else threshold(ctx, team, deal)
    if least is None:
        return reply
    return _digest(ctx, team, day, least, reply)


def _digest(ctx: Ctx, team: Team, day: date, least: int, reply: Reply) -> Reply:
    """Post the day's "more big deals" message, or replace it (or take it back if empty)."""
    assert team.id is not None and team.channel_id is not None
    key = _digest_key(team, day)
    since, until = _day_bounds(team, day)
    deals = queries.uncelebrated_big_deals(
        ctx.session, team_id=team.id, least=least, since=since, until=until
    )
    posting = _pending(reply, team.channel_id)  # posted by this reply: not in the digest
    deals = [d for d in deals if _key(d) not in posting]
    sent = queries.sent_message(ctx.session, workspace_id=ctx.ws, key=key)
    if not deals:
        if sent is not None and sent.status in queries.LIVE_NOTICE:
            return replace(reply, retracts=[*reply.retracts, Retract(key)])
        return reply
    text = digest_text(ctx, team, deals)
    if any(n.key == key for n in reply.notices):  # posted by this reply: its newest text
        notices = [replace(n, text=text) if n.key == key else n for n in reply.notices]
        return replace(reply, notices=notices)
    if sent is None or sent.status == "retracted":
        notice = Notice(key=key, text=text, channel_id=team.channel_id, locale=ctx.req.locale)
        return replace(reply, notices=[*reply.notices, notice])
    updates = [u for u in reply.updates if u.key != key]
    return replace(reply, updates=[*updates, Update(key=key, text=text)])


def _pending(reply: Reply, channel_id: str) -> set[str]:
    """The keys of the deal celebrations this reply posts to the channel."""
    return {
        n.key
        for n in reply.notices
        if n.channel_id == channel_id and n.key.startswith(queries.CELEBRATE)
    }


# --- the words -------------------------------------------------------------------------------


def announcement(ctx: Ctx, team: Team, deal: Deal) -> str:
    owner = ctx.session.get(Member, deal.owner_id)
    values = {
        "rep": _mention(owner),
        "amount": ctx.fmt.money(deal.amount_minor, deal.currency),
        "customer": markup.escape(deal.customer),
    }
    goal = _current_target(ctx, team, deal)
    if goal is None:
        return ctx.t("celebrate.big_deal", **values)
    share = Decimal(deal.amount_minor) / Decimal(goal[1])
    return ctx.t("celebrate.big_deal_share", share=ctx.fmt.pct(share), period=goal[0], **values)


def digest_text(ctx: Ctx, team: Team, deals: Sequence[Deal]) -> str:
    lines = [ctx.t("celebrate.more_title", count=len(deals))]
    for deal in deals:
        lines.append(
            ctx.t(
                "celebrate.more_line",
                rep=_mention(ctx.session.get(Member, deal.owner_id)),
                amount=ctx.fmt.money(deal.amount_minor, deal.currency),
                customer=markup.escape(deal.customer),
            )
        )
    return "\n".join(lines)


def _current_target(ctx: Ctx, team: Team, deal: Deal) -> tuple[str, int] | None:
    """The owner's shortest current revenue goal: (period, target in minor units)."""
    goals = queries.live_goals(
        ctx.session,
        workspace_id=ctx.ws,
        scope="rep",
        member_ids=[deal.owner_id],
        covering=ctx.today(team),
    )
    revenue = [g for g in goals if g.metric == "revenue" and g.target > 0]
    if not revenue:
        return None
    goal = min(revenue, key=lambda g: g.ends_on - g.starts_on)
    return goal.period, goal.target


def _mention(member: Member | None) -> str:
    return markup.mention(member.user_id) if member is not None else "?"


# --- keys and days -----------------------------------------------------------------------------


def _key(deal: Deal) -> str:
    return f"{queries.CELEBRATE}{deal.id}"


def _digest_key(team: Team, day: date) -> str:
    return f"celebrate-more:{team.id}:{day.isoformat()}"


def _logged_day(team: Team, deal: Deal) -> date:
    return _aware(deal.created_at).astimezone(ZoneInfo(team.tz)).date()


def _day_bounds(team: Team, day: date) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight (23 or 25 hours across a DST change)."""
    zone = ZoneInfo(team.tz)
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return start, end


def _aware(moment: datetime) -> datetime:
    """Rows read back from SQLite may be naive: they are stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
