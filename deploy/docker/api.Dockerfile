# The API: `proveo serve` (also `proveo migrate`, `create-admin` and the other commands).
# Build from the repository root:
#   docker build -f deploy/docker/api.Dockerfile -t proveo-api .
# No secret is baked in: every setting comes from the environment at run time (deploy/compose.yaml).

# --- builder: the locked dependencies and the project, in /app/.venv -----------------------------
FROM python:3.11-slim-bookworm AS builder

# The uv release the Makefile pins (it reads uv.lock's revision); from PyPI, like every package.
RUN pip install --no-cache-dir "uv==0.13.9"

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

# Dependencies first: this layer is rebuilt only when uv.lock or pyproject.toml change.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# Then the project itself (an editable install pointing at /app/src, copied as is below). Its
# bytecode is compiled here, checked by hash, because the running container cannot write it.
COPY README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev \
    && python -m compileall -q --invalidation-mode unchecked-hash src

# --- runtime ---------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

# A numeric, non-root user without a shell; /var/lib/proveo is its only writable directory.
RUN groupadd --system --gid 10001 proveo \
    && useradd --system --no-log-init --uid 10001 --gid 10001 \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin proveo \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/proveo

# ONNX Runtime's telemetry off (with images analysed in process): it would try to keep a device
# id under $HOME, which is read-only here, and warn at every start.
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ORT_DISABLE_TELEMETRY=1 \
    PROVEO_HOST=0.0.0.0 \
    PROVEO_PORT=8000 \
    PROVEO_DATA_DIR=/var/lib/proveo
WORKDIR /app

# Owned by root and read-only to the app's user.
COPY --from=builder /app/.venv /app/.venv
COPY --from=builder /app/src /app/src
COPY deploy/docker/healthcheck.py /usr/local/bin/proveo-healthcheck

# Fail the build, not the first start, if the entry point or an import is broken.
RUN proveo --help > /dev/null

# Local images, the email outbox or the embedded database, when those are configured; a
# production deployment (S3, SMTP or Resend, an external PostgreSQL) writes nothing here.
VOLUME ["/var/lib/proveo"]
USER 10001:10001
# 8000: HTTP (PROVEO_PORT); 9100: Prometheus metrics (PROVEO_METRICS_PORT), for the private network.
EXPOSE 8000 9100

# Liveness only (/api/v1/health/ does no database work): a database outage must not mark every
# API container unhealthy at once.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/proveo-healthcheck", "PROVEO_PORT", "/api/v1/health/"]

CMD ["proveo", "serve"]
