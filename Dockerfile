# Production image: one process per container; run several behind a load balancer with
# HOTLINE_ENV=production, HOTLINE_DATABASE_URL (PostgreSQL) and HOTLINE_REDIS_URL set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
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
RUN pip install --no-deps --no-build-isolation . && pip check \
    && useradd --system --home /app hotline && chown -R hotline /app

USER hotline
ENV HOTLINE_FLOWS_DIR=/app/flows HOTLINE_LOCALES_DIR=/app/locales
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
CMD ["hotline", "serve", "--host", "0.0.0.0", "--port", "8000"]
