"""Structured logs: one JSON object per line, with the id of the request being served.

bot/http.py sets REQUEST_ID (and WORKSPACE once the signed body names it) for each request;
every line logged while it is served carries them. A context variable stays with the
thread it was set in: the pools of bot/work.py copy the submitter's context into each task,
so what a request queues logs with its ids too.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
WORKSPACE: ContextVar[str | None] = ContextVar("workspace", default=None)
# An id a proxy in front already gave the request is kept if it looks like one.
GIVEN_ID = re.compile(r"[A-Za-z0-9_.-]{8,64}")


def request_id(given: str | None = None) -> str:
    """The proxy's id when it is well formed (never a header that could forge log lines)."""
    if given and GIVEN_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


@contextmanager
def serving(rid: str) -> Iterator[None]:
    """REQUEST_ID is `rid` (and WORKSPACE unknown) inside, restored after."""
    rid_token = REQUEST_ID.set(rid)
    ws_token = WORKSPACE.set(None)
    try:
        yield
    finally:
        WORKSPACE.reset(ws_token)
        REQUEST_ID.reset(rid_token)


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON; `scrub` cleans the exception text (the message is
    cleaned by the Redact filter before it gets here, but tracebacks are not)."""

    def __init__(self, scrub: Callable[[str], str] = lambda text: text) -> None:
        super().__init__()
        self.scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        workspace = WORKSPACE.get()
        if workspace:
            line["workspace"] = workspace
        if record.exc_info:
            line["exc_info"] = self.scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exc_info"] = self.scrub(record.exc_text)
        # Newlines are escaped either way; ensure_ascii also escapes U+2028 and the like,
        # which some readers split lines at.
        return json.dumps(line, ensure_ascii=True)


class TextFormatter(logging.Formatter):
    """The plain format, with tracebacks cleaned as JSON lines' are."""

    def __init__(self, scrub: Callable[[str], str] = lambda text: text) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.scrub = scrub

    def formatException(self, ei: Any) -> str:
        return self.scrub(super().formatException(ei))
