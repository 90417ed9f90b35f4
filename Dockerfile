# Pacer in HTTP or OAuth mode (or Socket Mode): `docker compose up` starts it with PostgreSQL.
# Settings come from the environment (compose passes .env); none are baked into the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the package needs: tests, bench and local files stay out (.dockerignore too).
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY commands ./commands
COPY domain ./domain
COPY storage ./storage
COPY charts ./charts
RUN pip install . && rm -rf /src

# A user of its own; /data holds the SQLite file when DATABASE_URL is left at its default.
RUN useradd --create-home --uid 10001 pacer && mkdir /data && chown pacer /data
USER pacer
WORKDIR /data
ENV PORT=3000 \
    MPLCONFIGDIR=/home/pacer/.matplotlib
VOLUME /data
EXPOSE 3000

# Alive means the process answers and reaches its database (GET /healthz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"

# `pacer` applies the migrations, then serves in the mode the settings select.
CMD ["pacer"]
