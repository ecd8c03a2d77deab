# Production image: one process per container, the same image for the app (`hotline serve`, the
# default command), the workers (`hotline worker`) and migrations (`hotline db upgrade`); see
# compose.yaml and README, "Deploying". Settings and secrets come from the environment only.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies from the lock, hash-checked (setuptools included: hotline is built without
# isolation, so nothing unpinned is fetched); this layer is rebuilt only when the lock changes.
COPY requirements/run.txt ./requirements/
RUN pip install --require-hashes -r requirements/run.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY admin ./admin
COPY flows ./flows
COPY locales ./locales
# The code stays root's: the user the processes run as can read it, never change it.
RUN pip install --no-deps --no-build-isolation . && pip check \
    && groupadd --system --gid 10001 hotline \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin hotline

USER 10001:10001
ENV HOTLINE_ENV=production HOTLINE_FLOWS_DIR=/app/flows HOTLINE_LOCALES_DIR=/app/locales
EXPOSE 8000
# Liveness of `hotline serve` (compose.yaml turns it off for workers and migrations, which serve
# no HTTP). Readiness (/readyz) is for monitoring, not for restarting a container.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/livez', timeout=4).status == 200 else 1)"]
CMD ["hotline", "serve", "--host", "0.0.0.0", "--port", "8000"]
