"""The production HTTP-mode server, started as `pacer` starts it, but bound to loopback.

    python -m bench.serve      (settings from the environment; prints "PORT <n>" when ready)

bench.run starts this in a subprocess so that the server's memory can be read on its own
from /proc. Everything but the bind address and the free port is bot.cli's own start-up:
logging with secrets redacted, migrations, the chart warm-up, bot.app.build_app and
bot.http.wsgi_app served by waitress.
"""

from __future__ import annotations

import os

import waitress

from bot import cli
from bot.app import build_app
from bot.http import wsgi_app
from bot.settings import load
from storage.engine import make_engine
from storage.migrate import upgrade

HOST = "127.0.0.1"


def main() -> None:
    settings = load(env=os.environ)
    cli.configure_logging(settings)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    cli.warm_up_charts()
    app = wsgi_app(build_app(settings, engine), engine)
    server = waitress.create_server(app, host=HOST, port=settings.port, ident="pacer")
    print(f"PORT {server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
