"""What reaches Bolt over HTTP: at most MAX_BODY bytes, signed by Slack, and shaped like a
request Pacer handles. The signature is checked before the body is read as anything; the
body is never logged (it could be huge, or forge log lines)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from commands import registry

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000
MAX_AGE = 5 * 60  # seconds a signed request stays valid (Slack's advice: no replays)
WSGIApp = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
SLACK_ID = re.compile(r"[A-Z0-9]{1,32}")


class Rejected(Exception):
    """The request goes no further: `status` is the answer, `reason` the log line."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def gate(secret: str, inner: WSGIApp) -> WSGIApp:
    key = secret.encode()

    def guarded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            body = _read(environ)
            _verify(key, environ, body)
            handled = _handled(environ.get("CONTENT_TYPE", ""), body)
        except Rejected as err:
            log.warning("refused a request to %s: %s", environ.get("PATH_INFO"), err.reason)
            return plain(start_response, err.status, err.status[4:].lower())
        if not handled:
            return plain(start_response, "200 OK", "")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return inner(environ, start_response)

    return guarded


def _read(environ: WSGIEnvironment) -> bytes:
    length = environ.get("CONTENT_LENGTH") or "0"
    if not length.isascii() or not length.isdigit():
        raise Rejected("400 Bad Request", "bad Content-Length")
    if int(length) > MAX_BODY:
        raise Rejected("413 Payload Too Large", f"body of {int(length)} bytes")
    body: bytes = environ["wsgi.input"].read(min(int(length), MAX_BODY + 1))
    if len(body) > MAX_BODY:
        raise Rejected("413 Payload Too Large", "body too large")
    return body


def _verify(secret: bytes, environ: WSGIEnvironment, body: bytes) -> None:
    """Slack's v0 signature over the raw bytes (any bytes: they are read as nothing yet)."""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not TIMESTAMP.fullmatch(timestamp) or not SIGNATURE.fullmatch(signature):
        raise Rejected("401 Unauthorized", "no valid signature headers")
    if abs(time.time() - int(timestamp)) > MAX_AGE:
        raise Rejected("401 Unauthorized", "stale timestamp")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise Rejected("401 Unauthorized", "bad signature")


def _handled(content_type: str, body: bytes) -> bool:
    """Whether Pacer has a listener for it; Rejected (400) if it is malformed."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            return _event(_object(json.loads(text)))
        form = {k: v[0] for k, v in parse_qs(text, strict_parsing=bool(text)).items()}
        if "payload" in form:
            return _interaction(_object(json.loads(form["payload"])))
        return _command(form)
    except (ValueError, TypeError, LookupError) as err:
        raise Rejected("400 Bad Request", f"malformed body ({type(err).__name__})") from None


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("not an object")
    return value


def _command(form: dict[str, str]) -> bool:
    if form.get("ssl_check"):
        return False
    channel = form.get("channel_id")
    _ids(form["team_id"], form["user_id"], *([channel] if channel else []))
    _text(form.get("text", ""))
    return form["command"] in registry.slash_commands()


def _interaction(payload: dict[str, Any]) -> bool:
    user = _object(payload["user"])
    team = _object(payload.get("team") or {}).get("id") or user.get("team_id")
    _ids(team, user["id"])
    if payload.get("type") == "block_actions":
        action = _object(payload["actions"][0])
        _text(action["action_id"], action.get("value") or "")
        return action["action_id"] in {a.action_id for a in registry.ACTIONS}
    if payload.get("type") == "view_submission":
        view = _object(payload["view"])
        state = json.dumps(view.get("state") or {}, ensure_ascii=False)
        _text(view["id"], view["callback_id"], state)
        return view["callback_id"] in {f.callback_id for f in registry.FORMS}
    return False


def _event(body: dict[str, Any]) -> bool:
    if body.get("type") == "url_verification":
        _text(body["challenge"])
        return True
    if body.get("type") != "event_callback":
        return False
    event = _object(body["event"])
    if event.get("type") in ("app_uninstalled", "tokens_revoked"):  # no user: bot/lifecycle.py
        _ids(body["team_id"])
        return True
    _ids(body["team_id"], event["user"])
    return bool(event.get("type") == "app_home_opened")


def _ids(*values: object) -> None:
    if not all(isinstance(v, str) and SLACK_ID.fullmatch(v) for v in values):
        raise ValueError("not a Slack id")


def _text(*values: object) -> None:
    """Strings PostgreSQL stores (no NUL; JSON may carry `\\u0000` or lone surrogates)."""
    for value in values:
        if not isinstance(value, str) or "\x00" in value or "\\u0000" in value:
            raise ValueError("not storable text")
        value.encode("utf-8")


def plain(start_response: StartResponse, status: str, body: str) -> Iterable[bytes]:
    data = body.encode()
    start_response(
        status,
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))],
    )
    return [data]
