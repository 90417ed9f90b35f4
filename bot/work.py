"""Bounded worker pools for what runs after the acknowledgement, one per kind of work.

A command's write and its text reply happen on the request thread and travel in the
acknowledgement itself; only the rest is queued here. The kinds are kept apart so that one
kind backing up never delays another: charts wait for rendering, a rate-limited upload
holds a `posts` worker, and a modal (whose trigger id dies about 3 s after the command) or
a button's reply never queues behind either. Each pool takes at most `limit` tasks,
running or waiting; past that a task is refused, and the caller says so to the user (a
clear reply now rather than a late one) or leaves it to the outbox's retries.
"""

from __future__ import annotations

import contextvars
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import charts
from bot import metrics
from bot.settings import Settings
from charts.cache import MB
from charts.specs import ChartSpec

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a request may wait for a free database slot before it is turned away: well
# inside Slack's 3 s, so the "busy" answer is the one the user sees, not Slack's failure.
ADMIT_WAIT = 1.5
DRAW_TIMEOUT = 30.0  # a chart takes a tenth of a second; this long means the drawer is stuck
# Drawing yields the CPU to the server's requests: on a busy machine an ack (Slack's 3 s)
# comes first, and the chart, which the user already expects to take a moment, second.
DRAW_NICENESS = 10
ORPHAN_CHECK = 2.0  # seconds between a drawing process's checks that its server lives
DEFAULT_CACHE = 32 * MB  # a leaderboard is 60-150 kB: a few hundred of them


class Pool:
    """A thread pool that refuses work beyond `limit` tasks in it (running or queued)."""

    def __init__(self, name: str, workers: int, limit: int) -> None:
        self.name = name
        self.limit = limit
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{name}-")
        self._depth = 0
        self._idle = threading.Condition()
        # ask()'s tasks running, by key, with the moment the first asker stops waiting
        self._asked: dict[object, tuple[Future[Any], float]] = {}
        metrics.track_queue(name, lambda: self._depth)  # pacer_queue_depth{queue=name}

    @property
    def depth(self) -> int:
        """Tasks running or waiting."""
        return self._depth

    @property
    def full(self) -> bool:
        return self._depth >= self.limit

    def submit(self, task: Callable[..., Any], *args: Any) -> bool:
        """Queue `task(*args)`; False, and nothing queued, when the pool is full or closed."""
        with self._idle:
            if self._depth >= self.limit:
                log.warning("%s pool full (%d tasks): task refused", self.name, self._depth)
                return False
            self._depth += 1
        context = contextvars.copy_context()  # the request id and such follow the task
        try:
            self._executor.submit(self._run, context, task, args)
        except RuntimeError:  # shut down: the process is stopping
            self._done()
            log.warning("%s pool closed: task refused", self.name)
            return False
        return True

    def ask(self, timeout: float, key: object, task: Callable[..., T], *args: Any) -> T | None:
        """`task(*args)` on the pool, waiting at most `timeout` seconds for its result; None
        when it is late, failed or was refused (a late task still runs to its end). While
        a task under `key` runs, asking again joins it instead of queueing another, and
        waits only what is left of the first ask's `timeout`: a slow Slack must turn
        neither one user's lookup into one per command nor make each command wait again."""
        now = time.monotonic()
        with self._idle:
            asked = self._asked.get(key)
            fresh = asked is None
            if asked is None:
                asked = self._asked[key] = (Future(), now + timeout)
        answer, deadline = asked
        if fresh and not self.submit(self._answer, key, answer, task, *args):
            with self._idle:
                del self._asked[key]
            return None
        try:
            return answer.result(timeout=max(0.0, deadline - now))
        except Exception:  # late, or failed (logged by _run)
            return None

    def _answer(self, key: object, answer: Future[T], task: Callable[..., T], *args: Any) -> None:
        try:
            answer.set_result(task(*args))
        except Exception as err:
            answer.set_exception(err)
            raise
        finally:
            with self._idle:
                self._asked.pop(key, None)

    def _run(self, context: contextvars.Context, task: Callable[..., Any], args: Any) -> None:
        try:
            context.run(task, *args)
        except Exception:  # a task's failure is its own; the pool goes on
            log.exception("%s task failed", self.name)
        finally:
            self._done()

    def _done(self) -> None:
        with self._idle:
            self._depth -= 1
            self._idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until every task has finished (True), or `timeout` seconds (False)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._depth > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=False)


class Drawer:
    """Charts drawn in processes of their own, each kept by what it shows (charts.cache).

    matplotlib holds the GIL while it draws, and so does the collection that frees each
    figure: drawing in the serving process (85% of its CPU on /leaderboard) stalls every
    acknowledgement behind it. A process draws one chart at a time, so charts come out
    as fast as there are processes. `processes=0` draws here instead, on charts' own
    drawing thread: the console, tests, and a machine with no core to spare.

    The processes start on the first chart, or on `start()` without waiting for them, so
    a Drawer costs nothing until it draws. A process that dies breaks its whole pool
    (BrokenProcessPool): the pool is replaced and the chart drawn again, once; what still
    fails is raised to the caller, who sends the reply without its chart."""

    def __init__(self, processes: int = 1, cache_bytes: int = DEFAULT_CACHE) -> None:
        self.processes = processes
        self.cache = charts.PngCache(cache_bytes)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __call__(self, spec: ChartSpec) -> bytes:
        return self.cache.get(charts.cache_key(spec), lambda: self.draw(spec))

    def draw(self, spec: ChartSpec) -> bytes:
        """The chart drawn now, past the cache."""
        if self.processes == 0:
            return charts.render(spec)
        pool = self._running()
        try:
            return pool.submit(charts.render, spec).result(timeout=DRAW_TIMEOUT)
        except BrokenProcessPool:
            log.warning("a drawing process died: new ones draw the chart again")
        return self._replace(pool).submit(charts.render, spec).result(timeout=DRAW_TIMEOUT)

    def start(self) -> None:
        """Start and warm up the processes now, in the background."""
        if self.processes == 0:
            return
        pool = self._running()
        for _ in range(self.processes):
            pool.submit(int)  # with no process idle yet, each task starts one

    def _running(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the drawing processes are shut down")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=_forkserver(),
                    initializer=drawing_process_start,
                    initargs=(DRAW_NICENESS, os.getpid()),
                )
            return self._pool

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A new pool for a broken one (the charts that shared its fall meet here too)."""
        with self._lock:
            if self._pool is broken:
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        return self._running()

    def close(self) -> None:
        with self._lock:
            pool, self._pool, self._closed = self._pool, None, True
        if pool is not None:
            # Waiting: the drawings are done by now, and a pool left behind without it
            # fails at interpreter exit (concurrent.futures writes to its closed pipe).
            pool.shutdown(wait=True, cancel_futures=True)


def drawing_process_start(niceness: int, server_pid: int) -> None:
    """A drawing process's start: it warms up, and ends itself once the server is gone.
    A server killed outright (kill -9, the OOM killer) never shuts its pool down, and its
    drawing processes and their forkserver would otherwise stay, holding their memory."""
    watch = threading.Thread(target=_end_with, args=(server_pid,), daemon=True)
    watch.start()
    charts.warm_up_worker(niceness)


def _end_with(server_pid: int) -> None:
    while _alive(server_pid):
        time.sleep(ORPHAN_CHECK)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except (ProcessLookupError, PermissionError):  # gone, or the pid is another user's now
        return False
    try:  # Linux: a killed server not yet reaped by its parent is a zombie, as good as gone
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return not stat.read().rpartition(")")[2].startswith(" Z")
    except OSError:
        return True


def _forkserver() -> multiprocessing.context.BaseContext:
    """Drawing processes forked from a clean server process that imported matplotlib once
    (never from this one: forking a process with threads can copy a held lock), so a new
    one starts in about half the time a fresh interpreter takes, and they share its pages.
    The main module is preloaded too, as by default: a child of `pacer` imports none of it
    again (one started with `python -m` still does)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "charts.draw"])
    return context


def serving(settings: Settings) -> Work:
    """The pools of a server: its charts drawn by `settings.draw_processes` processes (which
    start now, in the background) and kept in a cache of `settings.chart_cache_mb`. Each
    render thread waits on one drawing: there are as many as processes, so every process
    has a chart to draw."""
    drawer = Drawer(settings.draw_processes, settings.chart_cache_mb * MB)
    metrics.track_chart_cache(lambda: drawer.cache.size)
    drawer.start()
    threads = max(2, settings.draw_processes)
    return Work(render=Pool("render", workers=threads, limit=10 * threads), draw=drawer)


@dataclass
class Work:
    """The pools of one app, and the gate in front of the database for requests."""

    render: Pool = field(default_factory=lambda: Pool("render", workers=2, limit=20))
    replies: Pool = field(default_factory=lambda: Pool("replies", workers=4, limit=200))
    posts: Pool = field(default_factory=lambda: Pool("posts", workers=8, limit=500))
    writers: int = 8  # requests at the database at once (the rest wait, then are turned away)
    # Charts drawn here and cached; serving() draws them in other processes.
    draw: Callable[[ChartSpec], bytes] = field(default_factory=lambda: Drawer(processes=0))
    _slots: threading.BoundedSemaphore = field(init=False)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.writers)

    @property
    def pools(self) -> tuple[Pool, ...]:
        return (self.render, self.replies, self.posts)

    @contextmanager
    def admitted(self, wait: float = ADMIT_WAIT) -> Iterator[bool]:
        """A database slot for one request (True), or False after `wait` seconds or while
        stopping: the caller answers "busy" and writes nothing."""
        if self._stopping.is_set() or not self._slots.acquire(timeout=wait):
            yield False
            return
        try:
            yield True
        finally:
            self._slots.release()

    def drain(self, timeout: float) -> bool:
        """Stop admitting, then wait for the pools to empty, in the order work flows
        (a rendered chart becomes a post); True if all finished within `timeout`."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        drained = True
        for pool in self.pools:
            left = max(0.0, deadline - time.monotonic())
            if not pool.drain(left):
                log.error("%s pool: %d tasks unfinished at shutdown", pool.name, pool.depth)
                drained = False
        for pool in self.pools:
            pool.close()
        if isinstance(self.draw, Drawer):
            self.draw.close()
        return drained
