"""The CRM webhook end to end: POST /integrations/deals on the real WSGI app under waitress,
the token made with the real slash command, owners looked up in a fake Slack.

Team East (New York, USD, channel CEAST) has rep alice (alice@example.com). Amounts are
checked against hand-computed minor units, and the numbers against what /progress counts
(commands/stats.actuals over the current month of the team).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.app import build_app, web_client
from bot.http import wsgi_app
from bot.outbox import Asker, undelivered_notice
from bot.tokens import OneToken
from bot.webhook import Webhook
from bot.work import Work
from commands import i18n, stats
from commands.router import dispatch
from commands.types import Reply, Request
from domain import periods
from storage import queries
from storage.engine import session_scope
from storage.models import AuditEntry, Deal, Delivery, Integration, Member, SentMessage, Team
from tests.fakeslack import Answer, FakeSlack, SlackSender, eventually, token_of
from tests.test_http_mode import (
    ADMIN,
    ALICE,
    CHANNEL,
    SECRET,
    TEAM,
    TOKEN,
    Server,
    command,
    count_rows,
    settings_for,
    setup_team,
)

EMAIL = "alice@example.com"
TOKEN_TEXT = re.compile(r"pcr_[A-Za-z0-9_-]{43}")


@dataclass
class Hook:
    slack: SlackSender
    url: str
    fake: FakeSlack
    db: Engine

    def create(self, name: str = "hubspot", trigger: str = "t-create") -> str:
        """The token, as the admin's ephemeral reply shows it once."""
        answer = command(
            self.slack,
            self.fake,
            "/pacer",
            f"setup integration create {name}",
            user=ADMIN,
            trigger=trigger,
        )
        found = TOKEN_TEXT.search(answer.json()["text"])
        assert found, answer.body
        return found[0]

    def send(
        self,
        body: Any,
        token: str | None = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        data = raw if raw is not None else json.dumps(body).encode()
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.url + "/integrations/deals", data=data, headers=all_headers, method="POST"
        )
        return self.slack.send(request)


@pytest.fixture
def hook(fake: FakeSlack, db: Engine) -> Iterator[Hook]:
    settings = settings_for(fake, db)
    work = Work()
    webhook = Webhook(db, OneToken(web_client(settings, TOKEN)), work)
    server = Server(wsgi_app(build_app(settings, db, work=work), db, webhook=webhook))
    setup_team(db)
    fake.emails[EMAIL] = ALICE
    yield Hook(SlackSender(server.url, SECRET), server.url, fake, db)
    server.close()


def today_in_new_york() -> date:
    return datetime.now(ZoneInfo("America/New_York")).date()


def deal_json(external_id: str = "hs-1001", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "external_id": external_id,
        "amount": "12,500",
        "currency": "USD",
        "customer": "Acme Corp",
        "stage": "closedwon",
        "close_date": today_in_new_york().isoformat(),
        "owner_email": EMAIL,
    }
    base.update(over)
    return base


def deals(db: Engine, workspace: str = TEAM) -> list[Deal]:
    with session_scope(db) as s:
        return list(s.exec(select(Deal).where(Deal.workspace_id == workspace)).all())


def won_this_month(db: Engine) -> tuple[Decimal, int]:
    """Team East's won revenue and deal count this month, as /progress counts them."""
    with Session(db) as s:
        team = s.exec(select(Team).where(Team.name == "East")).one()
        month = periods.current(periods.PeriodKind.MONTH, today_in_new_york())
        found = stats.actuals(s, stats.Scope(TEAM, team.id), month, "USD")
        return found.revenue, found.deals


def router(db: Engine, user: str, text: str, workspace: str = TEAM) -> str:
    req = Request(
        workspace_id=workspace,
        user_id=user,
        text=text,
        now=datetime.now(UTC),
        admin_ids=frozenset({ADMIN}),
    )
    with session_scope(db) as s:
        reply = dispatch("/pacer", req, s)
    assert reply.ok, reply.text
    return reply.text


def signed(
    token: str, body: bytes, ts: int, workspace: str = TEAM, name: str = "hubspot"
) -> dict[str, str]:
    key = hashlib.sha256(token.encode()).hexdigest().encode()
    mac = hmac.new(key, b"v1:" + str(ts).encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "X-Pacer-Timestamp": str(ts),
        "X-Pacer-Signature": f"v1={mac}",
        "X-Pacer-Workspace": workspace,
        "X-Pacer-Integration": name,
    }


# --- the token ---------------------------------------------------------------------------------


def test_a_token_is_shown_once_kept_as_its_sha256_and_never_recorded(hook: Hook) -> None:
    token = hook.create()
    with Session(hook.db) as s:
        [row] = s.exec(select(Integration)).all()
        assert (row.workspace_id, row.name, row.created_by) == (TEAM, "hubspot", ADMIN)
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        replies = [d.reply or "" for d in s.exec(select(Delivery)).all()]
    assert replies and not any(token in reply for reply in replies)

    # Slack retries the same command: answered again, without the token, nothing new made.
    again = command(
        hook.slack,
        hook.fake,
        "/pacer",
        "setup integration create hubspot",
        user=ADMIN,
        trigger="t-create",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert "pcr_" not in again.body
    assert "was created by this command already" in again.json()["text"]
    assert count_rows(hook.db, "integration") == 1

    # A new command creating the live name again is refused: revoke first.
    refused = command(
        hook.slack,
        hook.fake,
        "/pacer",
        "setup integration create hubspot",
        user=ADMIN,
        trigger="t-2",
    )
    assert "exists already. Revoke it first" in refused.json()["text"]
    assert count_rows(hook.db, "integration") == 1

    listed = router(hook.db, ADMIN, "setup integration list")
    assert "`hubspot` — created by <@UADMIN>" in listed and "last used never" in listed
    shown = router(hook.db, ADMIN, "setup show")
    assert "`hubspot`" in shown and token not in shown


def test_a_reply_showing_a_token_is_never_stored_when_resent_another_way() -> None:
    reply = Reply(text="🔑 pcr_secret", replay="created already, not shown again")
    notice = undelivered_notice(reply, Asker(TEAM, ADMIN), "t-1")
    assert "pcr_secret" not in notice.text
    assert notice.text.endswith("created already, not shown again")


def test_only_admins_create_tokens(hook: Hook) -> None:
    answer = command(hook.slack, hook.fake, "/pacer", "setup integration create mine", user=ALICE)
    assert "Only Pacer admins" in answer.json()["text"]
    assert count_rows(hook.db, "integration") == 0


# --- good calls -----------------------------------------------------------------------------------


def test_one_deal_is_created_owned_by_the_email_and_counted(hook: Hook) -> None:
    token = hook.create()
    assert won_this_month(hook.db) == (Decimal(0), 0)

    answer = hook.send(deal_json(product="CRM", region="East", note="via HubSpot"), token)

    assert answer.status == 200, answer.body
    assert answer.json() == {
        "ok": True,
        "counts": {"created": 1, "updated": 0, "unchanged": 0, "deleted": 0},
        "deals": [{"index": 0, "external_id": "hs-1001", "outcome": "created", "number": 1}],
    }
    [deal] = deals(hook.db)
    with Session(hook.db) as s:
        owner = s.get(Member, deal.owner_id)
        logger = s.get(Member, deal.logged_by)
        team = s.get(Team, deal.team_id)
        [audit] = s.exec(select(AuditEntry).where(AuditEntry.entity == "deal")).all()
        used = s.exec(select(Integration)).one().last_used_at
    assert owner is not None and owner.user_id == ALICE
    assert logger is not None and logger.user_id == ADMIN  # the integration's creator
    assert team is not None and team.name == "East"
    assert (deal.amount_minor, deal.currency, deal.customer) == (1_250_000, "USD", "Acme Corp")
    assert (deal.stage, deal.close_date, deal.source) == ("won", today_in_new_york(), "webhook")
    assert (deal.external_id, deal.product, deal.region, deal.note) == (
        "hs-1001",
        "CRM",
        "East",
        "via HubSpot",
    )
    assert (audit.source, audit.actor, audit.reason) == ("webhook", ADMIN, "integration hubspot")
    assert used is not None
    assert won_this_month(hook.db) == (Decimal("12500"), 1)
    assert f"last used {used:%Y-%m-%d %H:%M} UTC" in router(
        hook.db, ADMIN, "setup integration list"
    )
    [lookup] = hook.fake.called("users.lookupByEmail")
    assert lookup.params["email"] == EMAIL and token_of(lookup) == TOKEN


def test_a_list_is_upserted_and_the_same_list_again_changes_nothing(hook: Hook) -> None:
    token = hook.create()
    body = [
        deal_json("hs-1", amount=12500),  # a JSON number
        deal_json("hs-2", amount=3400.5, stage="Closed Won"),  # read exactly: 340,050 cents
        deal_json("hs-3", amount="8k", stage="contractsent"),  # open: not in the numbers
    ]
    first = hook.send(body, token)
    assert first.status == 200, first.body
    assert [(d["outcome"], d["number"]) for d in first.json()["deals"]] == [
        ("created", 1),
        ("created", 2),
        ("created", 3),
    ]
    rows = {d.external_id: d for d in deals(hook.db)}
    assert rows["hs-1"].amount_minor == 1_250_000
    assert rows["hs-2"].amount_minor == 340_050
    assert (rows["hs-3"].amount_minor, rows["hs-3"].stage) == (800_000, "negotiation")
    assert won_this_month(hook.db) == (Decimal("15900.50"), 2)
    audits = count_rows(hook.db, "auditentry")

    again = hook.send(body, token)
    assert again.status == 200
    assert again.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 3, "deleted": 0}
    assert count_rows(hook.db, "auditentry") == audits
    assert len(deals(hook.db)) == 3

    # A changed record updates its deal, audited.
    changed = hook.send([deal_json("hs-1", amount="13,000")], token)
    assert changed.json()["deals"][0]["outcome"] == "updated"
    assert won_this_month(hook.db) == (Decimal("16400.50"), 2)
    assert count_rows(hook.db, "auditentry") == audits + 1


def test_closed_won_celebrates_and_closed_lost_takes_it_out_and_back(hook: Hook) -> None:
    router(hook.db, ADMIN, "setup threshold East 50000")
    token = hook.create()

    won = hook.send(deal_json("hs-9", amount="60,000", stage="closedwon"), token)
    assert won.status == 200, won.body
    [post] = hook.fake.wait_for(
        "chat.postMessage", where=lambda c: c.params.get("channel") == CHANNEL
    )
    assert post.params["text"] == (
        "🎉🥂 *Big deal!* <@UALICE> just closed *$60,000* with Acme Corp. "
        "Drinks are on <@UALICE>! 🚀"
    )
    assert won_this_month(hook.db) == (Decimal("60000"), 1)
    [deal] = deals(hook.db)
    key = f"celebrate:{deal.id}"

    def status() -> str:
        with Session(hook.db) as s:
            return s.exec(select(SentMessage).where(SentMessage.key == key)).one().status

    eventually(lambda: status() == "sent" or None)

    lost = hook.send(deal_json("hs-9", amount="60,000", stage="Closed Lost"), token)
    assert lost.json()["deals"][0]["outcome"] == "updated"
    assert won_this_month(hook.db) == (Decimal(0), 0)
    hook.fake.wait_for("chat.delete")
    eventually(lambda: status() == "retracted" or None)
    assert len(hook.fake.called("chat.postMessage")) == 1


def test_a_small_deal_is_not_celebrated(hook: Hook) -> None:
    router(hook.db, ADMIN, "setup threshold East 50000")
    token = hook.create()
    assert hook.send(deal_json(amount="49,999.99"), token).status == 200
    # A celebration is recorded before the answer: none is, so none can be posted.
    assert count_rows(hook.db, "sentmessage") == 0
    big = hook.send(deal_json("hs-2", amount="50,000"), token)  # at the threshold: big
    assert big.status == 200
    assert count_rows(hook.db, "sentmessage") == 1


# --- bad bodies: 400 naming the field, nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("over", "field", "says"),
    [
        ({"external_id": None}, "external_id", 'Required, for example "external_id"'),
        ({"amount": "lots"}, "amount", "couldn't read “lots” as an amount"),
        ({"amount": "-5"}, "amount", "negative"),
        ({"amount": True}, "amount", "An amount is a number or a string"),
        ({"amount": "12.345"}, "amount", "more decimals"),
        ({"currency": "EUR"}, "currency", "in EUR, but team East counts in USD"),
        ({"currency": "dollars"}, "currency", "three-letter currency code"),
        ({"customer": ""}, "customer", 'Required, for example "customer"'),
        ({"customer": 42}, "customer", "Must be text"),
        ({"stage": "maybe"}, "stage", "“maybe” is not a stage"),
        ({"close_date": "20/11/2026"}, "close_date", "is not a date: send an ISO date"),
        ({"close_date": "2999-01-01"}, "close_date", "can't close in the future"),
        ({"owner_email": "nobody@example.com"}, "owner_email", "No Slack user"),
        ({"owner_email": "alice"}, "owner_email", "not an email address"),
        ({"team": "West"}, "team", "no team called “West”"),
        ({"product": "x" * 121}, "product", "At most 120 characters"),
        ({"note": "a\u0000b"}, "note", "NUL"),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_written(
    hook: Hook, over: dict[str, Any], field: str, says: str
) -> None:
    token = hook.create()
    members = count_rows(hook.db, "member")
    answer = hook.send(deal_json(**over), token)
    assert answer.status == 400, answer.body
    data = answer.json()
    assert data["ok"] is False
    [problem] = data["errors"]
    assert (problem["index"], problem["field"]) == (0, field)
    assert says in problem["error"]
    assert deals(hook.db) == []
    assert count_rows(hook.db, "member") == members
    assert count_rows(hook.db, "auditentry") == 0


def test_a_list_with_one_bad_deal_writes_none(hook: Hook) -> None:
    token = hook.create()
    answer = hook.send([deal_json("hs-1"), deal_json("hs-2", amount="0"), deal_json("hs-1")], token)
    assert answer.status == 400
    assert [(e["index"], e["field"]) for e in answer.json()["errors"]] == [
        (1, "amount"),
        (2, "external_id"),  # sent twice in one call
    ]
    assert deals(hook.db) == []


def test_the_owner_must_be_on_a_team(hook: Hook) -> None:
    token = hook.create()
    hook.fake.emails["bob@example.com"] = "UBOB"
    answer = hook.send(deal_json(owner_email="bob@example.com"), token)
    assert answer.status == 400
    [problem] = answer.json()["errors"]
    assert problem["field"] == "owner_email"
    assert problem["error"].startswith("bob@example.com is on no Pacer team")
    assert deals(hook.db) == []


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "says"),
    [
        (b"{not json", "application/json", "400", "not JSON"),
        (b'"a string"', "application/json", "400", "Send one deal"),
        (b"[]", "application/json", "400", "no deals"),
        (b'{"amount": NaN}', "application/json", "400", "not JSON"),
        (b"external_id=1", "application/x-www-form-urlencoded", "415", "Content-Type"),
    ],
)
def test_a_body_that_is_not_deals_is_refused(
    hook: Hook, raw: bytes, content_type: str, status: str, says: str
) -> None:
    token = hook.create()
    answer = hook.send(None, token, raw=raw, content_type=content_type)
    assert str(answer.status) == status, answer.body
    assert says in answer.json()["errors"][0]["error"]
    assert deals(hook.db) == []


def test_too_many_deals_or_bytes_are_refused(hook: Hook) -> None:
    token = hook.create()
    many = hook.send([deal_json(f"hs-{i}") for i in range(501)], token)
    assert many.status == 400
    assert "At most 500 deals per call; this body has 501" in many.json()["errors"][0]["error"]
    big = hook.send(None, token, raw=b"[" + b" " * 1_000_001 + b"]")
    assert big.status == 413
    assert deals(hook.db) == []


def test_errors_answer_in_chinese_for_accept_language_zh(hook: Hook) -> None:
    token = hook.create()
    answer = hook.send(deal_json(currency="EUR"), token, headers={"Accept-Language": "zh-CN"})
    assert answer.status == 400
    assert answer.json()["errors"][0]["error"] == (
        "这笔成交是 EUR，但团队 East 以 USD 计：请以 USD 发送。"
    )


def test_only_post_is_answered(hook: Hook) -> None:
    answer = hook.slack.get("/integrations/deals")
    assert answer.status == 405
    assert {k.lower(): v for k, v in answer.headers.items()}["allow"] == "POST"


# --- who may send -------------------------------------------------------------------------------


def test_a_wrong_missing_or_revoked_token_is_refused_with_401(hook: Hook) -> None:
    token = hook.create()
    for answer in (
        hook.send(deal_json(), "pcr_" + "x" * 43),
        hook.send(deal_json()),
        hook.send(deal_json(), headers={"Authorization": "Basic abc"}),
    ):
        assert answer.status == 401, answer.body
        headers = {name.lower(): value for name, value in answer.headers.items()}
        assert headers["www-authenticate"].startswith("Bearer")
        assert "Missing, wrong or revoked token" in answer.json()["errors"][0]["error"]

    router(hook.db, ADMIN, "setup integration revoke hubspot")
    revoked = hook.send(deal_json(), token)
    assert revoked.status == 401
    assert deals(hook.db) == []
    assert hook.fake.called("users.lookupByEmail") == []

    # The name is free again: a new token works, the old one stays refused.
    fresh = hook.create(trigger="t-again")
    assert hook.send(deal_json(), fresh).status == 200
    assert hook.send(deal_json("hs-2"), token).status == 401
    assert len(deals(hook.db)) == 1


def test_an_hmac_signature_over_the_body_authenticates(hook: Hook) -> None:
    token = hook.create()
    body = json.dumps(deal_json()).encode()
    now = int(time.time())

    good = hook.send(None, raw=body, headers=signed(token, body, now))
    assert good.status == 200, good.body
    assert len(deals(hook.db)) == 1

    other = json.dumps(deal_json("hs-2")).encode()
    tampered = hook.send(None, raw=other, headers=signed(token, body, now))
    assert tampered.status == 401
    stale = hook.send(None, raw=other, headers=signed(token, other, now - 301))
    assert stale.status == 401
    assert "more than 5 minutes" in stale.json()["errors"][0]["error"]
    wrong_name = hook.send(None, raw=other, headers=signed(token, other, now, name="zapier"))
    assert wrong_name.status == 401
    wrong_key = hook.send(None, raw=other, headers=signed("pcr_guess", other, now))
    assert wrong_key.status == 401
    assert len(deals(hook.db)) == 1


def test_another_workspaces_token_never_writes_here(hook: Hook) -> None:
    router(hook.db, ADMIN, "setup team create West tz:UTC", workspace="T2")
    router(hook.db, ADMIN, f"setup team add West <@{ALICE}|alice>", workspace="T2")
    reply = router(hook.db, ADMIN, "setup integration create hubspot", workspace="T2")
    found = TOKEN_TEXT.search(reply)
    assert found
    theirs = found[0]
    hook.create()  # this workspace's own integration of the same name

    answer = hook.send(deal_json("hs-1"), theirs)
    assert answer.status == 200, answer.body
    assert deals(hook.db, TEAM) == []
    [deal] = deals(hook.db, "T2")
    with Session(hook.db) as s:
        team = s.get(Team, deal.team_id)
    assert team is not None and (team.workspace_id, team.name) == ("T2", "West")

    # Signed with T2's token but naming this workspace: refused.
    body = json.dumps(deal_json("hs-2")).encode()
    answer = hook.send(None, raw=body, headers=signed(theirs, body, int(time.time()), TEAM))
    assert answer.status == 401
    assert deals(hook.db, TEAM) == []


# --- retries -------------------------------------------------------------------------------------


def test_a_retried_delivery_writes_one_deal(hook: Hook) -> None:
    token = hook.create()
    key = {"Idempotency-Key": "hubspot-delivery-77"}
    first = hook.send(deal_json(), token, headers=key)
    assert first.status == 200 and first.json()["deals"][0]["outcome"] == "created"

    again = hook.send(deal_json(), token, headers=key)
    assert again.status == 200
    assert again.json() == first.json()  # the first answer, replayed
    assert {k.lower(): v for k, v in again.headers.items()}["idempotent-replayed"] == "true"

    without_key = hook.send(deal_json(), token)
    assert without_key.json()["deals"][0]["outcome"] == "unchanged"
    assert len(deals(hook.db)) == 1
    assert won_this_month(hook.db) == (Decimal("12500"), 1)


def test_calls_are_counted_on_metrics(hook: Hook) -> None:
    token = hook.create()
    hook.send(deal_json(), token)
    hook.send(deal_json(), "pcr_wrong")
    text = hook.slack.get("/metrics").body
    assert 'pacer_webhook_calls_total{outcome="ok"} 1.0' in text
    assert 'pacer_webhook_calls_total{outcome="unauthorized"} 1.0' in text
    assert 'pacer_webhook_deals_total{outcome="created"} 1.0' in text


def test_a_deal_deleted_in_pacer_stays_deleted(hook: Hook) -> None:
    token = hook.create()
    hook.send(deal_json(), token)
    [deal] = deals(hook.db)
    command(hook.slack, hook.fake, "/deal", f"delete {deal.number}", user=ADMIN, trigger="t-del")
    answer = hook.send(deal_json(amount="13,000"), token)
    assert answer.json()["deals"][0]["outcome"] == "deleted"
    assert won_this_month(hook.db) == (Decimal(0), 0)


def test_the_close_date_may_be_a_moment_read_in_the_teams_time_zone(hook: Hook) -> None:
    token = hook.create()
    yesterday = today_in_new_york() - timedelta(days=1)
    # 02:00 UTC on the day after `yesterday` is still `yesterday` evening in New York.
    moment = f"{(yesterday + timedelta(days=1)).isoformat()}T02:00:00Z"
    assert hook.send(deal_json(close_date=moment), token).status == 200
    [deal] = deals(hook.db)
    assert deal.close_date == yesterday


def test_the_close_date_may_be_unix_milliseconds_as_hubspot_sends_it(hook: Hook) -> None:
    token = hook.create()
    day = today_in_new_york() - timedelta(days=2)
    # Noon in New York that day (17:00 UTC in winter, 16:00 in summer: the same day).
    noon = datetime.combine(day, datetime.min.time(), ZoneInfo("America/New_York")).replace(hour=12)
    millis = int(noon.timestamp() * 1000)
    assert hook.send(deal_json(close_date=millis), token).status == 200
    [deal] = deals(hook.db)
    assert deal.close_date == day


# --- two deliveries at once (PostgreSQL: SQLite has one writer, so they queue) -------------


def wsgi_post(app: Webhook, body: bytes, token: str) -> tuple[str, dict[str, Any]]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/integrations/deals",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(body),
    }
    seen: list[str] = []
    out = b"".join(app(environ, lambda status, _headers, *exc: seen.append(status)))  # type: ignore[arg-type]
    return seen[0], json.loads(out)


def test_two_deliveries_of_a_new_record_at_once_write_one_deal(
    engine: Engine, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes one writer at a time: the two calls cannot overlap")
    setup_team(engine)
    fake.emails[EMAIL] = ALICE
    found = TOKEN_TEXT.search(router(engine, ADMIN, "setup integration create hubspot"))
    assert found
    settings = settings_for(fake, engine)
    app = Webhook(engine, OneToken(web_client(settings, TOKEN)), Work())

    # Both calls read "no such record" before either writes: the loser's insert meets the
    # winner's row, and its call runs again, finding it.
    both_read = threading.Barrier(2, timeout=10)
    first_read = threading.local()
    real = queries.existing_by_external

    def lookup(*args: Any, **kwargs: Any) -> Any:
        rows = real(*args, **kwargs)
        if not getattr(first_read, "done", False):
            first_read.done = True
            both_read.wait()
        return rows

    monkeypatch.setattr(queries, "existing_by_external", lookup)
    body = json.dumps(deal_json("hs-race")).encode()
    answers: list[tuple[str, dict[str, Any]]] = []
    threads = [
        threading.Thread(target=lambda: answers.append(wsgi_post(app, body, found[0])))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(status for status, _ in answers) == ["200 OK", "200 OK"]
    outcomes = sorted(data["deals"][0]["outcome"] for _, data in answers)
    assert outcomes == ["created", "unchanged"]
    assert len(deals(engine)) == 1


def test_a_call_of_many_big_deals_keeps_to_the_daily_cap(hook: Hook) -> None:
    """Three posts a day per channel (the default cap): the fourth big deal of one call goes
    into the day's round-up, as a fourth typed one would."""
    router(hook.db, ADMIN, "setup threshold East 50000")
    token = hook.create()
    amounts = ["60,000", "70,000", "80,000", "90,000"]
    body = [deal_json(f"hs-{i}", amount=a) for i, a in enumerate(amounts)]
    assert hook.send(body, token).status == 200

    posts = hook.fake.wait_for(
        "chat.postMessage", count=4, where=lambda c: c.params.get("channel") == CHANNEL
    )
    texts = sorted(p.params["text"] for p in posts)
    assert sum("just closed" in t for t in texts) == 3
    [digest] = [t for t in texts if "just closed" not in t]
    assert digest == "\n".join(
        [
            i18n.t("en", "celebrate.more_title", count=1),
            i18n.t(
                "en",
                "celebrate.more_line",
                rep=f"<@{ALICE}>",
                amount="$90,000",
                customer="Acme Corp",
            ),
        ]
    )
    assert "$90,000" not in "".join(t for t in texts if "just closed" in t)


def test_a_crm_stage_change_is_kept_in_the_deals_stage_history(hook: Hook) -> None:
    token = hook.create()
    assert hook.send(deal_json("hs-7", stage="presentationscheduled"), token).status == 200
    assert hook.send(deal_json("hs-7", stage="presentationscheduled"), token).status == 200
    assert hook.send(deal_json("hs-7", stage="closedwon"), token).status == 200
    [deal] = deals(hook.db)
    assert deal.id is not None
    with Session(hook.db) as s:
        history = queries.stage_history(s, workspace_id=TEAM, deal_id=deal.id)
        stages = [row.stage for row in history]
    assert stages == ["proposal", "won"]  # the unchanged resend wrote nothing
