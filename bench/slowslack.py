"""A slow, rate-limiting Slack: the fake of tests/fakeslack.py with every answer held back.

Every Web API call, response_url post and file upload waits `delay` seconds before it is
answered, as a Slack under strain does; of every `limit_of` calls of files.getUploadURLExternal
all but the last answer HTTP 429 with `Retry-After`, so each chart upload waits that out
again and again (slack_sdk's RateLimitErrorRetryHandler sleeps Retry-After plus up to a second
of jitter). Deliveries back up behind these; bench/load.py measures whether the
acknowledgements do too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tests.fakeslack import Call, FakeSlack, fixture

LIMITED = ("files.getUploadURLExternal",)


@dataclass
class SlowSlack(FakeSlack):
    delay: float = 1.5
    limit_of: int = 3  # of every `limit_of` calls of a LIMITED method, all but the last get 429
    retry_after: int = 1
    _limited_calls: dict[str, int] = field(default_factory=dict)

    def answer(self, call: Call) -> tuple[int, dict[str, str], Any]:
        time.sleep(self.delay)  # on the fake's own request thread: one per call
        if call.method in LIMITED and self._limited(call.method):
            body = fixture("webapi.ratelimited.429.sdk-test.json")["body"]
            return 429, {"Retry-After": str(self.retry_after)}, body
        return super().answer(call)

    def record(self, call: Call) -> None:
        # Response URLs and uploads are answered right after they are recorded, without
        # answer(): hold them back here.
        if call.method in ("response", "upload"):
            time.sleep(self.delay)
        super().record(call)

    def _limited(self, method: str) -> bool:
        with self._lock:
            seen = self._limited_calls.get(method, 0)
            self._limited_calls[method] = seen + 1
        return seen % self.limit_of != self.limit_of - 1
