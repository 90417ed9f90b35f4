"""Stopping without losing work: on SIGTERM (or Ctrl-C) stop taking requests, let the ones
in flight finish, drain the worker pools, and only then let the process exit.

What a request writes is committed before it is acknowledged, so a kill -9 loses no
acknowledged write either; draining is what keeps its charts, replies and notices.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

from bot.work import Work

log = logging.getLogger(__name__)

GRACE = 25.0  # seconds to finish in-flight work; orchestrators kill at 30 by default
POLL = 0.02


def on_stop_signals(stop: Callable[[], None]) -> None:
    """Call `stop` on SIGTERM and SIGINT (once; a second signal is ignored while it runs)."""
    fired = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if fired.is_set():
            return
        fired.set()
        log.info("%s: stopping after the work in flight", signal.Signals(signum).name)
        stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)


class Draining:
    """Runs a waitress server until `stop`, then drains it and `work` before `run` returns."""

    def __init__(self, server: BaseWSGIServer, work: Work, grace: float = GRACE) -> None:
        self.server, self.work, self.grace = server, work, grace
        self.drained = threading.Event()

    def run(self) -> None:
        self.server.run()

    def stop(self) -> None:
        """Stop accepting at once (from any thread), then drain on a thread of its own."""
        self.server.trigger.pull_trigger(self._stop_listening)
        threading.Thread(target=self._drain, name="drain", daemon=True).start()

    def _stop_listening(self) -> None:
        # In waitress's loop thread: the listening socket goes, open connections stay.
        self.server.accepting = False
        wasyncore.dispatcher.close(self.server)

    def _drain(self) -> None:
        deadline = time.monotonic() + self.grace
        if not _wait(self._requests_done, deadline):
            log.error("requests still running at the end of the grace period")
        if not self.work.drain(max(0.0, deadline - time.monotonic())):
            log.error("worker pools not drained within %.0f s", self.grace)
        self.drained.set()
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))

    def _requests_done(self) -> bool:
        dispatcher: Any = self.server.task_dispatcher
        with dispatcher.lock:
            busy = bool(dispatcher.queue) or dispatcher.active_count > 0
        if busy:
            return False
        # Answers written by a finished task are flushed by the loop: wait for the bytes.
        return not any(
            isinstance(channel, HTTPChannel) and (channel.requests or channel.total_outbufs_len)
            for channel in list(self.server._map.values())
        )


def _wait(done: Callable[[], bool], deadline: float) -> bool:
    while not done():
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)
    return True
