"""The production HTTP-mode server, started as `pacer` starts it, but bound to loopback.

    python -m bench.serve      (settings from the environment; prints "PORT <n>" when ready)

bench.run starts this in a subprocess so that the server's memory can be read on its own
from /proc. Everything but the bind address and the free port is bot.cli's own start-up:
logging with secrets redacted, migrations, the chart warm-up, and bot.http's server (its
threads, worker pools and SIGTERM drain).
"""

from __future__ import annotations

import os

from bench import clock
from bot import cli, http
from bot.settings import load
from bot.shutdown import on_stop_signals
from storage.engine import make_engine
from storage.migrate import upgrade

HOST = "127.0.0.1"


def main() -> None:
    clock.install_from_env()  # the data's fixed today, not the calendar's
    settings = load(env=os.environ)
    cli.configure_logging(settings)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    cli.warm_up_charts(settings)
    service = http.service_for(settings, engine, host=HOST)
    on_stop_signals(service.stop)
    print(f"PORT {service.server.effective_port}", flush=True)
    service.run()


if __name__ == "__main__":
    main()
