# syntax=docker/dockerfile:1
# Build: dependencies from uv.lock into a virtualenv, then the project itself.
FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
RUN uv sync --frozen --no-dev --no-editable

# Run: the virtualenv only, as an unprivileged user.
FROM python:3.11-slim AS run
RUN groupadd --system app && useradd --system --gid app --home-dir /data --create-home app
COPY --from=build --chown=app:app /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 \
    MPSLACK_DATABASE_URL="sqlite+aiosqlite:////data/marketplace-slack.db" MPSLACK_PORT=3000
USER app
WORKDIR /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('MPSLACK_PORT', '3000')}/healthz\", timeout=2)"]
# Stopping: the exec form makes the app itself PID 1, with no shell in between to swallow signals.
# A PID 1 gets only the signals it handles, and `serve` handles SIGTERM and SIGINT: it stops taking
# work, lets work in flight finish for MPSLACK_SHUTDOWN_GRACE_SECONDS (20 s), gives back its claims
# and exits 0. It starts no child processes, so there are no zombies to reap and no init (tini) is
# needed. Give the platform more patience than the grace period: Kubernetes' default of 30 s is
# enough; `docker stop` waits only 10 s, so use `docker stop -t 30` (compose: stop_grace_period: 30s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["marketplace-slack"]
CMD ["serve"]
