"""The image service: the pipeline as its own small ASGI app (`proveo image-service`).

    POST /v1/analyse   body: the upload's raw bytes (any Content-Type; judged by decoding)
                       200: the full WebP then the thumbnail WebP, split by Proveo-Full-Length
                       (see schemas.to_wire); 413 image_too_large; 415 unsupported_image;
                       422 image_too_complex (over its budget); 503 images_busy (queue full)
    GET  /health       200 {"status": "ok"} once every worker process has loaded the model

Errors are `{"detail": ..., "code": ...}` as in the API; X-Request-ID is taken (or made),
bound to every log line of the request and echoed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proveo import __version__
from proveo.config import ImageServiceSettings
from proveo.core.errors import AppError, error_response
from proveo.core.logging import configure_logging
from proveo.core.metrics import MetricsMiddleware
from proveo.core.middleware import RequestContextMiddleware
from proveo.imaging.client import pipeline_budget
from proveo.imaging.errors import ImageTooLarge
from proveo.imaging.pool import Pipeline
from proveo.imaging.processing import MAX_BYTES, TOO_MANY_BYTES
from proveo.imaging.schemas import WIRE_MEDIA_TYPE, to_wire

log = structlog.get_logger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


async def _read_body(request: Request) -> bytes:
    """The body, refused with 413 as soon as it is known to pass MAX_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise ImageTooLarge(TOO_MANY_BYTES)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_BYTES:
            raise ImageTooLarge(TOO_MANY_BYTES)
        chunks.append(chunk)
    return b"".join(chunks)


async def _app_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return error_response(exc.status_code, exc.detail, exc.code, exc.headers)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(
        exc.status_code, exc.detail, _HTTP_CODES.get(exc.status_code, "http_error")
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return error_response(500, "Internal server error", "internal_error")


def create_image_service_app(settings: ImageServiceSettings | None = None) -> Starlette:
    settings = settings or ImageServiceSettings()
    configure_logging(settings.log_format, settings.log_level)
    pipeline = Pipeline(settings.image_workers, **pipeline_budget(settings))

    async def analyse(request: Request) -> Response:
        data = await _read_body(request)
        started = time.perf_counter()
        image = await pipeline.analyse(data)
        log.info(
            "image_analysed",
            bytes_in=len(data), width=image.width, height=image.height,
            nsfw_score=round(image.nsfw_score, 4),
            pipeline_ms=round((time.perf_counter() - started) * 1000, 1),
        )  # fmt: skip
        body, headers = to_wire(image)
        return Response(body, media_type=WIRE_MEDIA_TYPE, headers=headers)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Workers start before the first request (uvicorn serves only after this).
        await pipeline.warm()
        log.info("image_service_started", version=__version__, workers=pipeline.workers)
        try:
            yield
        finally:
            await pipeline.close()
            log.info("image_service_stopped")

    app = Starlette(
        routes=[
            Route("/v1/analyse", analyse, methods=["POST"], name="analyse"),
            Route("/health", health, methods=["GET"], name="health"),
        ],
        lifespan=lifespan,
        exception_handlers={
            AppError: _app_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(MetricsMiddleware, routes=lambda: app.routes)
    return app
