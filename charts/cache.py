"""Drawn charts kept by what they show, so a chart asked for again is not drawn again.

A spec is the chart's data: the team, period and order are in its title and rows, the
locale in its words, and the numbers (so the data version) in its values and notes. A new
deal changes a value or a note and so the key: nothing is ever invalidated by hand, and an
old entry just ages out of the LRU.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

from charts.specs import ChartSpec, LeaderboardChart

MB = 1024 * 1024


def cache_key(spec: ChartSpec) -> str:
    """A stable digest of everything the chart draws: equal pictures share a key.

    Left out: the alt text (sent beside the PNG, never drawn), and highlighted names
    not on the chart (they draw nothing), so everyone off the board who asks for it shares
    the asker's entry; a rep on the board is drawn in the accent colour and has one of
    their own."""
    fields = dataclasses.asdict(spec)
    fields.pop("alt_text", None)
    if isinstance(spec, LeaderboardChart):
        fields["highlight"] = sorted(spec.highlight.intersection(spec.names))
    data = json.dumps([type(spec).__name__, fields], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


class PngCache:
    """An LRU of PNG bytes bounded by their total size, with single flight: while a key is
    being drawn, others asking for it wait for that drawing instead of starting their own."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0  # drawings started
        self._pngs: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._drawing: dict[str, Future[bytes]] = {}
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Bytes kept."""
        return self._size

    def __contains__(self, key: str) -> bool:
        return key in self._pngs

    def get(self, key: str, draw: Callable[[], bytes]) -> bytes:
        """The PNG under `key`, drawn by `draw()` if no one has it or is drawing it. A failed
        drawing raises to everyone who waited for it, and is not kept."""
        with self._lock:
            png = self._pngs.get(key)
            if png is not None:
                self._pngs.move_to_end(key)
                self.hits += 1
                return png
            pending = self._drawing.get(key)
            mine = pending is None
            if pending is None:
                self.misses += 1
                pending = self._drawing[key] = Future()
            else:
                self.hits += 1
        return self._draw(key, pending, draw) if mine else pending.result()

    def _draw(self, key: str, mine: Future[bytes], draw: Callable[[], bytes]) -> bytes:
        try:
            png = draw()
        except BaseException as err:
            with self._lock:
                del self._drawing[key]
            mine.set_exception(err)
            raise
        with self._lock:
            del self._drawing[key]
            self._keep(key, png)
        mine.set_result(png)
        return png

    def _keep(self, key: str, png: bytes) -> None:
        if len(png) > self.max_bytes:
            return  # it would push everything else out
        self._pngs[key] = png
        self._size += len(png)
        while self._size > self.max_bytes:
            _, oldest = self._pngs.popitem(last=False)
            self._size -= len(oldest)
