"""POST /integrations/deals: deals a CRM's workflow sends (HTTP and OAuth mode only; Socket
Mode serves no HTTP).

The order of the checks: the method (405), the body's size (413) and type (415, JSON only),
then who sends it (401: `Authorization: Bearer pcr_…`, or an HMAC signature, see `_signed`),
then the JSON (400), every deal's fields (400, each problem with the deal's index and the
field), the owners' emails looked up in Slack, and last the write: every deal or none,
committed before the 200 answer, which lists each deal's outcome. Celebrations are recorded
in the outbox with the write and posted from the posts pool, as a typed deal's are.

The body and the token are never logged; a call's log line names the integration, the
workspace and the outcomes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import logs, metrics
from bot.delivery import SlackTransport
from bot.outbox import Outbox
from bot.tokens import Clients
from bot.work import Work
from commands import i18n, integrations, webhook_deals
from commands.webhook_deals import Invalid, Owner, Problem
from storage import queries
from storage.engine import read_scope, session_scope

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

PATH = "/integrations/deals"  # bot/http.py routes it here
MAX_BODY = 1_000_000  # bytes: 500 deals of a CRM's usual size are a tenth of it
MAX_AGE = 5 * 60  # seconds a signature stays valid, as Slack's own
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v1=[0-9a-f]{64}")
BEARER = re.compile(r"Bearer\s+(\S{1,200})", re.IGNORECASE)
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,120}")
# An owner's email is looked up in Slack at most this often (a CRM sends the same reps
# all day); a user not found is asked again sooner, for the admin fixing the profile.
FOUND_SECONDS = 600.0
NOT_FOUND_SECONDS = 60.0
CACHE_SIZE = 10_000
REPLAYED = [("Idempotent-Replayed", "true")]


@dataclass(frozen=True)
class Caller:
    """The integration a call authenticated as (copied out of its session)."""

    id: int
    workspace_id: str
    name: str
    created_by: str


class Answer(Exception):
    """The call ends here with `status` and a JSON body of problems; nothing was written."""

    def __init__(self, status: str, outcome: str, problems: list[Problem]) -> None:
        super().__init__(outcome)
        self.status = status
        self.outcome = outcome
        self.problems = problems


def _answer(status: str, outcome: str, locale: str, key: str, **values: Any) -> Answer:
    return Answer(status, outcome, [Problem(None, None, i18n.t(locale, key, **values))])


class Emails:
    """users.lookupByEmail answers, kept briefly per workspace (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._found: dict[tuple[str, str], tuple[Owner | None, float]] = {}
        self._lock = threading.Lock()

    def owners(
        self, client: WebClient, workspace_id: str, emails: list[str], locale: str
    ) -> dict[str, Owner | None]:
        return {email: self.owner(client, workspace_id, email, locale) for email in emails}

    def owner(self, client: WebClient, workspace_id: str, email: str, locale: str) -> Owner | None:
        key = (workspace_id, email)
        with self._lock:
            cached = self._found.get(key)
        if cached is not None and cached[1] > self.clock():
            return cached[0]
        found = _lookup(client, email, locale)
        keep = FOUND_SECONDS if found is not None else NOT_FOUND_SECONDS
        with self._lock:
            if len(self._found) >= CACHE_SIZE:
                self._found.clear()  # rare: a cache this full is mostly stale anyway
            self._found[key] = (found, self.clock() + keep)
        return found


def _lookup(client: WebClient, email: str, locale: str) -> Owner | None:
    try:
        answer = client.users_lookupByEmail(email=email)
    except SlackApiError as err:
        metrics.slack_error(err)
        error = str(err.response.get("error") or "error")
        if error == "users_not_found":
            return None
        if error in ("missing_scope", "not_allowed_token_type"):
            raise _answer(
                "503 Service Unavailable", "slack_error", locale, "webhook.no_scope"
            ) from None
        raise _answer(
            "503 Service Unavailable",
            "slack_error",
            locale,
            "webhook.lookup_failed",
            email=email,
            error=error,
        ) from None
    except Exception as err:  # unreachable, timed out
        log.warning("users.lookupByEmail failed: %s", type(err).__name__)
        raise _answer(
            "503 Service Unavailable",
            "slack_error",
            locale,
            "webhook.lookup_failed",
            email=email,
            error=type(err).__name__,
        ) from None
    user = answer.get("user") or {}
    profile = user.get("profile") or {}
    name = profile.get("display_name") or user.get("real_name") or user.get("name") or ""
    return Owner(user_id=str(user["id"]), name=str(name)[:200])


class Webhook:
    """The WSGI handler of POST /integrations/deals."""

    def __init__(
        self,
        engine: Engine,
        clients: Clients | None,
        work: Work,
        *,
        clock: Callable[[], float] = time.time,
        emails: Emails | None = None,
    ) -> None:
        self.engine = engine
        self.clients = clients
        self.work = work
        self.clock = clock
        self.emails = emails or Emails()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        locale = _locale(environ)
        try:
            status, data, headers = self._handle(environ, locale)
            outcome = "ok"
        except Invalid as err:
            log.warning("webhook call refused: %d problems", len(err.problems))
            status, outcome, headers = "400 Bad Request", "bad_request", []
            data = {"ok": False, "errors": [p.as_json() for p in err.problems]}
        except Answer as err:
            log.warning("webhook call refused (%s): %s", err.status, err.outcome)
            status, outcome, headers = err.status, err.outcome, []
            data = {"ok": False, "errors": [p.as_json() for p in err.problems]}
            if err.status.startswith("401"):
                headers = [("WWW-Authenticate", 'Bearer realm="pacer"')]
            if err.status.startswith("405"):
                headers = [("Allow", "POST")]
        except Exception:
            log.exception("webhook call failed")
            status, outcome, headers = "500 Internal Server Error", "error", []
            problem = Problem(None, None, i18n.t(locale, "webhook.internal"))
            data = {"ok": False, "errors": [problem.as_json()]}
        metrics.webhook_call(outcome)
        return _json(start_response, status, data, headers)

    def _handle(
        self, environ: WSGIEnvironment, locale: str
    ) -> tuple[str, dict[str, Any], list[tuple[str, str]]]:
        if environ.get("REQUEST_METHOD") != "POST":
            raise _answer("405 Method Not Allowed", "bad_method", locale, "webhook.method")
        body = _read(environ, locale)
        if not _is_json(environ.get("CONTENT_TYPE", "")):
            raise _answer("415 Unsupported Media Type", "bad_type", locale, "webhook.content_type")
        caller = self._authenticated(environ, body, locale)
        logs.WORKSPACE.set(caller.workspace_id)
        read = webhook_deals.read_deals(_parsed(body, locale), locale)
        key = _idempotency_key(environ, caller, locale)
        client = self.clients.client_for(caller.workspace_id) if self.clients else None
        if client is None:
            raise _answer("503 Service Unavailable", "no_slack", locale, "webhook.no_slack")
        # Slack first, holding neither a database slot nor the write lock.
        owners = self.emails.owners(
            client, caller.workspace_id, webhook_deals.emails(read.deals), locale
        )
        with self.work.admitted() as admitted:
            if not admitted:
                raise _answer("503 Service Unavailable", "busy", locale, "webhook.busy")
            try:
                data, headers, applied = self._write(caller, read, owners, key, locale)
            except IntegrityError:
                # A call with the same new record committed meanwhile: it is found now.
                log.info("webhook %s: a concurrent call wrote the same record; again", caller.name)
                data, headers, applied = self._write(caller, read, owners, key, locale)
        if applied is not None:
            self._celebrate(client, caller.workspace_id, applied)
            tally = webhook_deals.counts(applied.results)
            metrics.webhook_deals(tally)
            log.info(
                "webhook %s: %s", caller.name, ", ".join(f"{n} {o}" for o, n in tally.items() if n)
            )
        return "200 OK", data, headers

    # --- who sends it ----------------------------------------------------------------------

    def _authenticated(self, environ: WSGIEnvironment, body: bytes, locale: str) -> Caller:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if authorization:
            return self._bearer(authorization, locale)
        if environ.get("HTTP_X_PACER_SIGNATURE"):
            return self._signed(environ, body, locale)
        raise _unauthorized(locale, "no credentials")

    def _bearer(self, authorization: str, locale: str) -> Caller:
        """`Authorization: Bearer pcr_…`: the token's SHA-256 names the integration."""
        found = BEARER.fullmatch(authorization.strip())
        if found is None:
            raise _unauthorized(locale, "malformed Authorization header")
        digest = integrations.token_hash(found[1])
        with read_scope(self.engine) as session:
            row = queries.integration_by_hash(session, token_hash=digest)
            # Found by the digest's index; compared again in constant time all the same.
            if row is None or not hmac.compare_digest(row.token_hash, digest):
                raise _unauthorized(locale, "unknown token")
            if row.revoked_at is not None:
                raise _unauthorized(locale, f"revoked integration {row.name}")
            return _caller(row)

    def _signed(self, environ: WSGIEnvironment, body: bytes, locale: str) -> Caller:
        """`X-Pacer-Signature: v1=<hex HMAC-SHA256>` over `v1:<timestamp>:<body>`, keyed with
        the SHA-256 hex digest of the token (all Pacer keeps of it), `X-Pacer-Timestamp` in
        unix seconds within MAX_AGE, and which token: `X-Pacer-Workspace` (the Slack team
        id) and `X-Pacer-Integration` (its name)."""
        timestamp = environ.get("HTTP_X_PACER_TIMESTAMP", "")
        signature = environ.get("HTTP_X_PACER_SIGNATURE", "")
        workspace = environ.get("HTTP_X_PACER_WORKSPACE", "")
        name = environ.get("HTTP_X_PACER_INTEGRATION", "")
        if not TIMESTAMP.fullmatch(timestamp) or not SIGNATURE.fullmatch(signature):
            raise _unauthorized(locale, "malformed signature headers")
        if abs(self.clock() - int(timestamp)) > MAX_AGE:
            raise _answer("401 Unauthorized", "unauthorized", locale, "webhook.stale")
        if not (0 < len(workspace) <= 32 and 0 < len(name) <= 80):
            raise _unauthorized(locale, "no X-Pacer-Workspace or X-Pacer-Integration")
        with read_scope(self.engine) as session:
            row = queries.live_integration(session, workspace_id=workspace, name=name)
            key = row.token_hash if row is not None else "0" * 64  # the same work either way
            base = b"v1:" + timestamp.encode() + b":" + body
            expected = "v1=" + hmac.new(key.encode(), base, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, signature) or row is None:
                raise _unauthorized(locale, "bad signature")
            return _caller(row)

    # --- the write --------------------------------------------------------------------------

    def _write(
        self,
        caller: Caller,
        read: webhook_deals.Read,
        owners: dict[str, Owner | None],
        key: str | None,
        locale: str,
    ) -> tuple[dict[str, Any], list[tuple[str, str]], webhook_deals.Applied | None]:
        """Every deal in one transaction, committed before the answer; with the answer
        recorded under the Idempotency-Key, if one came. Applied is None for a replay."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        with session_scope(self.engine) as session:
            row = queries.live_integration(
                session, workspace_id=caller.workspace_id, name=caller.name
            )
            if row is None or row.id != caller.id:  # revoked since the check
                raise _unauthorized(locale, f"revoked integration {caller.name}")
            claim = None
            if key is not None:
                claim = queries.claim_delivery(
                    session, workspace_id=caller.workspace_id, request_key=key
                )
                if claim is None:
                    return self._replayed(session, caller, key, locale), REPLAYED, None
            applied = webhook_deals.apply(
                session,
                workspace_id=caller.workspace_id,
                integration_name=caller.name,
                created_by=caller.created_by,
                deals=read.deals,
                owners=owners,
                now=now,
                locale=locale,
                problems=read.problems,
            )  # Invalid: session_scope rolls back the members it met, and the claim
            queries.touch_integration(session, integration=row, at=now)
            data = {
                "ok": True,
                "counts": webhook_deals.counts(applied.results),
                "deals": [result.as_json() for result in applied.results],
            }
            if claim is not None:
                queries.answer_delivery(session, delivery_id=claim, reply=json.dumps(data))
        return data, [], applied

    def _replayed(self, session: Session, caller: Caller, key: str, locale: str) -> Any:
        row = queries.get_delivery(session, workspace_id=caller.workspace_id, request_key=key)
        if row is None or row.reply is None:
            raise _answer("409 Conflict", "replayed", locale, "webhook.busy")
        log.info("webhook %s: Idempotency-Key answered before, nothing run", caller.name)
        return json.loads(row.reply)

    def _celebrate(
        self, client: WebClient, workspace_id: str, applied: webhook_deals.Applied
    ) -> None:
        """As a command's notices: recorded now (the write is committed), posted, updated
        or taken back from the posts pool; what the pool cannot take, the outbox retries."""
        reply = applied.reply
        if not (reply.notices or reply.updates or reply.retracts):
            return
        outbox = Outbox(self.engine, SlackTransport(client))
        try:
            recorded = outbox.record(workspace_id, reply.notices)
        except Exception:  # the deals stand; only their announcement is lost
            log.exception("celebrations of a webhook call could not be recorded")
            return
        self.work.posts.submit(outbox.deliver, workspace_id, reply, recorded)


def _caller(row: Any) -> Caller:
    return Caller(
        id=row.id, workspace_id=row.workspace_id, name=row.name, created_by=row.created_by
    )


def _unauthorized(locale: str, reason: str) -> Answer:
    log.info("webhook call unauthorized: %s", reason)  # never the token itself
    return _answer("401 Unauthorized", "unauthorized", locale, "webhook.unauthorized")


def _read(environ: WSGIEnvironment, locale: str) -> bytes:
    length = environ.get("CONTENT_LENGTH") or "0"
    if not length.isascii() or not length.isdigit():
        raise _answer("400 Bad Request", "bad_request", locale, "webhook.bad_length")
    if int(length) > MAX_BODY:
        raise _answer(
            "413 Payload Too Large", "too_large", locale, "webhook.too_large", limit=MAX_BODY
        )
    body: bytes = environ["wsgi.input"].read(int(length))
    return body


def _is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def _parsed(body: bytes, locale: str) -> Any:
    """JSON with its numbers exact (a float amount is read as the digits sent)."""
    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:
        error = type(err).__name__ if not isinstance(err, json.JSONDecodeError) else err.msg
        raise _answer(
            "400 Bad Request", "bad_request", locale, "webhook.not_json", error=error
        ) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _idempotency_key(environ: WSGIEnvironment, caller: Caller, locale: str) -> str | None:
    """An optional `Idempotency-Key`: a call sent again with it is answered as the first
    was, without running (kept as a delivery of the integration's workspace)."""
    key = environ.get("HTTP_IDEMPOTENCY_KEY")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise _answer("400 Bad Request", "bad_request", locale, "webhook.bad_key")
    return f"webhook:{caller.id}:{key}"


def _locale(environ: WSGIEnvironment) -> str:
    """Errors in Chinese for `Accept-Language: zh…`, else English."""
    return "zh" if environ.get("HTTP_ACCEPT_LANGUAGE", "").lower().startswith("zh") else "en"


def _json(
    start_response: StartResponse,
    status: str,
    data: dict[str, Any],
    headers: list[tuple[str, str]],
) -> Iterable[bytes]:
    payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
    start_response(
        status,
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(payload))),
            *headers,
        ],
    )
    return [payload]
