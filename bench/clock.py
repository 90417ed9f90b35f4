"""The benchmark's fixed "today", for the app in this process and in the served one.

The app reads the time of a request in bot/listeners.py (`datetime.now(UTC)`); commands
take their today from `Request.now`. The data is generated around generate.TODAY, so the
served process swaps that module's `datetime` for one whose date is TODAY (the time of day
stays real), and the in-process figures build their requests with `now()` below.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, tzinfo

ENV = "BENCH_TODAY"  # set by bench/endpoint.py and bench/load.py for bench/serve.py


def on_day(today: date, real: datetime) -> datetime:
    return real.replace(year=today.year, month=today.month, day=today.day)


def now(today: date) -> datetime:
    """The present moment moved to `today` (UTC)."""
    return on_day(today, datetime.now(UTC))


def frozen_datetime(today: date) -> type[datetime]:
    class OnDay(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return on_day(today, datetime.now(tz))

    return OnDay


def install_from_env() -> date | None:
    """In bench/serve.py: fix the date of every request if BENCH_TODAY says so."""
    value = os.environ.get(ENV)
    if not value:
        return None
    from bot import listeners

    today = date.fromisoformat(value)
    listeners.datetime = frozen_datetime(today)  # type: ignore[misc]
    return today
