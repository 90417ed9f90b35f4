"""/pacer setup integration: the tokens a CRM's webhook (POST /integrations/deals) sends.

A token is `pcr_` and 32 random bytes (URL-safe base64). It is shown once, in the
ephemeral reply to the admin who created it; Pacer keeps only its SHA-256 (hex), which is
also the key of the HMAC signature a CRM may send instead of the token itself (bot/webhook.py).
A retry of the same `create` delivery answers without the token (Reply.replay): the reply
a retry is answered with is stored, and a token must never be.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from commands import markup
from commands.context import Ctx
from commands.parsing import Refused, UsageError
from commands.types import Reply
from storage import queries
from storage.models import Integration

PREFIX = "pcr_"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
ENDPOINT = "https://YOUR-PACER-HOST/integrations/deals"
EXAMPLE = (
    '{"external_id": "18342", "amount": "12,500", "currency": "USD", "customer": "Acme Corp",'
    ' "stage": "closedwon", "close_date": "2026-11-20", "owner_email": "alice@example.com"}'
)


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest Pacer keeps of a token (and the HMAC key of its signatures)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def checked_name(text: str) -> str:
    """One word of letters, digits, `_`, `.` or `-`: it travels in X-Pacer-Integration."""
    name = text.strip()
    if not NAME.fullmatch(name):
        raise UsageError("integrations.bad_name", value=markup.escape(name[:80]))
    return name


def create(ctx: Ctx, name: str) -> Reply:
    """/pacer setup integration create NAME (admins): a new token, shown once."""
    name = checked_name(name)
    if queries.live_integration(ctx.session, workspace_id=ctx.ws, name=name) is not None:
        raise Refused("integrations.exists", name=name)
    token = new_token()
    row = Integration(
        workspace_id=ctx.ws,
        name=name,
        token_hash=token_hash(token),
        created_by=ctx.req.user_id,
        created_at=ctx.req.now,
    )
    if not queries.add_integration(ctx.session, integration=row):  # made meanwhile
        raise Refused("integrations.exists", name=name)
    text = ctx.t("integrations.created", name=name, token=token, url=ENDPOINT, body=EXAMPLE)
    return Reply(text=text, replay=ctx.t("integrations.created_again", name=name))


def revoke(ctx: Ctx, name: str) -> Reply:
    """/pacer setup integration revoke NAME (admins): its token is refused from now on."""
    found = queries.live_integration(ctx.session, workspace_id=ctx.ws, name=name.strip())
    if found is None:
        raise UsageError(
            "integrations.no_such", name=markup.escape(name.strip()[:80]), names=_names(ctx)
        )
    queries.revoke_integration(ctx.session, integration=found, at=ctx.req.now)
    return Reply(text=ctx.t("integrations.revoked", name=found.name))


def list_all(ctx: Ctx) -> Reply:
    """/pacer setup integration list (admins): names, who made them when, last use."""
    lines = listed(ctx)
    return Reply(text="\n".join(lines) if lines else ctx.t("integrations.none"))


def listed(ctx: Ctx) -> list[str]:
    """The live integrations, a title and one line each (never a token); [] when none."""
    rows = queries.live_integrations(ctx.session, workspace_id=ctx.ws)
    if not rows:
        return []
    lines = [ctx.t("integrations.title")]
    for row in rows:
        used = row.last_used_at.strftime("%Y-%m-%d %H:%M UTC") if row.last_used_at else None
        lines.append(
            ctx.t(
                "integrations.line",
                name=row.name,
                by=markup.mention(row.created_by),
                at=row.created_at.strftime("%Y-%m-%d"),
                used=used or ctx.t("integrations.never_used"),
            )
        )
    return lines


def _names(ctx: Ctx) -> str:
    rows = queries.live_integrations(ctx.session, workspace_id=ctx.ws)
    return ", ".join(f"`{row.name}`" for row in rows) or "—"
