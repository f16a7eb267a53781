# accessbot: docker build -t accessbot .   then see docs/deploy.md
# No secrets in here: tokens come at run time (docker run --env-file .env ...).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The package and its dependencies, from pyproject.toml (a real install, not editable).
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir . && rm -rf /app/bot /app/build /app/*.egg-info

# The bundled program; bind-mount your own over it to edit without rebuilding:
#   -v "$PWD/rules.yaml:/app/rules.yaml:ro"
COPY rules.yaml /app/rules.yaml
# `accessbot init` (in the container: docker run -it ... accessbot init) offers the Slack manifest from here.
COPY slack-manifest.yaml /app/slack-manifest.yaml

# A fixed non-root uid owning the data folder (0700), so a named volume or a host folder can be
# prepared for it: chown 10001 /srv/accessbot-data
RUN groupadd --system --gid 10001 accessbot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin accessbot \
    && mkdir -p /data \
    && chown 10001:10001 /data \
    && chmod 700 /data

ENV ACCESSBOT_RULES=/app/rules.yaml \
    ACCESSBOT_DATA_DIR=/data

VOLUME /data
USER 10001:10001

# Slack HTTP mode only (accessbot run slack --http --port 3000); Socket Mode and Discord need no port.
EXPOSE 3000

# Rules load, database files parse, data folder writable; read-only, safe beside the running bot.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 CMD ["accessbot", "health"]

# docker stop sends SIGTERM; run with --init (docs/deploy.md) so it reaches the bot, not a bare PID 1.
STOPSIGNAL SIGTERM
ENTRYPOINT ["accessbot"]
CMD ["run"]
