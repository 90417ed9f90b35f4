"""A fake Slack on loopback (Web API, uploads, response URLs) and requests as Slack signs them.

Answers are the recorded samples in tests/fixtures (see its README.txt), adjusted to the
call (ids, upload URLs on this server). Every request is recorded so tests can assert
what the app sent. Nothing here talks to slack.com.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"
T = TypeVar("T")


def fixture(name: str) -> Any:
    path = FIXTURES / name
    return (
        json.loads(path.read_text(encoding="utf-8")) if name.endswith(".json") else path.read_text()
    )


@dataclass
class Call:
    method: str  # Web API method ("chat.postMessage"), "upload" or "response"
    path: str
    params: dict[str, Any]  # form or JSON body, plus query string
    headers: dict[str, str]
    body: bytes = b""

    def json(self, name: str) -> Any:
        """A parameter the SDK sent JSON-encoded inside a form field (view, blocks)."""
        value = self.params[name]
        return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Install:
    """What oauth.v2.access answers for one authorization code: a workspace of its own, with
    its own bot token (and, with token rotation, an expiry and a refresh token)."""

    team: str
    token: str
    user: str
    expires_in: int | None = None
    refresh_token: str | None = None


def token_of(call: Call) -> str | None:
    """The bearer token a Web API call carried (None for basic auth or no header)."""
    scheme, _, token = call.headers.get("authorization", "").partition(" ")
    return token if scheme == "Bearer" else None


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # users.info overrides
    emails: dict[str, str] = field(default_factory=dict)  # users.lookupByEmail: email -> id
    # Files a user shared (a modal's file_input): file id -> (name, bytes), served by
    # files.info and downloaded from url_private_download with the bot token.
    shared: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    socket_url: str | None = None  # apps.connections.open answer
    calls: list[Call] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id -> bytes
    _errors: dict[str, list[str]] = field(default_factory=dict)
    _rate_limited: dict[str, int] = field(default_factory=dict)
    _retry_after: dict[str, int] = field(default_factory=dict)
    _delays: dict[str, float] = field(default_factory=dict)
    _hangs: dict[str, list[float]] = field(default_factory=dict)
    _response_statuses: list[int] = field(default_factory=list)
    # OAuth: installs by authorization code; refresh token -> (new token, new refresh token)
    installs: dict[str, Install] = field(default_factory=dict)
    refreshes: dict[str, tuple[str, str]] = field(default_factory=dict)
    _refused: dict[str, str] = field(default_factory=dict)  # token -> error
    _token_delays: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Condition = field(init=False)
    _server: ThreadingHTTPServer | None = None
    _files: int = 0

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class Handler(_Handler):
            slack = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # shutdown() waits for the loop to look at its flag: poll often, close at once.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
        ).start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}/response/{name}"

    # --- behaviour ------------------------------------------------------------------------------

    def fail(self, method: str, error: str, times: int = 1) -> None:
        """The next `times` calls of `method` answer {"ok": false, "error": error}."""
        with self._lock:
            self._errors.setdefault(method, []).extend([error] * times)

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 0) -> None:
        """The next `times` calls of `method` get HTTP 429 with Retry-After: `retry_after`."""
        with self._lock:
            self._rate_limited[method] = self._rate_limited.get(method, 0) + times
            self._retry_after[method] = retry_after

    def slow(self, method: str, seconds: float) -> None:
        """Every call of `method` ("response" for response URLs) answers `seconds` late."""
        with self._lock:
            self._delays[method] = seconds

    def slow_token(self, token: str, seconds: float) -> None:
        """Every call made with `token` answers `seconds` late (one workspace's slow Slack)."""
        with self._lock:
            self._token_delays[token] = seconds

    def refuse(self, token: str, error: str = "invalid_auth") -> None:
        """Every later call made with `token` answers {"ok": false, "error": error}."""
        with self._lock:
            self._refused[token] = error

    def _wait(self, method: str, token: str | None = None) -> None:
        with self._lock:
            delay = self._delays.get(method, 0.0) + self._token_delays.get(token or "", 0.0)
        if delay:
            time.sleep(delay)

    def hang(self, method: str, seconds: float = 5.0, times: int = 1) -> None:
        """The next `times` calls of `method` ("response" for a response URL) are recorded,
        then answered only after `seconds`: a client with a shorter timeout gives up."""
        with self._lock:
            self._hangs.setdefault(method, []).extend([seconds] * times)

    def fail_responses(self, status: int, times: int = 1) -> None:
        """The next `times` posts to a response URL answer HTTP `status` (a 429 comes with
        Retry-After: 0). They are recorded like the others."""
        with self._lock:
            self._response_statuses.extend([status] * times)

    def hang_for(self, method: str) -> float:
        with self._lock:
            hangs = self._hangs.get(method)
            return hangs.pop(0) if hangs else 0.0

    def response_status(self) -> int:
        with self._lock:
            return self._response_statuses.pop(0) if self._response_statuses else 200

    # --- records ----------------------------------------------------------------------------

    def called(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def responses(self, name: str | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method == "response" and (name is None or c.path.endswith("/" + name))
            ]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 15.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until `count` matching calls have arrived; fail with what did arrive."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [
                    c for c in self.calls if c.method == method and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"waited for {count} x {method}; calls so far: {seen}")
                self._changed.wait(left)

    def record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # --- answers ------------------------------------------------------------------------------

    def answer(self, call: Call) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            if self._rate_limited.get(call.method, 0) > 0:
                self._rate_limited[call.method] -= 1
                limited = fixture("webapi.ratelimited.429.sdk-test.json")
                retry_after = str(self._retry_after.get(call.method, 0))
                return 429, {"Retry-After": retry_after}, limited["body"]
            refused = self._refused.get(token_of(call) or "")
            if refused:
                return 200, {}, {"ok": False, "error": refused}
            errors = self._errors.get(call.method)
            if errors:
                return 200, {}, {"ok": False, "error": errors.pop(0)}
        build = ANSWERS.get(call.method)
        return 200, {}, build(self, call) if build else {"ok": True}

    def next_file_id(self) -> str:
        with self._lock:
            self._files += 1
            return f"F{self._files:09d}"

    def uploaded(self) -> Iterator[tuple[Call, bytes]]:
        for c in self.called("upload"):
            yield c, c.body


# --- the Web API answers -----------------------------------------------------------------------


def _auth_test(fake: FakeSlack, call: Call) -> dict[str, Any]:
    return fixture("webapi.auth.test.bot.bolt.json")


def _users_info(fake: FakeSlack, call: Call) -> dict[str, Any]:
    answer = fixture("webapi.users.info.docs.json")
    user_id = call.params.get("user", "")
    user = answer["user"]
    user.update({"id": user_id, "name": user_id.lower(), "real_name": f"Name of {user_id}"})
    user["profile"]["real_name"] = user["real_name"]
    user.update(fake.users.get(user_id, {}))
    if call.params.get("include_locale") in ("1", "true", True):
        user.setdefault("locale", "en-US")
    else:
        user.pop("locale", None)
    return dict(answer)


def _lookup_by_email(fake: FakeSlack, call: Call) -> dict[str, Any]:
    email = str(call.params.get("email", "")).strip().lower()
    user_id = {k.lower(): v for k, v in fake.emails.items()}.get(email)
    if user_id is None:
        return {"ok": False, "error": "users_not_found"}
    user = _users_info(fake, Call("users.info", "", {"user": user_id}, {}, b""))["user"]
    user["profile"]["email"] = email
    return {"ok": True, "user": user}


def _files_info(fake: FakeSlack, call: Call) -> dict[str, Any]:
    file_id = str(call.params.get("file", ""))
    if file_id not in fake.shared:
        return {"ok": False, "error": "file_not_found"}
    name, data = fake.shared[file_id]
    download = f"{fake.url}/files-pri/{file_id}/{name}"
    return {
        "ok": True,
        "file": {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": "text/csv",
            "filetype": "csv",
            "size": len(data),
            "url_private": download,
            "url_private_download": download,
        },
    }


def _post_message(fake: FakeSlack, call: Call) -> dict[str, Any]:
    answer = fixture("webapi.chat.postMessage.docs.json")
    answer["channel"] = call.params.get("channel", "")
    answer["message"]["text"] = call.params.get("text", "")
    return dict(answer)


def _post_ephemeral(fake: FakeSlack, call: Call) -> dict[str, Any]:
    return dict(fixture("webapi.chat.postEphemeral.docs.json"))


def _views(name: str) -> Callable[[FakeSlack, Call], dict[str, Any]]:
    def build(fake: FakeSlack, call: Call) -> dict[str, Any]:
        answer = fixture(name)
        view = call.json("view")
        answer["view"].update({k: v for k, v in view.items() if k != "type"})
        return dict(answer)

    return build


def _conversations_open(fake: FakeSlack, call: Call) -> dict[str, Any]:
    user = str(call.params.get("users", "")).split(",")[0]
    return {"ok": True, "channel": {"id": "D" + user.lstrip("UW")}}


def _upload_url(fake: FakeSlack, call: Call) -> dict[str, Any]:
    answer = fixture("webapi.files.getUploadURLExternal.docs.json")
    file_id = fake.next_file_id()
    answer.update({"file_id": file_id, "upload_url": f"{fake.url}/upload/v1/{file_id}"})
    return dict(answer)


def _complete_upload(fake: FakeSlack, call: Call) -> dict[str, Any]:
    answer = fixture("webapi.files.completeUploadExternal.docs.json")
    template = answer["files"][0]
    channel = call.params.get("channel_id")
    files = []
    for f in call.json("files"):
        one = copy.deepcopy(template)
        one.update({"id": f["id"], "title": f.get("title", ""), "channels": [channel]})
        files.append(one)
    answer["files"] = files
    return dict(answer)


def _connections_open(fake: FakeSlack, call: Call) -> dict[str, Any]:
    answer = fixture("webapi.apps.connections.open.bolt.json")
    if fake.socket_url:
        answer["url"] = fake.socket_url
    return dict(answer)


def _oauth_access(fake: FakeSlack, call: Call) -> dict[str, Any]:
    if call.params.get("grant_type") == "refresh_token":  # token rotation
        answer = fixture("webapi.oauth.v2.access.token_rotation_refresh.bolt.json")
        fresh = fake.refreshes.get(str(call.params.get("refresh_token")))
        if fresh is not None:
            answer.update({"access_token": fresh[0], "refresh_token": fresh[1], "enterprise": None})
        return dict(answer)
    answer = fixture("webapi.oauth.v2.access.bolt.json")
    install = fake.installs.get(str(call.params.get("code")))
    if install is not None:  # a workspace of its own, not of the recorded sample's org
        answer.update({"access_token": install.token, "enterprise": None})
        answer["team"] = {"name": f"Workspace {install.team}", "id": install.team}
        answer["authed_user"]["id"] = install.user
        if install.expires_in is not None:
            answer.update(
                {"expires_in": install.expires_in, "refresh_token": install.refresh_token}
            )
    return dict(answer)


ANSWERS: dict[str, Callable[[FakeSlack, Call], dict[str, Any]]] = {
    "auth.test": _auth_test,
    "users.info": _users_info,
    "users.lookupByEmail": _lookup_by_email,
    "files.info": _files_info,
    "chat.postMessage": _post_message,
    "chat.postEphemeral": _post_ephemeral,
    "views.open": _views("webapi.views.open.docs.json"),
    "views.publish": _views("webapi.views.publish.docs.json"),
    "views.update": _views("webapi.views.open.docs.json"),
    "conversations.open": _conversations_open,
    "files.getUploadURLExternal": _upload_url,
    "files.completeUploadExternal": _complete_upload,
    "apps.connections.open": _connections_open,
    "oauth.v2.access": _oauth_access,
}


class _Handler(BaseHTTPRequestHandler):
    slack: FakeSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        params: dict[str, Any] = dict(parse_qsl(split.query))
        kind = headers.get("content-type", "")
        if split.path.startswith("/upload/"):
            call = Call("upload", split.path, params, headers, body)
            self.slack.uploads[split.path.rsplit("/", 1)[-1]] = body
            self.slack.record(call)
            self._send(200, {}, fixture("upload_url.post_response.docs.txt"), "text/plain")
            return
        if split.path.startswith("/files-pri/"):
            self._download(Call("download", split.path, params, headers, body))
            return
        if "json" in kind and body:
            params.update(json.loads(body))
        elif body:
            params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if split.path.startswith("/response/"):
            self.slack._wait("response")
            self.slack.record(Call("response", split.path, params, headers, body))
            self._wait(self.slack.hang_for("response"))
            status = self.slack.response_status()
            extra = {"Retry-After": "0"} if status == 429 else {}
            self._send(status, extra, "ok" if status == 200 else "error", "text/plain")
            return
        if not split.path.startswith("/api/"):
            self._send(404, {}, "not found", "text/plain")
            return
        call = Call(split.path.removeprefix("/api/"), split.path, params, headers, body)
        self.slack._wait(call.method, token_of(call))
        status, extra, answer = self.slack.answer(call)
        self.slack.record(call)
        self._wait(self.slack.hang_for(call.method))
        self._send(status, extra, answer, "application/json; charset=utf-8")

    def _download(self, call: Call) -> None:
        """A shared file's bytes, as Slack serves them: only with the bot token."""
        self.slack.record(call)
        file_id = call.path.split("/")[2]
        if token_of(call) is None or file_id not in self.slack.shared:
            self._send(404 if token_of(call) else 403, {}, "no file", "text/plain")
            return
        data = self.slack.shared[file_id][1]
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _wait(self, seconds: float) -> None:
        """A hung call: answered late, when the client has given up (and closed)."""
        if seconds:
            time.sleep(seconds)
            self.close_connection = True

    def _send(self, status: int, headers: dict[str, str], answer: Any, kind: str) -> None:
        data = (answer if isinstance(answer, str) else json.dumps(answer)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # a hung call's client gave up
            self.close_connection = True


def eventually(check: Callable[[], T | None], timeout: float = 15.0) -> T:
    """Poll `check` until it returns something (for effects no fake call announces)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{check.__name__} did not happen within {timeout} s")
        time.sleep(0.02)


# --- requests as Slack sends them to the app ------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slash_body(**fields: str) -> bytes:
    """A slash command form body: the recorded sample's fields, overridden by `fields`."""
    data: dict[str, str] = fixture("slash_command.bolt_fields.json")
    data.update(fields)
    return urlencode(data).encode()


def payload_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def view_submission(
    *, team: str, user: str, callback_id: str, view_id: str, state: dict[str, Any], metadata: str
) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(fixture("view_submission.bolt.json"))
    body["team"] = {"id": team, "domain": "pacer-test"}
    body["user"] = {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team}
    view = body["view"]
    view.update(
        {
            "id": view_id,
            "team_id": team,
            "callback_id": callback_id,
            "private_metadata": metadata,
            "state": {"values": state},
            "blocks": [],
        }
    )
    return body


def block_action(
    *, team: str, user: str, channel: str, action_id: str, value: str, response_url: str
) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(fixture("block_actions.bolt_with_message.json"))
    body["team"] = {"id": team}
    body["user"] = {"id": user}
    body["channel"] = {"id": channel}
    body["container"]["channel_id"] = channel
    body["container"]["is_ephemeral"] = True
    body["response_url"] = response_url
    action = body["actions"][0]
    action.update({"action_id": action_id, "value": value})
    return body


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class SlackSender:
    """Posts to the app's /slack/events as Slack would, signed with `secret`."""

    base_url: str
    secret: str

    def post(
        self,
        body: bytes,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(secret or self.secret, ts, body),
            **(headers or {}),
        }
        request = urllib.request.Request(
            self.base_url + "/slack/events", data=body, headers=all_headers, method="POST"
        )
        return self.send(request)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.send(urllib.request.Request(self.base_url + path, headers=headers or {}))

    def send(self, request: urllib.request.Request) -> Answer:
        try:
            with urllib.request.urlopen(request, timeout=15) as resp:
                return Answer(resp.status, resp.read().decode(), dict(resp.headers))
        except urllib.error.HTTPError as err:
            return Answer(err.code, err.read().decode(), dict(err.headers))


# --- feedback loop: chat.update, and a distinct ts per posted message ---------------------------
# COMPOSED from the documented chat.update response fields (ok, channel, ts, text, message):
# no recorded sample of it is in tests/fixtures.


def _chat_update(fake: FakeSlack, call: Call) -> dict[str, Any]:
    text = call.params.get("text", "")
    return {
        "ok": True,
        "channel": call.params.get("channel", ""),
        "ts": call.params.get("ts", ""),
        "text": text,
        "message": {"type": "message", "text": text, "ts": call.params.get("ts", "")},
    }


ANSWERS["chat.update"] = _chat_update


# --- celebrations: chat.delete -----------------------------------------------------------------
# COMPOSED from the documented chat.delete response fields (ok, channel, ts).


def _chat_delete(fake: FakeSlack, call: Call) -> dict[str, Any]:
    return {"ok": True, "channel": call.params.get("channel", ""), "ts": call.params.get("ts", "")}


ANSWERS["chat.delete"] = _chat_delete


# --- files shared through files_upload_v2 -----------------------------------------------------


@dataclass(frozen=True)
class SharedFile:
    """One files_upload_v2 as Slack saw it: its three steps joined by file id."""

    file_id: str
    filename: str
    alt_text: str
    body: bytes
    channel: str
    title: str
    comment: str


def shared_files(fake: FakeSlack) -> list[SharedFile]:
    """Every completed upload, in order. File ids are handed out in the order of
    files.getUploadURLExternal calls (F000000001, F000000002, ...)."""
    asked = {f"F{i:09d}": c for i, c in enumerate(fake.called("files.getUploadURLExternal"), 1)}
    shared = []
    for done in fake.called("files.completeUploadExternal"):
        for f in done.json("files"):
            first = asked[f["id"]]
            shared.append(
                SharedFile(
                    file_id=f["id"],
                    filename=str(first.params["filename"]),
                    alt_text=str(first.params.get("alt_txt", "")),
                    body=fake.uploads.get(f["id"], b""),
                    channel=str(done.params.get("channel_id", "")),
                    title=str(f.get("title", "")),
                    comment=str(done.params.get("initial_comment", "")),
                )
            )
    return shared
